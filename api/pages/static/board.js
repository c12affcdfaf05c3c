/* The planner's board: while a plan job runs, poll its progress and show the plan when done.
 *
 * A section [data-progress-url] holds a <progress> bar; every second this fetches the job's
 * JSON ({status, progress, done, url}), moves the bar and, once the job is done, opens the
 * day at the new plan. Without JavaScript the page refreshes itself (<noscript> meta refresh).
 * Forms are disabled once sent, so a double click plans or dispatches once.
 */
(function () {
  "use strict";
  var POLL_MS = 1000;

  function poll(section) {
    var url = section.getAttribute("data-progress-url");
    var bar = section.querySelector("progress");
    var percent = section.querySelector("[data-testid=job-percent]");
    var state = section.querySelector("[data-testid=job-state]");
    function tick() {
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (answer) {
          if (!answer.ok) { throw new Error("progress: HTTP " + answer.status); }
          return answer.json();
        })
        .then(function (job) {
          if (bar) { bar.value = job.progress; }
          if (percent) { percent.textContent = Math.round(job.progress * 100) + " %"; }
          if (state) { state.setAttribute("data-status", job.status); }
          if (job.done) {
            window.location.replace(job.url);
          } else {
            window.setTimeout(tick, POLL_MS);
          }
        })
        .catch(function () { window.setTimeout(tick, POLL_MS * 3); });
    }
    window.setTimeout(tick, POLL_MS);
  }

  function once(form) {
    form.addEventListener("submit", function () {
      var buttons = form.querySelectorAll("button");
      window.setTimeout(function () {
        for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = true; }
      }, 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var jobs = document.querySelectorAll("[data-progress-url]");
    for (var i = 0; i < jobs.length; i++) { poll(jobs[i]); }
    var forms = document.querySelectorAll("form[method=post]");
    for (var j = 0; j < forms.length; j++) { once(forms[j]); }
  });
})();
