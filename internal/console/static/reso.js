// Réso: small enhancements only; every page works without this script.
(function () {
  "use strict";

  // Commune search as typed: fills the field's list of suggestions.
  document.querySelectorAll("input[data-communes]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) { return; }
    var timer = null, last = "";
    input.addEventListener("input", function () {
      var q = input.value.trim();
      if (q.length < 2 || q === last) { return; }
      clearTimeout(timer);
      timer = setTimeout(function () {
        last = q;
        fetch("/communes?q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (hits) {
            list.textContent = "";
            hits.forEach(function (h) {
              var o = document.createElement("option");
              o.value = h.label;
              list.appendChild(o);
            });
          })
          .catch(function () { /* the server checks the field anyway */ });
      }, 150);
    });
  });

  // SIRET checked as typed: 14 digits with a valid Luhn key (La Poste:
  // digits adding up to a multiple of 5).
  function siretProblem(v) {
    var d = v.replace(/[\s.\u00a0\u202f]/g, "");
    if (d === "") { return ""; }
    if (!/^\d+$/.test(d)) { return "Le SIRET ne contient que des chiffres."; }
    if (d.length !== 14) { return "Le SIRET compte 14 chiffres ; vous en avez saisi " + d.length + "."; }
    var sum = 0, i, n;
    if (d.slice(0, 9) === "356000000" && d !== "35600000000048") {
      for (i = 0; i < 14; i++) { sum += +d[i]; }
      return sum % 5 === 0 ? "" : "Ce SIRET n'existe pas : sa clé de contrôle est fausse.";
    }
    for (i = 0; i < 14; i++) {
      n = +d[13 - i];
      if (i % 2 === 1) { n *= 2; if (n > 9) { n -= 9; } }
      sum += n;
    }
    return sum % 10 === 0 ? "" : "Ce SIRET n'existe pas : sa clé de contrôle est fausse. Vérifiez chaque chiffre.";
  }
  document.querySelectorAll("input[data-siret]").forEach(function (input) {
    var out = document.getElementById(input.getAttribute("data-siret"));
    if (!out) { return; }
    input.addEventListener("input", function () {
      var d = input.value.replace(/[\s.\u00a0\u202f]/g, "");
      var p = d.length >= 14 || /[^\d\s.\u00a0\u202f]/.test(input.value) ? siretProblem(input.value) : "";
      out.textContent = p || (d.length === 14 ? "SIRET valide." : "");
      out.className = p ? "error-text" : "hint";
      input.setAttribute("aria-invalid", p ? "true" : "false");
    });
  });

  // A rebuild's progress, polled while one runs.
  var board = document.querySelector("[data-rebuilds]");
  if (board) {
    var poll = function () {
      fetch("/admin/projections/etat", { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (rows) {
          if (!rows) { return; }
          var running = false;
          rows.forEach(function (row) {
            var el = document.getElementById("projection-" + row.name);
            if (!el) { return; }
            var bar = el.querySelector("progress"), text = el.querySelector("[data-text]"),
              state = el.querySelector("[data-state]"), lag = el.querySelector("[data-lag]");
            if (bar) { bar.value = row.percent; bar.textContent = row.percent + " %"; }
            if (text && row.text) { text.textContent = row.text; }
            if (state) { state.textContent = row.state; }
            if (lag) { lag.textContent = row.lag; }
            running = running || row.running;
          });
          if (running) { setTimeout(poll, 1000); }
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    if (board.getAttribute("data-rebuilds") === "running") { setTimeout(poll, 500); }
  }
}());
