// A Wasm plugin's gRPC calls and streams to the proxy's clusters (proxy_grpc_call / proxy_grpc_stream),
// as Envoy's async gRPC client makes them (source/extensions/common/wasm/context.cc grpcCall/grpcStream,
// source/common/grpc/async_client_impl.cc). It owns: resolving the plugin's upstream bytes (a cluster name,
// or a serialized GrpcService with envoy_grpc), the request head (POST /<service>/<method>, te: trailers,
// grpc-timeout, the plugin's metadata), gRPC's length-prefixed framing both ways, and turning the response
// into the plugin's events. It always speaks HTTP/2, whatever the cluster's protocol options, because
// gRPC needs it (to an Istio mTLS cluster with Istio's HTTP/2 ALPN, cluster-call.ts http2SideCallAlpn). It must
// not call back into the plugin before the start returned, nor after a cancel.
//
// What the plugin sees, following Envoy:
// - a stream: initial metadata (the response headers; empty for a trailers-only answer), each message as
//   it arrives, trailing metadata, then close with grpc-status (missing or unparsable -> UNKNOWN);
// - a unary call (Envoy's RawAsyncRequestCallbacks): the message on success, close with the status on
//   failure (OK without a message is INTERNAL), no metadata callbacks. After a successful message we also
//   close with OK, so that the host forgets the call (SDKs ignore a close for a call they already answered);
// - a non-200 answer without grpc-status: close with the status gRPC maps it to (httpToGrpcStatus);
// - a transport failure: UNAVAILABLE with the reason; our timeout: DEADLINE_EXCEEDED.

import { fromBinary } from '@bufbuild/protobuf';
import { PassThrough, Readable } from 'node:stream';
import { GrpcServiceSchema } from '../../../xds/gen/envoy/config/core/v3/grpc_service_pb.js';
import { grpcStatusForHttp } from '../../http/local-reply.js';
import type { HeaderMap } from '../../http/headers.js';
import { http2SideCallAlpn, streamCluster, type CancelCall } from '../../upstream/cluster-call.js';
import type { ClusterHandle, HeaderValues } from '../../upstream/cluster-handle.js';
import { WasmResult } from '../../wasm/abi.js';
import { responsePairs } from '../../wasm/call-head.js';
import type { WasmCallStart, WasmGrpcHandlers, WasmGrpcRequest, WasmGrpcStreamStart } from '../../wasm/host-types.js';
import type { HeaderPairs } from '../../wasm/pairs.js';

import { encodeGrpcFrame, GRPC_DEADLINE_EXCEEDED, GRPC_INTERNAL, GRPC_OK, GRPC_UNAVAILABLE, GrpcFrameDecoder, grpcMessageOf, grpcStatusOf, grpcTimeoutValue } from '../../upstream/grpc-framing.js';

export { encodeGrpcFrame, GrpcFrameDecoder, grpcStatusOf, grpcTimeoutValue };
export { GRPC_DEADLINE_EXCEEDED, GRPC_INTERNAL, GRPC_OK, GRPC_UNAVAILABLE, GRPC_UNKNOWN } from '../../upstream/grpc-framing.js';

/** Where a plugin's call goes. */
export type GrpcTarget =
  | { readonly ok: true; readonly cluster: ClusterHandle; readonly clusterName: string; readonly authority: string; readonly metadata: ReadonlyArray<readonly [string, string]> }
  | { readonly ok: false; readonly status: WasmResult; readonly reason: string };

const utf8 = new TextDecoder();
const NO_METADATA: ReadonlyArray<readonly [string, string]> = [];

/** An authority octet nghttp2 accepts (RFC 3986 authority characters). */
const AUTHORITY_CHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]/;
const ISTIO_CLUSTER = /^(?:outbound|inbound)\|(\d+)\|[^|]*\|(.+)$/;

/**
 * The default :authority of a call: Envoy uses the cluster name (GrpcService.EnvoyGrpc.authority), but
 * HTTP/2 peers reset a stream whose :authority holds characters such as `|`, which every Istio cluster
 * name has; for those we send the service's `host:port`, and percent-encode any other stray character.
 */
