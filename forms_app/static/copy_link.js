/* A button that copies a private link (data-copy names the element holding it), shown only
   when this script runs; where the clipboard is refused, the link is selected to copy by hand.
   The result is read out in the button's data-status element. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-status"));
    if (!source) { return; }
    function say(text) { if (status) { status.textContent = text; } }
    function selectByHand() {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
      say(copied ? "链接已复制，可粘贴到备忘录或收藏。" : "无法自动复制：链接已选中，请长按后选择“复制”。");
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = source.textContent.trim();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () {
          say("链接已复制，可粘贴到备忘录或收藏。");
        }, selectByHand);
      } else {
        selectByHand();
      }
    });
  });
})();
