// The wire format between a worker's remote shared stores (remote-shared-store.ts) and the primary that
// owns the stores (workers/wasm-shared-server.ts): length-prefixed binary frames on a byte stream.
// Frame: u32 big-endian body length, then the body. A request body is an op byte and its fields; a
// response body is u32 status (a WasmResult), u32 number (cas or token) and the rest is data (a value).
// Strings are UTF-8 with a u32 length; the last field of a request may be bytes with a u32 length.
// Requests are strictly one at a time per worker (the worker blocks until the answer), so frames carry no
// id. This file owns the shapes and their checks only; a body that does not decode is a protocol error
// (the server closes that worker's channel).
// The same channel carries the circuit breaker ledger's two calls (BREAKER_BORROW, BREAKER_GIVE_BACK;
// upstream/shared-breakers.ts), since it is the worker's one synchronous way to the primary.

/** A frame bigger than this is a protocol error (it bounds what one worker can make the primary buffer). */
export const MAX_SHARED_FRAME_BYTES = 64 * 1024 * 1024;

export enum SharedOp {
  GET = 1,
  SET = 2,
  REGISTER = 3,
  RESOLVE = 4,
  ENQUEUE = 5,
  DEQUEUE = 6,
  RELEASE = 7,
  HOST_ENV = 8,
  BREAKER_BORROW = 9,
  BREAKER_GIVE_BACK = 10,
}

export type SharedRequest =
  | { readonly op: SharedOp.GET; readonly vmId: string; readonly key: string }
  | { readonly op: SharedOp.SET; readonly vmId: string; readonly key: string; readonly cas: number; readonly value: Uint8Array }
  | { readonly op: SharedOp.REGISTER | SharedOp.RESOLVE; readonly vmId: string; readonly name: string }
  | { readonly op: SharedOp.ENQUEUE; readonly token: number; readonly value: Uint8Array }
  | { readonly op: SharedOp.DEQUEUE | SharedOp.RELEASE; readonly token: number }
  | { readonly op: SharedOp.HOST_ENV; readonly key: string }
  /** Answered with the units granted in `num`. */
  | { readonly op: SharedOp.BREAKER_BORROW; readonly key: string; readonly resource: number; readonly count: number; readonly limit: number }
  | { readonly op: SharedOp.BREAKER_GIVE_BACK; readonly key: string; readonly resource: number; readonly count: number };

export interface SharedResponse {
  readonly status: number;
  /** The cas (GET), the token (REGISTER, RESOLVE), the units granted (BREAKER_BORROW), else 0. */
  readonly num: number;
  /** The value (GET, DEQUEUE, HOST_ENV), else empty. */
  readonly data: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);

type Field = { readonly u8: number } | { readonly u32: number } | { readonly bytes: Uint8Array };

function frame(fields: readonly Field[]): Uint8Array {
  let size = 0;
  for (const f of fields) size += 'u8' in f ? 1 : 'u32' in f ? 4 : 4 + f.bytes.byteLength;
  const out = new Uint8Array(4 + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, size);
  let at = 4;
  for (const f of fields) {
    if ('u8' in f) out[at++] = f.u8;
    else if ('u32' in f) {
      view.setUint32(at, f.u32 >>> 0);
      at += 4;
    } else {
      view.setUint32(at, f.bytes.byteLength);
      out.set(f.bytes, at + 4);
      at += 4 + f.bytes.byteLength;
    }
  }
  return out;
}

const str = (s: string): Field => ({ bytes: enc.encode(s) });

/** The whole frame (length prefix included) for a request. */
export function encodeSharedRequest(r: SharedRequest): Uint8Array {
  const op: Field = { u8: r.op };
  switch (r.op) {
    case SharedOp.GET:
      return frame([op, str(r.vmId), str(r.key)]);
    case SharedOp.SET:
      return frame([op, str(r.vmId), str(r.key), { u32: r.cas }, { bytes: r.value }]);
    case SharedOp.REGISTER:
    case SharedOp.RESOLVE:
      return frame([op, str(r.vmId), str(r.name)]);
    case SharedOp.ENQUEUE:
      return frame([op, { u32: r.token }, { bytes: r.value }]);
    case SharedOp.DEQUEUE:
    case SharedOp.RELEASE:
      return frame([op, { u32: r.token }]);
    case SharedOp.HOST_ENV:
      return frame([op, str(r.key)]);
    case SharedOp.BREAKER_BORROW:
      return frame([op, str(r.key), { u8: r.resource }, { u32: r.count }, { u32: r.limit }]);
    case SharedOp.BREAKER_GIVE_BACK:
      return frame([op, str(r.key), { u8: r.resource }, { u32: r.count }]);
  }
}

