/* The patrol form: an item one patrol kind alone checks (data-kinds) is shown, and sent, only
   while that kind is chosen. Without script every item shows and the server ignores the items
   of other kinds. */
(function () {
  "use strict";
  var form = document.getElementById("patrol-form");
  var kind = form && form.querySelector("#kind");
  if (!kind) { return; }
  function show() {
    Array.prototype.forEach.call(form.querySelectorAll("[data-kinds]"), function (item) {
      var on = (" " + item.getAttribute("data-kinds") + " ").indexOf(" " + kind.value + " ") >= 0;
      item.hidden = !on;
      Array.prototype.forEach.call(item.querySelectorAll("input, textarea, select"), function (field) {
        field.disabled = !on;
      });
    });
  }
  kind.addEventListener("change", show);
  show();
})();
