/* The inbox's multi-select (checkboxes, shift-click ranges, select all on the page; the bulk
   bar posts the checked ids), the page size choice (a cookie the server reads) and the tag
   dialog (rename / delete a tag everywhere).

   The list is swapped by htmx on every live refresh, so the selection is kept here, by message
   id, and put back on the new rows; ids no longer on the page drop out of it. */
(function () {
  "use strict";

  var selected = new Set();
  var anchor = null;  // the last box clicked without shift: one end of a shift-click range

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("#list .msg-check input"));
  }

  function render() {
    var all = boxes();
    var onPage = new Set(all.map(function (box) { return box.value; }));
    selected.forEach(function (id) { if (!onPage.has(id)) selected.delete(id); });
    all.forEach(function (box) {
      box.checked = selected.has(box.value);
      box.closest(".msg").classList.toggle("checked", box.checked);
    });
    var count = selected.size;
    var bar = document.getElementById("bulk");
    if (bar) bar.hidden = count === 0;
    var label = document.getElementById("selected-count");
    if (label) label.textContent = String(count);
    var every = document.getElementById("select-all");
    if (every) {
      every.checked = count > 0 && count === all.length;
      every.indeterminate = count > 0 && count < all.length;
    }
  }

  document.addEventListener("click", function (event) {
    var box = event.target.closest && event.target.closest("#list .msg-check input");
    if (!box) return;
    var all = boxes();
    var index = all.indexOf(box);
    var from = anchor === null ? -1 : all.findIndex(function (b) { return b.value === anchor; });
    if (event.shiftKey && from >= 0) {
      // Everything between the last box clicked and this one takes this box's new state.
      var low = Math.min(from, index), high = Math.max(from, index);
      for (var i = low; i <= high; i++) {
        if (box.checked) selected.add(all[i].value); else selected.delete(all[i].value);
      }
    } else if (box.checked) {
      selected.add(box.value);
    } else {
      selected.delete(box.value);
    }
    anchor = box.value;
    render();
  });

  document.addEventListener("change", function (event) {
    if (event.target.id === "select-all") {
      var on = event.target.checked;
      boxes().forEach(function (box) { if (on) selected.add(box.value); else selected.delete(box.value); });
      render();
    } else if (event.target.id === "page-size") {
      var size = event.target.value;
      document.cookie = "mailsandbox_page_size=" + encodeURIComponent(size) +
        "; path=/; max-age=31536000; samesite=lax";
      if (window.htmx) window.htmx.ajax("GET", "/ui/list?live=1", { target: "#list", swap: "outerHTML" });
    }
  });

  // A bulk action went through: the rows changed, start a fresh selection. (Heard before the
  // swap, on the list: the form that sent it is replaced with the list.)
  document.addEventListener("htmx:beforeSwap", function (event) {
    var config = event.detail.requestConfig;
    if (config && config.elt && config.elt.id === "bulk" && event.detail.xhr.status < 400) {
      selected.clear();
      anchor = null;
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "list") render();
  });

  // Tag dialog: opened from a tag's edit button in the sidebar.
  var dialog = document.getElementById("tag-dialog");
  document.addEventListener("click", function (event) {
    var edit = event.target.closest && event.target.closest(".tag-edit");
    if (edit && dialog) {
      var tag = edit.getAttribute("data-tag");
      document.getElementById("tag-dialog-name").textContent = tag;
      document.getElementById("tag-dialog-tag").value = tag;
      document.getElementById("tag-dialog-input").value = tag;
      document.getElementById("tag-error").textContent = "";
      document.getElementById("tag-delete").setAttribute("hx-confirm",
        "Remove the tag \u201c" + tag + "\u201d from every message? The messages stay.");
      dialog.showModal();
      document.getElementById("tag-dialog-input").select();
    } else if (event.target.id === "tag-cancel" && dialog) {
      dialog.close();
    }
  });

  render();
})();
