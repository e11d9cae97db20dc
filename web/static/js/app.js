// Rectiflow: the only script of our own (CSP forbids inline handlers).
// What the server refuses must show where the user acted: htmx swaps only 2xx, 409 and 422,
// so every other failure (403, 413, 429, 5xx, no network) is said here, in the form, with the
// input kept.  Texts come from data-* attributes of <body>, which the server translates.
(function () {
  "use strict";

  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-print]");
    if (el) { window.print(); }
  });

  function text(name) {
    return (document.body && document.body.dataset[name]) || "";
  }

  // the form (or the element) the request came from, where its message belongs
  function home(elt) {
    return (elt && elt.closest && (elt.closest("form") || elt)) || document.querySelector("main");
  }

  function say(elt, message) {
    var where = home(elt);
    if (!where) { return; }
    var box = where.querySelector(":scope > .flash.request-error");
    if (!box) {
      box = document.createElement("p");
      box.className = "flash error request-error";
      box.setAttribute("role", "alert");
      where.insertBefore(box, where.firstChild);
    }
    box.textContent = message;
  }

  function clear(elt) {
    var where = home(elt);
    var box = where && where.querySelector(":scope > .flash.request-error");
    if (box) { box.remove(); }
  }

  // the server's own words: the <h1> of its error fragment ("413 · 文件过大")
  function serverWords(xhr) {
    if (!xhr || !xhr.responseText) { return ""; }
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var h = doc.querySelector(".error-page h1, [role=alert]");
    return h ? h.textContent.trim() : "";
  }

  document.addEventListener("htmx:beforeRequest", function (e) { clear(e.detail.elt); });

  // a request slower than 300 ms shows a busy bar at the top and a waiting cursor, and
  // its form's buttons wait too (a second click would send it twice)
  var pending = 0, busyTimer = null;
  document.addEventListener("htmx:beforeRequest", function () {
    pending += 1;
    if (busyTimer === null) {
      busyTimer = setTimeout(function () { document.body.classList.add("busy"); }, 300);
    }
  });
  document.addEventListener("htmx:afterRequest", function () {
    pending = Math.max(0, pending - 1);
    if (pending === 0) {
      clearTimeout(busyTimer);
      busyTimer = null;
      document.body.classList.remove("busy");
    }
  });
  // a plain form post (an Excel upload, a file download) is busy until the next page
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!e.defaultPrevented && !form.hasAttribute("hx-post") && form.method === "post") {
      setTimeout(function () { document.body.classList.add("busy"); }, 300);
      // an answer that is a download never replaces the page: stop waiting after a while
      setTimeout(function () { document.body.classList.remove("busy"); }, 20000);
    }
  });
  window.addEventListener("pageshow", function () { document.body.classList.remove("busy"); });

  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    var words = serverWords(xhr) || (xhr.status + " · " + text("msgFailed"));
    say(e.detail.elt, words);
  });

  document.addEventListener("htmx:sendError", function (e) {
    say(e.detail.elt, text("msgOffline"));
  });

  // a file over the limit is refused before it is sent (the server refuses it too: 413)
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var inputs = form.querySelectorAll("input[type=file][data-max-bytes]");
    for (var i = 0; i < inputs.length; i++) {
      var limit = parseInt(inputs[i].dataset.maxBytes, 10);
      var files = inputs[i].files || [];
      for (var j = 0; j < files.length; j++) {
        if (limit && files[j].size > limit) {
          e.preventDefault();
          e.stopImmediatePropagation();
          say(form, text("msgTooLarge").replace("%(name)s", files[j].name));
          return;
        }
      }
    }
  }, true);

  // upload progress: <progress data-upload-progress> inside the form
  document.addEventListener("htmx:xhr:progress", function (e) {
    var form = home(e.detail.elt);
    var bar = form && form.querySelector("progress[data-upload-progress]");
    if (bar && e.detail.lengthComputable) {
      bar.hidden = false;
      bar.max = e.detail.total;
      bar.value = e.detail.loaded;
    }
  });
})();
