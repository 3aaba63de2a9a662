// The request path as Envoy's connection manager normalizes it before routing and the HTTP filters
// (ConnectionManagerUtility::maybeNormalizePath, http/path_utility.cc), so routes, RBAC and the upstream all
// see one spelling of a path. Istio turns it on for every connection manager (MeshConfig pathNormalization
// BASE: normalize_path, escaped slashes kept), which is what AuthorizationPolicy path rules rely on: without
// it `/public/../admin` would not match a rule on `/admin`.
//
// In Envoy's order:
// 1. A fragment (`#`) in the path is rejected (runtime http_reject_path_with_fragment, on by default).
// 2. path_with_escaped_slashes_action: `%2F` and `%5C` (either case) in the path part are unescaped to `/` and
//    `\` and the request forwarded, redirected (307 to the unescaped path) or rejected; KEEP_UNCHANGED leaves them.
// 3. normalize_path: RFC 3986 normalization as Envoy's URL library (Chromium's googleurl, CanonicalizePath) does
//    it on the path part (the query is kept as is): parameters dropped from `.`/`..` segments (`..;x` is
//    `..`, runtime strip_dotdot_segments_with_parameters); `.` and `..` segments resolved, `%2E` counting as a
//    dot, never above the root; `\` made `/`; a percent-encoded unreserved character (ALPHA, DIGIT, `-`, `.`,
//    `_`, `~`) decoded; characters that may not appear raw (controls, space, `"`, `#`, `<`, `>`, `^`, `` ` ``,
//    `{`, `|`, `}`, DEL and every byte above it) percent-encoded; other escapes kept as they are (their hex
//    case too); a NUL, raw or `%00`, fails the request. No case folding.
// 4. merge_slashes: runs of `/` in the path part become one.
// A failure is answered 400 with details `path_normalization_failed`. Paths with nothing to change, nearly
// all of them, are recognized by one scan and returned as they are.

/** HttpConnectionManager.PathWithEscapedSlashesAction. */
export type EscapedSlashesAction = 'keep' | 'reject' | 'redirect' | 'forward';

export interface PathNormalization {
  /** normalize_path. */
  readonly normalize: boolean;
  /** merge_slashes. */
  readonly mergeSlashes: boolean;
  readonly escapedSlashes: EscapedSlashesAction;
}

export type NormalizedPath =
  | { readonly action: 'continue'; readonly path: string }
  | { readonly action: 'redirect'; readonly path: string }
  | { readonly action: 'reject' };

const PASS = 0;
const SPECIAL = 1;
const ESCAPE = 3; // SPECIAL | escape bit
const UNESCAPE = 4;
const INVALID = 9; // SPECIAL | invalid bit
const ESCAPE_BIT = 2;
const INVALID_BIT = 8;

/** What each byte needs in a canonical path (googleurl's path character classes). */
const CLASS = new Uint8Array(256).fill(ESCAPE);
{
  CLASS[0] = INVALID;
  for (const ch of "!$&'()*+,/:;=@[]") CLASS[ch.charCodeAt(0)] = PASS;
  for (const ch of '-_~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz') CLASS[ch.charCodeAt(0)] = UNESCAPE;
  CLASS[0x2e] = SPECIAL; // '.': dot segments
  // '%' and '\' stay ESCAPE: both are handled before the escape bit is looked at.
}

const HEX = '0123456789ABCDEF';
const escaped = (b: number): string => `%${HEX[b >> 4] ?? '0'}${HEX[b & 15] ?? '0'}`;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** The byte a `%XX` at `i` encodes, or -1 when it is not one. */
function decodeEscape(s: string, i: number, end: number): number {
  if (i + 3 > end) return -1;
  const hi = hexValue(s.charCodeAt(i + 1));
  const lo = hexValue(s.charCodeAt(i + 2));
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

/** 1 for `.`, 3 for `%2E`/`%2e`, 0 otherwise. */
function dotLength(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x2e) return 1;
  if (c === 0x25 && i + 2 < end && s.charCodeAt(i + 1) === 0x32) {
    const e = s.charCodeAt(i + 2);
    if (e === 0x65 || e === 0x45) return 3;
  }
  return 0;
}

const isSlash = (c: number): boolean => c === 0x2f || c === 0x5c;

/** What the dot before `i` is: a plain name character (0), the current directory (1) or the parent (2), and the input it spans after that dot. */
function classifyAfterDot(s: string, i: number, end: number): [kind: 0 | 1 | 2, consumed: number] {
  if (i === end) return [1, 0];
  if (isSlash(s.charCodeAt(i))) return [1, 1];
  const second = dotLength(s, i, end);
  if (second > 0) {
    const after = i + second;
    if (after === end) return [2, second];
    if (isSlash(s.charCodeAt(after))) return [2, second + 1];
  }
  return [0, 0];
}

/** Drops the last segment of `out` (which ends with `/`), never the first `/`. */
function backUp(out: string): string {
  let i = out.length - 1;
  if (i === 0) return out;
  i--;
  while (out.charCodeAt(i) !== 0x2f && i > 0) i--;
  return out.slice(0, i + 1);
}

