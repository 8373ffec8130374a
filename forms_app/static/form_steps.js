/* A long form shown in steps on a phone, with a progress indicator.
   Works on <form data-open-step> holding <section class="form-step" data-title>. Without this
   script the sections are one page and the server checks everything; with it, one step shows
   at a time, 下一步 checks the step's required fields first (messages linked to their
   fields, as the server's error summary does), and the step with the server's first error is
   opened. The server checks everything again. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-open-step]");
  if (!form) { return; }
  var steps = Array.prototype.slice.call(form.querySelectorAll(".form-step"));
  var progress = document.getElementById("step-progress");
  var status = document.getElementById("step-status");
  if (steps.length < 2 || !progress || !status) { return; }
  var markers = Array.prototype.slice.call(progress.querySelectorAll("li"));
  var current = 0;

  function labelOf(element) {
    var label = element.id && form.querySelector("label[for='" + element.id + "']");
    label = label || element.closest("label");
    if (!label) {
      var group = element.closest("fieldset");
      label = group && group.querySelector("legend");
    }
    return label ? label.textContent.replace(/\s*\*\s*$/, "").trim() : "";
  }

  function problemsOf(step) {
    var problems = [];
    Array.prototype.forEach.call(step.querySelectorAll("[required]"), function (element) {
      if (element.disabled) { return; }
      if (element.type === "checkbox") {
        if (!element.checked) { problems.push({ element: element, message: "请勾选：" + labelOf(element) }); }
      } else if (!String(element.value || "").trim()) {
        var verb = element.tagName === "SELECT" ? "请选择" : "请填写";
        problems.push({ element: element, message: verb + labelOf(element) + "。" });
      }
    });
    Array.prototype.forEach.call(step.querySelectorAll("fieldset.choice-group"), function (group) {
      var legend = group.querySelector("legend.required");
      if (legend && !group.querySelector("input:checked")) {
        problems.push({ element: group, message: "请至少选择一项" + legend.textContent.trim() + "。" });
      }
    });
    // The rules of the works' own fields, here at their step as the server words them: the
    // number of workers, the start not before today, the works period's longest length.
    var workers = step.querySelector("#workers");
    if (workers && String(workers.value).trim() && workers.max) {
      var count = Number(workers.value), least = Number(workers.min || 1), most = Number(workers.max);
      if (!(count >= least && count <= most) || Math.floor(count) !== count) {
        problems.push({ element: workers, message: "施工人数应在" + least + "–" + most + "人之间。" });
      }
    }
    var start = step.querySelector("#start_date"), end = step.querySelector("#end_date");
    var today = start && start.getAttribute("data-today");
    if (start && today && start.value && start.value < today) {
      problems.push({ element: start, message: "开工日期不能早于今天（" + today + "）。" });
    }
    if (start && end && start.value && end.value && end.value <= start.value) {
      problems.push({ element: end, message: "竣工日期须晚于开工日期。" });
    } else if (start && end && start.value && end.value && end.getAttribute("data-max-days")) {
      var limit = Number(end.getAttribute("data-max-days"));
      var days = Math.round((Date.parse(end.value) - Date.parse(start.value)) / 86400000) + 1;
      if (days > limit) {
        problems.push({ element: end, message: "装修工期最长" + limit + "天（含开工当天），请分期申请或调整日期。" });
      }
    }
    var question = step.querySelector("#includes_prohibited");
    if (question) {
      var answer = question.querySelector("input[name=includes_prohibited]:checked");
      if (!answer) {
        problems.push({ element: question, message: "请回答本次装修是否包含禁止事项。" });
      } else if (answer.value === "yes") {
        problems.push({ element: question, message: "本次装修包含按规定禁止的改动，申请不能受理。" });
      }
    }
    return problems;
  }

  function showProblems(step, problems) {
    var box = step.querySelector(".step-errors");
    if (box) { box.parentNode.removeChild(box); }
    if (!problems.length) { return; }
    box = document.createElement("div");
    box.className = "flash flash-error step-errors";
    box.setAttribute("role", "alert");
    box.tabIndex = -1;
    var intro = document.createElement("p");
    intro.textContent = "这一步有 " + problems.length + " 处需要填写或修改：";
    var list = document.createElement("ul");
    problems.forEach(function (problem) {
      var target = problem.element.id || (problem.element.closest("[id]") || {}).id;
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + target;
      link.textContent = problem.message;
      item.appendChild(link);
      list.appendChild(item);
    });
    box.appendChild(intro);
    box.appendChild(list);
    step.insertBefore(box, step.querySelector("h2").nextSibling);
    box.focus();
  }

  function show(index, scroll) {
    current = index;
    steps.forEach(function (step, i) { step.hidden = i !== index; });
    markers.forEach(function (marker, i) {
      marker.classList.toggle("done", i < index);
      marker.classList.toggle("current", i === index);
      if (i === index) { marker.setAttribute("aria-current", "step"); } else { marker.removeAttribute("aria-current"); }
    });
    status.textContent = "第" + (index + 1) + "步，共" + steps.length + "步：" + steps[index].getAttribute("data-title");
    if (scroll) { progress.scrollIntoView({ block: "start" }); }
  }

  function button(text, className, handler) {
    var element = document.createElement("button");
    element.type = "button";
    element.textContent = text;
    if (className) { element.className = className; }
    element.addEventListener("click", handler);
    return element;
  }

  steps.forEach(function (step, index) {
    var nav = step.querySelector(".actions");
    if (!nav) { nav = document.createElement("div"); nav.className = "actions step-nav"; step.appendChild(nav); }
    if (index < steps.length - 1) {
      nav.appendChild(button("下一步", "step-next", function () {
        var problems = problemsOf(step);
        showProblems(step, problems);
        if (!problems.length) { show(index + 1, true); }
      }));
    }
    if (index > 0) {
      nav.appendChild(button("上一步", "secondary step-back", function () { show(index - 1, true); }));
    }
  });

  // A link to a field in another step (error summaries) opens that step first.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href^='#']");
    if (!link) { return; }
    var target = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
    var step = target && target.closest(".form-step");
    if (!step) { return; }
    event.preventDefault();
    show(steps.indexOf(step), false);
    target.scrollIntoView({ block: "center" });
    var focusable = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
    if (focusable) { focusable.focus({ preventScroll: true }); }
  });

  // The prohibited-change question: which items, and the refusal, only once "yes" is chosen.
  var which = document.getElementById("prohibited-which");
  var refusedNow = document.getElementById("refused-now");
  function followAnswer() {
    var answer = form.querySelector("input[name=includes_prohibited]:checked");
    var yes = !!answer && answer.value === "yes";
    if (which) { which.hidden = !yes; }
    if (refusedNow) { refusedNow.hidden = !yes; }
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "includes_prohibited") { followAnswer(); }
  });
  followAnswer();

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && submitter.name === "remove_upload") { return; }
    for (var i = 0; i < steps.length; i += 1) {
      var problems = problemsOf(steps[i]);
      if (problems.length) {
        event.preventDefault();
        show(i, true);
        showProblems(steps[i], problems);
        return;
      }
    }
  });

  form.noValidate = true; // hidden steps' required fields would stop the browser's own check
  form.classList.add("stepped");
  progress.hidden = false;
  status.hidden = false;
  var opened = document.getElementById(form.getAttribute("data-open-step"));
  show(Math.max(0, steps.indexOf(opened)), false);
  // The server's summary of what to change is where the eye goes first: at the top, focused.
  var summary = document.getElementById("form-errors");
  if (summary) {
    summary.scrollIntoView({ block: "start" });
    summary.focus({ preventScroll: true });
  }
})();
