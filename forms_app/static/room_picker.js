/* Building / unit / room selects: show only the units of the chosen building and the rooms of
   the chosen unit (the household registry's rooms). Reads the directory from
   <script type="application/json" id="room-directory"> ({"3": {"units": 2, "rooms": {"1": [...]}}})
   and works on the selects #building, #unit and #room. The server checks the room anyway. */
(function () {
  var source = document.getElementById("room-directory");
  var building = document.getElementById("building");
  var unit = document.getElementById("unit");
  var room = document.getElementById("room");
  if (!source || !building || !unit || !room) { return; }
  var directory = JSON.parse(source.textContent);
  function filter(select, allowed) {
    Array.prototype.forEach.call(select.options, function (option) {
      var ok = option.value === "" || allowed(option.value);
      option.hidden = !ok;
      option.disabled = !ok;
      if (!ok && option.selected) { select.value = ""; }
    });
  }
  function update() {
    var entry = directory[building.value];
    filter(unit, function (v) { return !entry || Number(v) <= entry.units; });
    var rooms = null;
    if (entry) {
      rooms = unit.value ? (entry.rooms[unit.value] || []) : [].concat.apply([], Object.keys(entry.rooms).map(function (u) { return entry.rooms[u]; }));
    }
    filter(room, function (v) { return !rooms || rooms.indexOf(v) !== -1; });
  }
  building.addEventListener("change", update);
  unit.addEventListener("change", update);
  update();
})();
