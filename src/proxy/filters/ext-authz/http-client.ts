// The ext_authz HTTP authorization client (Envoy's RawHttpClientImpl): the check is a copy of the downstream
// request without its body (or with the buffered body under with_request_body), sent to a host of the
// http_service's server_uri cluster with the same method, the path prefixed by path_prefix, the headers
// ClientConfig selects (authorization, method, path, host, the allowed ones) and headers_to_add on top.
// A 200 allows the request; a 5xx, a reset or the server_uri timeout is an error; anything else denies it
// with the authorizer's status, body and client headers.
// Envoy: source/extensions/filters/common/ext_authz/ext_authz_http_impl.cc (check, toResponse, matchers).

import { Readable } from 'node:stream';
import type { ClusterHandle, DispatchController, HeaderValues, WireProtocol } from '../../upstream/cluster-handle.js';
import { HOP_BY_HOP, type HeaderMap } from '../../http/headers.js';
import type { HttpAuthzService } from './config.js';
import type { CancelCheck, CheckCallback, CheckInput, CheckResult, HeaderPair } from './check.js';

/** Authorizer response header naming request headers to remove on allow (Envoy's EnvoyAuthHeadersToRemove). */
export const HEADERS_TO_REMOVE_HEADER = 'x-envoy-auth-headers-to-remove';

/** The check request's headers: the selected request headers, host, content-length and headers_to_add. */
export function httpCheckHeaders(svc: HttpAuthzService, input: CheckInput): HeaderMap {
  const h: HeaderMap = {};
  const src = input.headers;
  for (const k in src) {
    if (k === 'content-length' || k.charCodeAt(0) === 58 /* : */ || HOP_BY_HOP.has(k) || k === 'host') continue;
    if (svc.requestHeaders(k)) h[k] = src[k];
  }
  h['host'] = input.authority;
  h['content-length'] = String(input.body?.length ?? 0);
  for (const [k, v] of svc.headersToAdd) h[k] = v;
  return h;
}

function pairs(headers: HeaderValues, pick: (name: string) => boolean): HeaderPair[] {
  const out: HeaderPair[] = [];
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || HOP_BY_HOP.has(k) || !pick(k)) continue;
    if (typeof v === 'string') out.push([k, v]);
    else for (const x of v) out.push([k, x]);
  }
  return out;
}

function removals(headers: HeaderValues): string[] {
  const v = headers[HEADERS_TO_REMOVE_HEADER];
  if (v === undefined) return [];
  const all = typeof v === 'string' ? [v] : v;
  return all.flatMap((x) => x.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== ''));
}

/** Runs one HTTP check against a host of `cluster`; `done` is called exactly once unless cancelled. */
export function checkHttp(svc: HttpAuthzService, cluster: ClusterHandle, input: CheckInput, done: CheckCallback): CancelCheck {
  let finished = false;
  const finish: CheckCallback = (r) => {
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
  const picked = host;
  const headers = httpCheckHeaders(svc, input);
  let controller: DispatchController | undefined;
  let dispatched = false;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    clearTimeout(timer);
    if (dispatched) cluster.requestEnded(picked);
    if (protocol === 'http1') cluster.releaseConnection(onReady);
    cluster.release('requests');
  };
  const fail = (reason: string): void => {
    release();
    finish({ kind: 'error', reason });
  };
  // server_uri.timeout bounds the whole call, waiting for a connection included.
  const timer = setTimeout(() => {
    controller?.abort(new Error('ext_authz timeout'));
    fail('timeout');
  }, svc.timeoutMs > 0 ? svc.timeoutMs : 2 ** 31 - 1);
  let status = 0;
  let respHeaders: HeaderValues = {};
  const body: Buffer[] = [];
  function onReady(): void {
    if (released) return;
    dispatched = true;
    cluster.requestStarted(picked);
    const b = input.body;
    dispatcher.dispatch(
      { path: svc.pathPrefix + input.path, method: input.method, headers, body: b !== undefined && b.length > 0 ? Readable.from([b], { objectMode: false }) : null, headersTimeout: 0, bodyTimeout: 0 },
      {
        onRequestStart: (c) => {
          controller = c;
          if (released) c.abort(new Error('ext_authz check abandoned'));
        },
        onResponseStart: (_c, st, h) => {
          status = st;
          respHeaders = h;
          cluster.report(picked, st >= 500 ? (st === 502 || st === 503 || st === 504 ? 'gateway' : '5xx') : 'success');
        },
        onResponseData: (_c, chunk) => void body.push(chunk),
        onResponseEnd: () => {
          release();
          finish(toResult(svc, status, respHeaders, Buffer.concat(body).toString('utf8')));
        },
        onResponseError: (_c, e) => fail(e.message),
      },
    );
  }
  if (protocol === 'http1') {
    const grant = cluster.acquireConnection(onReady);
    if (grant === 'overflow') {
      clearTimeout(timer);
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
    controller?.abort(new Error('ext_authz check cancelled'));
    release();
  };
}


/** RawHttpClientImpl::toResponse. */
export function toResult(svc: HttpAuthzService, status: number, headers: HeaderValues, body: string): CheckResult {
  if (status >= 500 && status <= 599) return { kind: 'error', reason: `authorization server answered ${status}` };
  if (status === 200) {
    const headersToRemove = removals(headers);
    const rest: HeaderValues = {};
    for (const k in headers) if (k !== HEADERS_TO_REMOVE_HEADER) rest[k] = headers[k];
    return {
      kind: 'ok',
      headersToSet: pairs(rest, svc.upstreamHeaders),
      headersToAppend: pairs(rest, svc.upstreamHeadersToAppend),
      headersToRemove,
      responseHeadersToAdd: pairs(rest, svc.clientHeadersOnSuccess),
      dynamicMetadata: undefined,
    };
  }
  // The local reply computes its own content-length from the body.
  return { kind: 'denied', status, body, headers: pairs(headers, (n) => n !== 'content-length' && n !== HEADERS_TO_REMOVE_HEADER && svc.clientHeaders(n)), dynamicMetadata: undefined };
}
