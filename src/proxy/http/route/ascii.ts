// ASCII-only case folding, as Envoy compares (absl::EqualsIgnoreCase, StartsWithIgnoreCase,
// AsciiStrToLower): only A-Z fold, where String.prototype.toLowerCase would also fold non-ASCII letters.
// The comparisons walk char codes so the request path does not allocate.

function fold(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

export function asciiLower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      let out = s.slice(0, i);
      for (let j = i; j < s.length; j++) out += String.fromCharCode(fold(s.charCodeAt(j)));
      return out;
    }
  }
  return s;
}

/** `s` starts with `prefix` (already lower-case), ignoring ASCII case. */
export function startsWithIgnoreCase(s: string, lowerPrefix: string): boolean {
  if (s.length < lowerPrefix.length) return false;
  for (let i = 0; i < lowerPrefix.length; i++) if (fold(s.charCodeAt(i)) !== lowerPrefix.charCodeAt(i)) return false;
  return true;
}

/** `s` ends with `suffix` (already lower-case), ignoring ASCII case. */
export function endsWithIgnoreCase(s: string, lowerSuffix: string): boolean {
  const off = s.length - lowerSuffix.length;
  if (off < 0) return false;
  for (let i = 0; i < lowerSuffix.length; i++) if (fold(s.charCodeAt(off + i)) !== lowerSuffix.charCodeAt(i)) return false;
  return true;
}

/** `s` equals `lower` (already lower-case), ignoring ASCII case. */
export function equalsIgnoreCase(s: string, lower: string): boolean {
  return s.length === lower.length && startsWithIgnoreCase(s, lower);
}
