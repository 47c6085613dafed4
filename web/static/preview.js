/* The message page's HTML preview frame. Desktop: as wide as the card and as tall as the mail
   (no blank under a short one). Tablet and Phone: a device-sized frame (768 x 1024, 375 x 667)
   that scrolls inside, like the device would. On a phone the preview starts at Phone.

   The frame is sandboxed without scripts but on our origin (web/sanitize.py, PREVIEW_SANDBOX),
   so this page can read its document's height; nothing runs inside the frame. */
(function () {
  "use strict";

  var MAX_HEIGHT = 16000;  // past this the frame scrolls inside
  var frame = document.getElementById("preview");
  if (!frame) return;
  var observer = null;

  function mode() {
    return frame.classList.contains("width-phone") ? "phone"
      : frame.classList.contains("width-tablet") ? "tablet" : "desktop";
  }

  function documentOf() {
    try { return frame.contentDocument; } catch (e) { return null; }
  }

  // The mail's own height. The frame is collapsed for one synchronous measurement, so a mail
  // that is "100% tall" does not simply keep the old size; the wrapper holds its place meanwhile,
  // so the page around it does not move (nothing is painted in between).
  function measure(doc) {
    var wrap = frame.parentNode;
    wrap.style.minHeight = frame.offsetHeight + "px";
    frame.style.height = "0px";
    var height = Math.max(doc.documentElement.scrollHeight, doc.body ? doc.body.scrollHeight : 0);
    wrap.style.minHeight = "";
    return Math.ceil(height) + 2;  // + the frame's border
  }

  function fit() {
    if (mode() !== "desktop") { frame.style.height = ""; return; }
    var doc = documentOf();
    if (!doc || !doc.documentElement || doc.readyState === "loading" || !frame.offsetParent) return;
    var height = Math.min(MAX_HEIGHT, measure(doc));
    frame.style.height = height + "px";
    // A mail wider than the frame gets a horizontal scrollbar, which takes room from the height.
    var root = doc.documentElement;
    var bar = root.scrollHeight - root.clientHeight;
    if (bar > 0 && bar < 40 && height < MAX_HEIGHT) frame.style.height = (height + bar) + "px";
  }

  function watch() {
    if (observer) observer.disconnect();
    var doc = documentOf();
    if (!doc || !doc.documentElement || !window.ResizeObserver) return;
    // Images, fonts and reflows change the mail's height after load: fit again. (Setting the
    // frame's height to the mail's own leaves that unchanged, so this settles at once.)
    observer = new ResizeObserver(function () { window.requestAnimationFrame(fit); });
    observer.observe(doc.documentElement);
    if (doc.body) observer.observe(doc.body);
  }

  function setMode(name) {
    frame.classList.remove("width-desktop", "width-tablet", "width-phone");
    frame.classList.add("width-" + name);
    frame.classList.toggle("device", name !== "desktop");
    document.querySelectorAll("[data-width]").forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-width") === name ? "true" : "false");
    });
    fit();
  }

  frame.classList.add("autosize");
  frame.addEventListener("load", function () { watch(); fit(); });
  window.addEventListener("resize", function () { window.requestAnimationFrame(fit); });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-width]");
    if (button) setMode(button.getAttribute("data-width"));
  });
  // The preview tab may be hidden at first (a text-only view): fit when it is shown.
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#tab-html")) window.requestAnimationFrame(fit);
  });
  if (window.matchMedia("(max-width: 600px)").matches) setMode("phone");
  if (documentOf() && documentOf().readyState === "complete") { watch(); fit(); }
})();
