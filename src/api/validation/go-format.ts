// Go's formatting of basic values (fmt's %q, %v and %f verbs), so that messages read exactly as Istio's,
// and the few Go string helpers whose edge cases Istio's checks depend on (len() on UTF-8 strings,
// strconv.Atoi, strings.SplitN).

/** Go's %q for the ASCII strings config holds. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's len(s): the UTF-8 byte length. */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** strconv.Atoi succeeds (an optionally signed decimal that fits in an int64). */
export function isGoInt(s: string): boolean {
  if (!/^[+-]?\d+$/.test(s)) return false;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/** Go's %v for a float64: shortest digits, exponent form when the exponent is < -4 or >= 6 (strconv 'g', -1). */
export function goFloatV(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const exp = Number(v.toExponential().split('e')[1] ?? '0');
  return exp < -4 || exp >= 6 ? goExp(v) : String(v);
}

function goExp(v: number): string {
  const [mant = '', e = '0'] = v.toExponential().split('e');
  const n = Number(e);
  const abs = String(Math.abs(n)).padStart(2, '0');
  return `${mant}e${n < 0 ? '-' : '+'}${abs}`;
}

/** Go's %f. */
export function goFloatF(v: number): string {
  return v.toFixed(6);
}

/** Go's %v for a []string, sorted first: `[a b c]`. */
export function goSortedList(items: Iterable<string>): string {
  return `[${[...items].sort().join(' ')}]`;
}

/** Go's strings.SplitN. */
export function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}
