// The cockpit's charts: ECharts with the province map served by the app (no outside network).
(function () {
  "use strict";
  var holder = document.getElementById("cockpit-data");
  if (!holder || typeof echarts === "undefined") { return; }
  var data = JSON.parse(holder.getAttribute("data-json"));
  var palette = ["#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850"];

  function mapChart(geo) {
    echarts.registerMap("anhui", geo);
    var chart = echarts.init(document.getElementById("map-rate"), null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "item", formatter: function (p) {
        var c = data.cities.filter(function (x) { return x.name === p.name; })[0] || {};
        return p.name + "<br>按时办结率：" + (c.rate === null || c.rate === undefined ? "—" : c.rate + "%") +
          "<br>考核得分：" + (c.score === null || c.score === undefined ? "—" : c.score);
      } },
      visualMap: { min: 0, max: 100, left: 0, bottom: 0, text: ["100%", "0%"], calculable: false,
                   inRange: { color: palette } },
      series: [{ type: "map", map: "anhui", roam: false, label: { show: true, fontSize: 10 },
                 data: data.cities.map(function (c) { return { name: c.name, value: c.rate }; }) }]
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
