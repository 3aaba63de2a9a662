// HTTP/1.1 message heads for the purpose-built codecs: header lists from the parser into header maps
// (requests as node:http builds req.headers, responses as undici does), and heads serialized for the wire
// (the request line or status line and header lines). A header whose name is not a token or whose value
// holds a control character other than tab is never written (Envoy checks values with nghttp2's
// nghttp2_check_header_value): CR, LF or NUL would split the message.
// Characters go out as single bytes (latin1), which gives back the bytes of anything the parser read. A
// value holding characters above U+00FF cannot have come off the wire (config, a JWT claim, a plugin): it
// goes out as UTF-8, the bytes Envoy sends for a config string. Written as latin1, such characters would
// lose their high byte, and U+010A would become a bare LF.

import { STATUS_CODES } from 'node:http';
import { isHopByHop, type HeaderMap } from './headers.js';

/** RFC 9110 tchar: 1 for the characters a header name may hold. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/** Whether a header name may hold this UTF-16 code unit (a token character). */
function isNameChar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}

/** Whether a header value may hold this code unit: no control characters but tab (CR, LF, NUL would split the message). */
function isValueChar(c: number): boolean {
  return (c >= 32 || c === 9) && c !== 127;
}

/** How a header value's characters go on the wire. */
enum ValueBytes {
  /** It holds a control character other than tab: the header is not written. */
  None,
  /** Every character is at most U+00FF: one byte each. */
  Latin1,
  /** A character above U+00FF: the value is UTF-8 encoded. */
  Utf8,
}

function valueBytes(value: string): ValueBytes {
  let e = ValueBytes.Latin1;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 255) e = ValueBytes.Utf8;
    else if (!isValueChar(c)) return ValueBytes.None;
  }
  return e;
}

/**
 * Values this long are first looked up among the last ones found writable as latin1, and then copied in one
 * native write: a character loop costs about 2.5 ns a character on this machine, and Istio's
 * x-envoy-peer-metadata (about 300 characters) and x-envoy-peer-metadata-id are the same strings on every
 * request through a sidecar or gateway. Shorter values (a request id is 36) are checked as they are copied.
 */
const LONG_VALUE = 64;
const recentLong: string[] = ['', '', '', '', '', '', '', ''];
let recentNext = 0;

function longValueBytes(value: string): ValueBytes {
  // Strings of another length compare unequal at once; the same string object compares by identity.
  for (let i = 0; i < recentLong.length; i++) if (recentLong[i] === value) return ValueBytes.Latin1;
  const e = valueBytes(value);
  if (e === ValueBytes.Latin1) {
    recentLong[recentNext] = value;
    recentNext = (recentNext + 1) % recentLong.length;
  }
  return e;
}

/** Whether `name: value` may be written as one header line (a token name; no control characters but tab in the value). */
export function isWritableHeader(name: string, value: string): boolean {
  const n = name.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) if (!isNameChar(name.charCodeAt(i))) return false;
  return valueBytes(value) !== ValueBytes.None;
}

/** Whether `name` is a token (RFC 9110), so it may be written as a header name. */
export function isHeaderName(name: string): boolean {
  const n = name.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) if (!isNameChar(name.charCodeAt(i))) return false;
  return true;
}

/**
 * For a writer that encodes header strings as latin1 itself (node's http2 sends the low byte of each
 * character): the string whose latin1 bytes are the value's wire bytes (the value itself, or its UTF-8
 * bytes when it holds characters above U+00FF), or undefined when the value may not be written (a control
 * character other than tab). Long values are looked up among the last ones found writable first.
 */
export function wireHeaderValue(value: string): string | undefined {
  const e = value.length >= LONG_VALUE ? longValueBytes(value) : valueBytes(value);
  return e === ValueBytes.Latin1 ? value : e === ValueBytes.Utf8 ? Buffer.from(value, 'utf8').toString('latin1') : undefined;
}

/** The value as the string whose latin1 encoding is its wire bytes (UTF-8 bytes for characters above U+00FF). */
function wireValue(value: string): string {
  return valueBytes(value) === ValueBytes.Utf8 ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

/**
 * For a writer that encodes header strings as latin1 itself (node's http2 sends the low byte of each
 * character): the string whose latin1 bytes are the value's wire bytes, as the HTTP/1.1 writer sends them.
 * Values off the wire come back as they are; one with characters above U+00FF becomes its UTF-8 bytes.
 */
export function latin1Wire(value: string): string {
  // Pure ASCII, the usual case, is told natively.
  return Buffer.byteLength(value, 'utf8') === value.length ? value : wireValue(value);
}

/** latin1Wire() over one header's value or values: the same string or array when nothing changes (no copy). */
export function latin1WireValue(v: string | string[]): string | string[] {
  if (typeof v === 'string') return latin1Wire(v);
  let out: string[] | undefined;
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as string;
    const w = latin1Wire(x);
    if (w !== x) out ??= v.slice();
    if (out !== undefined) out[i] = w;
  }
  return out ?? v;
}

