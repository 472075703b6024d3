// jobmatch pages: type-ahead for ESCO skills and occupations (progressive enhancement:
// every form also works without this file).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .catch(function () { return { items: [] }; });
  }

  function chipExists(list, value) {
    var boxes = list.querySelectorAll('input[name="skill"]');
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].value.toLowerCase() === value.toLowerCase()) { return boxes[i]; }
    }
    return null;
  }

  function addChip(list, value, label, essential) {
    var existing = chipExists(list, value);
    if (existing) { existing.checked = true; return; }
    var li = document.createElement("li");
    li.className = "chip" + (value.indexOf("http") === 0 ? "" : " free");
    var keep = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox"; box.name = "skill"; box.value = value; box.checked = true;
    keep.appendChild(box);
    keep.appendChild(document.createTextNode(" " + label));
    li.appendChild(keep);
    if (list.dataset.essential === "yes") {
      var ess = document.createElement("label");
      ess.className = "essential";
      var eb = document.createElement("input");
      eb.type = "checkbox"; eb.name = "essential"; eb.value = value; eb.checked = essential !== false;
      ess.appendChild(eb);
      ess.appendChild(document.createTextNode(" unverzichtbar"));
      li.appendChild(ess);
    }
    list.appendChild(li);
  }

  // A combobox: input[role=combobox][data-suggest] with a listbox (aria-controls).
  function combobox(input, onPick) {
    var box = document.getElementById(input.getAttribute("aria-controls"));
    var items = [];
    var active = -1;

    function close() {
      box.hidden = true; box.innerHTML = ""; items = []; active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function mark(i) {
      var options = box.querySelectorAll("li");
      for (var k = 0; k < options.length; k++) {
        options[k].setAttribute("aria-selected", k === i ? "true" : "false");
      }
      active = i;
      if (i >= 0 && options[i]) {
        input.setAttribute("aria-activedescendant", options[i].id);
        options[i].scrollIntoView({ block: "nearest" });
      }
    }
    function pick(i) {
      var item = items[i];
      close();
      if (item) { onPick(item); }
    }
    function show(found) {
      items = found;
      box.innerHTML = "";
      if (!found.length) { close(); return; }
      found.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = input.id + "-opt-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = item.label;
        if (item.label_de && item.label_en && item.label_en !== item.label_de) {
          var small = document.createElement("small");
          small.textContent = " – " + item.label_en;
          li.appendChild(small);
        } else if (!item.german) {
          var en = document.createElement("small");
          en.textContent = " (englisch)";
          li.appendChild(en);
        }
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(i); });
        box.appendChild(li);
      });
      box.hidden = false;
      input.setAttribute("aria-expanded", "true");
      mark(-1);
    }
    var lookup = debounce(function () {
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      var url = input.dataset.suggest + "?q=" + encodeURIComponent(q);
      fetchJson(url).then(function (data) {
        if (input.value.trim() === q) { show(data.items || []); }
      });
    }, 150);

    input.addEventListener("input", lookup);
    input.addEventListener("blur", function () { setTimeout(close, 100); });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown" && items.length) {
        ev.preventDefault(); mark(Math.min(active + 1, items.length - 1));
      } else if (ev.key === "ArrowUp" && items.length) {
        ev.preventDefault(); mark(Math.max(active - 1, 0));
      } else if (ev.key === "Enter") {
        if (active >= 0) { ev.preventDefault(); pick(active); }
        else if (input.dataset.freeText === "yes" && input.value.trim()) {
          ev.preventDefault();
          var text = input.value.trim();
          close();
          onPick({ uri: text, label: text, free: true });
        }
      } else if (ev.key === "Escape") {
        close();
      }
    });
  }

  var skillInput = document.getElementById("skill-search");
  if (skillInput) {
    var chips = document.getElementById(skillInput.dataset.chips);
    skillInput.dataset.freeText = "yes";
    combobox(skillInput, function (item) {
      addChip(chips, item.uri, item.label, true);
      skillInput.value = "";
      skillInput.focus();
    });
  }

  var occupationInput = document.getElementById("occupation");
  if (occupationInput && occupationInput.dataset.suggest) {
    var uriField = document.getElementById("occupation_uri");
    var list = document.getElementById("skill-chips");
    var status = document.getElementById("occupation-status");
    occupationInput.addEventListener("input", function () { uriField.value = ""; });
    combobox(occupationInput, function (item) {
      occupationInput.value = item.label;
      uriField.value = item.uri;
      var url = occupationInput.dataset.skills + "?uri=" + encodeURIComponent(item.uri);
      fetchJson(url).then(function (data) {
        (data.items || []).forEach(function (s) { addChip(list, s.uri, s.label, s.essential); });
        if (status) {
          status.textContent = (data.items || []).length +
            " Kompetenzen des Berufs übernommen – bitte prüfen und anpassen.";
        }
      });
    });
  }
})();
