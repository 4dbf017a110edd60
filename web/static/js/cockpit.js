// The cockpit's charts: ECharts with the province map served by the app (no outside network).
(function () {
  "use strict";
  var holder = document.getElementById("cockpit-data");
  if (!holder || typeof echarts === "undefined") { return; }
  var data = JSON.parse(holder.getAttribute("data-json"));
  var palette = ["#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850"];

  // The map coloured by the on-time rate (0-100 %) or by the year's score (its own range).
  var metrics = {
    rate: { text: ["100%", "0%"], min: 0, max: 100 },
    score: { text: ["高分", "低分"], min: 60, max: 110 }
  };
  var scores = data.cities.map(function (c) { return c.score; })
    .filter(function (v) { return v !== null && v !== undefined; });
  if (scores.length) {
    metrics.score.min = Math.floor(Math.min.apply(null, scores.concat([90])) - 1);
    metrics.score.max = Math.ceil(Math.max.apply(null, scores.concat([100])) + 1);
  }

  function mapOption(metric) {
    var m = metrics[metric];
    return {
      visualMap: { min: m.min, max: m.max, text: m.text },
      series: [{ data: data.cities.map(function (c) {
        return { name: c.name, value: c[metric] === null ? undefined : c[metric] };
      }) }]
    };
  }

  function mapChart(geo) {
    echarts.registerMap("anhui", geo);
    var box = document.getElementById("map-rate");
    var chart = echarts.init(box, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "item", formatter: function (p) {
        var c = data.cities.filter(function (x) { return x.name === p.name; })[0] || {};
        return p.name + "<br>按时办结率：" + (c.rate === null || c.rate === undefined ? "—" : c.rate + "%") +
          "<br>考核得分：" + (c.score === null || c.score === undefined ? "—" : c.score);
      } },
      visualMap: { left: 0, bottom: 0, calculable: false, inRange: { color: palette } },
      series: [{ type: "map", map: "anhui", roam: false, label: { show: true, fontSize: 10 } }]
    });
    chart.setOption(mapOption("rate"));
    document.querySelectorAll(".map-switch button").forEach(function (button) {
      button.addEventListener("click", function () {
        var metric = button.getAttribute("data-metric");
        chart.setOption(mapOption(metric));
        box.setAttribute("data-metric", metric);
        document.querySelectorAll(".map-switch button").forEach(function (b) {
          b.setAttribute("aria-pressed", String(b === button));
        });
      });
    });
  }

  function monthChart() {
    var chart = echarts.init(document.getElementById("chart-months"), null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 40, right: 10, top: 20, bottom: 50 },
      xAxis: { type: "category", data: data.months.map(function (m) { return m[0]; }),
               axisLabel: { rotate: 45, fontSize: 10 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", itemStyle: { color: "#c0392b" },
                 data: data.months.map(function (m) { return m[1]; }) }]
    });
  }

  fetch(holder.getAttribute("data-map"), { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (geo) { mapChart(geo); document.body.setAttribute("data-map-ready", "1"); });
  monthChart();
})();