/**
 * Request headers whose repeats node:http drops (first wins); `set-cookie` repeats make an array, `cookie`
 * repeats are joined with '; ', all others with ', ' (IncomingMessage#_addHeaderLine).
 */
const FIRST_WINS: ReadonlySet<string> = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after',
  'server', 'user-agent',
]);

/** Whether node:http keeps only the first of a repeated header `name` (lower-case). */
export function firstWins(name: string): boolean {
  return FIRST_WINS.has(name);
}

/** A request's header list (name, value, name, value ...) as a map of lower-case names, node:http's way. */
export function requestHeaderMap(list: readonly string[], into: HeaderMap = {}): HeaderMap {
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase();
    const value = list[i + 1] as string;
    const prev = into[name];
    if (prev === undefined) {
      into[name] = name === 'set-cookie' ? [value] : value;
      continue;
    }
    if (typeof prev !== 'string') prev.push(value);
    else if (name === 'cookie') into[name] = `${prev}; ${value}`;
    else if (!FIRST_WINS.has(name)) into[name] = `${prev}, ${value}`;
  }
  return into;
}

/**
 * A response's header list as a map of lower-case names, repeated names as arrays (undici's way), without
 * the hop-by-hop headers, which never go further than this connection.
 */
export function responseHeaderMap(list: readonly string[], into: HeaderMap = {}): HeaderMap {
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase();
    if (isHopByHop(name)) continue;
    const value = list[i + 1] as string;
    const prev = into[name];
    if (prev === undefined) into[name] = value;
    else if (typeof prev === 'string') into[name] = [prev, value];
    else prev.push(value);
  }
  return into;
}

/**
 * `name: value\r\n` lines for every writable header of `h` (arrays as repeated lines), for a latin1 write:
 * a value with characters above U+00FF is given as its UTF-8 bytes.
 */
export function headerLines(h: HeaderMap): string {
  let out = '';
  for (const name in h) {
    const v = h[name];
    if (v === undefined) continue;
    if (typeof v === 'string') {
      if (isWritableHeader(name, v)) out += `${name}: ${wireValue(v)}\r\n`;
      continue;
    }
    for (let i = 0; i < v.length; i++) {
      const x = v[i] as string;
      if (isWritableHeader(name, x)) out += `${name}: ${wireValue(x)}\r\n`;
    }
  }
  return out;
}

/** Where requestHead() and responseHeadView() build heads; grown (never shrunk) for a larger head. */
let scratch = Buffer.allocUnsafe(16 * 1024);

/** Room for `n` more bytes after `w` in the scratch buffer (the first `w` kept). */
function reserve(w: number, n: number): void {
  if (w + n <= scratch.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(2 * scratch.length, w + n));
  scratch.copy(bigger, 0, 0, w);
  scratch = bigger;
}

/** Copies `text` (latin1: the low byte of each code unit, as node writes it) into the scratch buffer at `w`. */
function put(text: string, w: number): number {
  const b = scratch;
  for (let i = 0; i < text.length; i++) b[w++] = text.charCodeAt(i);
  return w;
}

/**
 * Writes the request target at `w` (room for its length reserved): as the parser read it, or as UTF-8 when it
 * holds characters above U+00FF (a rewrite from config), for the reason header values are.
 */
function putTarget(path: string, w: number): number {
  const b = scratch;
  const from = w;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c > 255) {
      reserve(from, 3 * path.length);
      return from + scratch.write(path, from, 'utf8');
    }
    b[w++] = c;
  }
  return w;
}

/** Writes `value` at `w` in the given bytes (not None); returns the new end. */
function putValue(value: string, e: ValueBytes, w: number): number {
  if (e === ValueBytes.Latin1) {
    reserve(w, value.length);
    return w + scratch.write(value, w, 'latin1');
  }
  reserve(w, 3 * value.length);
  return w + scratch.write(value, w, 'utf8');
}

