// The gRPC health check probe: grpc.health.v1.Health/Check over HTTP/2, after Envoy's GrpcHealthCheckerImpl
// (source/extensions/health_checkers/grpc/health_checker_impl.cc) and
// https://github.com/grpc/grpc/blob/master/doc/health-checking.md. The two messages are tiny, so they are
// encoded by hand: HealthCheckRequest { string service = 1 }, HealthCheckResponse { ServingStatus status = 1 }
// with SERVING = 1. A check passes only on HTTP 200, a gRPC content type, grpc-status 0 and exactly one
// response message saying SERVING; any other answer is an immediate (non-retriable) failure, and a reset,
// connection error or GOAWAY during the check is a network failure. :authority is grpc_health_check.authority,
// else the endpoint's health-check hostname, else the cluster name; initial_metadata is added, and
// grpc-timeout carries the check's timeout.

import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import type { GrpcProbeConfig } from './health-checker-config.js';
import { H2Connection } from './health-checker-h2.js';
import { ACTIVE_FAILURE, NETWORK_FAILURE, SUCCESS, targetAddress, type Probe, type ProbeOutcome, type ProbeReport, type ProbeTarget } from './health-checker-probe.js';
import { applyHeaderMutations } from '../http/route/header-mutation.js';
import type { HeaderMap } from '../http/route/types.js';

export const GRPC_HEALTH_PATH = '/grpc.health.v1.Health/Check';
export const SERVING = 1;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** A length-prefixed gRPC message (uncompressed) carrying HealthCheckRequest { service }. */
export function encodeHealthCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const msg = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, ...varint(name.length)]), name]);
  const frame = Buffer.alloc(5 + msg.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(msg.length, 1);
  msg.copy(frame, 5);
  return frame;
}

/** Reads a varint at `at`; [value, next offset] or undefined when truncated. */
function readVarint(b: Buffer, at: number): [number, number] | undefined {
  let v = 0;
  let shift = 0;
  for (let i = at; i < b.length && i < at + 10; i++) {
    const byte = b[i] as number;
    if (shift < 32) v += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [v, i + 1];
  }
  return undefined;
}

/** HealthCheckResponse.status (0 when absent), or undefined when the message is malformed. */
export function decodeServingStatus(msg: Buffer): number | undefined {
  let status = 0;
  let at = 0;
  while (at < msg.length) {
    const key = readVarint(msg, at);
    if (key === undefined) return undefined;
    const [tag, next] = key;
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    at = next;
    if (wire === 0) {
      const v = readVarint(msg, at);
      if (v === undefined) return undefined;
      if (field === 1) status = v[0];
      at = v[1];
    } else if (wire === 2) {
      const len = readVarint(msg, at);
      if (len === undefined || len[1] + len[0] > msg.length) return undefined;
      at = len[1] + len[0];
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      if (at > msg.length) return undefined;
    } else {
      return undefined;
    }
  }
  return status;
}

/**
 * The unary response body's messages: the status of its single message, 'none' without one, or
 * 'invalid' (a compressed or truncated frame, or more than one message).
 */
export function responseStatus(body: Buffer): number | 'none' | 'invalid' {
  let at = 0;
  let status: number | 'none' = 'none';
  while (at < body.length) {
    if (at + 5 > body.length) return 'invalid';
    const flags = body.readUInt8(at);
    const len = body.readUInt32BE(at + 1);
    if (at + 5 + len > body.length) return 'invalid';
    if (len > 0) {
      if (status !== 'none' || flags !== 0) return 'invalid';
      const s = decodeServingStatus(body.subarray(at + 5, at + 5 + len));
      if (s === undefined) return 'invalid';
      status = s;
    }
    at += 5 + len;
  }
  return status;
}

/** Envoy's Grpc::Common::toGrpcTimeout: at most 8 digits, in the finest unit that fits. */
export function grpcTimeout(ms: number): string {
  if (ms < 1e8) return `${ms}m`;
  const s = Math.floor(ms / 1000);
  if (s < 1e8) return `${s}S`;
  const m = Math.floor(s / 60);
  return m < 1e8 ? `${m}M` : `${Math.min(Math.floor(m / 60), 99_999_999)}H`;
}

function first(h: IncomingHttpHeaders | undefined, name: string): string | undefined {
  const v = h?.[name];
  return Array.isArray(v) ? v[0] : typeof v === 'number' ? String(v) : v;
}

export class GrpcProbe implements Probe {
  readonly #conn: H2Connection;
  readonly #request: Buffer;
  #stream: ClientHttp2Stream | undefined;

  constructor(
    private readonly config: GrpcProbeConfig,
    private readonly target: ProbeTarget,
    private readonly report: ProbeReport,
  ) {
    this.#conn = new H2Connection(target);
    this.#request = encodeHealthCheckRequest(config.serviceName);
  }

  #headers(): HeaderMap {
    const h: HeaderMap = {
      ':method': 'POST',
      ':path': GRPC_HEALTH_PATH,
      ':authority': this.target.authority,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'Envoy/HC',
      'grpc-timeout': grpcTimeout(this.target.timeoutMs),
    };
    if (this.config.metadata !== undefined) applyHeaderMutations([this.config.metadata], h, { upstreamRemoteAddress: targetAddress(this.target), protocol: 'HTTP/2' }, undefined);
    return h;
  }

  run(): void {
    const stream = this.#conn.request(this.#headers(), this.#request);
    if (stream === undefined) return this.report(NETWORK_FAILURE);
    this.#stream = stream;
    let headers: IncomingHttpHeaders | undefined;
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    const finish = (outcome: ProbeOutcome): void => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      this.#conn.streamDone(outcome !== NETWORK_FAILURE);
      this.report(outcome);
    };
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => finish(NETWORK_FAILURE));
    stream.on('close', () => {
      if (headers === undefined || stream.rstCode !== 0) return finish(NETWORK_FAILURE);
      finish(this.#evaluate(headers, trailers, Buffer.concat(chunks)) ? SUCCESS : ACTIVE_FAILURE);
    });
  }

  #evaluate(headers: IncomingHttpHeaders, trailers: IncomingHttpHeaders | undefined, body: Buffer): boolean {
    if (Number(headers[':status']) !== 200) return false;
    if (!(first(headers, 'content-type') ?? '').startsWith('application/grpc')) return false;
    // A trailers-only response carries grpc-status in its headers.
    const grpcStatus = first(trailers, 'grpc-status') ?? first(headers, 'grpc-status');
    if (grpcStatus !== '0') return false;
    return responseStatus(body) === SERVING;
  }

  abort(): void {
    const s = this.#stream;
    this.#stream = undefined;
    if (s !== undefined) this.#conn.abortStream(s);
  }

  close(): void {
    this.#stream = undefined;
    this.#conn.close();
  }
}
