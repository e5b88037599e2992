// npm run bench:report [-- --dir bench/results]
// Turns the result files present (core.json, e2e-*.json) into report.md with hand-drawn SVG
// plots beside it: core-time.svg (ns per message per case) and, per end-to-end result file,
// e2e-<run>-latency.svg (latency by percentile of its open-loop runs, HDR style: x is 1/(1-p) on a
// log axis, so the tail gets the room).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/package-root.ts';
import type { Machine, Versions } from './meta.ts';

const { values: args } = parseArgs({ options: { dir: { type: 'string', default: join(packageRoot, 'bench', 'results') } } });
const dir = args.dir;

interface Header {
  suite: string;
  date: string;
  machine?: Partial<Machine> & { cpus?: number };
  versions?: Versions;
  config?: Record<string, unknown>;
}

interface CoreFile extends Header {
  results: { flow: string; case: string; medianMs: number; messagesPerSecond: number; megabytesPerSecond: number; nanosecondsPerMessage: number; cpuNanosecondsPerMessage?: number }[];
  ratios?: { flow: string; peer: string; speedup: number }[];
  skipped?: { case: string; reason: string }[];
}

interface E2eFile extends Header {
  delivery?: string;
  results: {
    mode: string;
    implementation?: string;
    client?: string;
    enrichment?: boolean;
    offered?: number;
    outputs: number;
    messagesPerSecond: number;
    latencyMs: Record<string, number>;
    processor?: { cpuSeconds: number; maxRssMiB: number };
    rssTimeline?: [number, number][];
    /** Cores busy while measured (files from before this field have none). */
    cores?: { processor: number; broker?: number; harness: number; machine: number; of: number; loopThread?: { running: number; waiting: number } };
  }[];
}

/** A run's processor as bench:e2e labels it. */
const processorOf = (r: E2eFile['results'][number]) =>
  r.implementation ? `${r.implementation}${r.client ? ` [${r.client}]` : ''}${r.enrichment ? ' +enrich' : ''}` : 'sluice';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const round = (n: number) => Math.round(n * 10) / 10;

function describe(file: Header): string {
  const m = file.machine ?? {};
  const v = file.versions;
  const parts = [
    `${m.cpu ?? 'cpu ?'}, ${m.cores ?? m.cpus ?? '?'} cores${m.memoryGiB ? `, ${m.memoryGiB} GiB` : ''}${m.os ? `, ${m.os}` : ''}`,
    v ? `node ${v.node}, sluice ${v.sluice} at ${v.commit}` : undefined,
    v ? Object.entries(v.dependencies).map(([k, ver]) => `${k} ${ver}`).join(', ') : undefined,
    file.config ? `config ${JSON.stringify(file.config)}` : undefined,
  ];
  return `_${file.date}; ${parts.filter(Boolean).join('; ')}_`;
}

