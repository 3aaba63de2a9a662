// A body as a Wasm plugin sees it in proxy_on_request_body / proxy_on_response_body (the host's
// WasmBuffer): the data held back so far plus the chunk that just arrived. While the plugin answers pause
// (Envoy's StopIterationAndBuffer) the data stays here and the next callback sees all of it; when it
// continues, everything held is passed on, with whatever the plugin replaced.

import type { WasmBuffer } from '../../wasm/host-types.js';

const EMPTY = Buffer.alloc(0);

export class BodyBuffer implements WasmBuffer {
  #data: Buffer = EMPTY;
  /** Whether the plugin may change the data now (only inside its body callback). */
  writableNow = false;

  get length(): number {
    return this.#data.length;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#data = this.#data.length === 0 ? chunk : Buffer.concat([this.#data, chunk]);
  }

  /** Everything held, emptying the buffer. */
  take(): Buffer {
    const d = this.#data;
    this.#data = EMPTY;
    return d;
  }

  read(start: number, end: number): Uint8Array {
    const d = this.#data;
    const e = Math.min(end, d.length);
    return start >= e ? new Uint8Array(0) : new Uint8Array(d.subarray(start, e));
  }

  splice(start: number, deleteCount: number, data: Uint8Array): boolean {
    if (!this.writableNow) return false;
    const d = this.#data;
    const s = Math.min(start, d.length);
    const e = Math.min(d.length, s + deleteCount);
    this.#data = Buffer.concat([d.subarray(0, s), Buffer.from(data.buffer, data.byteOffset, data.byteLength), d.subarray(e)]);
    return true;
  }
}
