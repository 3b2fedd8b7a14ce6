// Draws the load curves of `onsite-load`'s JSON results as ONE PNG: request latency (p50, p95,
// p99) against the device count, and the relay's RSS over time for each size. Apache ECharts
// renders SVG server-side; Debian's chromium (through playwright-core, as ui/tests/browser/
// does — never a downloaded browser) turns it into the PNG.
//   node bench/chart.mjs target/load docs/load-curves.png
// ECharts and playwright-core come from ui/node_modules (`cd ui && npm ci`), or from the
// folder named by $ONSITE_UI_MODULES.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modules = process.env.ONSITE_UI_MODULES ?? path.join(root, 'ui', 'node_modules');
const require = createRequire(path.join(modules, 'noop.js'));
const echarts = require('echarts');
const { chromium } = require('playwright-core');

const [dir = 'target/load', out = 'docs/load-curves.png'] = process.argv.slice(2);
const runs = readdirSync(dir)
  .filter((f) => /^load-\d+\.json$/.test(f))
  .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')))
  .sort((a, b) => a.devices - b.devices);
if (runs.length === 0) throw new Error(`no load-<N>.json in ${dir}`);

const width = 1200;
const height = 520;
const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
// Each size with the rate it was offered (runs may differ: the target rate at 1,000 devices).
const sizes = runs.map(
  (r) =>
    `${r.devices.toLocaleString('en')} devices, ${Math.round(r.offered_changes_per_sec).toLocaleString('en')}/s`,
);
const latency = (key) => runs.map((r) => [r.devices, r.latency_ms[key]]);
chart.setOption({
  animation: false,
  backgroundColor: '#fff',
  title: [
    { text: 'Sync request latency (measured window)', left: '4%', top: 8, textStyle: { fontSize: 15 } },
    { text: 'Relay RSS, sampled every 250 ms (0 s = measured window starts)', left: '53%', top: 8, textStyle: { fontSize: 15 } },
  ],
  legend: [
    { data: ['p50', 'p95', 'p99', 'target p99'], left: '4%', top: 34 },
    { data: [...sizes, 'target RSS'], left: '53%', top: 34 },
  ],
  grid: [
    { left: '6%', right: '54%', top: 80, bottom: 50 },
    { left: '56%', right: '3%', top: 80, bottom: 50 },
  ],
  xAxis: [
    { gridIndex: 0, type: 'log', name: 'devices', nameLocation: 'middle', nameGap: 28 },
    { gridIndex: 1, type: 'value', name: 'seconds', nameLocation: 'middle', nameGap: 28 },
  ],
  yAxis: [
    { gridIndex: 0, type: 'value', name: 'ms' },
    { gridIndex: 1, type: 'value', name: 'MiB' },
  ],
  series: [
    ...['p50', 'p95', 'p99'].map((k) => ({
      name: k, type: 'line', xAxisIndex: 0, yAxisIndex: 0, data: latency(k), symbolSize: 8,
      label: { show: k === 'p99', position: 'top', formatter: (p) => `${p.value[1].toFixed(0)} ms` },
    })),
    {
      name: 'target p99', type: 'line', xAxisIndex: 0, yAxisIndex: 0, symbol: 'none',
      lineStyle: { type: 'dashed', color: '#c00' }, itemStyle: { color: '#c00' },
      data: [[runs[0].devices, 250], [runs[runs.length - 1].devices, 250]],
    },
    ...runs.map((r, i) => ({
      name: sizes[i], type: 'line', xAxisIndex: 1, yAxisIndex: 1, symbol: 'none',
      data: r.rss_samples.filter(([t]) => t >= -30 && t <= r.measure_secs + 5),
    })),
    {
      name: 'target RSS', type: 'line', xAxisIndex: 1, yAxisIndex: 1, symbol: 'none',
      lineStyle: { type: 'dashed', color: '#c00' }, itemStyle: { color: '#c00' },
      data: [[-30, 300e6 / 2 ** 20], [Math.max(...runs.map((r) => r.measure_secs)) + 5, 300e6 / 2 ** 20]],
    },
  ],
});
const svg = chart.renderToSVGString();
chart.dispose();

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' });
try {
  const page = await browser.newPage({ viewport: { width, height } });
  await page.setContent(`<!doctype html><body style="margin:0;background:#fff">${svg}</body>`);
  writeFileSync(out, await page.screenshot({ clip: { x: 0, y: 0, width, height } }));
} finally {
  await browser.close();
}
console.log(`wrote ${out} from ${runs.length} run(s): ${sizes.join(', ')}`);
