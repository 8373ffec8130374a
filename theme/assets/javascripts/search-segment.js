/* Chinese query segmentation for the theme's search (mkdocs-material 9.x).
 *
 * The index is segmented into words at build time (jieba + data/search_terms.txt). The theme's
 * search worker splits a query's Chinese into words of the index, but never matches a word
 * that ends on the last character ("装修巡查" was searched as "装修" alone, "满意率" as "满意"),
 * and stops at the first character it cannot place. This script splits the query itself,
 * before it reaches the worker: each word of the index becomes its own term; question words
 * and function characters (的, 在, 吗 …) are left out; another character the index has not as
 * a word is searched as a prefix ("办" finds 办理); and Chinese is separated from digits and
 * Latin letters the way the index is ("7号楼" -> "7 号楼").
 *
 * Each word is followed by 〇 (a Han character in no word of the handbook): the worker never
 * matches a word ending on the last character, and drops the 〇 again. A run that is not yet
 * a whole word but starts one (the reader is still typing, "彩条" for "彩条布") is passed on
 * unchanged, so the worker searches it as a prefix as before.
 *
 * The index's words come from the setup message that carries the index to the worker.
 */
(function () {
  "use strict";
  if (typeof Worker === "undefined") return;

  var SETUP = 0;
  var QUERY = 2;
  var HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff";
  var HAN_RUN = new RegExp("[" + HAN + "]+", "g");
  var HAN_NEXT_TO_ALNUM = new RegExp("([0-9A-Za-z])(?=[" + HAN + "])|([" + HAN + "])(?=[0-9A-Za-z])", "g");
  var FILLER = "\u3007"; // 〇
  // Words that only shape a question; they would match unrelated sections.
  var QUESTION_WORDS = ["什么", "哪里", "哪儿", "哪个", "怎么", "怎样", "如何", "可以", "能不能",
    "多少", "是否", "需要", "有没有", "要不要", "几点", "为什么"];
  // Function characters, after lunr's Chinese stop word list.
  var FUNCTION_CHARS = "的一不在人有是为以于上他而后之来及了因下可到由这与也此但并个其已无小我们起最再" +
    "今去好只又或很亦某把那你乃它吧被比别当从得打凡儿该各给跟和何还即几既看据距靠啦另么每嘛拿哪您凭且" +
    "却让仍啥如若使谁虽随同所她往些向沿用咱则怎曾至致着诸自吗呢啊吧要能会请";

  var words = null;
  var prefixes = null;
  var skip = {};
  QUESTION_WORDS.concat(FUNCTION_CHARS.split("")).forEach(function (word) { skip[word] = true; });

  function learn(index) {
    var separator = new RegExp(index.config.separator);
    words = Object.create(null);
    prefixes = Object.create(null);
    index.docs.forEach(function (doc) {
      [doc.title, doc.text].forEach(function (field) {
        String(field || "").replace(/<[^>]+>/g, " ").toLowerCase().split(separator)
          .forEach(function (word) {
            if (!word || words[word]) return;
            words[word] = true;
            for (var end = 1; end < word.length; end++) prefixes[word.slice(0, end)] = true;
          });
      });
    });
  }

  // The words of one run of Chinese characters, longest match first, left to right.
  function split(run) {
    var pieces = [];
    var i = 0;
    while (i < run.length) {
      var end = run.length;
      while (end > i && !words[run.slice(i, end)]) end--;
      if (end > i) {
        pieces.push(run.slice(i, end));
        i = end;
      } else if (prefixes[run.slice(i)]) {
        pieces.push(run.slice(i)); // the word being typed
        break;
      } else {
        pieces.push(run.charAt(i)); // a character the index does not have as a word
        i++;
      }
    }
    return pieces;
  }

  function segmentRun(run) {
    if (!words[run] && prefixes[run]) return run;
    var pieces = split(run);
    var useful = pieces.filter(function (piece) { return !skip[piece]; });
    if (!useful.length) useful = pieces;
    return " " + useful.map(function (piece) {
      return words[piece] ? piece + FILLER : piece;
    }).join(" ") + " ";
  }

  function segment(query) {
    return query
      .replace(HAN_NEXT_TO_ALNUM, "$1$2 ")
      .replace(HAN_RUN, segmentRun)
      .replace(/\s+/g, " ")
      .trim();
  }

  var postMessage = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (message) {
    var args = Array.prototype.slice.call(arguments);
    if (message && message.type === SETUP && message.data && message.data.docs) {
      learn(message.data);
    } else if (message && message.type === QUERY && typeof message.data === "string" && words) {
      args[0] = { type: QUERY, data: segment(message.data) };
    }
    return postMessage.apply(this, args);
  };
})();

/* Text that arrives by an input method without key events — pinyin composed on iOS WeChat,
 * voice input, a paste — reaches the search box as `input` and `compositionend` events only,
 * while the theme runs a query on `keyup`. Each such event is passed on as a `keyup`, so the
 * search answers whatever way the text came in (a query already shown is not run again). */
(function () {
  "use strict";
  var composing = false;
  function relay(event) {
    var box = event.target;
    if (!box || !box.classList || !box.classList.contains("md-search__input")) return;
    if (event.type === "compositionstart") { composing = true; return; }
    if (event.type === "compositionend") composing = false;
    else if (composing || event.isComposing) return; // wait for the composed word
    box.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true, key: "Unidentified" }));
  }
  ["input", "compositionstart", "compositionend"].forEach(function (type) {
    document.addEventListener(type, relay, true);
  });
})();
