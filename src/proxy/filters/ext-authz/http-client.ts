// The ext_authz HTTP authorization client (Envoy's RawHttpClientImpl): the check is a copy of the downstream
// request without its body (or with the buffered body under with_request_body), sent to a host of the
// http_service's server_uri cluster with the same method, the path prefixed by path_prefix, the headers
// ClientConfig selects (authorization, method, path, host, the allowed ones) and headers_to_add on top.
// A 200 allows the request; a 5xx, a reset or the server_uri timeout is an error; anything else denies it
// with the authorizer's status, body and client headers.
// Envoy: source/extensions/filters/common/ext_authz/ext_authz_http_impl.cc (check, toResponse, matchers).

import type { ClusterHandle, HeaderValues } from '../../upstream/cluster-handle.js';
import { callCluster } from '../../upstream/cluster-call.js';
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
  // server_uri.timeout bounds the whole call, waiting for a connection included.
  return callCluster(cluster, { method: input.method, path: svc.pathPrefix + input.path, headers: httpCheckHeaders(svc, input), body: input.body, timeoutMs: svc.timeoutMs }, (r) => {
    if (r.kind === 'error') done({ kind: 'error', reason: r.reason });
    else done(toResult(svc, r.status, r.headers, r.body.toString('utf8')));
  });
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
