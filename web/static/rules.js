/* The rules page's "Add a rule" form shows only the fields that mean something at the chosen
   stage (each field lists them in data-stages); hidden fields are disabled, so not sent.
   Without this script every field shows and the server ignores the ones that do not apply. */
(function () {
  "use strict";

  function update() {
    var stage = document.getElementById("rule-stage");
    if (!stage) return;
    document.querySelectorAll("#add-rule [data-stages]").forEach(function (label) {
      var shown = label.getAttribute("data-stages").split(" ").indexOf(stage.value) >= 0;
      label.hidden = !shown;
      label.querySelectorAll("input, select").forEach(function (field) { field.disabled = !shown; });
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.id === "rule-stage") update();
  });
  update();
})();
