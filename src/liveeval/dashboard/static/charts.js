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
    const y = data.y || {};
    const share = y.share || el.dataset.y === "share";
    const top = y.max !== undefined ? y.max : null;
    // decimals for a share's ticks: enough to tell 0.5% from 1%, never "000%"
    const decimals = share && top !== null && top < 0.1 ? 1 : 0;
    function shown(v) {
      if (v === null || v === undefined) return "–";
      return share ? (100 * v).toFixed(decimals + 1) + "%" : String(Math.round(v * 1000) / 1000);
    }
    const columns = [data.x];
    const series = [{}];
    const bands = [];
    const hidden = [];  // band edges: drawn, but not series of their own in the legend
    data.series.forEach(function (s, i) {
      const color = palette[i % palette.length];
      columns.push(s.values);
      series.push({
        label: s.label, stroke: color, width: 2, spanGaps: false,
        paths: el.dataset.kind === "bars" ? uPlot.paths.bars({ size: [0.8, 60] }) : undefined,
        fill: el.dataset.kind === "bars" ? color + "55" : undefined,
        points: { show: s.values.length < 60 },
        value: function (u, v, si, idx) {
          if (idx === null || idx === undefined) return "–";
          const n = s.n ? " (n=" + s.n[idx] + ")" : "";
          return shown(v) + n;
        },
      });
      if (s.band) {
        const low = columns.length, high = columns.length + 1;
        columns.push(s.band[0], s.band[1]);
        series.push({ label: s.label + " band", stroke: color + "44", width: 1, points: { show: false } });
        series.push({ label: s.label + " band", stroke: color + "44", width: 1, points: { show: false } });
        hidden.push(low, high);
        bands.push({ series: [high, low], fill: color + "1f" });
      }
    });
    const range = y.min !== undefined || y.max !== undefined
      ? function (u, min, max) {
        return [y.min !== undefined ? y.min : min, y.max !== undefined ? Math.max(y.max, max) : max];
      }
      : undefined;
    const options = {
      width: Math.max(320, el.clientWidth || 600), height: 220, series: series, bands: bands,
      scales: { y: { range: range } },
      axes: [
        { label: "time (UTC)", labelSize: 20 },
        {
          label: y.label, labelSize: 20, size: 56,
          values: share ? function (u, ticks) { return ticks.map(function (t) { return (100 * t).toFixed(decimals) + "%"; }); } : undefined,
        },
      ],
      legend: { live: true },
      hooks: { draw: [function (u) { mark(u, data.markers || []); }] },
    };
    el.textContent = "";
    const plot = new uPlot(options, columns, el);
    const rows = plot.root.querySelectorAll(".u-legend .u-series");
    hidden.forEach(function (index) { if (rows[index]) rows[index].style.display = "none"; });
    el.dataset.drawn = "1";
  }

  // deploys and model changes: a dashed vertical line with its label at each marker's time
  function mark(plot, markers) {
    plot.over.querySelectorAll(".marker").forEach(function (old) { old.remove(); });
    markers.forEach(function (m, i) {
      const left = plot.valToPos(m.x, "x");
      if (!isFinite(left) || left < 0 || left > plot.over.clientWidth) return;
      const line = document.createElement("div");
      line.className = "marker";
      line.style.left = left + "px";
      const label = document.createElement("span");
      label.textContent = m.label;
      label.style.top = (i % 3) * 1.1 + "em";  // markers close in time stack their labels
      if (left > plot.over.clientWidth / 2) {  // a label in the right half reads leftwards
        label.style.left = "auto";
        label.style.right = "3px";
      }
      line.appendChild(label);
      plot.over.appendChild(line);
    });
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
