/* Drafts of staff forms that survive a dead signal.
 *
 * A staff form opts in with one attribute: <form data-draft="巡查记录 1号楼…"> (the value names
 * the record for people) and a hidden "nonce" field. On submit, what was typed (photos too) is
 * put into IndexedDB on the phone first and then sent with the header X-Staff-Draft: 1; the
 * server answers in JSON (forms_app/drafts.py). Without a signal the draft stays on the phone,
 * the page says so, and it is sent when the signal returns, from whichever staff page is open.
 * The nonce makes a second send of one draft find the first record: never a duplicate.
 * Drafts belong to the person who typed them: each account has its own database on the
 * device ("staff-drafts:<username>"), only ever opened while that account is logged in, so
 * another person on a shared PC neither sees nor sends them. Logging out first offers to send
 * what is waiting (when online), then deletes the account's database; the login page the
 * logout lands on deletes it too (data-clear-drafts), should the logout have skipped this.
 * A draft the server refuses as invalid goes to the page the ordinary way so every mistake
 * shows beside its field; its photos are not sent again but kept here as a "refill" record
 * under the form's nonce, and put back into the form's file inputs when the page comes back
 * with the same nonce: photos survive a refused submission without choosing them again.
 */
(function () {
  "use strict";

  var LEGACY_DB = "staff-drafts";  // one database for everyone, before drafts were per account
  var DB_PREFIX = "staff-drafts:";
  var STORE = "drafts";
  var SESSION_URL = "/forms/staff/drafts/session";
  var LOGIN_URL = "/forms/staff/login";
  var RETRY_MS = 20000;
  var sending = false;
  var inFlight = null;  // the flush under way, which a logout waits for
  var closedFor = null;  // the account logging out: its database is not opened again
  var notes = [];  // messages about drafts sent or dropped while this page is open

  function currentUser() {
    var marker = document.querySelector("[data-staff-user]");
    return marker ? marker.getAttribute("data-staff-user") : null;
  }

  // --- IndexedDB -------------------------------------------------------------------------

  function openDb(name) {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      if (!name) { reject(new Error("nobody logged in")); return; }
      if (closedFor && name === dbName(closedFor)) { reject(new Error("logging out")); return; }
      var request = indexedDB.open(name, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "nonce" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function dbName(user) { return user ? DB_PREFIX + user : null; }

  function withStore(mode, work, name) {
    return openDb(name || dbName(currentUser())).then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && result.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  // Every draft of the logged-in account (and only of it) lives in its own database.
  function putDraft(draft) {
    return withStore("readwrite", function (s) { s.put(draft); }, dbName(draft.user));
  }
  function deleteDraft(nonce) { return withStore("readwrite", function (s) { s["delete"](nonce); }); }
  function allDrafts() {
    if (!currentUser()) return Promise.resolve([]);
    return withStore("readonly", function (s) { return s.getAll(); });
  }

  function dropDatabase(name) {
    return new Promise(function (resolve) {
      if (!window.indexedDB || !name) { resolve(); return; }
      var request = indexedDB.deleteDatabase(name);
      request.onsuccess = request.onerror = function () { resolve(); };
      // Blocked by a connection still open: the deletion goes ahead once it closes.
      request.onblocked = function () { resolve(); };
    });
  }

  function legacyExists() {
    if (!indexedDB.databases) return Promise.resolve(true);
    return indexedDB.databases().then(function (all) {
      return all.some(function (d) { return d.name === LEGACY_DB; });
    }, function () { return true; });
  }

  /* Drafts kept in the shared database of older versions: this account's move into its own
     database; the shared one goes once empty. Others' stay there, unseen, until they log in. */
  function adoptLegacy(user) {
    if (!user || !window.indexedDB) return Promise.resolve();
    return legacyExists().then(function (exists) {
      if (!exists) return;
      return withStore("readonly", function (s) { return s.getAll(); }, LEGACY_DB).then(function (old) {
        var mine = (old || []).filter(function (d) { return d.user === user; });
        var chain = Promise.resolve();
        mine.forEach(function (draft) {
          chain = chain.then(function () { return putDraft(draft); }).then(function () {
            return withStore("readwrite", function (s) { s["delete"](draft.nonce); }, LEGACY_DB);
          });
        });
        return chain.then(function () {
          if ((old || []).length === mine.length) return dropDatabase(LEGACY_DB);
        });
      });
    }).then(null, function () {});
  }

  /* Everything this account keeps on the device: its database, and its drafts in the old
     shared one. */
  function clearAccount(user) {
    if (!user) return Promise.resolve();
    return dropDatabase(dbName(user)).then(function () {
      return legacyExists().then(function (exists) {
        if (!exists) return;
        return withStore("readwrite", function (s) {
          var request = s.getAll();
          request.onsuccess = function () {
            request.result.forEach(function (d) { if (d.user === user) s["delete"](d.nonce); });
          };
        }, LEGACY_DB);
      });
    }).then(null, function () {});
  }

  // --- what a form holds -----------------------------------------------------------------

  function entriesOf(form) {
    var entries = [];
    new FormData(form).forEach(function (value, name) {
      if (typeof value !== "string" && (!value.name || !value.size)) return;  // no file chosen
      entries.push([name, value]);
    });
    return entries;
  }

  function bodyOf(draft, csrfToken) {
    var body = new FormData();
    draft.entries.forEach(function (entry) {
      var name = entry[0], value = entry[1];
      if (name === "csrf_token") value = csrfToken || value;
      if (typeof value === "string") body.append(name, value);
      else body.append(name, value, value.name);
    });
    return body;
  }

  function restore(form, draft) {
    draft.entries.forEach(function (entry) {
      var name = entry[0], value = entry[1];
      if (typeof value !== "string" || name === "csrf_token") return;
      var fields = form.querySelectorAll("[name='" + name.replace(/'/g, "") + "']");
      Array.prototype.forEach.call(fields, function (field) {
        if (field.type === "radio" || field.type === "checkbox") {
          if (field.value === value) field.checked = true;
        } else if (field.type !== "file") {
          field.value = value;
        }
      });
    });
  }

  // --- the banner ------------------------------------------------------------------------

  function banner() {
    var box = document.getElementById("draft-status");
    if (!box) {
      box = document.createElement("div");
      box.id = "draft-status";
      box.className = "draft-status";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      var main = document.querySelector("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    return box;
  }

  function show(drafts) {
    var user = currentUser();
    drafts = drafts.filter(function (d) { return !d.refill; });
    // The database is this account's; the check on each draft is a second lock.
    var mine = drafts.filter(function (d) { return d.user === user && !d.problem; });
    var problems = drafts.filter(function (d) { return d.user === user && d.problem; });
    var lines = [];
    if (mine.length) {
      var waiting = mine.some(function (d) { return d.waitingFor === "login"; });
      lines.push({ cls: "waiting", text: (waiting ? "登录已失效：" : "等待发送：") + mine.length +
        " 份记录保存在本机（" + mine.map(function (d) { return d.label; }).join("、") + "），" +
        (waiting ? "请重新登录，登录后自动发送。" : "网络恢复后自动发送，请勿清除浏览器数据。"),
        link: waiting ? { href: LOGIN_URL, text: "重新登录" } : null });
    }
    problems.forEach(function (d) {
      var here = d.page === location.pathname + location.search;
      lines.push({ cls: "problem", text: "「" + d.label + "」未发送：" + d.problem,
                   link: here ? null : { href: d.page, text: "打开表单修改" } });
    });
    notes.forEach(function (note) { lines.push(note); });
    var box = banner();
    box.textContent = "";
    box.hidden = !lines.length;
    lines.forEach(function (line) {
      var p = document.createElement("p");
      p.className = "draft-line " + line.cls;
      p.textContent = line.text;
      if (line.link) {
        var a = document.createElement("a");
        a.className = "button secondary";
        a.href = line.link.href;
        a.textContent = line.link.text;
        p.appendChild(document.createTextNode(" "));
        p.appendChild(a);
      }
      box.appendChild(p);
    });
  }

  function refresh() { return allDrafts().then(show, function () {}); }

  // --- sending ---------------------------------------------------------------------------

  function freshSession() {
    return fetch(SESSION_URL, { credentials: "same-origin",
                                headers: { "X-Staff-Draft": "1", "Accept": "application/json" } })
      .then(function (response) { return response.json(); });
  }

  function post(draft, csrfToken) {
    return fetch(draft.action, {
      method: "POST", body: bodyOf(draft, csrfToken), credentials: "same-origin",
      headers: { "X-Staff-Draft": "1", "Accept": "application/json" }
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        // Not our answer (a proxy's error page): treat like no signal and try again later.
        throw new TypeError("no answer from the app");
      }
      return response.json().then(function (answer) {
        answer.status = response.status;
        return answer;
      });
    });
  }

  /* Send one draft; resolves to the server's answer, or {outcome: "offline"}. */
  function send(draft, token) {
    return post(draft, token).then(function (answer) {
      if (answer.outcome !== "expired") return answer;
      return freshSession().then(function (session) {
        if (session.outcome === "login") return session;
        return post(draft, session.csrf_token);
      });
    }, function () { return { outcome: "offline" }; });
  }

  function settle(draft, answer, form) {
    var outcome = answer.outcome;
    if (outcome === "saved" || outcome === "duplicate") {
      return deleteDraft(draft.nonce).then(function () {
        if (form) { location.assign(answer.location); return; }
        notes.push({ cls: "sent", text: "已发送：" + draft.label + "。" + answer.message });
      });
    }
    if (outcome === "offline") {
      draft.waitingFor = "signal";
      return putDraft(draft);
    }
    if (outcome === "login") {
      draft.waitingFor = "login";
      return putDraft(draft);
    }
    if (outcome === "invalid") {
      if (form) {
        // On the form itself: send it the ordinary way, so the page shows every mistake
        // beside its field with what was typed (an invalid form stores nothing). The photos
        // stay here and are put back when the page comes back (refill), not sent twice.
        var files = draft.entries.filter(function (e) { return typeof e[1] !== "string"; });
        var refill = files.length ? putDraft({ nonce: draft.nonce, refill: true, user: draft.user,
                                              action: draft.action, label: draft.label,
                                              entries: files })
                                  : deleteDraft(draft.nonce);
        return refill.then(function () {
          if (files.length) {
            Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
              input.value = "";
            });
          }
          HTMLFormElement.prototype.submit.call(form);
        });
      }
      draft.problem = answer.message + "（内容已保留，打开表单修改后重新提交）";
      return putDraft(draft);
    }
    if (outcome === "error" && answer.status >= 500) {
      draft.waitingFor = "signal";  // the server failed, not the draft: try again later
      return putDraft(draft);
    }
    // conflict, or refused for good (permission, size): drop it and say why.
    return deleteDraft(draft.nonce).then(function () {
      notes.push({ cls: "problem", text: "「" + draft.label + "」没有保存：" + answer.message });
    });
  }

  /* The form on this page a draft came from (still showing), if any: a draft sent from its
     own page goes on to the next page like an ordinary submit. */
  function formFor(draft) {
    var fields = document.querySelectorAll("form[data-draft] [name=nonce]");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value === draft.nonce) return fields[i].form;
    }
    return null;
  }

  /* Send this account's waiting drafts. ``stay``: never go on to a draft's next page (on
     logout the page is about to change anyway). */
  function flush(stay) {
    if (inFlight) return inFlight;
    if (sending) return Promise.resolve();
    var user = currentUser();
    sending = true;
    inFlight = allDrafts().then(function (drafts) {
      var mine = drafts.filter(function (d) { return user && d.user === user && !d.problem && !d.refill; });
      var chain = Promise.resolve();
      mine.forEach(function (draft) {
        chain = chain.then(function () {
          return send(draft).then(function (answer) {
            return settle(draft, answer, stay === true ? null : formFor(draft));
          });
        });
      });
      return chain;
    }).then(function () { sending = false; inFlight = null; return refresh(); },
            function () { sending = false; inFlight = null; });
    return inFlight;
  }

  function onSubmit(event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-draft]") || event.defaultPrevented) return;
    event.preventDefault();
    var nonceField = form.querySelector("[name=nonce]");
    var draft = {
      nonce: nonceField ? nonceField.value : String(Date.now()),
      action: form.action, page: location.pathname + location.search,
      label: form.getAttribute("data-draft") || document.title,
      user: currentUser(), savedAt: new Date().toISOString(), entries: entriesOf(form)
    };
    var buttons = form.querySelectorAll("button[type=submit]");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    function release() { Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; }); }
    putDraft(draft).then(function () {
      sending = true;
      return send(draft).then(function (answer) { return settle(draft, answer, form); })
        .then(function () { sending = false; release(); return refresh(); });
    }, function () {
      // No IndexedDB (a private window): the ordinary submit, without the safety net.
      HTMLFormElement.prototype.submit.call(form);
    });
  }

  function restoreOnThisPage() {
    var user = currentUser();
    allDrafts().then(function (drafts) {
      drafts.forEach(function (draft) {
        if (draft.user !== user || !draft.problem) return;
        if (draft.page !== location.pathname + location.search) return;
        var nonceFields = document.querySelectorAll("form[data-draft] [name=nonce]");
        Array.prototype.forEach.call(nonceFields, function (field) {
          var form = field.form;
          if (form.action !== draft.action) return;
          restore(form, draft);
          deleteDraft(draft.nonce).then(function () {
            notes.push({ cls: "problem", text: "已恢复未发送的「" + draft.label + "」：" + draft.problem });
            refresh();
          });
        });
      });
    }, function () {});
  }

  /* Photos of a draft the server refused, put back into the form that came back with them
     (the same nonce), so nobody chooses them again. */
  function refillOnThisPage() {
    var user = currentUser();
    if (typeof window.DataTransfer !== "function") return;
    allDrafts().then(function (drafts) {
      drafts.forEach(function (draft) {
        if (!draft.refill || draft.user !== user) return;
        var field = Array.prototype.filter.call(
          document.querySelectorAll("form[data-draft] [name=nonce]"),
          function (f) { return f.value === draft.nonce; })[0];
        if (!field) return;
        var form = field.form, count = 0, byName = {};
        draft.entries.forEach(function (entry) {
          (byName[entry[0]] = byName[entry[0]] || []).push(entry[1]);
        });
        Object.keys(byName).forEach(function (name) {
          var input = form.querySelector("input[type=file][name='" + name.replace(/'/g, "") + "']");
          if (!input) return;
          var transfer = new DataTransfer();
          byName[name].forEach(function (file) { transfer.items.add(file); count += 1; });
          input.files = transfer.files;
        });
        deleteDraft(draft.nonce).then(function () {
          if (count) {
            notes.push({ cls: "sent", text: "您选择的 " + count + " 张照片已保留，无需重新选择；改正标红的项目后再提交。" });
          }
          refresh();
        });
      });
    }, function () {});
  }

  // --- logout: offer to send, then clear this account's drafts ---------------------------

  function leave(form, user) {
    var done = function () { HTMLFormElement.prototype.submit.call(form); };
    closedFor = user;  // a send still under way must not write its draft back
    clearAccount(user).then(done, done);
  }

  function button(text, id, secondary, action) {
    var b = document.createElement("button");
    b.type = "button";
    b.id = id;
    b.className = secondary ? "button secondary" : "button";
    b.textContent = text;
    b.addEventListener("click", action);
    return b;
  }

  /* Drafts are waiting: ask before logging out. Online, "发送后退出" sends them first; what
     cannot be sent is named, and the person chooses to delete it or stay. */
  function askBeforeLeaving(form, user, drafts, afterTrying) {
    var online = navigator.onLine !== false;
    var sendable = drafts.filter(function (d) { return !d.problem; });
    var labels = drafts.map(function (d) { return d.label; }).join("、");
    var text = (afterTrying ? "仍有 " + drafts.length + " 份记录未能发送（" + labels + "）。"
                            : "退出前：本机还有 " + drafts.length + " 份您填写的记录未发送（" + labels + "）。") +
      (online ? "" : "当前没有网络，无法发送。") +
      "退出后这些记录将从本机删除，其他人看不到。";
    var box = banner();
    box.textContent = "";
    box.hidden = false;
    var p = document.createElement("p");
    p.className = "draft-line problem";
    p.id = "draft-logout";
    p.setAttribute("role", "alert");
    p.appendChild(document.createTextNode(text + " "));
    if (online && sendable.length && !afterTrying) {
      p.appendChild(button("发送后退出", "draft-send-and-leave", false, function () {
        Array.prototype.forEach.call(p.querySelectorAll("button"), function (b) { b.disabled = true; });
        // A send under way (the retry timer's) finishes first; then each draft is tried again.
        Promise.resolve(inFlight).then(function () { return flush(true); }).then(function () {
          return allDrafts();
        }).then(function (left) {
          left = left.filter(function (d) { return !d.refill; });
          if (!left.length) { leave(form, user); return; }
          askBeforeLeaving(form, user, left, true);
        }, function () { leave(form, user); });
      }));
    }
    p.appendChild(button("删除并退出", "draft-discard-and-leave", true, function () {
      leave(form, user);
    }));
    p.appendChild(button("取消", "draft-stay", true, function () { refresh(); }));
    box.appendChild(p);
    // On a phone the logout sits in the 更多 sheet (#staff-menu, open as the page's target):
    // close it so the question is seen.
    if (location.hash === "#staff-menu") location.hash = "#draft-status";
    box.scrollIntoView({ block: "nearest" });
  }

  function onLogout(event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.logout") || event.defaultPrevented) return;
    var user = currentUser();
    if (!user || !window.indexedDB) return;  // nothing kept: the ordinary logout
    event.preventDefault();
    allDrafts().then(function (drafts) {
      drafts = drafts.filter(function (d) { return !d.refill; });  // kept photos: nothing to send
      if (!drafts.length) { leave(form, user); return; }
      askBeforeLeaving(form, user, drafts, false);
    }, function () { leave(form, user); });
  }

  document.addEventListener("submit", onLogout);
  document.addEventListener("submit", onSubmit);
  window.addEventListener("online", function () { flush(); });
  window.setInterval(function () { if (navigator.onLine !== false) flush(); }, RETRY_MS);
  var cleared = document.querySelector("[data-clear-drafts]");
  (cleared ? clearAccount(cleared.getAttribute("data-clear-drafts")) : Promise.resolve())
    .then(function () { return adoptLegacy(currentUser()); })
    .then(function () { restoreOnThisPage(); refillOnThisPage(); flush(); });
})();
