/* Minimal ResizeObserver for old phone browsers (some WeChat/X5 webviews).
 * Without it the theme would download a polyfill from a CDN, which is slow or blocked
 * in mainland China. It polls the observed elements' sizes, which is all the theme needs. */
(function () {
  "use strict";
  if (typeof window.ResizeObserver !== "undefined") return;

  function LocalResizeObserver(callback) {
    this.callback = callback;
    this.targets = [];
    this.timer = null;
  }

  function sizeOf(el) {
    return el.offsetWidth + "x" + el.offsetHeight;
  }

  LocalResizeObserver.prototype.check = function () {
    var entries = [];
    for (var i = 0; i < this.targets.length; i++) {
      var item = this.targets[i];
      var size = sizeOf(item.target);
      if (size !== item.size) {
        item.size = size;
        entries.push({ target: item.target, contentRect: item.target.getBoundingClientRect() });
      }
    }
    if (entries.length) this.callback(entries, this);
  };

  LocalResizeObserver.prototype.observe = function (target) {
    for (var i = 0; i < this.targets.length; i++)
      if (this.targets[i].target === target) return;
    this.targets.push({ target: target, size: null });
    var self = this;
    if (!this.timer) this.timer = window.setInterval(function () { self.check(); }, 250);
    window.setTimeout(function () { self.check(); }, 0);
  };

  LocalResizeObserver.prototype.unobserve = function (target) {
    this.targets = this.targets.filter(function (item) { return item.target !== target; });
    if (!this.targets.length) this.disconnect();
  };

  LocalResizeObserver.prototype.disconnect = function () {
    this.targets = [];
    if (this.timer) window.clearInterval(this.timer);
    this.timer = null;
  };

  window.ResizeObserver = LocalResizeObserver;
})();
