// Satisfaction: result charts and draft saving on the answer page (progressive enhancement:
// every page works without JavaScript; no inline scripts, so the CSP holds).
(function () {
  "use strict";
  const lang = document.documentElement.lang || "nl";
  const locale = lang === "en" ? "en-GB" : "nl-NL";
  const blue = "#2c5282";
  const palette = ["#2f855a", "#3182ce", "#d69e2e", "#c53030"];

  function monthLabel(iso) {
    return new Date(iso + "T00:00:00").toLocaleDateString(locale, { month: "short", year: "2-digit" });
  }

  function renderCharts() {
    const source = document.getElementById("sat-charts");
    if (!source || !window.Chart) return;
    const data = JSON.parse(source.textContent);
    const byId = {};
    data.questions.forEach(function (q) { byId[String(q.id)] = q; });
    const months = data.months.map(monthLabel);
    document.querySelectorAll("canvas[data-sat-chart]").forEach(function (canvas) {
      const kind = canvas.dataset.satChart;
      if (kind === "satisfaction") {
        line(canvas, months, data.satisfaction, 0, 100);
        return;
      }
      const q = byId[canvas.dataset.question];
      if (!q) return;
      if (kind === "distribution") {
        const colors = q.labels.length === 4 ? palette : q.labels.map(function () { return blue; });
        new window.Chart(canvas, {
          type: "bar",
          data: { labels: q.labels, datasets: [{ data: q.counts, backgroundColor: colors, borderRadius: 4 }] },
          options: { indexAxis: q.labels.length <= 4 ? "y" : "x", responsive: true, maintainAspectRatio: false, animation: false,
            plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { beginAtZero: true, ticks: { precision: 0 } } } }
        });
      } else if (kind === "trend") {
        line(canvas, months, q.trend, q.headline === "nps" ? -100 : 0, 100);
      }
    });
  }

  function line(canvas, labels, values, min, max) {
    new window.Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: [{ data: values, borderColor: blue, backgroundColor: "rgba(44,82,130,.12)", fill: true, spanGaps: true, tension: .2, pointRadius: 3 }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } },
        scales: { y: { min: min, max: max, ticks: { maxTicksLimit: 5 } }, x: { grid: { display: false } } } }
    });
  }

  function draftSaving() {
    const form = document.getElementById("answer-form");
    if (!form || !window.fetch) return;
    const status = form.querySelector("[data-draft-status]");
    let timer = null;
    function save() {
      const body = new FormData(form);
      body.set("action", "draft");
      fetch(window.location.pathname, { method: "POST", body: body, headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (r) { if (r.ok && status) status.textContent = status.dataset.saved; })
        .catch(function () { /* the form still works; the draft is saved on the next change */ });
    }
    form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(save, 400); });
    form.addEventListener("input", function (e) { if (e.target.tagName === "TEXTAREA") { clearTimeout(timer); timer = setTimeout(save, 1500); } });
  }

  document.addEventListener("DOMContentLoaded", function () { renderCharts(); draftSaving(); });
})();
