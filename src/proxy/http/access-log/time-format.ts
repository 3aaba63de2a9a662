// Time formatting for %START_TIME(...)% and friends, compiled once per operator. Without an argument Envoy
// prints ISO 8601 in UTC with milliseconds, `2024-01-01T00:00:00.000Z` (AccessLogDateTimeFormatter,
// `%Y-%m-%dT%H:%M:%E3SZ`). With an argument it is an strftime string (absl::FormatTime) plus Envoy's
// extensions `%s` (epoch seconds) and `%f` / `%1f`..`%9f` (fractional-second digits, 9 by default); see
// the START_TIME entry of docs/root/configuration/observability/access_log/usage.rst. A `%n` is rejected as
// Envoy does. Unknown specifiers are copied through. `local` formats in the process's time zone (the
// *_LOCAL operators); everything else is UTC.

export type TimeFormatter = (epochMs: number) => string;

export type CompileTimeResult =
  | { readonly ok: true; readonly value: TimeFormatter }
  | { readonly ok: false; readonly problem: string };

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];

interface Fields {
  readonly y: number;
  readonly mo: number;
  readonly d: number;
  readonly h: number;
  readonly mi: number;
  readonly s: number;
  readonly wd: number;
  /** Minutes east of UTC. */
  readonly offset: number;
  readonly ms: number;
}

function fields(ms: number, local: boolean): Fields {
  const t = new Date(ms);
  return local
    ? {
        y: t.getFullYear(), mo: t.getMonth(), d: t.getDate(), h: t.getHours(), mi: t.getMinutes(),
        s: t.getSeconds(), wd: t.getDay(), offset: -t.getTimezoneOffset(), ms,
      }
    : {
        y: t.getUTCFullYear(), mo: t.getUTCMonth(), d: t.getUTCDate(), h: t.getUTCHours(), mi: t.getUTCMinutes(),
        s: t.getUTCSeconds(), wd: t.getUTCDay(), offset: 0, ms,
      };
}

const pad = (n: number, width: number, fill = '0'): string => String(n).padStart(width, fill);

/** Fraction of the second as `digits` digits (nanosecond resolution, truncated). */
function fraction(ms: number, digits: number): string {
  const inSecond = ((ms % 1000) + 1000) % 1000;
  const nanos = Math.floor(Math.round(inSecond * 1e6));
  return pad(Math.min(nanos, 999_999_999), 9).slice(0, digits);
}

