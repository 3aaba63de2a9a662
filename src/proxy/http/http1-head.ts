// HTTP/1.1 message heads for the purpose-built codecs: header lists from the parser into header maps
// (requests as node:http builds req.headers, responses as undici does), and heads serialized for the wire
// (the request line or status line and header lines, latin1 as node writes them). A header whose name is
// not a token or whose value holds CR, LF or NUL is never written: that would split the message.

import { STATUS_CODES } from 'node:http';
import { isHopByHop, type HeaderMap } from './headers.js';

/** RFC 9110 tchar: 1 for the characters a header name may hold. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/** Whether `name: value` may be written as one header line (a token name; no control characters but tab in the value). */
export function isWritableHeader(name: string, value: string): boolean {
  const n = name.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c > 127 || TCHAR[c] === 0) return false;
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return false;
  }
  return true;
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

/** `name: value\r\n` lines for every writable header of `h` (arrays as repeated lines). */
export function headerLines(h: HeaderMap): string {
  let out = '';
  for (const name in h) {
    const v = h[name];
    if (v === undefined) continue;
    if (typeof v === 'string') {
      if (isWritableHeader(name, v)) out += `${name}: ${v}\r\n`;
      continue;
    }
    for (let i = 0; i < v.length; i++) {
      const x = v[i] as string;
      if (isWritableHeader(name, x)) out += `${name}: ${x}\r\n`;
    }
  }
  return out;
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

/** The IMF-fixdate for now, recomputed at most once a second. */
export function httpDate(nowMs: number): string {
  const s = Math.floor(nowMs / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(s * 1000).toUTCString();
  }
  return dateText;
}

/** Whether a response with this status to this method carries a body (RFC 9110 §6.4.1). */
export function responseHasBody(method: string, status: number): boolean {
  return method !== 'HEAD' && status !== 204 && status !== 304 && status >= 200;
}

/** Methods whose request carries `content-length: 0` when sent without a body (as undici and node do). */
export function expectsPayload(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}
