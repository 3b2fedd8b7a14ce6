// The parts of Apache ECharts the statistics draw, registered once; imported only through
// `charts.ts`'s `loadEcharts`, so it is its own chunk and the rest of ECharts is never bundled.
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export { echarts };
