// Reads the Prometheus text exposition format (version 0.0.4) that proxies serve on /stats/prometheus:
// `# TYPE` lines, samples `name{label="value",...} value [timestamp]`, label values with the escapes
// `\\`, `\"` and `\n`, and the special values NaN, +Inf and -Inf.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details
// A bad line is reported with its line number and skipped; it never fails the whole scrape. `keep`
// filters by metric name before labels are parsed, so the lines we do not want cost one prefix test.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Milliseconds since the epoch, when the line carries one. */
  readonly timestampMs?: number;
}

export interface ParseIssue {
  /** 1-based. */
  readonly line: number;
  readonly message: string;
}

export interface ParsedExposition {
  readonly samples: readonly PromSample[];
  /** Family name -> type, from `# TYPE` lines. */
  readonly types: ReadonlyMap<string, MetricType>;
  readonly issues: readonly ParseIssue[];
}

const TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; // A-Z a-z _
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isLabelStart = (c: number): boolean => isLetter(c);
const isLabelChar = (c: number): boolean => isLetter(c) || isDigit(c);
const isNameStart = (c: number): boolean => isLetter(c) || c === 58; // :
const isNameChar = (c: number): boolean => isLabelChar(c) || c === 58;

/** Parses a float as the format allows: Go's ParseFloat spellings plus NaN, +Inf, -Inf (any case). */
export function parsePromValue(s: string): number | undefined {
  const l = s.toLowerCase();
  if (l === 'nan') return NaN;
  if (l === '+inf' || l === 'inf') return Infinity;
  if (l === '-inf') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

class LineError extends Error {}

/** Parses `{a="x",b="y"}` starting at `text[i] === '{'`; returns the labels and the index after `}`. */
function parseLabels(text: string, start: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start + 1;
  const skipSpaces = (): void => {
    while (text[i] === ' ' || text[i] === '\t') i++;
  };
  for (;;) {
    skipSpaces();
    if (text[i] === '}') return [labels, i + 1];
    const nameStart = i;
    if (!isLabelStart(text.charCodeAt(i))) throw new LineError(`expected a label name at column ${i + 1}`);
    while (isLabelChar(text.charCodeAt(i))) i++;
    const name = text.slice(nameStart, i);
    skipSpaces();
    if (text[i] !== '=') throw new LineError(`expected "=" after label ${name}`);
    i++;
    skipSpaces();
    if (text[i] !== '"') throw new LineError(`expected a quoted value for label ${name}`);
    i++;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new LineError(`unterminated value for label ${name}`);
      if (c === '"') break;
      if (c === '\\') {
        const n = text[i + 1];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else throw new LineError(`invalid escape "\\${n ?? ''}" in label ${name}`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++;
    if (Object.hasOwn(labels, name)) throw new LineError(`label ${name} appears twice`);
    labels[name] = value;
    skipSpaces();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new LineError(`expected "," or "}" after label ${name}`);
  }
}

function parseSample(line: string): PromSample {
  let i = 0;
  if (!isNameStart(line.charCodeAt(0))) throw new LineError('expected a metric name');
  while (isNameChar(line.charCodeAt(i))) i++;
  const name = line.slice(0, i);
  let labels: Record<string, string> = {};
  if (line[i] === '{') [labels, i] = parseLabels(line, i);
  const rest = line.slice(i).trim().split(/[ \t]+/);
  if (rest.length === 0 || rest[0] === '') throw new LineError(`no value for ${name}`);
  if (rest.length > 2) throw new LineError(`unexpected text after the value of ${name}`);
  const value = parsePromValue(rest[0] ?? '');
  if (value === undefined) throw new LineError(`invalid value "${rest[0] ?? ''}" for ${name}`);
  if (rest[1] === undefined) return { name, labels, value };
  const ts = Number(rest[1]);
  if (!/^-?\d+$/.test(rest[1]) || !Number.isSafeInteger(ts)) throw new LineError(`invalid timestamp "${rest[1]}" for ${name}`);
  return { name, labels, value, timestampMs: ts };
}

/** The leading metric name of a sample line (without parsing its labels). */
function nameOf(line: string): string {
  let i = 0;
  while (isNameChar(line.charCodeAt(i))) i++;
  return line.slice(0, i);
}

export function parsePrometheusText(text: string, keep: (name: string) => boolean = () => true): ParsedExposition {
  const samples: PromSample[] = [];
  const types = new Map<string, MetricType>();
  const issues: ParseIssue[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] ?? '').trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+TYPE\s+(\S+)\s+(\S+)\s*$/.exec(line);
      if (m !== null && keep(m[1] ?? '')) {
        if (TYPES.has(m[2] ?? '')) types.set(m[1] ?? '', m[2] as MetricType);
        else issues.push({ line: n + 1, message: `unknown metric type "${m[2] ?? ''}"` });
      }
      continue;
    }
    if (!keep(nameOf(line))) continue;
    try {
      samples.push(parseSample(line));
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      issues.push({ line: n + 1, message: e.message });
    }
  }
  return { samples, types, issues };
}

/**
 * The family a sample belongs to and whether its value only grows (until a reset): counters, and the
 * `_bucket`, `_sum` and `_count` series of histograms (and `_sum`/`_count` of summaries).
 */
export function isCumulative(name: string, types: ReadonlyMap<string, MetricType>): boolean {
  const own = types.get(name);
  if (own !== undefined) return own === 'counter';
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const t = types.get(name.slice(0, -suffix.length));
    if (t === 'histogram') return true;
    if (t === 'summary' && suffix !== '_bucket') return true;
  }
  // Untyped: Prometheus' naming convention for counters.
  return name.endsWith('_total');
}
