// Vigil's pages: draw charts from JSON kept in the page, nothing else. No inline script runs
// (the Content-Security-Policy forbids it), so data travels in <script type="application/json">.
(function () {
  "use strict";
  var COLORS = ["#a4161a", "#b35000", "#7a5d00", "#2f6f3e", "#1f5fbf", "#6b3fa0"];

  function drawCharts(root) {
    if (typeof uPlot === "undefined") { return; }
    root.querySelectorAll("script.chart-data").forEach(function (node) {
      var target = document.getElementById(node.dataset.target);
      if (!target || target.dataset.drawn) { return; }
      var spec = JSON.parse(node.textContent);
      var series = [{ label: spec.x_label || "" }].concat(spec.series.map(function (s, i) {
        var one = { label: s.label, stroke: COLORS[i % COLORS.length], width: 2 };
        if (spec.bars) { one.fill = COLORS[i % COLORS.length] + "99"; one.paths = uPlot.paths.bars({ size: [0.6, 60] }); }
        return one;
      }));
      var width = Math.max(280, target.clientWidth || 600);
      var opts = { width: width, height: 220, series: series, scales: { x: { time: spec.time !== false } },
        axes: [{}, { label: spec.y_label || "" }] };
      var data = [spec.x].concat(spec.series.map(function (s) { return s.values; }));
      target.dataset.drawn = "1";
      new uPlot(opts, data, target);
    });
  }

  // Widths of timeline bars come as data: inline style attributes are refused by the policy.
  function sizeBars(root) {
    root.querySelectorAll("[data-width]").forEach(function (node) { node.style.width = node.dataset.width + "%"; });
  }

  // A card whose table is wider than the screen scrolls sideways: let the keyboard reach it.
  function focusableScrolling(root) {
    root.querySelectorAll(".card").forEach(function (card) {
      if (card.scrollWidth > card.clientWidth + 1) { card.setAttribute("tabindex", "0"); }
    });
  }

  function enhance(root) { drawCharts(root); sizeBars(root); focusableScrolling(root); }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });
})();
