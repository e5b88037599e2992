// The latency-percentile plot of a `sluice bench` run as a standalone SVG: latency (ms) against
// percentile on the usual log scale of 1 / (1 - p), so the tail gets the room it deserves; the
// baseline's curve beside it when the run was gated.
import type { FlowBenchResult } from './flow-bench.ts';

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { left: 70, right: 20, top: 40, bottom: 60 };
/** The last point of the x axis: 99.999 %. */
const X_MAX = Math.log10(1e5);

/** Where a percentile lies on the axis: log10(1 / (1 - p)), the max drawn at the end. */
const position = (percentile: number) => Math.min(X_MAX, percentile >= 100 ? X_MAX : Math.log10(100 / (100 - percentile)));

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function latencyPlot(result: FlowBenchResult, baseline?: FlowBenchResult): string {
  const curves = [
    { label: `this run (${result.date})`, points: result.latencyCurve, colour: '#1f6feb' },
    ...(baseline ? [{ label: `baseline (${baseline.date})`, points: baseline.latencyCurve, colour: '#9a9a9a' }] : []),
  ];
  const top = Math.max(1e-3, ...curves.flatMap((c) => c.points.map(([, ms]) => ms)));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (percentile: number) => MARGIN.left + (position(percentile) / X_MAX) * plotWidth;
  const y = (ms: number) => MARGIN.top + plotHeight - (ms / top) * plotHeight;
  const parts: string[] = [];
  const load = result.config.rate === null ? 'saturation' : `${result.config.rate} msg/s offered`;
  parts.push(`<text x="${MARGIN.left}" y="24" font-size="15">${escape(`sluice bench: flow ${result.config.flow}, ${load}, ${result.config.transport}`)}</text>`);
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#444"/>`);
  for (const percentile of [0, 90, 99, 99.9, 99.99, 99.999]) {
    const at = x(percentile).toFixed(1);
    parts.push(`<line x1="${at}" y1="${MARGIN.top}" x2="${at}" y2="${MARGIN.top + plotHeight}" stroke="#ddd"/>`);
    parts.push(`<text x="${at}" y="${MARGIN.top + plotHeight + 18}" font-size="12" text-anchor="middle">${percentile} %</text>`);
  }
  for (let step = 0; step <= 4; step++) {
    const ms = (top * step) / 4;
    const at = y(ms).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" y1="${at}" x2="${MARGIN.left + plotWidth}" y2="${at}" stroke="#eee"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${at}" font-size="12" text-anchor="end" dominant-baseline="middle">${ms.toPrecision(3)}</text>`);
  }
  parts.push(`<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 16}" font-size="13" text-anchor="middle">percentile</text>`);
  parts.push(`<text x="18" y="${MARGIN.top + plotHeight / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 18 ${MARGIN.top + plotHeight / 2})">latency (ms)</text>`);
  curves.forEach((curve, i) => {
    const points = curve.points.map(([p, ms]) => `${x(p).toFixed(1)},${y(ms).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${curve.colour}" stroke-width="2"/>`);
    const legendY = MARGIN.top + 16 + i * 18;
    parts.push(`<line x1="${MARGIN.left + 10}" y1="${legendY}" x2="${MARGIN.left + 30}" y2="${legendY}" stroke="${curve.colour}" stroke-width="2"/>`);
    parts.push(`<text x="${MARGIN.left + 36}" y="${legendY}" font-size="12" dominant-baseline="middle">${escape(curve.label)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif">\n${parts.join('\n')}\n</svg>\n`;
}
