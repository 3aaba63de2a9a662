// One unary gRPC call to a cluster made by a filter (Envoy's async gRPC client with envoy_grpc): the ext_authz
// gRPC check. It goes through the cluster like any side call (cluster-call.ts streamCluster: a host picked as
// the router picks, the circuit breakers, outlier reporting, the cluster's transport: TLS and SDS
// certificates included), always over HTTP/2 as gRPC needs, with gRPC's framing and status (grpc-framing.ts).
// To an Istio mTLS cluster it offers the ALPN an HTTP/2 request through a sidecar offers (http2SideCallAlpn).
// Envoy: source/common/grpc/async_client_impl.cc.

import { Readable } from 'node:stream';
import { http2SideCallAlpn, streamCluster, type CancelCall } from './cluster-call.js';
import type { ClusterHandle, HeaderValues } from './cluster-handle.js';
import { encodeGrpcFrame, GRPC_DEADLINE_EXCEEDED, GRPC_INTERNAL, GRPC_OK, GRPC_UNAVAILABLE, GrpcFrameDecoder, grpcMessageOf, grpcStatusOf, grpcTimeoutValue } from './grpc-framing.js';
import { grpcStatusForHttp } from '../http/local-reply.js';

export interface GrpcUnaryRequest {
  /** `/<package.Service>/<Method>`. */
  readonly path: string;
  readonly authority: string;
  readonly message: Uint8Array;
  /** The deadline, as grpc-timeout and our own timer (0: none). */
  readonly timeoutMs: number;
}

/** OK with the reply, or the call's gRPC status (a transport failure is UNAVAILABLE, our deadline DEADLINE_EXCEEDED). */
export type GrpcUnaryResult = { readonly ok: true; readonly reply: Buffer } | { readonly ok: false; readonly status: number; readonly message: string };

/** Calls `req` on a host of `cluster`; `done` exactly once unless cancelled. */
export function grpcUnary(cluster: ClusterHandle, req: GrpcUnaryRequest, done: (r: GrpcUnaryResult) => void): CancelCall {
  let finished = false;
  const finish = (r: GrpcUnaryResult): void => {
    if (finished) return;
    finished = true;
    done(r);
  };
  const headers: Record<string, string> = { host: req.authority, 'content-type': 'application/grpc', te: 'trailers' };
  if (req.timeoutMs > 0) headers['grpc-timeout'] = grpcTimeoutValue(req.timeoutMs);
  const decoder = new GrpcFrameDecoder();
  let reply: Buffer | undefined;
  let head: HeaderValues = {};
  let httpStatus = 0;
  let cancel: CancelCall = () => undefined;
  const alpn = http2SideCallAlpn(cluster);
  cancel = streamCluster(
    cluster,
    { method: 'POST', path: req.path, headers, body: Readable.from([encodeGrpcFrame(req.message)], { objectMode: false }), timeoutMs: req.timeoutMs, protocol: 'http2', ...(alpn !== undefined ? { alpn } : {}) },
    {
      onResponseStart: (status, h) => {
        httpStatus = status;
        head = h;
        if (h['grpc-status'] === undefined && status !== 200) {
          cancel();
          finish({ ok: false, status: grpcStatusForHttp(status), message: `upstream answered HTTP ${status}` });
        }
      },
      onData: (chunk) => {
        const msgs = decoder.push(chunk);
        if (typeof msgs === 'string') {
          cancel();
          finish({ ok: false, status: GRPC_INTERNAL, message: msgs });
          return;
        }
        if (msgs.length > 0) reply = msgs[msgs.length - 1];
      },
      onEnd: (trailers) => {
        // A trailers-only answer carries its status in the head.
        const st = head['grpc-status'] !== undefined ? head : trailers;
        let status = grpcStatusOf(st['grpc-status']);
        if (st['grpc-status'] === undefined && httpStatus !== 200) status = grpcStatusForHttp(httpStatus);
        if (status !== GRPC_OK) return finish({ ok: false, status, message: grpcMessageOf(st['grpc-message']) });
        if (reply === undefined || decoder.pending > 0) return finish({ ok: false, status: GRPC_INTERNAL, message: reply === undefined ? 'no response message' : 'truncated message' });
        finish({ ok: true, reply });
      },
      onError: (reason) => finish(reason === 'timeout' ? { ok: false, status: GRPC_DEADLINE_EXCEEDED, message: 'timeout' } : { ok: false, status: GRPC_UNAVAILABLE, message: reason }),
    },
  );
  return () => {
    if (finished) return;
    finished = true;
    cancel();
  };
}
