/* A button that copies a private link: <button data-copy="id" data-status="id" hidden>. The
   source is a read-only input (its value) or any element (its text). The button shows only
   where this script runs; it copies with the Clipboard API where the page may use it, else by
   selecting the link and the browser's copy command (older WeChat browsers), and says what
   happened in the data-status element (default #copy-status). Without the script the link
   stays visible, to be selected by hand. A form's error summary (#form-errors, #page-error)
   gets the focus, so the eye and a screen reader land on it. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-status") || "copy-status");
    if (!source) { return; }
    var isInput = source.tagName === "INPUT" || source.tagName === "TEXTAREA";
    function text() { return (isInput ? source.value : source.textContent).trim(); }
    function say(message) { if (status) { status.textContent = message; } }
    function selectByHand() {
      var copied = false;
      if (isInput) {
        source.focus();
        source.select();
        source.setSelectionRange(0, source.value.length);
      } else {
        var range = document.createRange();
        range.selectNodeContents(source);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      }
      try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
      say(copied ? "链接已复制，可粘贴到备忘录或收藏。" : "无法自动复制：链接已选中，请长按后选择“复制”。");
    }
    if (isInput) { source.addEventListener("focus", function () { source.select(); }); }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text()).then(function () {
          say("链接已复制，可粘贴到备忘录或收藏。");
        }, selectByHand);
      } else {
        selectByHand();
      }
    });
  });
  var summary = document.getElementById("form-errors") || document.getElementById("page-error");
  if (summary) { summary.focus(); }
})();
