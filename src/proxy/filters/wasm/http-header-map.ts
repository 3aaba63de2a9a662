// The proxy's header maps as a Wasm plugin sees them (the host's WasmHeaderMap): request headers with
// Envoy's pseudo-headers first (:authority, :path, :method, :scheme), response headers with :status.
// Writes to :path and :authority change what goes upstream (the stream's upstream path and authority);
// `host` is :authority, as Envoy keeps it. Values are bytes as they came off the wire (latin1 both ways,
// so no byte is ever re-encoded). A map that can no longer change (the response head was sent) refuses
// writes, which the host answers with BAD_ARGUMENT.

import type { HeaderMap, HttpStream } from '../../http/http-stream.js';
import type { HeaderPairs } from '../../wasm/pairs.js';
import type { WasmHeaderMap } from '../../wasm/host-types.js';

function bytes(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}

/** Bytes as a latin1 string; short values (most header names and values) without a Buffer. */
export function latin1(b: Uint8Array): string {
  if (b.length <= 64) return String.fromCharCode.apply(null, b as unknown as number[]);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

const text = latin1;

/** Entries of a map (each value of a repeated header counts), without building them. */
function countEntries(h: HeaderMap, skip: (name: string) => boolean): number {
  let n = 0;
  for (const k in h) {
    const v = h[k];
    if (v === undefined || skip(k)) continue;
    n += typeof v === 'string' ? 1 : v.length;
  }
  return n;
}

function isPseudo(k: string): boolean {
  return k.charCodeAt(0) === 58;
}

function isHostOrPseudo(k: string): boolean {
  return k === 'host' || k.charCodeAt(0) === 58;
}

function pushAll(out: [string, Uint8Array][], h: HeaderMap, skip: (name: string) => boolean): void {
  for (const k in h) {
    const v = h[k];
    if (v === undefined || skip(k)) continue;
    if (typeof v === 'string') out.push([k, bytes(v)]);
    else for (const x of v) out.push([k, bytes(x)]);
  }
}

function add(h: HeaderMap, name: string, value: string): void {
  const cur = h[name];
  if (cur === undefined) h[name] = value;
  else if (typeof cur === 'string') h[name] = [cur, value];
  else cur.push(value);
}

function first(v: string | string[] | undefined): string | undefined {
  return v === undefined ? undefined : typeof v === 'string' ? v : v[0];
}

/** Plain (non-pseudo) entries of a map, shared by request and response maps. */
abstract class MapView implements WasmHeaderMap {
  protected abstract readonly headers: HeaderMap;
  abstract pairs(): HeaderPairs;
  /** pairs().length, without building the pairs (the count each headers callback is given). */
  abstract size(): number;
  protected abstract writable(): boolean;
  protected abstract getPseudo(name: string): string | undefined;
  /** Sets a pseudo-header; false when the name is not one this map has. */
  protected abstract setPseudo(name: string, value: string): boolean;

  get(name: string): Uint8Array | undefined {
    const v = name.charCodeAt(0) === 58 ? this.getPseudo(name) : first(this.headers[name]);
    return v === undefined ? undefined : bytes(v);
  }

  add(name: string, value: Uint8Array): boolean {
    if (!this.writable()) return false;
    if (name.charCodeAt(0) === 58) return this.setPseudo(name, text(value));
    add(this.headers, name, text(value));
    return true;
  }

  replace(name: string, value: Uint8Array): boolean {
    if (!this.writable()) return false;
    if (name.charCodeAt(0) === 58) return this.setPseudo(name, text(value));
    this.headers[name] = text(value);
    return true;
  }

  remove(name: string): boolean {
    if (!this.writable()) return false;
    if (name.charCodeAt(0) !== 58) delete this.headers[name];
    return true;
  }

  setPairs(pairs: HeaderPairs): boolean {
    if (!this.writable()) return false;
    for (const k of Object.keys(this.headers)) if (k.charCodeAt(0) !== 58) delete this.headers[k];
    for (const [k, v] of pairs) {
      if (k.charCodeAt(0) === 58) this.setPseudo(k, text(v));
      else add(this.headers, k, text(v));
    }
    return true;
  }
}

/** The downstream request's headers, writable until the request went upstream. */
export class RequestHeaderMap extends MapView {
  protected readonly headers: HeaderMap;
  writableNow = true;

  constructor(private readonly s: HttpStream) {
    super();
    this.headers = s.request.headers;
  }

  pairs(): HeaderPairs {
    const s = this.s;
    const out: [string, Uint8Array][] = [
      [':authority', bytes(s.upstreamAuthority)],
      [':path', bytes(s.upstreamPath)],
      [':method', bytes(s.request.method)],
      [':scheme', bytes(s.request.scheme)],
    ];
    pushAll(out, this.headers, isHostOrPseudo);
    return out;
  }

  size(): number {
    return 4 + countEntries(this.headers, isHostOrPseudo);
  }

  protected writable(): boolean {
    return this.writableNow;
  }

  protected getPseudo(name: string): string | undefined {
    const s = this.s;
    switch (name) {
      case ':authority':
        return s.upstreamAuthority;
      case ':path':
        return s.upstreamPath;
      case ':method':
        return s.request.method;
      case ':scheme':
        return s.request.scheme;
      default:
        return undefined;
    }
  }

  protected setPseudo(name: string, value: string): boolean {
    if (name === ':path') this.s.upstreamPath = value;
    else if (name === ':authority') this.s.upstreamAuthority = value;
    else return false;
    return true;
  }

  override get(name: string): Uint8Array | undefined {
    return name === 'host' ? bytes(this.s.upstreamAuthority) : super.get(name);
  }

  override replace(name: string, value: Uint8Array): boolean {
    return name === 'host' ? this.setPseudo(':authority', text(value)) : super.replace(name, value);
  }
}

/** A response head while the response hooks run: writable until it is written downstream. */
export class ResponseHeaderMap extends MapView {
  writableNow = true;

  constructor(
    protected readonly headers: HeaderMap,
    private readonly status: number,
  ) {
    super();
  }

  pairs(): HeaderPairs {
    const out: [string, Uint8Array][] = [[':status', bytes(String(this.status))]];
    pushAll(out, this.headers, isPseudo);
    return out;
  }

  size(): number {
    return 1 + countEntries(this.headers, isPseudo);
  }

  protected writable(): boolean {
    return this.writableNow;
  }

  protected getPseudo(name: string): string | undefined {
    return name === ':status' ? String(this.status) : undefined;
  }

  /** The status is the upstream's: the head hook cannot change it, so a write to :status is accepted and ignored. */
  protected setPseudo(name: string): boolean {
    return name === ':status';
  }
}

/** The upstream's response trailers while the trailer hooks run (no pseudo-headers). */
export class TrailerMap extends MapView {
  writableNow = true;

  constructor(protected readonly headers: HeaderMap) {
    super();
  }

  pairs(): HeaderPairs {
    const out: [string, Uint8Array][] = [];
    pushAll(out, this.headers, isPseudo);
    return out;
  }

  size(): number {
    return countEntries(this.headers, isPseudo);
  }

  protected writable(): boolean {
    return this.writableNow;
  }

  protected getPseudo(): string | undefined {
    return undefined;
  }

  protected setPseudo(): boolean {
    return false;
  }
}
