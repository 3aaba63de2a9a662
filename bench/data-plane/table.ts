// The data-plane report, in the layout of docs' performance tables: one markdown table per load shape
// with ratios to direct and to nginx (L4 rows against nginx stream), latency added over direct, the
// proxy's CPU and memory; then Isthmus's targets, each met, missed, or not measured and why.

import { statsOf, type Row, type Stats } from './results.js';

const DASH = '–';

function fixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : DASH;
}

function ratio(a: number, b: number | undefined): string {
  return b === undefined || !(b > 0) ? DASH : fixed(a / b, 2);
}

function added(a: number, base: number | undefined): string {
  return base === undefined ? DASH : fixed(a - base, 3);
}

function line(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function header(cols: readonly string[]): string[] {
  return [line(cols), `|${cols.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
}

/** Why rows were not measured, and any errors seen under load, as lines under a table. */
function notes(rows: readonly Row[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    if (r.outcome.kind === 'unavailable') out.push(`${r.config.label}: unavailable: ${r.outcome.reason.split('\n')[0] ?? ''}`);
    else {
      const s = r.outcome.stats;
      if (s.errors > 0) out.push(`${r.config.label}: ${s.errors} errors (non-2xx or failed requests) over ${s.runs} runs`);
      if (s.disturbed.length > 0) out.push(`${r.config.label}: ${s.disturbed.length} of ${s.runs} runs disturbed: ${s.disturbed[0] ?? ''}`);
    }
  }
  return out;
}

function caption(shape: string, detail: string, runs: number, seconds: number): string {
  return `### ${shape}  (${detail}; upstream=nginx-upstream; medians of ${runs} interleaved runs, ${seconds}s each)`;
}

/**
 * A closed-loop (wrk, h2load) shape: throughput, latency, and what the proxy spent. `baselines` names the
 * rows the ratios are against (default `direct` and `nginx`; the HTTP/2 shape has its own).
 */
export function throughputTable(shape: string, detail: string, rows: readonly Row[], runs: number, seconds: number, baselines = { direct: 'direct', nginx: 'nginx' }): string[] {
  const direct = statsOf(rows, baselines.direct);
  const nginx = statsOf(rows, baselines.nginx);
  const stream = statsOf(rows, 'nginx-stream');
  const out = [
    caption(shape, detail, runs, seconds),
    '',
    ...header(['config', 'req/s', 'x direct', 'x nginx', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'proxy CPU %', 'proxy CPU-ms /1k req', 'req per proxy-CPU-s', 'core0 %', 'core1 %', 'RSS max MB']),
  ];
  for (const r of rows) {
    if (r.outcome.kind === 'unavailable') {
      out.push(line([r.config.label, 'n/a', ...Array<string>(12).fill(DASH)]));
      continue;
    }
    const s = r.outcome.stats;
    const proxy = r.config.layer !== 'direct';
    const peer = r.config.layer === 'l4' ? stream : nginx;
    out.push(
      line([
        r.config.label,
        fixed(s.rps, 0),
        ratio(s.rps, direct?.rps),
        ratio(s.rps, peer?.rps) + (r.config.layer === 'l4' ? '†' : ''),
        fixed(s.p50Ms, 3),
        fixed(s.p99Ms, 3),
        proxy ? added(s.p50Ms, direct?.p50Ms) : DASH,
        proxy ? added(s.p99Ms, direct?.p99Ms) : DASH,
        proxy ? fixed(s.cpuPct, 0) : DASH,
        proxy ? fixed(s.cpuSecPer1k * 1000, 1) : DASH,
        proxy ? fixed(s.reqPerCpuSec, 0) : DASH,
        fixed(s.core0Pct, 0),
        fixed(s.core1Pct, 0),
        proxy ? fixed(s.rssMaxMb, 1) : DASH,
      ]),
    );
  }
  if (rows.some((r) => r.config.layer === 'l4')) out.push('', '† L4 rows: "x nginx" is relative to nginx stream (L4), not the nginx L7 proxy.');
  const n = notes(rows);
  if (n.length > 0) out.push('', ...n);
  return out;
}

/** The fixed-rate (open-loop) shape: latency at a steady load, and the proxy's cost per 1,000 req/s. */
export function fixedRateTable(shape: string, detail: string, rows: readonly Row[], runs: number, seconds: number): string[] {
  const direct = statsOf(rows, 'direct');
  const out = [
    caption(shape, detail, runs, seconds),
    '',
    ...header(['config', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'added p50 ms', 'added p90 ms', 'added p99 ms', 'proxy vCPU per 1000 rps', 'proxy RSS max MB']),
  ];
  for (const r of rows) {
    if (r.outcome.kind === 'unavailable') {
      out.push(line([r.config.label, 'n/a', ...Array<string>(8).fill(DASH)]));
      continue;
    }
    const s = r.outcome.stats;
    const proxy = r.config.layer !== 'direct';
    out.push(
      line([
        r.config.label,
        fixed(s.rps, 0),
        fixed(s.p50Ms, 3),
        fixed(s.p90Ms, 3),
        fixed(s.p99Ms, 3),
        proxy ? added(s.p50Ms, direct?.p50Ms) : DASH,
        proxy ? added(s.p90Ms, direct?.p90Ms) : DASH,
        proxy ? added(s.p99Ms, direct?.p99Ms) : DASH,
        proxy ? fixed(s.cpuSecPer1k, 3) : DASH,
        proxy ? fixed(s.rssMaxMb, 1) : DASH,
      ]),
    );
  }
  const n = notes(rows);
  if (n.length > 0) out.push('', ...n);
  return out;
}

interface Target {
  readonly what: string;
  /** The figure, or why there is none. */
  readonly value: number | string;
  readonly unit: string;
  readonly met: (v: number) => boolean;
  /** The figures it was computed from, to flag a verdict resting on a disturbed run. */
  readonly from: readonly (Stats | undefined)[];
}

function unmeasured(rows: readonly Row[] | undefined, name: string, peer: string | undefined, shape: string): string {
  if (rows === undefined) return `${shape} not run`;
  const row = rows.find((r) => r.config.name === name);
  if (row === undefined) return `${name} not selected`;
  if (row.outcome.kind === 'unavailable') return `${name} unavailable`;
  return `${peer ?? '?'} not measured`;
}

/** Isthmus's performance targets against this run's figures. */
export function targetLines(c50: readonly Row[] | undefined, krps: readonly Row[] | undefined): string[] {
  const pick = (rows: readonly Row[] | undefined, name: string): Stats | undefined => (rows === undefined ? undefined : statsOf(rows, name));
  const isthmus50 = pick(c50, 'isthmus');
  const nginx50 = pick(c50, 'nginx');
  const tcp50 = pick(c50, 'isthmus-tcp');
  const stream50 = pick(c50, 'nginx-stream');
  const isthmusK = pick(krps, 'isthmus');
  const directK = pick(krps, 'direct');
  const targets: Target[] = [
    {
      what: 'isthmus req/s ≥ 0.5× nginx (h1-c50)',
      value: isthmus50 && nginx50 ? isthmus50.rps / nginx50.rps : unmeasured(c50, 'isthmus', 'nginx', 'h1-c50'),
      unit: '×',
      met: (v) => v >= 0.5,
      from: [isthmus50, nginx50],
    },
    {
      what: 'isthmus p99 added < 0.5 ms at 1k rps',
      value: isthmusK && directK ? isthmusK.p99Ms - directK.p99Ms : unmeasured(krps, 'isthmus', 'direct', 'h1-1krps'),
      unit: ' ms',
      met: (v) => v < 0.5,
      from: [isthmusK, directK],
    },
    {
      what: 'isthmus ≤ 0.05 CPU-s per 1,000 req (1k rps)',
      value: isthmusK ? isthmusK.cpuSecPer1k : unmeasured(krps, 'isthmus', undefined, 'h1-1krps'),
      unit: ' CPU-s',
      met: (v) => v <= 0.05,
      from: [isthmusK],
    },
    {
      what: 'isthmus ≤ 60 MB RSS at 1k rps',
      value: isthmusK ? isthmusK.rssMaxMb : unmeasured(krps, 'isthmus', undefined, 'h1-1krps'),
      unit: ' MB',
      met: (v) => v <= 60,
      from: [isthmusK],
    },
    {
      what: 'isthmus tcp req/s ≥ 0.85× nginx stream (h1-c50)',
      value: tcp50 && stream50 ? tcp50.rps / stream50.rps : unmeasured(c50, 'isthmus-tcp', 'nginx-stream', 'h1-c50'),
      unit: '×',
      met: (v) => v >= 0.85,
      from: [tcp50, stream50],
    },
  ];
  const measured = targets.filter((t) => typeof t.value === 'number');
  const met = measured.filter((t) => typeof t.value === 'number' && t.met(t.value));
  const out = [`targets: ${met.length} of ${targets.length} met, ${measured.length - met.length} missed, ${targets.length - measured.length} not measured`];
  for (const t of targets) {
    const v = t.value;
    const shown = typeof v === 'number' ? `${fixed(v, t.unit === ' MB' ? 1 : 3)}${t.unit}  ${t.met(v) ? 'met' : 'MISSED'}` : `not measured (${v})`;
    const suspect = typeof v === 'number' && t.from.some((s) => (s?.disturbed.length ?? 0) > 0) ? '  (suspect: a disturbed run, see the notes)' : '';
    out.push(`  ${t.what}: ${shown}${suspect}`);
  }
  return out;
}
