/* The places left in each slot of the chosen day, on the booking form and on 改约; the server
   checks again on submit. The slot service's URL is the data-slots-url of #slot-hint; on 改约
   its data-current-date and data-current-slot name the booking's own slot, which cannot be
   chosen again. A slot picked for another day is unticked when the day changes, so what is
   sent is always a slot seen for the day in the date field. */
(function () {
  var review = document.getElementById("review-heading");
  if (review) { review.focus(); }
  var day = document.getElementById("move_date");
  var hint = document.getElementById("slot-hint");
  if (!day || !hint) { return; }
  var url = hint.getAttribute("data-slots-url");
  var currentDate = hint.getAttribute("data-current-date");
  var currentSlot = hint.getAttribute("data-current-slot");
  var asked = 0;
  function showSlots(data) {
    var left = {};
    (data.slots || []).forEach(function (slot) { left[slot.id] = slot.remaining; });
    hint.textContent = data.error || (data.date + " 各时段剩余名额如下。");
    Array.prototype.forEach.call(document.querySelectorAll(".slot-choice"), function (label) {
      var id = label.getAttribute("data-slot");
      var remaining = left[id];
      var input = label.querySelector("input");
      var own = currentDate && data.date === currentDate && id === currentSlot;
      var full = remaining !== undefined && remaining <= 0 && !own;
      label.classList.toggle("full", full);
      input.disabled = full || own || !!data.error;
      if (input.disabled) { input.checked = false; }
      label.querySelector(".slot-left").textContent = own ? "原预约" :
        (remaining === undefined ? "" : (full ? "已约满" : "剩余" + remaining + "个"));
    });
  }
  function updateSlots() {
    Array.prototype.forEach.call(document.querySelectorAll(".slot-choice input"), function (input) {
      input.checked = false;
    });
    if (!day.value) { return; }
    var mine = ++asked;
    fetch(url + "?date=" + encodeURIComponent(day.value), {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (data) { if (mine === asked) { showSlots(data); } })
      .catch(function () { hint.textContent = "暂时无法查询剩余名额，提交时会再次核对。"; });
  }
  day.addEventListener("change", updateSlots);
})();
