// Starts the vendored Swagger UI on /api/docs (a file, not an inline script, so the page's CSP
// can forbid inline scripts). Nothing here reaches beyond this server: no validator badge.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
