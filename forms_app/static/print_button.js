/* Buttons marked data-print open the browser's print dialog (no inline onclick: the CSP
   runs no inline code). */
(function () {
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
