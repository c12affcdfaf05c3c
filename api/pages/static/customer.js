/* The customer's page: keep the live lines (status, ETA window, stops before) fresh.
 *
 * Every data-poll-seconds (20 s) while the page is visible, fetch the section's data-poll URL
 * (/t/TOKEN/status.json) and put its rendered, HTML-escaped lines into the elements marked
 * data-live. When the stage changes (planned -> on its way -> delivered) the page reloads, as
 * other parts of it (buttons, returns) change then. Without JavaScript the page still shows
 * the same lines as of its loading. */
(function () {
  "use strict";
  var section = document.querySelector("[data-poll]");
  if (!section || !window.fetch) { return; }
  var url = section.getAttribute("data-poll");
  var seconds = parseInt(section.getAttribute("data-poll-seconds"), 10) || 20;
  var stage = section.getAttribute("data-stage");
  var busy = false;

  function put(name, html) {
    var el = section.querySelector('[data-live="' + name + '"]');
    if (!el || typeof html !== "string") { return; }
    if (el.innerHTML !== html) { el.innerHTML = html; }
    el.hidden = html.trim() === "";
  }

  function poll() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (data.stage !== stage) { window.location.reload(); return; }
        put("status", data.status);
        put("eta", data.eta);
        put("stops", data.stops);
        section.setAttribute("data-updated", new Date().toISOString());
      })
      .catch(function () { /* offline for a moment: try again next time */ })
      .then(function () { busy = false; });
  }

  window.setInterval(poll, seconds * 1000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); } });
}());
