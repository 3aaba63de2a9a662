// Bounds-checked access to a guest's exported linear memory, and the allocation handshake that hands
// variable-size results to the guest (spec "Memory management": the host calls the guest's allocator,
// copies the bytes, then writes pointer and size into out-params).
// Contracts: every pointer and size is normalised with `>>> 0` (wasm i32 arrive signed in JS; the Rust SDK
// passes usize::MAX = -1 as "whole buffer"); a pointer or length outside memory answers `false` /
// undefined, never a JS RangeError; views are re-acquired after every allocation because the allocator
// may grow memory (which detaches the old ArrayBuffer). Zero-length results are written as (0, 0), as
// cpp-host does (Rust SDKs treat a NULL pointer as "none").

import { WasmResult } from './abi.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });
const EMPTY = new Uint8Array(0);
/** Below this length an ASCII string is built directly (TextDecoder's fixed cost dominates short strings). */
const SHORT_STRING = 48;
const utf8Encoder = new TextEncoder();

export function encodeUtf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

export function decodeUtf8(b: Uint8Array): string {
  return utf8.decode(b);
}

/** A guest allocator: `proxy_on_memory_allocate(size) -> ptr` or `malloc(size) -> ptr`; 0 means failure. */
export type GuestAllocator = (size: number) => number;

export class GuestMemory {
  private memory: WebAssembly.Memory | undefined;
  private allocator: GuestAllocator | undefined;
  private buffer: ArrayBuffer | undefined;
  private u8: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(new ArrayBuffer(0));

  /** Attached once the instance exists; AssemblyScript start sections run host calls before that. */
  attach(memory: WebAssembly.Memory | undefined, allocator: GuestAllocator | undefined): void {
    this.memory = memory;
    this.allocator = allocator;
    this.buffer = undefined;
  }

  get attached(): boolean {
    return this.memory !== undefined;
  }

  private refresh(): boolean {
    const mem = this.memory;
    if (mem === undefined) return false;
    const buf = mem.buffer;
    if (buf !== this.buffer) {
      this.buffer = buf;
      this.u8 = new Uint8Array(buf);
      this.dv = new DataView(buf);
    }
    return true;
  }

  /** Current size of linear memory in bytes (0 before attach). */
  byteLength(): number {
    return this.refresh() ? this.u8.byteLength : 0;
  }

  /** True when [ptr, ptr+len) lies inside memory. */
  inBounds(ptr: number, len: number): boolean {
    if (!this.refresh()) return false;
    const p = ptr >>> 0;
    const l = len >>> 0;
    return p + l <= this.u8.byteLength;
  }

  /**
   * A view of guest bytes, valid only until the next allocation or guest call. Undefined when out of range.
   * A zero length yields an empty view whatever the pointer (SDKs pass (0,0) for empty strings).
   */
  view(ptr: number, len: number): Uint8Array | undefined {
    const l = len >>> 0;
    if (l === 0) return EMPTY;
    if (!this.refresh()) return undefined;
    const p = ptr >>> 0;
    if (p + l > this.u8.byteLength) return undefined;
    return this.u8.subarray(p, p + l);
  }

  /** A copy of guest bytes that survives later guest calls. */
  copy(ptr: number, len: number): Uint8Array | undefined {
    const v = this.view(ptr, len);
    return v === undefined ? undefined : v.slice();
  }

  /** Guest bytes decoded as UTF-8 (invalid sequences become U+FFFD). */
  string(ptr: number, len: number): string | undefined {
    const v = this.view(ptr, len);
    if (v === undefined) return undefined;
    const n = v.length;
    if (n <= SHORT_STRING) {
      let ascii = true;
      for (let i = 0; i < n; i++) {
        if ((v[i] as number) > 0x7f) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, v as unknown as number[]);
    }
    return utf8.decode(v);
  }

  writeU32(ptr: number, value: number): boolean {
    if (!this.refresh()) return false;
    const p = ptr >>> 0;
    if (p + 4 > this.u8.byteLength) return false;
    this.dv.setUint32(p, value >>> 0, true);
    return true;
  }

  readU32(ptr: number): number | undefined {
    if (!this.refresh()) return undefined;
    const p = ptr >>> 0;
    if (p + 4 > this.u8.byteLength) return undefined;
    return this.dv.getUint32(p, true);
  }

  writeU64(ptr: number, value: bigint): boolean {
    if (!this.refresh()) return false;
    const p = ptr >>> 0;
    if (p + 8 > this.u8.byteLength) return false;
    this.dv.setBigUint64(p, BigInt.asUintN(64, value), true);
    return true;
  }

  writeBytes(ptr: number, data: Uint8Array): boolean {
    if (data.byteLength === 0) return true;
    if (!this.refresh()) return false;
    const p = ptr >>> 0;
    if (p + data.byteLength > this.u8.byteLength) return false;
    this.u8.set(data, p);
    return true;
  }

  /**
   * Allocates guest memory for `data`, copies it there and writes (ptr, size) into the two out-params.
   * Empty data writes (0, 0) without allocating. Answers INVALID_MEMORY_ACCESS when the allocator is
   * missing or returns 0, or when an out-param is out of range.
   * The out-params are checked before allocating so a garbage pointer does not leak guest memory.
   */
  returnBytes(data: Uint8Array, ptrPtr: number, sizePtr: number): WasmResult {
    if (!this.inBounds(ptrPtr, 4) || !this.inBounds(sizePtr, 4)) return WasmResult.INVALID_MEMORY_ACCESS;
    if (data.byteLength === 0) {
      this.writeU32(ptrPtr, 0);
      this.writeU32(sizePtr, 0);
      return WasmResult.OK;
    }
    const ptr = this.allocate(data.byteLength);
    if (ptr === 0) return WasmResult.INVALID_MEMORY_ACCESS;
    if (!this.writeBytes(ptr, data)) return WasmResult.INVALID_MEMORY_ACCESS;
    if (!this.writeU32(ptrPtr, ptr) || !this.writeU32(sizePtr, data.byteLength)) return WasmResult.INVALID_MEMORY_ACCESS;
    return WasmResult.OK;
  }

  /** Calls the guest allocator; 0 when there is none or it failed. Guest traps propagate to the caller. */
  allocate(size: number): number {
    const alloc = this.allocator;
    if (alloc === undefined) return 0;
    const ptr = alloc(size >>> 0) >>> 0;
    // The allocator may have grown memory: views are refreshed lazily by refresh().
    if (ptr === 0 || !this.inBounds(ptr, size)) return 0;
    return ptr;
  }
}
