// gRPC over HTTP/2 as the proxy's own calls speak it (a Wasm plugin's gRPC calls, the ext_authz gRPC check):
// the length-prefixed message framing both ways, grpc-timeout, grpc-status and grpc-message.
// https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md

export const GRPC_OK = 0;
export const GRPC_UNKNOWN = 2;
export const GRPC_DEADLINE_EXCEEDED = 4;
export const GRPC_INTERNAL = 13;
export const GRPC_UNAVAILABLE = 14;

/** One gRPC message on the wire: flag 0 (uncompressed), 4-byte big-endian length, the bytes. */
export function encodeGrpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.byteLength);
  out[0] = 0;
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, 5);
  return out;
}

/** Splits response data into messages, across chunk boundaries. */
export class GrpcFrameDecoder {
  #buf: Buffer = Buffer.alloc(0);

  /** The messages completed by `chunk`, or an error text for a frame we cannot read (compressed). */
  push(chunk: Buffer): Buffer[] | string {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: Buffer[] = [];
    while (this.#buf.length >= 5) {
      const flag = this.#buf[0] as number;
      if (flag !== 0) return flag === 1 ? 'compressed message without negotiated encoding' : `bad frame flag ${flag}`;
      const len = this.#buf.readUInt32BE(1);
      if (this.#buf.length < 5 + len) break;
      out.push(this.#buf.subarray(5, 5 + len));
      this.#buf = this.#buf.subarray(5 + len);
    }
    return out;
  }

  /** Bytes of an incomplete frame left over. */
  get pending(): number {
    return this.#buf.length;
  }
}

/** gRPC's Timeout header value: at most 8 digits (PROTOCOL-HTTP2.md). */
export function grpcTimeoutValue(ms: number): string {
  return ms <= 99_999_999 ? `${ms}m` : `${Math.min(Math.ceil(ms / 1000), 99_999_999)}S`;
}

/** grpc-status as a number: missing, unparsable or out of range -> UNKNOWN (Envoy's getGrpcStatus). */
export function grpcStatusOf(v: string | string[] | undefined): number {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || !/^\d{1,2}$/.test(s)) return GRPC_UNKNOWN;
  const n = Number(s);
  return n <= 16 ? n : GRPC_UNKNOWN;
}

/** grpc-message, percent-decoded (as gRPC encodes it). */
export function grpcMessageOf(v: string | string[] | undefined): string {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined) return '';
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

