// npldesk's dashboard charts, drawn with the vendored ECharts from the data the page passes
// through json_script (the CSP allows no inline script). Amounts arrive as exact yuan strings.
(function () {
  "use strict";

  function amount(text, wan) {
    var value = Number(text);
    return wan ? value / 10000 : value;
  }

  function fixed(value) {
    return value.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function trendChart(element, trend) {
    var chart = echarts.init(element);
    chart.setOption({
      aria: { enabled: true },
      tooltip: { trigger: "axis" },
      legend: { data: [trend.balance_name, trend.ratio_name] },
      grid: { left: 8, right: 8, bottom: 8, top: 40, containLabel: true },
      xAxis: { type: "category", data: trend.months },
      yAxis: [
        { type: "value", axisLabel: { formatter: function (v) { return fixed(v); } } },
        { type: "value", axisLabel: { formatter: function (v) { return v.toFixed(2) + " %"; } } }
      ],
      series: [
        {
          name: trend.balance_name, type: "bar", itemStyle: { color: "#0b5a3c" },
          data: trend.npl_balance.map(function (t) { return amount(t, trend.wan); }),
          tooltip: { valueFormatter: fixed }
        },
        {
          name: trend.ratio_name, type: "line", yAxisIndex: 1, itemStyle: { color: "#b42318" },
          data: trend.npl_ratio.map(function (t) { return t === null ? null : Number(t) * 100; }),
          tooltip: { valueFormatter: function (v) { return v === null ? "—" : v.toFixed(2) + " %"; } }
        }
      ]
    });
    return chart;
  }

  function waterfallChart(element, waterfall) {
    // A waterfall: an invisible base bar under each step, the step itself on top.
    var names = [], bases = [], ups = [], downs = [], level = 0;
    waterfall.steps.forEach(function (step) {
      var value = amount(step.amount, waterfall.wan);
      names.push(step.label);
      if (step.kind === "total") {
        bases.push(0); ups.push(value); downs.push("-"); level = value;
      } else if (value >= 0) {
        bases.push(level); ups.push(value); downs.push("-"); level += value;
      } else {
        level += value; bases.push(level); ups.push("-"); downs.push(-value);
      }
    });
    var chart = echarts.init(element);
    chart.setOption({
      aria: { enabled: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 8, bottom: 8, top: 16, containLabel: true },
      xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", axisLabel: { formatter: function (v) { return fixed(v); } } },
      series: [
        { type: "bar", stack: "all", silent: true, itemStyle: { color: "transparent" },
          data: bases, tooltip: { show: false } },
        { type: "bar", stack: "all", itemStyle: { color: "#0b5a3c" }, data: ups,
          tooltip: { valueFormatter: fixed } },
        { type: "bar", stack: "all", itemStyle: { color: "#b42318" }, data: downs,
          tooltip: { valueFormatter: fixed } }
      ]
    });
    return chart;
  }

  function heatmapChart(element, heat) {
    // The migration matrix: each cell coloured by its share of the row's start balance.
    var chart = echarts.init(element);
    chart.setOption({
      aria: { enabled: true },
      tooltip: {
        position: "top",
        formatter: function (p) {
          var d = p.data;
          return heat.rows[d[1]] + " → " + heat.columns[d[0]] + "<br>" +
            heat.loans + ": " + d[4] + "<br>" +
            heat.balance + ": " + fixed(amount(d[3], heat.wan)) + "<br>" +
            (d[2] === null ? "—" : d[2] + " %");
        }
      },
      grid: { left: 8, right: 8, bottom: 64, top: 8, containLabel: true },
      xAxis: { type: "category", data: heat.columns, splitArea: { show: true },
               axisLabel: { interval: 0, rotate: 40 } },
      yAxis: { type: "category", data: heat.rows, inverse: true, splitArea: { show: true } },
      visualMap: { min: 0, max: 100, dimension: 2, calculable: false, orient: "horizontal", left: "center",
                   bottom: 0, itemHeight: 120, text: ["100 %", "0 %"],
                   inRange: { color: ["#f7fbf9", "#7fb89b", "#0b5a3c"] } },
      series: [{
        type: "heatmap",
        data: heat.data.map(function (d) { return [d[0], d[1], d[2] === null ? "-" : Number(d[2]), d[3], d[4]]; }),
        // Each cell's share on a wide screen; on a phone the cells are too small to read.
        label: { show: element.clientWidth >= 600, fontSize: 11,
                 formatter: function (p) { return p.data[4] ? p.data[2].toFixed(1) : ""; } },
        emphasis: { itemStyle: { borderColor: "#333", borderWidth: 1 } }
      }]
    });
    return chart;
  }

  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    if (!data) { return; }
    var charts = [];
    var trend = document.getElementById("trend-chart");
    if (trend && data.trend) { charts.push(trendChart(trend, data.trend)); }
    var waterfall = document.getElementById("waterfall-chart");
    if (waterfall && data.waterfall) { charts.push(waterfallChart(waterfall, data.waterfall)); }
    var heatmap = document.getElementById("heatmap-chart");
    if (heatmap && data.heatmap) { charts.push(heatmapChart(heatmap, data.heatmap)); }
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
