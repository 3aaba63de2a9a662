// Go duration strings (`300ms`, `1.5s`, `2h45m`), which is how Istio's YAML writes google.protobuf.Duration
// (gogo jsonpb parses them with Go's time.ParseDuration). Returns nanoseconds as a bigint-free number of
// nanoseconds (safe below ~104 days), or an error in Go's wording.

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

export type DurationParse = { readonly ok: true; readonly ns: number } | { readonly ok: false; readonly message: string };

export function parseGoDuration(s: string): DurationParse {
  const bad = (): DurationParse => ({ ok: false, message: `time: invalid duration ${JSON.stringify(s)}` });
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return { ok: true, ns: 0 };
  if (rest === '') return bad();
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)([a-zµμ]+)/;
  while (rest.length > 0) {
    const m = re.exec(rest);
    if (m === null) {
      if (/^(\d+(?:\.\d*)?|\.\d+)$/.test(rest)) return { ok: false, message: `time: missing unit in duration ${JSON.stringify(s)}` };
      return bad();
    }
    const unit = UNIT_NS[m[2] as string];
    if (unit === undefined) return { ok: false, message: `time: unknown unit ${JSON.stringify(m[2])} in duration ${JSON.stringify(s)}` };
    total += Number(m[1]) * unit;
    rest = rest.slice(m[0].length);
  }
  return { ok: true, ns: Math.round(sign * total) };
}

/** Milliseconds of a Go duration string, or undefined when it does not parse. */
export function durationMs(s: string): number | undefined {
  const p = parseGoDuration(s);
  return p.ok ? p.ns / 1e6 : undefined;
}
