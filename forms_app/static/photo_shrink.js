/* Photos shrunk on the phone before they are uploaded.
   For every <input type="file" data-shrink-photos>: a chosen JPEG or PNG larger than
   MAX_BYTES is drawn on a canvas with its longest side at most MAX_SIDE pixels and re-encoded
   as JPEG, lowering the quality and then the size until it fits; the input's files are then
   replaced by the shrunk ones. PDFs and small images go up untouched. Without canvas or
   DataTransfer the files go up as chosen and the server's limits apply as always. While a
   photo is being shrunk, sending the form waits for it. */
(function () {
  "use strict";
  var MAX_SIDE = 2560;
  var MAX_BYTES = 1024 * 1024;
  var QUALITIES = [0.82, 0.62];
  var MAX_ROUNDS = 4;
  var MIN_SIDE = 640;
  var SHRINKABLE = /^image\/(jpeg|png)$/;

  var inputs = document.querySelectorAll("input[type=file][data-shrink-photos]");
  if (!inputs.length || typeof window.DataTransfer !== "function" ||
      !window.HTMLCanvasElement || !HTMLCanvasElement.prototype.toBlob) { return; }
  try { new DataTransfer().items.add(new File([""], "x.txt")); } catch (e) { return; }

  function megabytes(bytes) { return (bytes / 1024 / 1024).toFixed(1) + " MB"; }

  // createImageBitmap reads the file without a blob: URL, which the pages' Content Security
  // Policy (img-src 'self' data:) would block; an <img> is the fallback for older browsers.
  function loadImage(file) {
    if (typeof window.createImageBitmap === "function") {
      return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
        return { source: bitmap, width: bitmap.width, height: bitmap.height };
      });
    }
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var image = new Image();
      image.onload = function () {
        URL.revokeObjectURL(url);
        resolve({ source: image, width: image.naturalWidth, height: image.naturalHeight });
      };
      image.onerror = function () { URL.revokeObjectURL(url); reject(new Error("decode")); };
      image.src = url;
    });
  }

  function encode(image, side, quality) {
    var scale = Math.min(1, side / Math.max(image.width, image.height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(image.width * scale));
    canvas.height = Math.max(1, Math.round(image.height * scale));
    var context = canvas.getContext("2d");
    context.fillStyle = "#fff"; // a transparent PNG would turn black in a JPEG
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(image.source, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }

  function jpegName(name) {
    var stem = name.replace(/\.[^.]*$/, "") || "照片";
    return stem + ".jpg";
  }

  function shrink(file) {
    if (!SHRINKABLE.test(file.type) || file.size <= MAX_BYTES) { return Promise.resolve(file); }
    return loadImage(file).then(function (image) {
      // Each round tries the qualities at one size; the next round's size comes from how far
      // the last result was over, so a photo of any detail needs only a few rounds.
      function attempt(side, index, round) {
        return encode(image, side, QUALITIES[index]).then(function (blob) {
          if (!blob) { return file; }
          if (blob.size <= MAX_BYTES) {
            return new File([blob], jpegName(file.name), { type: "image/jpeg", lastModified: Date.now() });
          }
          if (index + 1 < QUALITIES.length) { return attempt(side, index + 1, round); }
          if (round >= MAX_ROUNDS) { return file; }
          var smaller = Math.floor(side * Math.min(0.9, Math.sqrt(MAX_BYTES / blob.size) * 0.95));
          return attempt(Math.max(smaller, MIN_SIDE), 0, round + 1);
        });
      }
      return attempt(Math.min(MAX_SIDE, Math.max(image.width, image.height)), 0, 1);
    }).catch(function () { return file; });
  }

  Array.prototype.forEach.call(inputs, function (input) {
    var status = document.getElementById("shrink-status");
    var pending = null;
    input.addEventListener("change", function () {
      var chosen = Array.prototype.slice.call(input.files || []);
      if (!chosen.some(function (f) { return SHRINKABLE.test(f.type) && f.size > MAX_BYTES; })) { return; }
      input.setAttribute("data-busy", "1");
      if (status) { status.textContent = "正在手机上压缩照片，请稍候……"; }
      pending = Promise.all(chosen.map(shrink)).then(function (files) {
        var transfer = new DataTransfer();
        files.forEach(function (f) { transfer.items.add(f); });
        input.files = transfer.files;
        var notes = [];
        files.forEach(function (f, i) {
          if (f !== chosen[i]) { notes.push(chosen[i].name + "：" + megabytes(chosen[i].size) + " → " + megabytes(f.size)); }
        });
        if (status) { status.textContent = notes.length ? "照片已压缩（" + notes.join("；") + "）。" : ""; }
      }).then(function () {
        input.removeAttribute("data-busy");
        pending = null;
      });
    });
    if (input.form) {
      input.form.addEventListener("submit", function (event) {
        if (!pending) { return; }
        event.preventDefault();
        event.stopImmediatePropagation();
        var submitter = event.submitter || null;
        pending.then(function () {
          if (input.form.requestSubmit) { input.form.requestSubmit(submitter); } else { input.form.submit(); }
        });
      }, true);
    }
  });
})();
