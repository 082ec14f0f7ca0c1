// 看板: draw each chart of #figures with ECharts from the page's JSON (#dashboard-data); the tables beside
// them carry the same numbers. Redrawn when htmx swaps #figures (a filter, 刷新), resized with the window.
(function () {
  "use strict";
  var charts = [];

  function option(chart, narrow) {
    var category = { type: "category", data: chart.categories, axisLabel: { hideOverlap: true } };
    var value = { type: "value", minInterval: 1 };
    if (chart.horizontal) {
      category.inverse = true;  // the enterprise most short on top, as in the table
      category.axisLabel.width = narrow ? 90 : 160;
      category.axisLabel.overflow = "truncate";
    }
    return {
      animation: false,
      color: ["#0d6efd", "#198754", "#fd7e14", "#dc3545", "#6f42c1", "#6c757d", "#20c997"],
      tooltip: { trigger: "axis", confine: true },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 16, top: 40, bottom: 8 },
      xAxis: chart.horizontal ? value : category,
      yAxis: chart.horizontal ? category : value,
      series: chart.series.map(function (series) {
        return {
          name: series.name, type: chart.kind === "line" ? "line" : "bar", data: series.data,
          stack: chart.stack ? "total" : undefined, emphasis: { focus: "series" },
          barMaxWidth: 36, symbolSize: 6
        };
      })
    };
  }

  function dispose() {
    charts.forEach(function (instance) { instance.dispose(); });
    charts = [];
  }

  function draw() {
    dispose();
    var data = document.getElementById("dashboard-data");
    if (!data || typeof echarts === "undefined") { return; }
    var narrow = window.innerWidth < 576;
    JSON.parse(data.textContent).forEach(function (chart) {
      var element = document.querySelector('[data-chart="' + chart.id + '"]');
      if (!element) { return; }
      var instance = echarts.init(element, null, { renderer: "canvas" });
      instance.setOption(option(chart, narrow));
      charts.push(instance);
    });
  }

  var pending = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(function () {
      charts.forEach(function (instance) { instance.resize(); });
    }, 100);
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "figures") { dispose(); }
  });
  // The page htmx keeps for 后退 must not hold live canvases: they are drawn again when it comes back.
  document.addEventListener("htmx:beforeHistorySave", dispose);
  document.addEventListener("htmx:historyRestore", draw);
  document.addEventListener("htmx:afterSettle", function () {
    if (document.getElementById("figures") && !charts.length) { draw(); }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
