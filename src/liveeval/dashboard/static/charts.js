// liveeval dashboard charts: reads each chart's data from its JSON block (never executed)
// and draws it with uPlot (vendor/uplot, MIT). No inline script: the page's CSP forbids it.
(function () {
  "use strict";
  const palette = ["#2f5bea", "#d9480f", "#2b8a3e", "#ae3ec9", "#1098ad", "#f08c00", "#5c7cfa", "#c2255c"];

  function draw(el) {
    const source = document.getElementById(el.dataset.chart);
    if (!source) return;
    const data = JSON.parse(source.textContent);
    if (!data.x || data.x.length === 0 || !data.series || data.series.length === 0) {
      el.textContent = "No data in this period.";
      el.classList.add("empty");
      return;
    }
    const columns = [data.x];
    const series = [{}];
    const bands = [];
    data.series.forEach(function (s, i) {
      const color = palette[i % palette.length];
      columns.push(s.values);
      series.push({
        label: s.label, stroke: color, width: 2, spanGaps: false,
        paths: el.dataset.kind === "bars" ? uPlot.paths.bars({ size: [0.8, 60] }) : undefined,
        fill: el.dataset.kind === "bars" ? color + "55" : undefined,
        points: { show: s.values.length < 60 },
      });
      if (s.band) {
        const low = columns.length, high = columns.length + 1;
        columns.push(s.band[0], s.band[1]);
        series.push({ label: s.label + " low", stroke: color + "44", width: 1, points: { show: false } });
        series.push({ label: s.label + " high", stroke: color + "44", width: 1, points: { show: false } });
        bands.push({ series: [high, low], fill: color + "1f" });
      }
    });
    const share = el.dataset.y === "share";
    const options = {
      width: Math.max(320, el.clientWidth || 600), height: 220, series: series, bands: bands,
      axes: [{}, { values: share ? function (u, ticks) { return ticks.map(function (t) { return (100 * t).toFixed(0) + "%"; }); } : undefined }],
      legend: { live: false },
    };
    el.textContent = "";
    new uPlot(options, columns, el);
    el.dataset.drawn = "1";
  }

  function init() {
    document.querySelectorAll("[data-chart]").forEach(draw);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
