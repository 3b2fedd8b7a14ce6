// Apache ECharts, bundled and loaded on first use (its own chunk, so the technician's app never
// loads it); `echarts-setup.ts` registers only the chart kinds and components the statistics draw.
import type { EChartsCoreOption } from 'echarts/core';

export type ChartOption = EChartsCoreOption;

export async function loadEcharts() {
  return (await import('./echarts-setup')).echarts;
}
