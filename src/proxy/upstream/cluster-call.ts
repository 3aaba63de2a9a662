// One side call to a cluster, made by a filter rather than the router (Envoy's AsyncClient): ext_authz's
// HTTP check, a Wasm plugin's proxy_http_call and its gRPC calls and streams. It picks a host the way the
// router does, holds the cluster's circuit-breaker slots, waits for a connection slot on HTTP/1.1 pools,
// reports the outcome to outlier detection, and bounds the whole call (waiting for a connection included)
// by `timeoutMs`. `streamCluster` sends a streaming body and hands the response over as it arrives;
// `callCluster` is the buffered form. Either way the outcome arrives exactly once, unless the caller
// cancels first.

import { Readable } from 'node:stream';
import type { ClusterHandle, DispatchController, HeaderValues, WireProtocol } from './cluster-handle.js';
import type { HeaderMap } from '../http/headers.js';

export interface ClusterCallRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: HeaderMap;
  readonly body: Buffer | undefined;
  /** 0 = no limit. */
  readonly timeoutMs: number;
}

export type ClusterCallResult =
  | { readonly kind: 'response'; readonly status: number; readonly headers: HeaderValues; readonly body: Buffer; readonly trailers: HeaderValues }
  /** `reason`: 'no healthy upstream', 'overflow', 'timeout', a transport failure or the reset's message. */
  | { readonly kind: 'error'; readonly reason: string };

export type CancelCall = () => void;

export interface ClusterStreamRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: HeaderMap;
  /** The request body as it is produced (null: none). The caller ends it; the call never destroys it. */
  readonly body: Readable | null;
  /** 0 = no limit. */
  readonly timeoutMs: number;
  /** The wire protocol; by default the cluster's (HTTP/1.1 when it follows the downstream's). */
  readonly protocol?: WireProtocol;
  /** The TLS ALPN list for the connection, in a pool of its own (ClusterHandle.pool); default the cluster's. */
  readonly alpn?: readonly string[];
}

/** The response of a streamed call. After onEnd or onError nothing more is called. */
export interface ClusterStreamEvents {
  onResponseStart(status: number, headers: HeaderValues): void;
  onData(chunk: Buffer): void;
  onEnd(trailers: HeaderValues): void;
  /** `reason` as ClusterCallResult's error. */
  onError(reason: string): void;
}

/** Istio's ALPN for HTTP/2 to an in-mesh mTLS upstream (xds/filters Alpn, HTTP2). */
const ISTIO_H2_ALPN: readonly string[] = Object.freeze(['istio-h2', 'istio', 'h2']);

/**
 * The ALPN of an HTTP/2 side call (a gRPC call a filter makes): to an Istio mTLS cluster (its TLS offers
 * `istio`), what an HTTP/2 request through a sidecar offers (Istio's istio.alpn filter: istio-h2, istio, h2),
 * so a sidecar's inbound mTLS chain takes it; else the pool's own (h2).
 */
export function http2SideCallAlpn(cluster: ClusterHandle): readonly string[] | undefined {
  const t = cluster.config.transport;
  return t.kind === 'tls' && t.alpn.includes('istio') ? ISTIO_H2_ALPN : undefined;
}

/** Sends `req` to a host of `cluster`, streaming both ways; exactly one of onEnd/onError unless cancelled. */
export function streamCluster(cluster: ClusterHandle, req: ClusterStreamRequest, events: ClusterStreamEvents): CancelCall {
  let finished = false;
  const host = cluster.pick({ hash: undefined, avoid: undefined, originalDestination: undefined });
  if (host === undefined) {
    finished = true;
    events.onError('no healthy upstream');
    return () => undefined;
  }
  if (!cluster.tryAcquire('requests')) {
    finished = true;
    events.onError('overflow');
    return () => undefined;
  }
  const protocol: WireProtocol = req.protocol ?? (cluster.config.protocol === 'http2' ? 'http2' : 'http1');
  const pool = cluster.pool(host, protocol, undefined, req.alpn);
  if (!pool.ok) {
    cluster.release('requests');
    finished = true;
    events.onError(pool.transportFailure);
    return () => undefined;
  }
  const dispatcher = pool.dispatcher;
  let controller: DispatchController | undefined;
  let dispatched = false;
  let released = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const release = (): void => {
    if (released) return;
    released = true;
    if (timer !== undefined) clearTimeout(timer);
    if (dispatched) cluster.requestEnded(host);
    if (protocol === 'http1') cluster.releaseConnection(onReady);
    cluster.release('requests');
  };
  const fail = (reason: string): void => {
    release();
    if (finished) return;
    finished = true;
    events.onError(reason);
  };
  if (req.timeoutMs > 0) {
    timer = setTimeout(() => {
      controller?.abort(new Error('side call timeout'));
      fail('timeout');
    }, req.timeoutMs);
  }
  function onReady(): void {
    if (released) return;
    dispatched = true;
    cluster.requestStarted(host as NonNullable<typeof host>);
    dispatcher.dispatch(
      { path: req.path, method: req.method, headers: req.headers, body: req.body, headersTimeout: 0, bodyTimeout: 0 },
      {
        onRequestStart: (c) => {
          controller = c;
          if (released) c.abort(new Error('side call abandoned'));
        },
        onResponseStart: (_c, st, h) => {
          cluster.reportResponse(host as NonNullable<typeof host>, st, h);
          if (!finished) events.onResponseStart(st, h);
        },
        onResponseData: (_c, chunk) => {
          if (!finished) events.onData(chunk);
        },
        onResponseEnd: (_c, trailers) => {
          release();
          if (finished) return;
          finished = true;
          events.onEnd(trailers ?? {});
        },
        onResponseError: (_c, e) => fail(e.message),
      },
    );
  }
  if (protocol === 'http1') {
    const grant = cluster.acquireConnection(onReady);
    if (grant === 'overflow') {
      if (timer !== undefined) clearTimeout(timer);
      cluster.release('requests');
      released = true;
      finished = true;
      events.onError('overflow');
      return () => undefined;
    }
    if (grant === 'ready') onReady();
  } else onReady();
  return () => {
    if (finished) return;
    finished = true;
    controller?.abort(new Error('side call cancelled'));
    release();
  };
}

/** Sends `req` to a host of `cluster`; `done` is called exactly once unless cancelled. */
export function callCluster(cluster: ClusterHandle, req: ClusterCallRequest, done: (r: ClusterCallResult) => void): CancelCall {
  let status = 0;
  let headers: HeaderValues = {};
  const body: Buffer[] = [];
  const b = req.body;
  return streamCluster(
    cluster,
    { method: req.method, path: req.path, headers: req.headers, body: b !== undefined && b.length > 0 ? Readable.from([b], { objectMode: false }) : null, timeoutMs: req.timeoutMs },
    {
      onResponseStart: (st, h) => {
        status = st;
        headers = h;
      },
      onData: (chunk) => void body.push(chunk),
      onEnd: (trailers) => done({ kind: 'response', status, headers, body: Buffer.concat(body), trailers }),
      onError: (reason) => done({ kind: 'error', reason }),
    },
  );
}
