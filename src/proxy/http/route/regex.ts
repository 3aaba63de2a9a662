// RE2 regular expressions for the route table (Envoy's safe_regex is Google RE2, always a full match).
// A pattern is first compiled with re2js: what RE2 rejects is a problem (lookarounds, backreferences,
// repeat counts over 1000 ...). When the pattern sits in a subset where JavaScript's RegExp means exactly
// the same thing (ASCII, no inline flags, no \s, \pN, [[:alpha:]], \Q..\E, \z ...) it runs on the native
// engine; otherwise on re2js itself, so the semantics are RE2's either way.
// Also owns RE2's rewrite strings (`\1`, used by regex_rewrite) and GlobalReplace.
// Envoy: source/common/common/regex.cc (CompiledGoogleReMatcher).

import type { RE2JS } from 're2js';
import { re2js } from '../../lib/on-demand-libraries.js';

/** A parsed RE2 rewrite string: literals and capture group numbers. */
export interface Rewrite {
  readonly parts: readonly (string | number)[];
  /** The highest group referenced (0 when none). */
  readonly maxGroup: number;
}

export interface CompiledRegex {
  readonly source: string;
  readonly groupCount: number;
  /** True when the native engine runs it (exposed for tests). */
  readonly native: boolean;
  /** RE2::FullMatch. */
  fullMatch(s: string): boolean;
  /** RE2::GlobalReplace: every non-overlapping match replaced; the input itself when nothing matched. */
  replaceAll(s: string, rewrite: Rewrite): string;
}

export type RegexResult = { readonly ok: true; readonly regex: CompiledRegex } | { readonly ok: false; readonly reason: string };

/** Compiles an RE2 pattern, or says why RE2 rejects it. */
export function compileRegex(pattern: string): RegexResult {
  let re2: RE2JS;
  try {
    re2 = re2js().RE2JS.compile(pattern);
  } catch (e) {
    return { ok: false, reason: `invalid regex ${JSON.stringify(pattern)}: ${e instanceof Error ? e.message : String(e)}` };
  }
  const src = nativeSource(pattern);
  if (src !== undefined) {
    try {
      return { ok: true, regex: new NativeRegex(pattern, re2.groupCount(), new RegExp(`^(?:${src})$`), new RegExp(src, 'g')) };
    } catch {
      // Fall through to re2js (e.g. a group name JavaScript does not accept).
    }
  }
  return { ok: true, regex: new Re2jsRegex(pattern, re2) };
}

/** Parses an RE2 rewrite string (`\0`..`\9`, `\\`); undefined with a reason when RE2 would reject it. */
export function parseRewrite(rewrite: string, groupCount: number): { ok: true; rewrite: Rewrite } | { ok: false; reason: string } {
  const parts: (string | number)[] = [];
  let lit = '';
  let maxGroup = 0;
  for (let i = 0; i < rewrite.length; i++) {
    const c = rewrite[i];
    if (c !== '\\') {
      lit += c;
      continue;
    }
    const n = rewrite[i + 1];
    i++;
    if (n === '\\') {
      lit += '\\';
    } else if (n !== undefined && n >= '0' && n <= '9') {
      const g = n.charCodeAt(0) - 48;
      if (g > groupCount) return { ok: false, reason: `substitution ${JSON.stringify(rewrite)} refers to \\${g} but the regex has ${groupCount} capture group(s)` };
      if (lit !== '') parts.push(lit);
      lit = '';
      parts.push(g);
      maxGroup = Math.max(maxGroup, g);
    } else {
      return { ok: false, reason: `substitution ${JSON.stringify(rewrite)}: invalid rewrite pattern (a backslash must be followed by a digit or a backslash)` };
    }
  }
  if (lit !== '') parts.push(lit);
  return { ok: true, rewrite: Object.freeze({ parts: Object.freeze(parts), maxGroup }) };
}

function expand(rw: Rewrite, group: (i: number) => string): string {
  let out = '';
  for (const p of rw.parts) out += typeof p === 'number' ? group(p) : p;
  return out;
}

class NativeRegex implements CompiledRegex {
  readonly native = true;
  constructor(
    readonly source: string,
    readonly groupCount: number,
    private readonly full: RegExp,
    private readonly global: RegExp,
  ) {}