/** Percent-encodes a character above U+00FF as its UTF-8 bytes. */
function escapedUtf8(s: string, i: number): [text: string, width: number] {
  const cp = s.codePointAt(i) ?? 0xfffd;
  const width = cp > 0xffff ? 2 : 1;
  let text = '';
  for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) text += escaped(b);
  return [text, width];
}

/** `..;params` and `.;params` segments lose their parameters, so the dots resolve (Envoy's stripParametersFromDotSegments). */
function stripDotSegmentParameters(path: string): string {
  if (!path.includes('.;')) return path;
  return path
    .split('/')
    .map((seg) => (seg.startsWith('..;') ? '..' : seg.startsWith('.;') ? '.' : seg))
    .join('/');
}

/** googleurl's CanonicalizePath over a path without its query; undefined when it fails (a NUL). */
export function canonicalizePath(input: string): string | undefined {
  const path = stripDotSegmentParameters(input);
  const end = path.length;
  if (end === 0) return '/';
  let out = isSlash(path.charCodeAt(0)) ? '' : '/';
  let ok = true;
  for (let i = 0; i < end; i++) {
    const c = path.charCodeAt(i);
    if (c > 0xff) {
      const [text, width] = escapedUtf8(path, i);
      out += text;
      i += width - 1;
      continue;
    }
    const flags = CLASS[c] ?? ESCAPE;
    if ((flags & SPECIAL) === 0) {
      out += path[i];
      continue;
    }
    const dot = dotLength(path, i, end);
    if (dot > 0) {
      if (out.length > 0 && out.charCodeAt(out.length - 1) === 0x2f) {
        const [kind, consumed] = classifyAfterDot(path, i + dot, end);
        if (kind === 0) out += '.';
        else if (kind === 2) out = backUp(out);
        i += dot - 1 + (kind === 0 ? 0 : consumed);
      } else {
        out += '.';
        i += dot - 1;
      }
    } else if (c === 0x5c) out += '/';
    else if (c === 0x25) {
      const v = decodeEscape(path, i, end);
      if (v < 0) out += '%';
      else {
        const vf = CLASS[v] ?? ESCAPE;
        if ((vf & UNESCAPE) !== 0) out += String.fromCharCode(v);
        else {
          if ((vf & INVALID_BIT) !== 0) ok = false;
          out += path.slice(i, i + 3); // kept as written, hex case included
        }
        i += 2;
      }
    } else if ((flags & INVALID_BIT) !== 0) {
      out += escaped(c);
      ok = false;
    } else if ((flags & ESCAPE_BIT) !== 0) out += escaped(c);
  }
  return ok ? out : undefined;
}

/** Runs of `/` become one (Envoy's mergeSlashes, path part only). */
export function mergeSlashes(path: string): string {
  if (!path.includes('//')) return path;
  const lead = path.startsWith('/') ? '/' : '';
  const trail = path.endsWith('/') ? '/' : '';
  return lead + path.split('/').filter((s) => s !== '').join('/') + trail;
}

/** `%2F`/`%5C` (either case) unescaped to `/` and `\`; undefined when there were none. */
export function unescapeSlashes(path: string): string | undefined {
  if (!path.includes('%')) return undefined;
  const out = path.replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
  return out.length !== path.length ? out : undefined;
}

/** Whether the path part of `p` (up to `?`) is already canonical: no dot segment start, escape, backslash or character to encode. */
function alreadyCanonical(p: string, end: number): boolean {
  let prev = 0;
  for (let i = 0; i < end; i++) {
    const c = p.charCodeAt(i);
    if (c > 0x7e || c === 0x25 || c === 0x5c || (c === 0x2e && prev === 0x2f)) return false;
    if (((CLASS[c] ?? ESCAPE) & ESCAPE_BIT) !== 0) return false;
    prev = c;
  }
  return end > 0 && p.charCodeAt(0) === 0x2f;
}

/** Applies a connection manager's path normalization to a request path (with its query). */
export function normalizeRequestPath(path: string, o: PathNormalization): NormalizedPath {
  if (path.includes('#')) return { action: 'reject' };
  // A path that is not origin-form (`*`, an authority) is not a path to normalize.
  if (path.charCodeAt(0) !== 0x2f && path.charCodeAt(0) !== 0x5c) return { action: 'continue', path };
  let q = path.indexOf('?');
  if (q < 0) q = path.length;
  const noEscapes = o.escapedSlashes === 'keep' || !path.includes('%');
  if (noEscapes && (!o.normalize || alreadyCanonical(path, q)) && (!o.mergeSlashes || !path.slice(0, q).includes('//'))) return { action: 'continue', path };
  let part = path.slice(0, q);
  const query = path.slice(q);
  let redirect = false;
  if (o.escapedSlashes !== 'keep') {
    const un = unescapeSlashes(part);
    if (un !== undefined) {
      if (o.escapedSlashes === 'reject') return { action: 'reject' };
      redirect = o.escapedSlashes === 'redirect';
      part = un;
    }
  }
  if (o.normalize) {
    const c = canonicalizePath(part);
    if (c === undefined) return { action: 'reject' };
    part = c;
  }
  if (o.mergeSlashes) part = mergeSlashes(part);
  return { action: redirect ? 'redirect' : 'continue', path: part + query };
}
