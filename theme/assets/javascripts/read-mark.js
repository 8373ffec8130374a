/* Staff handbook: a section opened from a reading path (?read=page#anchor) gets 标为已读 at its
   end — a form posted to the training pages, which mark it read in the version shown and go
   back to the path. The token and the section's digest come from the app (same origin); when
   the app does not answer, the page stays as it is and the path's own button still works. */
(function () {
  "use strict";
  var key = new URLSearchParams(window.location.search).get("read");
  if (!key || !window.fetch) return;
  var heading = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
  if (!heading || !/^H[1-6]$/.test(heading.tagName)) return;
  var level = Number(heading.tagName.charAt(1));
  var last = heading;
  for (var node = heading.nextElementSibling; node; node = node.nextElementSibling) {
    if (/^H[1-6]$/.test(node.tagName) && Number(node.tagName.charAt(1)) <= level) break;
    last = node;
  }
  function hidden(form, name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }
  fetch("/forms/staff/training/read/state?section=" + encodeURIComponent(key), {
    credentials: "same-origin",
    headers: { Accept: "application/json" }
  })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (state) {
      if (!state) return;
      var box = document.createElement("div");
      box.className = "read-mark";
      box.id = "read-mark";
      if (state.state === "read") {
        var back = document.createElement("a");
        back.className = "md-button";
        back.href = state.back;
        back.textContent = "本节已读，返回阅读路径";
        box.appendChild(back);
      } else {
        var form = document.createElement("form");
        form.method = "post";
        form.action = state.action;
        hidden(form, "csrf_token", state.csrf_token);
        hidden(form, "section", state.section);
        hidden(form, "digest", state.digest);
        var button = document.createElement("button");
        button.type = "submit";
        button.className = "md-button md-button--primary";
        button.textContent = state.state === "changed" ? "已重读，标为已读并返回" : "读完了，标为已读并返回";
        form.appendChild(button);
        box.appendChild(form);
      }
      last.insertAdjacentElement("afterend", box);
    })
    .catch(function () { /* the app away: the path's own button still marks it */ });
})();