/** The whole frame (length prefix included) for a response. */
export function encodeSharedResponse(r: SharedResponse): Uint8Array {
  const out = new Uint8Array(12 + r.data.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, 8 + r.data.byteLength);
  view.setUint32(4, r.status >>> 0);
  view.setUint32(8, r.num >>> 0);
  out.set(r.data, 12);
  return out;
}

/** Reads fields off one body; any read past the end or bad UTF-8 makes `ok` false. */
class BodyReader {
  private at = 0;
  ok = true;
  private readonly view: DataView;

  constructor(private readonly body: Uint8Array) {
    this.view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  }

  u8(): number {
    if (this.at + 1 > this.body.byteLength) return this.fail();
    return this.body[this.at++] ?? 0;
  }

  u32(): number {
    if (this.at + 4 > this.body.byteLength) return this.fail();
    const v = this.view.getUint32(this.at);
    this.at += 4;
    return v;
  }

  bytes(): Uint8Array {
    const n = this.u32();
    if (!this.ok || this.at + n > this.body.byteLength) {
      this.fail();
      return EMPTY;
    }
    const b = this.body.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }

  string(): string {
    const b = this.bytes();
    if (!this.ok) return '';
    try {
      return dec.decode(b);
    } catch {
      this.fail();
      return '';
    }
  }

  /** True when every byte was read and nothing failed. */
  done(): boolean {
    return this.ok && this.at === this.body.byteLength;
  }

  private fail(): number {
    this.ok = false;
    return 0;
  }
}

/** A request from a frame's body (without the length prefix); undefined when it does not decode. */
export function decodeSharedRequest(body: Uint8Array): SharedRequest | undefined {
  const r = new BodyReader(body);
  const op = r.u8();
  let req: SharedRequest | undefined;
  switch (op) {
    case SharedOp.GET:
      req = { op, vmId: r.string(), key: r.string() };
      break;
    case SharedOp.SET:
      req = { op, vmId: r.string(), key: r.string(), cas: r.u32(), value: r.bytes() };
      break;
    case SharedOp.REGISTER:
    case SharedOp.RESOLVE:
      req = { op, vmId: r.string(), name: r.string() };
      break;
    case SharedOp.ENQUEUE:
      req = { op, token: r.u32(), value: r.bytes() };
      break;
    case SharedOp.DEQUEUE:
    case SharedOp.RELEASE:
      req = { op, token: r.u32() };
      break;
    case SharedOp.HOST_ENV:
      req = { op, key: r.string() };
      break;
    case SharedOp.BREAKER_BORROW:
      req = { op, key: r.string(), resource: r.u8(), count: r.u32(), limit: r.u32() };
      break;
    case SharedOp.BREAKER_GIVE_BACK:
      req = { op, key: r.string(), resource: r.u8(), count: r.u32() };
      break;
    default:
      return undefined;
  }
  return r.done() ? req : undefined;
}

/** A response from a frame's body (without the length prefix); undefined when it is too short. */
export function decodeSharedResponse(body: Uint8Array): SharedResponse | undefined {
  if (body.byteLength < 8) return undefined;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return { status: view.getUint32(0), num: view.getUint32(4), data: body.subarray(8) };
}

/**
 * Cuts a byte stream into frame bodies. `push` answers the bodies completed by `chunk` (views: use them
 * before the chunk is reused), or undefined when a frame announces more than MAX_SHARED_FRAME_BYTES (the
 * stream is then unusable). A large frame arriving in many chunks is joined once, when it is complete.
 */
export class SharedFrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Body length of the frame being gathered, once its prefix is known. */
  private need = -1;

  push(chunk: Uint8Array): Uint8Array[] | undefined {
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    const bodies: Uint8Array[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break;
        const head = this.take(4);
        this.need = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
        if (this.need > MAX_SHARED_FRAME_BYTES) return undefined;
      }
      if (this.buffered < this.need) break;
      bodies.push(this.take(this.need));
      this.need = -1;
    }
    return bodies;
  }

  /** The next `n` buffered bytes (a view when they sit in one chunk). */
  private take(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first !== undefined && first.byteLength >= n) {
      if (first.byteLength === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0];
      if (c === undefined) break;
      const k = Math.min(c.byteLength, n - at);
      out.set(c.subarray(0, k), at);
      at += k;
      if (k === c.byteLength) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