export function defaultGrpcAuthority(clusterName: string): string {
  const istio = ISTIO_CLUSTER.exec(clusterName);
  if (istio !== null) return `${istio[2] as string}:${istio[1] as string}`;
  let out = '';
  for (const ch of clusterName) out += AUTHORITY_CHAR.test(ch) ? ch : encodeURIComponent(ch);
  return out;
}

/**
 * The upstream bytes of proxy_grpc_call/stream. A known cluster name wins; otherwise a GrpcService proto
 * with envoy_grpc (its authority, default the cluster name, and its initial_metadata). Envoy answers an
 * unknown cluster name with PARSE_FAILURE (context.cc keeps that status for ABI 0.1 callers).
 */
export function resolveGrpcTarget(upstream: Uint8Array, lookup: (name: string) => ClusterHandle | undefined): GrpcTarget {
  const name = utf8.decode(upstream);
  const direct = name === '' ? undefined : lookup(name);
  if (direct !== undefined) return { ok: true, cluster: direct, clusterName: name, authority: defaultGrpcAuthority(name), metadata: NO_METADATA };
  let svc;
  try {
    svc = fromBinary(GrpcServiceSchema, upstream);
  } catch {
    return { ok: false, status: WasmResult.PARSE_FAILURE, reason: `unknown cluster "${name}"` };
  }
  const t = svc.targetSpecifier;
  if (t.case === 'googleGrpc') return { ok: false, status: WasmResult.INTERNAL_FAILURE, reason: 'GrpcService google_grpc is not supported' };
  if (t.case !== 'envoyGrpc') return { ok: false, status: WasmResult.PARSE_FAILURE, reason: `unknown cluster "${name}"` };
  const cluster = lookup(t.value.clusterName);
  // Envoy creates the client without checking the cluster, and the call then fails to start.
  if (cluster === undefined) return { ok: false, status: WasmResult.INTERNAL_FAILURE, reason: `unknown cluster "${t.value.clusterName}"` };
  const metadata = svc.initialMetadata.map((h) => [h.key.toLowerCase(), h.value !== '' ? h.value : Buffer.from(h.rawValue).toString('latin1')] as const);
  return { ok: true, cluster, clusterName: t.value.clusterName, authority: t.value.authority !== '' ? t.value.authority : defaultGrpcAuthority(t.value.clusterName), metadata };
}

/** Names the call sets itself; the plugin's metadata may not replace them. */
const RESERVED = new Set(['content-type', 'te', 'grpc-timeout', 'host', 'content-length', 'connection', 'transfer-encoding']);

