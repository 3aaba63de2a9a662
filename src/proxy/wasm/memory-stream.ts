// In-memory implementations of the host's buffer and header-map interfaces. The VM uses them for
// configuration and callout results; `isthmus wasm run` and tests build whole streams from them; the proxy
// may use them wherever it holds a body or header list as plain bytes. Not optimised for large bodies.

import type { WasmBuffer, WasmHeaderMap } from './host-types.js';
import type { HeaderPair, HeaderPairs } from './pairs.js';

/** A growable byte buffer; `writable` false makes splice answer false. */
export class ByteBuffer implements WasmBuffer {
  private data: Uint8Array;
  writable: boolean;

  constructor(initial: Uint8Array = new Uint8Array(0), writable = true) {
    this.data = initial;
    this.writable = writable;
  }

  get length(): number {
    return this.data.byteLength;
  }

  bytes(): Uint8Array {
    return this.data;
  }

  read(start: number, end: number): Uint8Array {
    const s = Math.min(start, this.data.byteLength);
    const e = Math.min(Math.max(end, s), this.data.byteLength);
    return this.data.slice(s, e);
  }

  splice(start: number, deleteCount: number, data: Uint8Array): boolean {
    if (!this.writable) return false;
    const s = Math.min(start, this.data.byteLength);
    const del = Math.min(deleteCount, this.data.byteLength - s);
    const out = new Uint8Array(this.data.byteLength - del + data.byteLength);
    out.set(this.data.subarray(0, s), 0);
    out.set(data, s);
    out.set(this.data.subarray(s + del), s + data.byteLength);
    this.data = out;
    return true;
  }

  /** Appends bytes as the proxy receives more of a body. */
  append(data: Uint8Array): void {
    const out = new Uint8Array(this.data.byteLength + data.byteLength);
    out.set(this.data, 0);
    out.set(data, this.data.byteLength);
    this.data = out;
  }
}

/** An ordered multi-map of headers with lower-case names. */
export class HeaderList implements WasmHeaderMap {
  private list: HeaderPair[];
  writable: boolean;

  constructor(pairs: HeaderPairs = [], writable = true) {
    this.list = pairs.map(([n, v]) => [n.toLowerCase(), v] as const);
    this.writable = writable;
  }

  /** Convenience for tests and the CLI: string values. */
  static of(entries: ReadonlyArray<readonly [string, string]>, writable = true): HeaderList {
    const enc = new TextEncoder();
    return new HeaderList(entries.map(([n, v]) => [n, enc.encode(v)] as const), writable);
  }

  pairs(): HeaderPairs {
    return this.list;
  }

  /** Entries with values decoded as UTF-8. */
  entries(): Array<[string, string]> {
    const dec = new TextDecoder();
    return this.list.map(([n, v]) => [n, dec.decode(v)]);
  }

  get(name: string): Uint8Array | undefined {
    for (const [n, v] of this.list) if (n === name) return v;
    return undefined;
  }

  add(name: string, value: Uint8Array): boolean {
    if (!this.writable) return false;
    this.list = [...this.list, [name.toLowerCase(), value]];
    return true;
  }

  replace(name: string, value: Uint8Array): boolean {
    if (!this.writable) return false;
    const key = name.toLowerCase();
    const at = this.list.findIndex(([n]) => n === key);
    if (at < 0) return this.add(key, value);
    this.list = this.list.filter(([n], i) => n !== key || i === at).map((p, i) => (i === at ? ([key, value] as const) : p));
    return true;
  }

  remove(name: string): boolean {
    if (!this.writable) return false;
    const key = name.toLowerCase();
    this.list = this.list.filter(([n]) => n !== key);
    return true;
  }

  setPairs(pairs: HeaderPairs): boolean {
    if (!this.writable) return false;
    this.list = pairs.map(([n, v]) => [n.toLowerCase(), v] as const);
    return true;
  }
}
