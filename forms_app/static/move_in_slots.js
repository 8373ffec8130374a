/* The places left in each slot of the chosen day; the server checks again on submit.
   The slot service's URL is the data-slots-url of #slot-hint. */
(function () {
  var day = document.getElementById("move_date");
  var hint = document.getElementById("slot-hint");
  if (!day || !hint) { return; }
  var url = hint.getAttribute("data-slots-url");
  function showSlots(data) {
    var left = {};
    (data.slots || []).forEach(function (slot) { left[slot.id] = slot.remaining; });
    hint.textContent = data.error || (data.date + "各时段剩余名额如下。");
    Array.prototype.forEach.call(document.querySelectorAll(".slot-choice"), function (label) {
      var remaining = left[label.getAttribute("data-slot")];
      var input = label.querySelector("input");
      var full = remaining !== undefined && remaining <= 0;
      label.classList.toggle("full", full);
      input.disabled = full;
      if (full) { input.checked = false; }
      label.querySelector(".slot-left").textContent =
        remaining === undefined ? "" : (full ? "已约满" : "剩余" + remaining + "个");
    });
  }
  function updateSlots() {
    if (!day.value) { return; }
    fetch(url + "?date=" + encodeURIComponent(day.value), {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(showSlots)
      .catch(function () { hint.textContent = "暂时无法查询剩余名额，提交时会再次核对。"; });
  }
  day.addEventListener("change", updateSlots);
})();
