/*
 * Skill suggestions for tag fields (progressive enhancement).
 *
 * Inputs rendered with data-tags="skills" (moraspar.fields.TagsField) hold
 * comma-separated tags. As the user types the current tag (after the last
 * comma), this asks /vocabulary/skills?q= for labels and offers them in a
 * <datalist>, which browsers and screen readers present natively. Each
 * option's value is the whole field with the current tag completed, so picking
 * one keeps the tags typed before it. Free tags are still allowed: nothing
 * restricts what is typed. Without JavaScript the field is a plain text box.
 */
(function () {
  "use strict";

  var MIN_LENGTH = 2;
  var DELAY_MS = 200;
  var script = document.currentScript;
  var endpoint = (script && script.dataset.suggestUrl) || "/vocabulary/skills";
  var cache = new Map();

  function split(value) {
    var cut = value.lastIndexOf(",");
    var head = cut < 0 ? "" : value.slice(0, cut + 1);
    var current = value.slice(cut + 1).replace(/^\s+/, "");
    if (head) {
      head = head.replace(/\s*$/, "") + " ";
    }
    return { head: head, current: current };
  }

  function alreadyChosen(head) {
    var chosen = new Set();
    head.split(",").forEach(function (tag) {
      var t = tag.trim().toLocaleLowerCase("sv");
      if (t) {
        chosen.add(t);
      }
    });
    return chosen;
  }

  function fetchLabels(query) {
    var key = query.toLocaleLowerCase("sv");
    if (cache.has(key)) {
      return Promise.resolve(cache.get(key));
    }
    var url = endpoint + "?q=" + encodeURIComponent(query);
    return fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.ok ? response.json() : [];
      })
      .then(function (labels) {
        var list = Array.isArray(labels) ? labels : [];
        cache.set(key, list);
        return list;
      });
  }

  function fill(datalist, head, labels) {
    var chosen = alreadyChosen(head);
    var fragment = document.createDocumentFragment();
    labels.forEach(function (label) {
      if (chosen.has(String(label).toLocaleLowerCase("sv"))) {
        return;
      }
      var option = document.createElement("option");
      option.value = head + label;
      option.label = label;
      fragment.appendChild(option);
    });
    datalist.replaceChildren(fragment);
  }

  function enhance(input, index) {
    var datalist = document.createElement("datalist");
    datalist.id = (input.id || "tags-" + index) + "-suggestions";
    input.insertAdjacentElement("afterend", datalist);
    input.setAttribute("list", datalist.id);

    var timer = null;
    var latest = "";

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      var parts = split(input.value);
      if (parts.current.trim().length < MIN_LENGTH) {
        datalist.replaceChildren();
        return;
      }
      timer = window.setTimeout(function () {
        var query = parts.current.trim();
        latest = query;
        fetchLabels(query)
          .then(function (labels) {
            if (latest === query) {
              fill(datalist, parts.head, labels);
            }
          })
          .catch(function () {
            /* Suggestions are a help only: the field works without them. */
          });
      }, DELAY_MS);
    });
  }

  function init() {
    var inputs = document.querySelectorAll('input[data-tags="skills"]');
    Array.prototype.forEach.call(inputs, enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