/** The first `labels` columns left-aligned, the figures right-aligned. */
function markdownTable(header: string[], rows: (string | number)[][], labels = 2): string {
  return [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < labels ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Horizontal bars of ns per message, one group per flow. */
function coreSvg(core: CoreFile): string {
  const rows = core.results;
  const labelWidth = 300;
  const barWidth = 460;
  const rowHeight = 22;
  const top = 40;
  const max = Math.max(...rows.map((r) => r.nanosecondsPerMessage));
  const flows = [...new Set(rows.map((r) => r.flow))];
  let y = top;
  const parts: string[] = [];
  for (const flow of flows) {
    parts.push(`<text x="10" y="${y + 14}" font-weight="bold">${escapeXml(flow)}</text>`);
    y += rowHeight;
    for (const r of rows.filter((x) => x.flow === flow)) {
      const width = Math.max(1, (r.nanosecondsPerMessage / max) * barWidth);
      const color = r.case.startsWith('core') ? COLORS[0] : r.case.startsWith('simdjson') ? COLORS[3] : '#999';
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escapeXml(r.case)}</text>`,
        `<rect x="${labelWidth}" y="${y + 3}" width="${round(width)}" height="${rowHeight - 6}" fill="${color}"/>`,
        `<text x="${labelWidth + width + 6}" y="${y + 14}">${r.nanosecondsPerMessage.toFixed(0)} ns/msg, ${r.megabytesPerSecond.toFixed(0)} MB/s</text>`,
      );
      y += rowHeight;
    }
    y += 8;
  }
  const width = labelWidth + barWidth + 200;
  return svg(width, y + 10, [`<text x="10" y="22" font-size="15" font-weight="bold">Core: time per message (ns, median pass; lower is better)</text>`, ...parts]);
}

function svg(width: number, height: number, body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
${body.join('\n')}
</svg>
`;
}

/** `p50` → 50, `p999` → 99.9, `p9999` → 99.99 (the e2e result's latency keys). */
function percentileOf(key: string): number | undefined {
  const digits = /^p(\d+)$/.exec(key)?.[1];
  if (!digits) return undefined;
  return digits.length <= 2 ? Number(digits) : Number(`${digits.slice(0, 2)}.${digits.slice(2)}`);
}

/** Latency against percentile, x = log10(1/(1-p)), one curve per run. */
function latencySvg(series: { label: string; points: [number, number][] }[]): string {
  const left = 70;
  // the legend's column fits its longest label (about 7 px a character)
  const right = Math.max(220, 40 + 7 * Math.max(...series.map((s) => s.label.length)));
  const width = 540 + right;
  const height = 420;
  const top = 40;
  const bottom = 50;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const values = series.flatMap((s) => s.points.map(([, ms]) => Math.max(ms, 0.1)));
  // one decade of 1/(1-p) past the highest percentile measured
  const xMax = Math.max(3, Math.ceil(Math.log10(1 / (1 - Math.max(...series.flatMap((s) => s.points.map(([p]) => p))) / 100)) + 0.5));
  const logY = Math.max(...values) / Math.min(...values) > 20;
  const yMin = logY ? 10 ** Math.floor(Math.log10(Math.min(...values))) : 0;
  const yMax = logY ? 10 ** Math.ceil(Math.log10(Math.max(...values))) : Math.max(...values) * 1.1;
  const x = (p: number) => left + (Math.min(xMax, Math.log10(1 / (1 - p / 100))) / xMax) * plotW;
  const y = (ms: number) =>
    top + plotH - (logY ? (Math.log10(Math.max(ms, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin)) : (ms - yMin) / (yMax - yMin)) * plotH;
  const parts = [`<text x="10" y="22" font-size="15" font-weight="bold">End-to-end latency by percentile (ms${logY ? ', log scale' : ''})</text>`];
  for (const [p, label] of [[50, '50 %'], [90, '90 %'], [99, '99 %'], [99.9, '99.9 %'], [99.99, '99.99 %'], [99.999, '99.999 %'], [99.9999, '99.9999 %']] as const) {
    if (Math.log10(1 / (1 - p / 100)) > xMax) break;
    parts.push(`<line x1="${round(x(p))}" y1="${top}" x2="${round(x(p))}" y2="${top + plotH}" stroke="#ddd"/>`, `<text x="${round(x(p))}" y="${top + plotH + 16}" text-anchor="middle">${label}</text>`);
  }
  const ticks = logY
    ? Array.from({ length: Math.round(Math.log10(yMax / yMin)) + 1 }, (_, i) => yMin * 10 ** i)
    : Array.from({ length: 6 }, (_, i) => (yMax / 5) * i);
  for (const t of ticks) {
    parts.push(`<line x1="${left}" y1="${round(y(t))}" x2="${left + plotW}" y2="${round(y(t))}" stroke="#ddd"/>`, `<text x="${left - 6}" y="${round(y(t)) + 4}" text-anchor="end">${t >= 10 ? Math.round(t) : round(t)}</text>`);
  }
  parts.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${left + plotW / 2}" y="${height - 12}" text-anchor="middle">percentile (x = 1/(1-p), log)</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const path = s.points.map(([p, ms], j) => `${j === 0 ? 'M' : 'L'}${round(x(p))},${round(y(ms))}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const [p, ms] of s.points) parts.push(`<circle cx="${round(x(p))}" cy="${round(y(ms))}" r="3" fill="${color}"/>`);
    parts.push(`<rect x="${left + plotW + 14}" y="${top + i * 20}" width="12" height="12" fill="${color}"/>`, `<text x="${left + plotW + 32}" y="${top + i * 20 + 11}">${escapeXml(s.label)}</text>`);
  });
  return svg(width, height, parts);
}

const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
const read = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Header;
const core = files.includes('core.json') ? (read('core.json') as CoreFile) : undefined;
const e2e = files.filter((f) => /^e2e-.*\.json$/.test(f)).map((f) => [f, read(f) as E2eFile] as const);
if (!core && e2e.length === 0) {
  console.error(`bench:report: no result files in ${dir} (run npm run bench:core or bench:e2e first)`);
  process.exit(2);
}

const md: string[] = [`# Sluice benchmark report`, '', `Generated ${new Date().toISOString()} from the result files in \`${relative(packageRoot, dir) || '.'}\`.`, ''];
if (core) {
  writeFileSync(join(dir, 'core-time.svg'), coreSvg(core));
  const ajv = (flow: string) => core.results.find((r) => r.flow === flow && r.case === 'JSON.parse + ajv');
  md.push(
    '## Core (`npm run bench:core`)',
    '',
    describe(core),
    '',
    markdownTable(
      ['flow', 'case', 'msg/s', 'MB/s', 'ns/msg', 'cpu ns/msg', 'vs JSON.parse + ajv'],
      core.results.map((r) => [
        r.flow,
        r.case,
        Math.round(r.messagesPerSecond).toLocaleString('en-US'),
        r.megabytesPerSecond.toFixed(0),
        r.nanosecondsPerMessage.toFixed(0),
        r.cpuNanosecondsPerMessage?.toFixed(0) ?? '—',
        ajv(r.flow) ? `${(ajv(r.flow)!.medianMs / r.medianMs).toFixed(2)}x` : '—',
      ]),
    ),
    '',
  );
  if (core.ratios?.length) {
    md.push('Core validate + extract against its peers (median of per-round CPU-time ratios; above 1: the core is faster):', '');
    md.push(markdownTable(['flow', 'peer', 'core speedup'], core.ratios.map((r) => [r.flow, r.peer, `${r.speedup.toFixed(2)}x`])), '');
  }
  for (const s of core.skipped ?? []) md.push(`- skipped: ${s.case}: ${s.reason}`);
  md.push('', '![core: ns per message](core-time.svg)', '');
}
if (e2e.length > 0) {
  md.push('## End to end (`npm run bench:e2e`)', '');
  for (const [name, file] of e2e) {
    const series: { label: string; points: [number, number][] }[] = [];
    md.push(`### ${name}`, '', describe(file), '');
    const keys = [...new Set(file.results.flatMap((r) => Object.keys(r.latencyMs)))];
    md.push(
      markdownTable(
        ['processor', 'mode', 'offered msg/s', 'outputs', 'msg/s', ...keys.map((k) => `${k} ms`), 'cpu s', 'rss MiB', 'cores busy: processor / broker / harness / all', 'event loop ran / waited for a core'],
        file.results.map((r) => [processorOf(r), r.mode, r.offered ?? 'max', r.outputs, r.messagesPerSecond, ...keys.map((k) => r.latencyMs[k] ?? '—'), r.processor?.cpuSeconds ?? '—', r.processor?.maxRssMiB ?? '—', r.cores ? `${r.cores.processor} / ${r.cores.broker ?? '—'} / ${r.cores.harness} / ${r.cores.machine} of ${r.cores.of}` : '—', r.cores?.loopThread ? `${r.cores.loopThread.running} / ${r.cores.loopThread.waiting}` : '—']),
        1,
      ),
      '',
    );
    for (const r of file.results.filter((x) => (x.rssTimeline?.length ?? 0) >= 6)) {
      const timeline = r.rssTimeline!;
      const at = (i: number) => `${timeline[i]![1]} MiB at ${timeline[i]![0]} s`;
      md.push(`RSS of ${processorOf(r)} (${r.mode}), every 10 s: ${at(0)}, ${at(Math.floor(timeline.length / 2))}, ${at(timeline.length - 1)}; lowest ${Math.min(...timeline.map((t) => t[1]))}, highest ${Math.max(...timeline.map((t) => t[1]))} MiB.`, '');
    }
    // saturation latency is the drain time of a full topic: plotted, it would flatten the others
    for (const r of file.results.filter((x) => x.offered !== undefined)) {
      const points = Object.entries(r.latencyMs)
        .map(([k, ms]) => [percentileOf(k), ms] as const)
        .filter((p): p is [number, number] => p[0] !== undefined)
        .sort((a, b) => a[0] - b[0]);
      if (points.length > 0) series.push({ label: `${processorOf(r)}, ${r.mode}`, points });
    }
    if (series.length > 0) {
      const svg = name.replace(/\.json$/, '-latency.svg');
      writeFileSync(join(dir, svg), latencySvg(series));
      md.push(`![end-to-end latency by percentile](${svg})`, '', 'Open-loop runs only: saturation runs fill the input topic first, so their latency is the drain time, not a service latency.', '');
    }
  }
}
writeFileSync(join(dir, 'report.md'), `${md.join('\n')}\n`);
console.log(`report written to ${join(dir, 'report.md')}`);
