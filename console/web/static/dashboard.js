// 看板: draw each chart of #figures with ECharts from the JSON in its data-charts attribute; the tables beside
// them carry the same numbers. Redrawn when htmx swaps #figures (a filter, 刷新), resized with the window.
(function () {
  "use strict";
  var charts = [];  // [instance, chart] pairs
  var narrow = false;
  // Bootstrap's colours, as the status tags show them (words.py); light is darkened to show on white.
  var COLOURS = { primary: "#0d6efd", success: "#198754", warning: "#ffc107", danger: "#dc3545", info: "#0dcaf0",
                  secondary: "#6c757d", dark: "#212529", light: "#adb5bd", orange: "#fd7e14" };

  function option(chart) {
    var category = { type: "category", data: chart.categories, axisLabel: { hideOverlap: true } };
    var value = { type: "value", minInterval: 1 };
    if (chart.horizontal) {
      category.inverse = true;  // the enterprise most short on top, as in the table
      category.axisLabel.width = narrow ? 90 : 160;
      category.axisLabel.overflow = "truncate";
    }
    return {
      animation: false,
      tooltip: { trigger: "axis", confine: true },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 16, top: 40, bottom: 8 },
      xAxis: chart.horizontal ? value : category,
      yAxis: chart.horizontal ? category : value,
      series: chart.series.map(function (series) {
        return {
          name: series.name, type: chart.kind === "line" ? "line" : "bar", data: series.data,
          itemStyle: { color: COLOURS[series.colour] || COLOURS.secondary },
          lineStyle: { color: COLOURS[series.colour] || COLOURS.secondary },
          stack: chart.stack ? "total" : undefined, emphasis: { focus: "series" },
          barMaxWidth: 36, symbolSize: 6
        };
      })
    };
  }

  function dispose() {
    charts.forEach(function (pair) { pair[0].dispose(); });
    charts = [];
  }

  function draw() {
    dispose();
    var figures = document.getElementById("figures");
    var data = figures && figures.getAttribute("data-charts");
    if (!data || typeof echarts === "undefined") { return; }
    narrow = window.innerWidth < 576;
    JSON.parse(data).forEach(function (chart) {
      var element = document.querySelector('[data-chart="' + chart.id + '"]');
      if (!element) { return; }
      var instance = echarts.init(element, null, { renderer: "canvas" });
      instance.setOption(option(chart));
      charts.push([instance, chart]);
    });
  }

  var pending = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(function () {
      var wasNarrow = narrow;
      narrow = window.innerWidth < 576;
      charts.forEach(function (pair) {
        if (narrow !== wasNarrow) { pair[0].setOption(option(pair[1])); }  // shorter enterprise names on a phone
        pair[0].resize();
      });
    }, 100);
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "figures") { dispose(); }
  });
  // The page htmx keeps for 后退 must not hold live canvases: they are drawn again when it comes back.
  document.addEventListener("htmx:beforeHistorySave", dispose);
  document.addEventListener("htmx:historyRestore", draw);
  // htmx:load fires on the new #figures itself (the swapped-out one, detached, bubbles nowhere).
  document.addEventListener("htmx:load", function (event) {
    if (event.target.id === "figures") { draw(); }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