/** Writes `name: value\r\n` at `w` if it is a writable header (isWritableHeader); returns the new end. */
function putHeader(name: string, value: string, w: number): number {
  const n = name.length;
  if (n === 0) return w;
  reserve(w, n + value.length + 4);
  let b = scratch;
  const start = w;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (!isNameChar(c)) return start;
    b[w++] = c;
  }
  b[w++] = 58; // ':'
  b[w++] = 32;
  if (value.length >= LONG_VALUE) {
    const e = longValueBytes(value);
    if (e === ValueBytes.None) return start;
    w = putValue(value, e, w);
  } else {
    const from = w;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c > 255) {
        // Not a value off the wire: the whole value goes out as UTF-8, if the rest holds no control character.
        const e = valueBytes(value);
        if (e === ValueBytes.None) return start;
        w = putValue(value, e, from);
        break;
      }
      if (!isValueChar(c)) return start;
      b[w++] = c;
    }
  }
  reserve(w, 2);
  b = scratch;
  b[w++] = 13;
  b[w++] = 10;
  return w;
}

/** Writes the header lines of `h` (as headerLines() would), `extra` and the blank line at `w`; returns the end. */
function putHeaders(h: HeaderMap, extra: string, w: number): number {
  for (const name in h) {
    const v = h[name];
    if (v === undefined) continue;
    if (typeof v === 'string') w = putHeader(name, v, w);
    else for (let i = 0; i < v.length; i++) w = putHeader(name, v[i] as string, w);
  }
  reserve(w, extra.length + 2);
  w = put(extra, w);
  scratch[w++] = 13;
  scratch[w++] = 10;
  return w;
}

/**
 * A request head as bytes: `METHOD path HTTP/1.1`, the header lines headerLines() would give for `h`, the
 * `extra` lines (framing, `connection: close`) and the blank line, encoded latin1 as node encodes the
 * string. Written and checked in one pass over each header's characters into a reused buffer, then copied
 * out: joining the lines as strings left a cons string per piece and a flattened copy of the whole on the
 * write, on the proxy's hottest function (`perf`: the request head was 4.5% of the proxy's CPU).
 */
export function requestHead(method: string, path: string, h: HeaderMap, extra: string): Buffer {
  reserve(0, method.length + path.length + 12);
  let w = put(method, 0);
  scratch[w++] = 32;
  w = putTarget(path, w);
  w = put(' HTTP/1.1\r\n', w);
  w = putHeaders(h, extra, w);
  const out = Buffer.allocUnsafe(w);
  scratch.copy(out, 0, 0, w);
  return out;
}

/**
 * A response head as bytes (the status line, the header lines of `h`, `extra`, the blank line), built as
 * requestHead() builds one, but returned as a view of the reused buffer: it is only good until the next head
 * is built, so the caller copies it (into the buffer it writes) before anything else runs.
 */
export function responseHeadView(status: number, h: HeaderMap, extra: string): Buffer {
  const line = statusLine(status);
  reserve(0, line.length);
  const w = putHeaders(h, extra, put(line, 0));
  return scratch.subarray(0, w);
}

/** The value of a header in a raw list (name, value, ...), by lower-case name; the first one. */
export function rawHeader(list: readonly string[], lowerName: string): string | undefined {
  const n = lowerName.length;
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i] as string;
    if (name.length === n && name.toLowerCase() === lowerName) return list[i + 1];
  }
  return undefined;
}

const STATUS_LINES: string[] = [];

/** `HTTP/1.1 200 OK\r\n`, cached per status. */
export function statusLine(status: number): string {
  let l = STATUS_LINES[status];
  if (l === undefined) {
    l = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    if (status >= 100 && status < 1000) STATUS_LINES[status] = l;
  }
  return l;
}

let dateSecond = -1;
let dateText = '';

let dateLineText = '';

/** The IMF-fixdate for now, recomputed at most once a second. */
export function httpDate(nowMs: number): string {
  const s = Math.floor(nowMs / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(s * 1000).toUTCString();
    dateLineText = `date: ${dateText}\r\n`;
  }
  return dateText;
}

/** `date: <IMF-fixdate>\r\n` for now, the header line a response without a date gets. */
export function httpDateLine(nowMs: number): string {
  httpDate(nowMs);
  return dateLineText;
}

/** Whether a response with this status to this method carries a body (RFC 9110 §6.4.1). */
export function responseHasBody(method: string, status: number): boolean {
  return method !== 'HEAD' && status !== 204 && status !== 304 && status >= 200;
}

/** Methods whose request carries `content-length: 0` when sent without a body (as undici and node do). */
export function expectsPayload(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}
