// Relatiebeheer: progressive enhancement only; every page works without JavaScript.
// No inline scripts or handlers anywhere, so a strict Content-Security-Policy holds.
(function () {
  "use strict";
  const lang = document.documentElement.lang || "nl";
  const locale = lang === "en" ? "en-GB" : "nl-NL";
  const euro = new Intl.NumberFormat(locale, { style: "currency", currency: "EUR", maximumFractionDigits: 0 });

  function renderCharts(root) {
    if (!window.Chart) return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.rendered) return;
      const source = document.getElementById(canvas.dataset.source);
      if (!source) return;
      const data = JSON.parse(source.textContent);
      canvas.dataset.rendered = "1";
      if (canvas.dataset.chart === "pareto") { renderPareto(canvas, data); return; }
      if (series[canvas.dataset.chart]) { series[canvas.dataset.chart](canvas, data); return; }
      const labels = data.labels.map(function (iso) {
        const d = new Date(iso + "T00:00:00");
        return d.toLocaleDateString(locale, { month: "short", year: "2-digit" });
      });
      new window.Chart(canvas, {
        type: canvas.dataset.chart === "revenue" ? "bar" : canvas.dataset.chart,
        data: { labels: labels, datasets: [{ data: data.values.map(Number), backgroundColor: "#2c5282", borderRadius: 4 }] },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (ctx) { return euro.format(ctx.parsed.y); } } } },
          scales: { y: { beginAtZero: true, suggestedMax: 1000, ticks: { maxTicksLimit: 5, callback: function (v) { return euro.format(v); } }, grid: { color: "#edf1f5" } }, x: { grid: { display: false } } }
        }
      });
    });
  }

  const percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 });

  function renderPareto(canvas, points) {
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: points.map(function (p) { return percent.format(p.accounts); }),
        datasets: [{ data: points.map(function (p) { return p.profit; }), borderColor: "#2c5282", backgroundColor: "rgba(44,82,130,.12)", fill: true, pointRadius: 0, tension: .2 }]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (ctx) { return percent.format(ctx.parsed.y); } } } },
        scales: { y: { min: 0, max: 1, ticks: { callback: function (v) { return percent.format(v); } } }, x: { ticks: { maxTicksLimit: 6 } } }
      }
    });
  }

  // Charts with named series: {labels, values} (radar) or {labels, datasets: [{label, values}]}
  // (lines, bars); values may be null for a gap. Used by the loyalty pages.
  const palette = ["#2c5282", "#c05621", "#2f855a", "#6b46c1", "#b83280"];
  function datasets(data, fill) {
    return (data.datasets || [{ label: "", values: data.values }]).map(function (d, i) {
      return { label: d.label, data: d.values, borderColor: palette[i % 5], backgroundColor: fill ? palette[i % 5] : "rgba(44,82,130,.15)", spanGaps: true, pointRadius: 2, borderRadius: 4 };
    });
  }
  function seriesChart(type, scales) {
    return function (canvas, data) {
      new window.Chart(canvas, {
        type: type,
        data: { labels: data.labels, datasets: datasets(data, type === "bar") },
        options: { responsive: true, maintainAspectRatio: false, animation: false, scales: scales, plugins: { legend: { display: !!data.datasets && data.datasets.length > 1 } } }
      });
    };
  }
  const series = {
    radar: seriesChart("radar", { r: { min: 0, max: 100, ticks: { stepSize: 25 } } }),
    lines: seriesChart("line", { y: { beginAtZero: true } }),
    bars: seriesChart("bar", { y: { beginAtZero: true } })
  };

  document.addEventListener("DOMContentLoaded", function () { renderCharts(document); });
  document.addEventListener("htmx:afterSwap", function (e) { renderCharts(e.target); });
})();