function requestHead(target: Extract<GrpcTarget, { ok: true }>, req: WasmGrpcRequest): HeaderMap {
  const h: Record<string, string | string[]> = {};
  const add = (k: string, v: string): void => {
    if (k.charCodeAt(0) === 58 || RESERVED.has(k)) return;
    const prev = h[k];
    h[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  };
  for (const [k, v] of target.metadata) add(k, v);
  for (const [k, v] of req.initialMetadata) add(k.toLowerCase(), Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1'));
  h['host'] = target.authority;
  h['content-type'] = 'application/grpc';
  h['te'] = 'trailers';
  if (req.timeoutMs > 0) h['grpc-timeout'] = grpcTimeoutValue(req.timeoutMs);
  return h;
}

/** The call's ALPN field: Istio's HTTP/2 list to an in-mesh mTLS cluster, else none (the pool's h2). */
function sideCallAlpn(cluster: ClusterHandle): { alpn?: readonly string[] } {
  const alpn = http2SideCallAlpn(cluster);
  return alpn !== undefined ? { alpn } : {};
}

interface Exchange {
  readonly cancel: CancelCall;
}

/**
 * Runs one call or stream. `unary` collects the response message; otherwise messages and metadata are
 * delivered as they arrive. `body` carries the request frames.
 */
function exchange(target: Extract<GrpcTarget, { ok: true }>, req: WasmGrpcRequest, body: Readable, unary: boolean, handlers: WasmGrpcHandlers, onFinish: () => void): Exchange {
  let closed = false;
  let started = false;
  let httpStatus = 0;
  let headers: HeaderValues = {};
  let trailersOnly = false;
  let reply: Buffer | undefined;
  const decoder = new GrpcFrameDecoder();
  let cancelUpstream: CancelCall = () => undefined;

  // Nothing reaches the plugin before the start returned (the host registers the token afterwards).
  const deliver = (f: () => void): void => {
    if (started) f();
    else queueMicrotask(f);
  };
  const close = (status: number, message: string): void => {
    if (closed) return;
    closed = true;
    onFinish();
    deliver(() => handlers.onClose(status, message));
  };
  const fail = (status: number, message: string): void => {
    if (closed) return;
    cancelUpstream();
    close(status, message);
  };

  cancelUpstream = streamCluster(
    target.cluster,
    { method: 'POST', path: `/${req.service}/${req.method}`, headers: requestHead(target, req), body, timeoutMs: req.timeoutMs, protocol: 'http2', ...sideCallAlpn(target.cluster) },
    {
      onResponseStart: (status, h) => {
        if (closed) return;
        httpStatus = status;
        headers = h;
        trailersOnly = h['grpc-status'] !== undefined;
        if (!trailersOnly && status !== 200) {
          // https://github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md
          fail(grpcStatusForHttp(status), `upstream answered HTTP ${status}`);
          return;
        }
        if (!unary) {
          const md: HeaderPairs = trailersOnly ? [] : responsePairs(status, h);
          deliver(() => !closed && handlers.onInitialMetadata(md));
        }
      },
      onData: (chunk) => {
        if (closed) return;
        const msgs = decoder.push(chunk);
        if (typeof msgs === 'string') {
          fail(GRPC_INTERNAL, msgs);
          return;
        }
        for (const m of msgs) {
          if (unary) reply = m;
          else deliver(() => !closed && handlers.onMessage(m));
        }
      },
      onEnd: (trailers) => {
        if (closed) return;
        const t = trailersOnly ? headers : trailers;
        let status = grpcStatusOf(t['grpc-status']);
        let message = grpcMessageOf(t['grpc-message']);
        if (trailersOnly && httpStatus !== 200 && t['grpc-status'] === undefined) status = grpcStatusForHttp(httpStatus);
        if (status === GRPC_OK && decoder.pending > 0) [status, message] = [GRPC_INTERNAL, 'truncated message'];
        if (unary) {
          if (status === GRPC_OK && reply === undefined) [status, message] = [GRPC_INTERNAL, 'no response message'];
          if (status === GRPC_OK && reply !== undefined) {
            const r = reply;
            deliver(() => !closed && handlers.onMessage(r));
          }
        } else {
          const md = responsePairs(undefined, t);
          deliver(() => handlers.onTrailingMetadata(md));
        }
        close(status, message);
      },
      onError: (reason) => {
        if (reason === 'timeout') close(GRPC_DEADLINE_EXCEEDED, 'timeout');
        else close(GRPC_UNAVAILABLE, reason);
      },
    },
  );
  started = true;
  return {
    cancel: () => {
      if (closed) return;
      closed = true;
      onFinish();
      cancelUpstream();
    },
  };
}

/** proxy_grpc_call: one request message, one response. */
export function startGrpcCall(target: Extract<GrpcTarget, { ok: true }>, req: WasmGrpcRequest, message: Uint8Array, handlers: WasmGrpcHandlers): WasmCallStart {
  const body = Readable.from([encodeGrpcFrame(message)], { objectMode: false });
  const x = exchange(target, req, body, true, handlers, () => undefined);
  return { ok: true, cancel: x.cancel };
}

/** proxy_grpc_stream: messages sent with send(), half-closed by close() or send(..., true). */
export function startGrpcStream(target: Extract<GrpcTarget, { ok: true }>, req: WasmGrpcRequest, handlers: WasmGrpcHandlers): WasmGrpcStreamStart {
  const body = new PassThrough();
  let done = false;
  let halfClosed = false;
  const x = exchange(target, req, body, false, handlers, () => {
    done = true;
    // The call is over: drop whatever the plugin still queued.
    if (!body.destroyed) body.destroy();
  });
  const halfClose = (): void => {
    if (halfClosed || done) return;
    halfClosed = true;
    body.end();
  };
  return {
    ok: true,
    send: (message, endStream) => {
      if (done || halfClosed) return WasmResult.BAD_ARGUMENT;
      body.write(encodeGrpcFrame(message));
      if (endStream) halfClose();
      return WasmResult.OK;
    },
    close: halfClose,
    cancel: x.cancel,
  };
}
