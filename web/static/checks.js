/* The message page's check tabs: the screenshot button.
   The screenshot is drawn in the browser by html-to-image (MIT, vendored) from a same-origin,
   script-less copy of the preview (/ui/message/{id}/snapshot, framed with sandbox=
   "allow-same-origin" and no allow-scripts), at the width the preview shows. Remote images
   appear only when the user loaded remote content, and only if their server allows it. */
(function () {
  "use strict";

  var MAX_HEIGHT = 16000;
  var BLANK = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";

  function previewWidth() {
    var frame = document.getElementById("preview");
    if (!frame) return 800;
    if (frame.classList.contains("width-phone")) return 375;
    if (frame.classList.contains("width-tablet")) return 768;
    return Math.max(320, Math.round(frame.getBoundingClientRect().width)) || 800;
  }

  function remoteLoaded() {
    var bar = document.getElementById("remote-bar");
    return Boolean(bar && bar.hidden);
  }

  function imagesLoaded(doc) {
    return Promise.all(Array.prototype.map.call(doc.images, function (image) {
      if (image.complete) return null;
      return new Promise(function (done) {
        image.addEventListener("load", done);
        image.addEventListener("error", done);
      });
    }));
  }

  function save(url, filename) {
    var link = document.createElement("a");
    link.href = url;
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
  }

  function screenshot(button) {
    var status = document.getElementById("screenshot-status");
    var width = previewWidth();
    var frame = document.createElement("iframe");
    frame.className = "snapshot-frame";
    frame.setAttribute("sandbox", "allow-same-origin");
    frame.setAttribute("aria-hidden", "true");
    frame.tabIndex = -1;
    frame.style.width = width + "px";
    button.disabled = true;
    status.textContent = "Rendering…";
    function finish(message) {
      status.textContent = message;
      button.disabled = false;
      if (frame.parentNode) frame.parentNode.removeChild(frame);
    }
    frame.addEventListener("load", function () {
      var doc = frame.contentDocument;
      if (!doc || !doc.body || !window.htmlToImage) { finish("Screenshot failed."); return; }
      imagesLoaded(doc).then(function () {
        var height = Math.min(MAX_HEIGHT, Math.max(doc.documentElement.scrollHeight, doc.body.scrollHeight, 1));
        frame.style.height = height + "px";
        return window.htmlToImage.toPng(doc.documentElement, {
          width: width, height: height, pixelRatio: 1, backgroundColor: "#ffffff",
          skipFonts: true, imagePlaceholder: BLANK
        });
      }).then(function (url) {
        save(url, button.getAttribute("data-filename") || "message.png");
        finish("Saved " + width + " px wide.");
      }).catch(function () { finish("Screenshot failed."); });
    });
    frame.src = button.getAttribute("data-src") + (remoteLoaded() ? "?remote=1" : "");
    document.body.appendChild(frame);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#screenshot");
    if (button) screenshot(button);
  });
})();
