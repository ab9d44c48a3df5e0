// ECharts, only the parts the facades pages use (bar chart, grid, tooltip, legend, canvas).
import * as echarts from "echarts/core";
import { BarChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

/** a chart of the units' streets against their targets: accepted and under way stacked, the target beside */
export function targetChart(element, rows, labels) {
  const chart = echarts.init(element, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: "\"Noto Sans SC Variable\", system-ui, sans-serif" },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0, data: [labels.accepted, labels.underWay, labels.target] },
    grid: { left: 40, right: 16, bottom: 90, top: 40 },
    xAxis: { type: "category", data: rows.map((r) => r.label), axisLabel: { rotate: 35, interval: 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: labels.accepted, type: "bar", stack: "streets", data: rows.map((r) => r.accepted), itemStyle: { color: "#2e7d32" } },
      { name: labels.underWay, type: "bar", stack: "streets", data: rows.map((r) => r.under_way), itemStyle: { color: "#f0a030" } },
      { name: labels.target, type: "bar", data: rows.map((r) => r.target), itemStyle: { color: "rgba(29, 79, 145, 0.25)", borderColor: "#1d4f91", borderWidth: 1 } },
    ],
  });
  return chart;
}