  fullMatch(s: string): boolean {
    return this.full.test(s);
  }

  replaceAll(s: string, rw: Rewrite): string {
    const re = this.global;
    let out = '';
    let p = 0;
    let lastEnd = -1;
    let count = 0;
    while (p <= s.length) {
      re.lastIndex = p;
      const m = re.exec(s);
      if (m === null) break;
      const start = m.index;
      const end = start + m[0].length;
      if (p < start) out += s.slice(p, start);
      if (start === end && start === lastEnd) {
        // RE2 disallows an empty match at the end of the previous one: copy one character and go on.
        if (p < s.length) out += s[p];
        p++;
        continue;
      }
      out += expand(rw, (i) => m[i] ?? '');
      p = end;
      lastEnd = end;
      count++;
    }
    if (count === 0) return s;
    if (p < s.length) out += s.slice(p);
    return out;
  }
}

class Re2jsRegex implements CompiledRegex {
  readonly native = false;
  readonly groupCount: number;
  constructor(
    readonly source: string,
    private readonly re: RE2JS,
  ) {
    this.groupCount = re.groupCount();
  }

  fullMatch(s: string): boolean {
    return this.re.matches(s);
  }

  replaceAll(s: string, rw: Rewrite): string {
    const m = this.re.matcher(s);
    let out = '';
    let p = 0;
    let lastEnd = -1;
    let count = 0;
    while (p <= s.length && m.find(p)) {
      const start = m.start();
      const end = m.end();
      if (p < start) out += s.slice(p, start);
      if (start === end && start === lastEnd) {
        if (p < s.length) out += s[p];
        p++;
        continue;
      }
      out += expand(rw, (i) => m.group(i) ?? '');
      p = end;
      lastEnd = end;
      count++;
    }
    if (count === 0) return s;
    if (p < s.length) out += s.slice(p);
    return out;
  }
}

/** Escapes whose meaning is the same in RE2 and in a non-unicode JavaScript RegExp. */
const SAME_ESCAPES = new Set(['d', 'D', 'w', 'W', 'n', 'r', 't', 'f', 'v']);

/**
 * The pattern rewritten for JavaScript when both engines agree on its meaning, else undefined.
 * Input is ASCII (node decodes header values and paths as latin1), so `.` differing on U+2028 and the
 * like cannot be observed; `\s` differs (JavaScript adds \v and Unicode spaces) and goes to re2js.
 */
function nativeSource(p: string): string | undefined {
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const code = p.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return undefined;
    const c = p[i] as string;
    if (c === '\\') {
      const n = p[i + 1];
      if (n === undefined) return undefined;
      if (SAME_ESCAPES.has(n) || (!inClass && (n === 'b' || n === 'B'))) {
        out += `\\${n}`;
        i++;
        continue;
      }
      if (n === 'x' && /^[0-9A-Fa-f]{2}$/.test(p.slice(i + 2, i + 4))) {
        out += p.slice(i, i + 4);
        i += 3;
        continue;
      }
      // Escaped ASCII punctuation is the literal character in both engines.
      if (/[!-/:-@[-`{-~]/.test(n)) {
        out += `\\${n}`;
        i++;
        continue;
      }
      return undefined;
    }
    if (inClass) {
      if (c === '[' && p[i + 1] === ':') return undefined; // POSIX class
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      // RE2 reads a leading ']' as a literal; JavaScript reads [] as the empty class.
      const neg = p[i + 1] === '^';
      if (p[i + (neg ? 2 : 1)] === ']') return undefined;
      inClass = true;
      out += neg ? '[^' : '[';
      if (neg) i++;
      continue;
    }
    if (c === '(' && p[i + 1] === '?') {
      if (p[i + 2] === ':') {
        out += '(?:';
        i += 2;
        continue;
      }
      if (p[i + 2] === 'P' && p[i + 3] === '<') {
        out += '(?<';
        i += 3;
        continue;
      }
      if (p[i + 2] === '<') {
        out += '(?<';
        i += 2;
        continue;
      }
      return undefined; // inline flags such as (?i)
    }
    out += c;
  }
  return out;
}
