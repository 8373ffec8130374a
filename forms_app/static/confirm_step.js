/* Steps that cannot be undone (批准, 驳回, 验收不通过, 取消预约) ask first.
   Without script the form shows a box to tick and the server refuses the step unticked. With
   script the box is hidden and the button opens a dialog instead: the step's own action
   first, then 返回; confirming ticks the box and sends the form. */
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-confirm]");
  if (!buttons.length) { return; }

  function ask(message, actionLabel) {
    return new Promise(function (resolve) {
      if (typeof HTMLDialogElement !== "function") { resolve(window.confirm(message)); return; }
      var dialog = document.createElement("dialog");
      dialog.className = "confirm-dialog";
      dialog.setAttribute("aria-label", actionLabel);
      var text = document.createElement("p");
      text.textContent = message;
      var actions = document.createElement("div");
      actions.className = "actions";
      var yes = document.createElement("button");
      yes.type = "button";
      yes.className = "confirm-yes";
      yes.textContent = "确认" + actionLabel;
      var no = document.createElement("button");
      no.type = "button";
      no.className = "secondary confirm-no";
      no.textContent = "返回";
      actions.appendChild(yes);
      actions.appendChild(no);
      dialog.appendChild(text);
      dialog.appendChild(actions);
      document.body.appendChild(dialog);
      function close(answer) {
        dialog.close();
        dialog.parentNode.removeChild(dialog);
        resolve(answer);
      }
      yes.addEventListener("click", function () { close(true); });
      no.addEventListener("click", function () { close(false); });
      dialog.addEventListener("cancel", function (event) { event.preventDefault(); close(false); });
      dialog.showModal();
      no.focus();
    });
  }

  Array.prototype.forEach.call(buttons, function (button) {
    var form = button.form;
    var box = form && form.querySelector("[data-confirm-box]");
    var tick = box && box.querySelector("input[type=checkbox]");
    if (!tick) { return; }
    if (!box.classList.contains("has-error")) { box.hidden = true; }
    form.addEventListener("submit", function (event) {
      if (tick.checked) { return; }
      event.preventDefault();
      ask(button.getAttribute("data-confirm"), button.textContent.trim()).then(function (yes) {
        if (!yes) { return; }
        tick.checked = true;
        form.submit();
      });
    });
  });
})();
