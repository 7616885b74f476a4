// Honten UI: progressive enhancement only; every page works without it.
"use strict";
(function () {
  // Reservation countdowns: <time datetime="…" data-countdown>.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var left = Math.max(0, Math.floor((Date.parse(el.getAttribute("datetime")) - now) / 1000));
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      el.setAttribute("aria-label", m + " min " + s + " s");
    });
  }
  // Import progress pages reload themselves while a job runs.
  function poll() {
    var el = document.querySelector("[data-refresh]");
    if (el) { setTimeout(function () { location.reload(); }, 1000); }
  }
  // Live fragments (htmx-style): an element with data-poll="/path" is
  // replaced by the HTML that path answers, every second, until the new
  // element no longer asks to be polled (the job has finished).
  function swap() {
    document.querySelectorAll("[data-poll]").forEach(function (el) {
      if (el.dataset.polling) { return; }
      el.dataset.polling = "1";
      setTimeout(function () {
        fetch(el.getAttribute("data-poll"), { credentials: "same-origin", headers: { "X-Fragment": "1" } })
          .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
          .then(function (html) {
            var t = document.createElement("template");
            t.innerHTML = html.trim();
            var next = t.content.firstElementChild;
            if (next) { el.replaceWith(next); } else { delete el.dataset.polling; }
            swap();
          })
          .catch(function () { delete el.dataset.polling; setTimeout(swap, 4000); });
      }, 1000);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick(); setInterval(tick, 1000); poll(); swap();
    document.querySelectorAll("a.back").forEach(function (a) {
      a.addEventListener("click", function (e) { if (history.length > 1) { e.preventDefault(); history.back(); } });
    });
  });
})();
