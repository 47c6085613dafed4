/* Applies the theme chosen on this browser before the page paints, so there is no flash of the
   wrong one: this file is loaded without defer, before the stylesheet. "light" or "dark" sets
   <html data-theme>; "system" (or nothing stored) follows the OS. The switch is in app.js. */
(function () {
  "use strict";
  try {
    var theme = window.localStorage.getItem("mailsandbox.theme");
    if (theme === "light" || theme === "dark") document.documentElement.setAttribute("data-theme", theme);
  } catch (e) { /* storage blocked: follow the system */ }
})();
