/* Small helpers of the staff pages, without inline script (the CSP allows only our files). */
(function () {
  "use strict";
  // <button data-all-pass="area id">: mark every item of that area 合格 that is not marked
  // yet; exceptions are then tapped one by one (cleaning inspections).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-all-pass]");
    if (!button) return;
    event.preventDefault();
    var area = document.getElementById("area-" + button.getAttribute("data-all-pass"));
    if (!area) return;
    var toggle = area.querySelector(".area-toggle input[type=checkbox]");
    if (toggle) toggle.checked = true;
    Array.prototype.forEach.call(area.querySelectorAll(".item"), function (item) {
      if (item.querySelector("input[type=radio]:checked")) return;
      var pass = item.querySelector("input[type=radio][value=pass]");
      if (pass) pass.checked = true;
    });
  });
})();
