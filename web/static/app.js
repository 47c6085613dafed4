/* mailsandbox UI behaviour: keyboard shortcuts, tabs, remote content, events form, copy buttons,
   webhook replay, relative times, the theme switch, opt-in notifications and the phone menu.
   (The inbox's multi-select is in inbox.js, the preview frame in preview.js.)
   No inline scripts anywhere (the UI's CSP forbids them); htmx does the fetching and swapping. */
(function () {
  "use strict";

  var selectedId = null;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#list .msg")); }

  function select(index, focus) {
    var all = rows();
    if (!all.length) { selectedId = null; return; }
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row) { row.classList.remove("selected"); row.removeAttribute("aria-current"); });
    var row = all[index];
    row.classList.add("selected");
    row.setAttribute("aria-current", "true");
    selectedId = row.getAttribute("data-id");
    if (focus !== false) { row.querySelector("a").focus({ preventScroll: true }); }
    row.scrollIntoView({ block: "nearest" });
  }

  function selectedIndex() {
    var all = rows();
    for (var i = 0; i < all.length; i++) { if (all[i].getAttribute("data-id") === selectedId) return i; }
    return -1;
  }

  function typing(target) {
    var tag = (target && target.tagName) || "";
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function onMessagePage() { return document.body.getAttribute("data-page") === "message"; }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var q = document.getElementById("q");
    if (typing(event.target)) {
      if (event.key === "Escape" && event.target === q) { q.blur(); }
      return;
    }
    var key = event.key;
    if (key === "/" && q) { event.preventDefault(); q.focus(); q.select(); return; }
    if (onMessagePage()) {
      var link = null;
      if (key === "j") link = document.querySelector('a[rel="next"]');
      if (key === "k") link = document.querySelector('a[rel="prev"]');
      if (key === "Escape") link = document.getElementById("back");
      if (link) { event.preventDefault(); window.location.assign(link.getAttribute("href")); return; }
      if (key === "Delete") {
        var form = document.getElementById("delete-form");
        if (form) { event.preventDefault(); form.requestSubmit(); }
      }
      return;
    }
    var index = selectedIndex();
    if (key === "j" || key === "ArrowDown" && index >= 0) { event.preventDefault(); select(index + 1); }
    else if (key === "k" || key === "ArrowUp" && index >= 0) { event.preventDefault(); select(index < 0 ? 0 : index - 1); }
    else if (key === "Enter" && index >= 0) {
      event.preventDefault();
      window.location.assign(rows()[index].querySelector("a").getAttribute("href"));
    } else if (key === "Delete" && index >= 0 && window.htmx) {
      event.preventDefault();
      window.htmx.ajax("POST", "/ui/message/" + encodeURIComponent(selectedId) + "/delete",
        { target: "#list", swap: "outerHTML" });
      selectedId = (rows()[index + 1] || rows()[index - 1] || { getAttribute: function () { return null; } }).getAttribute("data-id");
    } else if (key === "x" && index >= 0) {
      event.preventDefault();  // select for a bulk action (inbox.js keeps the selection)
      var box = rows()[index].querySelector(".msg-check input");
      if (box) box.click();
    } else if (key === "Escape" && index >= 0) {
      rows().forEach(function (row) { row.classList.remove("selected"); });
      selectedId = null;
      document.activeElement && document.activeElement.blur();
    }
  });

  document.addEventListener("focusin", function (event) {
    var row = event.target.closest && event.target.closest("#list .msg");
    if (row) {
      selectedId = row.getAttribute("data-id");
      rows().forEach(function (r) { r.classList.toggle("selected", r === row); });
    }
  });

  // Keep the selection across live refreshes of the list.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.target || event.target.id !== "list" || !selectedId) return;
    var index = selectedIndex();
    if (index >= 0) select(index, document.activeElement === document.body);
  });

  // Starting a new search goes back to the first page.
  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "q") selectedId = null;
  });

  // Show whether the live stream is connected (and let tests wait for it).
  function live(on) {
    document.body.setAttribute("data-live", on ? "on" : "off");
    var label = document.querySelector("#live .live-label");
    if (label) label.textContent = on ? "Live" : "Offline";
  }
  document.addEventListener("htmx:sseOpen", function () { live(true); });
  document.addEventListener("htmx:sseError", function () { live(false); });
  document.addEventListener("htmx:sseClose", function () { live(false); });

  // Keep relative times ("3 min ago") current between refreshes: the steps of the server's
  // relative_time (web/render.py), so the two never disagree. Past a week: the server's date.
  function relative(then, now) {
    var seconds = Math.max(0, ((now === undefined ? Date.now() : now) - then) / 1000);
    if (seconds < 60) return "just now";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min ago";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h ago";
    if (seconds < 604800) return Math.floor(seconds / 86400) + " d ago";
    return null;
  }
  window.mailsandbox = { relativeTime: relative };
  window.setInterval(function () {
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var label = relative(Date.parse(el.getAttribute("datetime")));
      if (label && el.textContent !== label) el.textContent = label;
    });
  }, 30000);

  // Tabs (WAI-ARIA pattern: click or arrow keys).
  function activate(tab) {
    var list = tab.closest('[role="tablist"]');
    list.querySelectorAll('[role="tab"]').forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      var panel = document.getElementById(t.getAttribute("aria-controls"));
      if (panel) panel.hidden = !on;
    });
    // On a narrow screen the tab bar scrolls sideways: bring the chosen tab into view.
    tab.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest('[role="tab"]');
    if (tab) { activate(tab); return; }
    if (event.target.id === "load-remote") {
      document.getElementById("preview").src = event.target.getAttribute("data-src");
      document.getElementById("remote-bar").hidden = true;
    }
  });
  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest('[role="tab"]');
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) return;
    var tabs = Array.prototype.slice.call(tab.parentNode.querySelectorAll('[role="tab"]'));
    var next = tabs[(tabs.indexOf(tab) + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    activate(next);
    next.focus();
    event.stopPropagation();
  }, true);

  // Copy a one-time code (or any [data-copy] value) to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var value = button.getAttribute("data-copy");
    function done(ok) {
      button.textContent = ok ? "Copied" : "Copy failed";
      if (ok) button.setAttribute("data-copied", "");
      window.setTimeout(function () { button.textContent = "Copy"; button.removeAttribute("data-copied"); }, 1500);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(function () { done(true); }, function () { done(false); });
    } else {
      var field = document.createElement("textarea");
      field.value = value;
      field.setAttribute("readonly", "");
      field.style.position = "fixed";
      field.style.opacity = "0";
      document.body.appendChild(field);
      field.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(field);
      done(ok);
    }
  });

  // Refresh the events section. A refresh asked for while one is in flight would be queued on
  // the element that response replaces (hx-swap="outerHTML"), and so never happen: wait for it.
  function refreshEvents() {
    var events = document.getElementById("events");
    if (!events || !window.htmx) return;
    if (events.classList.contains("htmx-request")) {
      window.setTimeout(refreshEvents, 50);
      return;
    }
    window.htmx.trigger(events, "sse:delivery");
  }

  // Replay a webhook through the REST API, then refresh the events (the form posts without JS).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("replay-form") || !document.getElementById("events")) return;
    event.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    button.textContent = "Replaying…";
    fetch(form.getAttribute("data-api"), { method: "POST", headers: { "HX-Request": "true" } })
      .then(function (response) {
        button.textContent = response.ok ? "Queued" : "Failed (" + response.status + ")";
        if (response.ok) refreshEvents();
      })
      .catch(function () { button.textContent = "Failed"; button.disabled = false; });
  });

  // Simulate a delivery event through the REST API (JSON), then show it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("event-form") || !form.hasAttribute("data-message")) return;
    event.preventDefault();
    var status = form.querySelector(".event-status");
    var body = { type: form.elements.type.value };
    if (form.elements.recipient.value) body.recipient = form.elements.recipient.value;
    status.textContent = "Sending…";
    fetch("/api/v1/message/" + encodeURIComponent(form.getAttribute("data-message")) + "/events", {
      method: "POST",
      headers: { "Content-Type": "application/json", "HX-Request": "true" },
      body: JSON.stringify(body)
    }).then(function (response) {
      status.textContent = response.ok ? "Recorded." : "Failed (" + response.status + ").";
      if (response.ok) refreshEvents();
    }).catch(function () { status.textContent = "Failed."; });
  });

  // Small menus (<details class="menu-pop">, e.g. Download): close on a choice or a click elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll(".menu-pop[open]").forEach(function (menu) {
      if (!menu.contains(event.target) || event.target.closest("a")) menu.open = false;
    });
  });

  // The phone menu: the header's links and switches fold behind one button below 760 px.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("#menu-toggle");
    var bar = document.querySelector(".topbar");
    if (!bar) return;
    if (toggle) {
      var open = !bar.classList.contains("menu-open");
      bar.classList.toggle("menu-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    } else if (!(event.target.closest && event.target.closest("#menu"))) {
      bar.classList.remove("menu-open");
      var button = document.getElementById("menu-toggle");
      if (button) button.setAttribute("aria-expanded", "false");
    }
  });

  // Theme: system -> light -> dark, remembered in this browser (theme.js applies it early).
  var THEME_KEY = "mailsandbox.theme";
  var THEMES = ["system", "light", "dark"];
  var THEME_TITLES = { system: "Theme: follow the system", light: "Theme: light", dark: "Theme: dark" };
  function storedTheme() {
    try { return window.localStorage.getItem(THEME_KEY) || "system"; } catch (e) { return "system"; }
  }
  function showTheme(theme) {
    var button = document.getElementById("theme");
    if (theme === "system") document.documentElement.removeAttribute("data-theme");
    else document.documentElement.setAttribute("data-theme", theme);
    if (!button) return;
    button.setAttribute("data-theme-choice", theme);
    button.title = THEME_TITLES[theme];
    button.setAttribute("aria-label", THEME_TITLES[theme]);
    var name = button.querySelector(".theme-name");
    if (name) name.textContent = theme;
  }
  document.addEventListener("click", function (event) {
    if (!(event.target.closest && event.target.closest("#theme"))) return;
    var next = THEMES[(THEMES.indexOf(storedTheme()) + 1) % THEMES.length];
    try {
      if (next === "system") window.localStorage.removeItem(THEME_KEY);
      else window.localStorage.setItem(THEME_KEY, next);
    } catch (e) { /* not remembered, still applied */ }
    showTheme(next);
  });
  showTheme(storedTheme());

  // Browser notifications for new mail: off until the user clicks the bell (the permission is
  // asked only then), remembered in this browser. The server's "new" event says what arrived.
  var NOTIFY_KEY = "mailsandbox.notify";
  function notifyOn() {
    try {
      return window.localStorage.getItem(NOTIFY_KEY) === "on" && "Notification" in window &&
        Notification.permission === "granted";
    } catch (e) { return false; }
  }
  function showNotify() {
    var button = document.getElementById("notify");
    if (!button) return;
    var on = notifyOn();
    button.setAttribute("aria-pressed", on ? "true" : "false");
    var denied = "Notification" in window && Notification.permission === "denied";
    button.title = !("Notification" in window) ? "This browser has no notifications"
      : denied ? "Notifications are blocked for this site in the browser's settings"
      : on ? "Notifying you of new mail: click to stop" : "Notify me of new mail";
  }
  function setNotify(on) {
    try {
      if (on) window.localStorage.setItem(NOTIFY_KEY, "on");
      else window.localStorage.removeItem(NOTIFY_KEY);
    } catch (e) { /* private mode: stays off */ }
    showNotify();
  }
  document.addEventListener("click", function (event) {
    if (!(event.target.closest && event.target.closest("#notify")) || !("Notification" in window)) return;
    if (notifyOn()) { setNotify(false); return; }
    if (Notification.permission === "granted") { setNotify(true); return; }
    if (Notification.permission === "denied") { showNotify(); return; }
    Notification.requestPermission().then(function (answer) { setNotify(answer === "granted"); });
  });
  document.addEventListener("htmx:sseMessage", function (event) {
    var message = event.detail;
    if (!message || message.type !== "new" || !notifyOn()) return;
    var data;
    try { data = JSON.parse(message.data); } catch (e) { return; }
    var first = data.Messages[data.Messages.length - 1];
    if (!first) return;
    var title = data.Count === 1 ? (first.From || "New message") : data.Count + " new messages";
    var body = data.Count === 1 ? (first.Subject || "(no subject)")
      : data.Messages.map(function (m) { return m.Subject || "(no subject)"; }).join("\n");
    // The tag makes several open tabs show one notification, not one each.
    var note = new Notification(title, { body: body, tag: "mailsandbox-" + first.ID, icon: "/ui/static/favicon.svg" });
    note.onclick = function () {
      window.focus();
      window.location.assign(data.Count === 1 ? "/view/" + encodeURIComponent(first.ID) : "/");
    };
  });
  showNotify();
})();