function offsetText(minutes: number, colon: boolean): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${pad(Math.floor(a / 60), 2)}${colon ? ':' : ''}${pad(a % 60, 2)}`;
}

function dayOfYear(f: Fields): number {
  return Math.floor((Date.UTC(f.y, f.mo, f.d) - Date.UTC(f.y, 0, 1)) / 86_400_000) + 1;
}

type Part = string | ((f: Fields) => string);

const SIMPLE: Readonly<Record<string, (f: Fields) => string>> = {
  Y: (f) => String(f.y),
  y: (f) => pad(f.y % 100, 2),
  C: (f) => pad(Math.floor(f.y / 100), 2),
  m: (f) => pad(f.mo + 1, 2),
  d: (f) => pad(f.d, 2),
  e: (f) => pad(f.d, 2, ' '),
  H: (f) => pad(f.h, 2),
  I: (f) => pad(f.h % 12 === 0 ? 12 : f.h % 12, 2),
  M: (f) => pad(f.mi, 2),
  S: (f) => pad(f.s, 2),
  p: (f) => (f.h < 12 ? 'AM' : 'PM'),
  j: (f) => pad(dayOfYear(f), 3),
  a: (f) => (DAYS[f.wd] ?? '').slice(0, 3),
  A: (f) => DAYS[f.wd] ?? '',
  b: (f) => (MONTHS[f.mo] ?? '').slice(0, 3),
  h: (f) => (MONTHS[f.mo] ?? '').slice(0, 3),
  B: (f) => MONTHS[f.mo] ?? '',
  u: (f) => String(f.wd === 0 ? 7 : f.wd),
  w: (f) => String(f.wd),
  z: (f) => offsetText(f.offset, false),
  Z: (f) => (f.offset === 0 ? 'UTC' : offsetText(f.offset, true)),
  s: (f) => String(Math.floor(f.ms / 1000)),
  T: (f) => `${pad(f.h, 2)}:${pad(f.mi, 2)}:${pad(f.s, 2)}`,
  R: (f) => `${pad(f.h, 2)}:${pad(f.mi, 2)}`,
  F: (f) => `${f.y}-${pad(f.mo + 1, 2)}-${pad(f.d, 2)}`,
  D: (f) => `${pad(f.mo + 1, 2)}/${pad(f.d, 2)}/${pad(f.y % 100, 2)}`,
  t: () => '\t',
  '%': () => '%',
};

let lastIsoMs = Number.NaN;
let lastIso = '';
let lastIsoSecond = Number.NaN;
/** toISOString() of the last second up to and including the '.', e.g. `2024-01-05T07:08:09.`. */
let lastIsoPrefix = '';
/** '000' to '999'. */
const MILLIS: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * Callers pass a finite time (the START_TIME operator prints `-` otherwise). The last result is kept: at a
 * few thousand requests a second most lines start in the same millisecond as the one before. Within a
 * second only the milliseconds change: a Date and its ISO string (about 0.5 µs here) are made once a second,
 * which is what a line costs at 1,000 requests/s, where each request has a millisecond of its own.
 */
function isoUtc(ms: number): string {
  const whole = Math.floor(ms);
  if (whole === lastIsoMs) return lastIso;
  lastIsoMs = whole;
  const second = Math.floor(whole / 1000);
  if (second !== lastIsoSecond) {
    const iso = new Date(second * 1000).toISOString();
    lastIsoSecond = second;
    lastIsoPrefix = iso.slice(0, iso.lastIndexOf('.') + 1);
  }
  lastIso = `${lastIsoPrefix}${MILLIS[whole - second * 1000] as string}Z`;
  return lastIso;
}

export function compileTimeFormat(format: string, local: boolean): CompileTimeResult {
  if (format === '') {
    if (!local) return { ok: true, value: isoUtc };
    return compileTimeFormat('%Y-%m-%dT%H:%M:%E3S%z', true);
  }
  // Envoy rejects a newline specifier: the result may end up in a header.
  if (/%[-_0^#]*[1-9]*(E|O)?n/.test(format)) {
    return { ok: false, problem: 'Invalid header configuration. Format string contains newline.' };
  }
  const parts: Part[] = [];
  let lit = '';
  const flush = (): void => {
    if (lit !== '') parts.push(lit);
    lit = '';
  };
  for (let i = 0; i < format.length; i++) {
    const c = format.charAt(i);
    if (c !== '%' || i + 1 >= format.length) {
      lit += c;
      continue;
    }
    const rest = format.slice(i + 1);
    let m: RegExpMatchArray | null;
    if ((m = /^([1-9])?f/.exec(rest)) !== null) {
      const digits = m[1] === undefined ? 9 : Number(m[1]);
      flush();
      parts.push((f) => fraction(f.ms, digits));
      i += m[0].length;
    } else if ((m = /^E([0-9]|\*)S/.exec(rest)) !== null) {
      const spec = m[1] ?? '0';
      flush();
      parts.push(
        spec === '*'
          ? (f) => {
              const frac = fraction(f.ms, 9).replace(/0+$/, '');
              return frac === '' ? pad(f.s, 2) : `${pad(f.s, 2)}.${frac}`;
            }
          : spec === '0'
            ? (f) => pad(f.s, 2)
            : (f) => `${pad(f.s, 2)}.${fraction(f.ms, Number(spec))}`,
      );
      i += m[0].length;
    } else if (rest.startsWith('Ez')) {
      flush();
      parts.push((f) => offsetText(f.offset, true));
      i += 2;
    } else {
      const fn = SIMPLE[rest.charAt(0)];
      if (fn === undefined) {
        lit += c;
        continue;
      }
      flush();
      parts.push(fn);
      i += 1;
    }
  }
  flush();
  return {
    ok: true,
    value: (ms) => {
      const f = fields(ms, local);
      let out = '';
      for (const p of parts) out += typeof p === 'string' ? p : p(f);
      return out;
    },
  };
}
