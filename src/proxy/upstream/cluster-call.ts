// One side call to a cluster, made by a filter rather than the router (Envoy's AsyncClient): ext_authz's
// HTTP check, a Wasm plugin's proxy_http_call. It picks a host the way the router does, holds the cluster's
// circuit-breaker slots, waits for a connection slot on HTTP/1.1 pools, reports the outcome to outlier
// detection, and bounds the whole call (waiting for a connection included) by `timeoutMs`. The result
// arrives exactly once, unless the caller cancels first.

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

/** Sends `req` to a host of `cluster`; `done` is called exactly once unless cancelled. */
export function callCluster(cluster: ClusterHandle, req: ClusterCallRequest, done: (r: ClusterCallResult) => void): CancelCall {
  let finished = false;
  const finish = (r: ClusterCallResult): void => {
    if (finished) return;
    finished = true;
    done(r);
  };
  const host = cluster.pick({ hash: undefined, avoid: undefined, originalDestination: undefined });
  if (host === undefined) {
    finish({ kind: 'error', reason: 'no healthy upstream' });
    return () => undefined;
  }
  if (!cluster.tryAcquire('requests')) {
    finish({ kind: 'error', reason: 'overflow' });
    return () => undefined;
  }
  const protocol: WireProtocol = cluster.config.protocol === 'http2' ? 'http2' : 'http1';
  const pool = cluster.pool(host, protocol);
  if (!pool.ok) {
    cluster.release('requests');
    finish({ kind: 'error', reason: pool.transportFailure });
    return () => undefined;
  }
  const dispatcher = pool.dispatcher;
  let controller: DispatchController | undefined;
  let dispatched = false;
  let released = false;
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
    finish({ kind: 'error', reason });
  };
  const timer =
    req.timeoutMs > 0
      ? setTimeout(() => {
          controller?.abort(new Error('side call timeout'));
          fail('timeout');
        }, req.timeoutMs)
      : undefined;
  let status = 0;
  let respHeaders: HeaderValues = {};
  const body: Buffer[] = [];
  function onReady(): void {
    if (released) return;
    dispatched = true;
    cluster.requestStarted(host as NonNullable<typeof host>);
    const b = req.body;
    dispatcher.dispatch(
      { path: req.path, method: req.method, headers: req.headers, body: b !== undefined && b.length > 0 ? Readable.from([b], { objectMode: false }) : null, headersTimeout: 0, bodyTimeout: 0 },
      {
        onRequestStart: (c) => {
          controller = c;
          if (released) c.abort(new Error('side call abandoned'));
        },
        onResponseStart: (_c, st, h) => {
          status = st;
          respHeaders = h;
          cluster.report(host as NonNullable<typeof host>, st >= 500 ? (st === 502 || st === 503 || st === 504 ? 'gateway' : '5xx') : 'success');
        },
        onResponseData: (_c, chunk) => void body.push(chunk),
        onResponseEnd: (_c, trailers) => {
          release();
          finish({ kind: 'response', status, headers: respHeaders, body: Buffer.concat(body), trailers: trailers ?? {} });
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
      finish({ kind: 'error', reason: 'overflow' });
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
