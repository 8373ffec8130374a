/* 小区公告 on the owner guide's home page: the app's current public notices (same origin,
   /forms/notices/board.json), urgent first then newest, each with where it applies, and a
   building filter the phone remembers (localStorage). Written with textContent only: a title
   is text, never markup. The box keeps its height, so nothing on the page moves. Without this
   script, or when the app does not answer, the box keeps its link to the full list. */
(function () {
  "use strict";
  var box = document.getElementById("home-notices");
  if (!box || !window.fetch) return;
  var list = document.getElementById("home-notices-list");
  var picker = document.getElementById("home-notices-building");
  var KEY = "notices.building";
  var notices = null;

  function remembered() {
    try { return window.localStorage.getItem(KEY) || ""; } catch (e) { return ""; }
  }
  function remember(value) {
    try { window.localStorage.setItem(KEY, value); } catch (e) { /* private mode: not kept */ }
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }
  function note(text) {
    var item = el("li", "home-notices__note", text);
    list.replaceChildren(item);
  }
  function concerns(notice, building) {
    return !building || notice.buildings === null || notice.buildings.indexOf(Number(building)) !== -1;
  }
  function render() {
    if (notices === null) return;
    var building = picker ? picker.value : "";
    var shown = notices.filter(function (n) { return concerns(n, building); });
    if (!shown.length) {
      note(building ? "目前没有涉及 " + building + "号楼的公开公告。" : "目前没有公开的公告。");
      return;
    }
    var items = shown.map(function (n) {
      var item = el("li", n.urgent ? "home-notices__item home-notices__item--urgent" : "home-notices__item");
      var link = el("a", "home-notices__title");
      link.href = n.url;
      if (n.urgent) link.appendChild(el("strong", "home-notices__tag home-notices__tag--urgent", "紧急"));
      link.appendChild(el("span", "home-notices__tag", n.kind));
      link.appendChild(document.createTextNode(n.title));
      item.appendChild(link);
      item.appendChild(el("span", "home-notices__meta", n.scope + " · " + n.time + (n.corrected ? " · 已更正" : "")));
      return item;
    });
    list.replaceChildren.apply(list, items);
  }
  if (picker) {
    var saved = remembered();
    if (saved && picker.querySelector('option[value="' + saved.replace(/[^0-9]/g, "") + '"]')) picker.value = saved;
    picker.addEventListener("change", function () { remember(picker.value); render(); });
  }
  fetch(box.getAttribute("data-board"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    })
    .then(function (data) { notices = data.notices || []; render(); })
    .catch(function () { note("公告暂时读取不到，请稍后刷新，或点下面的“全部公告”。"); });
})();
