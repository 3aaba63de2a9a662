// The route timeout of a gRPC request, as Envoy's router computes it with the legacy max_grpc_timeout that
// Istio sets on every route (the VirtualService timeout, or 0 for none): the client's `grpc-timeout` header
// (infinite when absent), less grpc_timeout_offset when that leaves something, capped at max_grpc_timeout
// unless that is 0 (source/common/router/router.cc FilterUtility::finalTimeout). The header going upstream
// then carries the timeout the proxy enforces (router-controls.ts setTimeoutHeaders). A route without
// max_grpc_timeout, and any non-gRPC request, keeps the route's timeout.

import type { HeaderMap } from './headers.js';

const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** `grpc-timeout` in ms (Grpc::Common::getGrpcTimeout: 1-8 digits and a unit; sub-millisecond units round up); undefined when absent or malformed. */
export function parseGrpcTimeout(v: string | string[] | undefined): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(v);
  if (m === null) return undefined;
  return Math.ceil(Number(m[1]) * (UNIT_MS[m[2] as string] as number));
}

/** A timeout as `grpc-timeout` writes it (Grpc::Common::toGrpcTimeout): milliseconds while they fit 8 digits, then seconds, minutes, hours (truncated). */
export function formatGrpcTimeout(ms: number): string {
  const MAX = 99_999_999;
  let time = ms;
  const units = ['m', 'S', 'M', 'H'];
  let u = 0;
  if (time > MAX) {
    time = Math.floor(time / 1000);
    u++;
  }
  while (time > MAX) {
    if (u === 3) {
      time = MAX;
      break;
    }
    time = Math.floor(time / 60);
    u++;
  }
  return `${time}${units[u] as string}`;
}

export interface GrpcTimeoutRoute {
  readonly timeoutMs: number;
  readonly maxGrpcTimeoutMs: number | undefined;
  readonly grpcTimeoutOffsetMs: number | undefined;
}

/** The global timeout of a gRPC request on a route with max_grpc_timeout (0 = none); router-controls.ts decides when it applies. */
export function legacyGrpcTimeout(a: GrpcTimeoutRoute, headers: HeaderMap): number {
  const max = a.maxGrpcTimeoutMs ?? 0;
  let t = parseGrpcTimeout(headers['grpc-timeout']) ?? 0;
  const offset = a.grpcTimeoutOffsetMs;
  if (offset !== undefined && offset < t) t -= offset;
  if (max !== 0 && (t === 0 || t > max)) t = max;
  return t;
}
