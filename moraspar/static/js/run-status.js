// Polls a match run's status every 2 s and updates the page; reloads it once
// the run has finished, so the result shows. Without JS the page has a
// "Reload" link instead.
(function () {
  "use strict";
  var box = document.querySelector("[data-run-status-url]");
  if (!box || box.getAttribute("data-finished") === "true" || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-run-status-url");
  var text = box.querySelector("[data-run-status-text]");
  var bar = box.querySelector("[data-run-status-progress]");
  var last = null;

  function show(data) {
    if (text && data.text !== last) {
      text.textContent = data.text;
      last = data.text;
    }
    if (bar) {
      bar.max = data.total || bar.max;
      bar.value = data.progress;
      bar.textContent = data.progress + " / " + (data.total || bar.max);
    }
    box.className = "run-status run-status--" + data.status;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () {
        // Keep trying at a slower pace; the Reload link still works.
        window.setTimeout(poll, 10000);
      });
  }

  window.setTimeout(poll, 2000);
})();
