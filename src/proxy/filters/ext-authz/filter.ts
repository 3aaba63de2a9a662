// The envoy.filters.http.ext_authz filter on the request path (Envoy's ExtAuthz Filter::decodeHeaders and
// onComplete): unless filter_enabled_metadata says otherwise, the request is held ('stop') while the
// authorizer is asked, then
//   - allowed: its headers are applied to the upstream request (set, append, remove), its
//     response_headers_to_add go on the response, and the chain resumes;
//   - denied: a local reply with the authorizer's status, body and headers, details `ext_authz_denied`;
//   - error (unreachable, timeout, 5xx, missing cluster): with failure_mode_allow the chain resumes
//     (with `x-envoy-auth-failure-mode-allowed: true` under failure_mode_allow_header_add), otherwise a local
//     reply with status_on_error (default 403) and an empty body, details `ext_authz_error`.
// Denials and errors that answer the request carry the UAEX response flag. A downstream reset cancels the
// check. Stats: http.<hcm stat_prefix>.ext_authz.[<stat_prefix>.]{ok,denied,error,disabled,failure_mode_allowed}.
// Envoy: source/extensions/filters/http/ext_authz/ext_authz.cc; docs configuration/http/http_filters/ext_authz_filter.

import type { CompiledHcm } from '../../runtime/compile-hcm.js';
import type { HttpStream } from '../../http/http-stream.js';
import type { HcmEnv } from '../../http/hcm-env.js';
import { headerValue, type HeaderMap } from '../../http/headers.js';
import { ResponseFlag } from '../../http/response-flags.js';
import type { StatsScope } from '../../stats/stats-store.js';
import type { Counter } from '../../stats/metric.js';
import type { ExtAuthzConfig } from './config.js';
import type { CancelCheck, CheckInput, CheckResult, HeaderPair } from './check.js';
import { checkHttp } from './http-client.js';
import { checkGrpc } from './grpc-client.js';
import { readBodyForCheck } from './request-body.js';

export const EXT_AUTHZ_DENIED_DETAILS = 'ext_authz_denied';
export const EXT_AUTHZ_ERROR_DETAILS = 'ext_authz_error';
export const FAILURE_MODE_ALLOWED_HEADER = 'x-envoy-auth-failure-mode-allowed';

interface ExtAuthzCounters {
  readonly ok: Counter;
  readonly denied: Counter;
  readonly error: Counter;
  readonly disabled: Counter;
  readonly failureModeAllowed: Counter;
}

const countersByConfig = new WeakMap<ExtAuthzConfig, Map<string, ExtAuthzCounters>>();

function countersOf(cfg: ExtAuthzConfig, stats: StatsScope | undefined, statPrefix: string): ExtAuthzCounters | undefined {
  if (stats === undefined) return undefined;
  let m = countersByConfig.get(cfg);
  if (m === undefined) countersByConfig.set(cfg, (m = new Map()));
  let c = m.get(statPrefix);
  if (c === undefined) {
    const base = `http.${statPrefix}.ext_authz.${cfg.statPrefix}`;
    c = {
      ok: stats.counter(`${base}ok`),
      denied: stats.counter(`${base}denied`),
      error: stats.counter(`${base}error`),
      disabled: stats.counter(`${base}disabled`),
      failureModeAllowed: stats.counter(`${base}failure_mode_allowed`),
    };
    m.set(statPrefix, c);
  }
  return c;
}

/** The request headers the check may carry: allowed_headers (when set) minus disallowed_headers. */
function checkHeaders(cfg: ExtAuthzConfig, h: HeaderMap): HeaderMap {
  const out: HeaderMap = {};
  const allowed = cfg.allowedHeaders;
  for (const k in h) {
    if (cfg.disallowedHeaders(k)) continue;
    // The HTTP client adds its own always-sent headers; allowed_headers narrows the rest.
    if (allowed !== undefined && !allowed(k) && !(cfg.service.kind === 'http' && cfg.service.requestHeaders(k))) continue;
    out[k] = h[k];
  }
  return out;
}

function checkInput(cfg: ExtAuthzConfig, s: HttpStream, body: Buffer | undefined): CheckInput {
  const r = s.request;
  const md: Record<string, Record<string, unknown>> = {};
  for (const ns of cfg.metadataContextNamespaces) {
    const v = s.info.dynamicMetadata[ns];
    if (v !== undefined) md[ns] = v;
  }
  const cl = headerValue(r.headers, 'content-length');
  return {
    method: r.method,
    path: r.path,
    authority: r.authority,
    scheme: r.scheme,
    protocol: r.protocol,
    headers: checkHeaders(cfg, r.headers),
    body,
    packAsBytes: cfg.withRequestBody?.packAsBytes ?? false,
    size: cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : r.hasBody ? -1 : 0,
    requestId: headerValue(r.headers, 'x-request-id') ?? '',
    sourceAddress: r.remoteAddress,
    sourcePort: r.remotePort,
    destinationAddress: r.localAddress,
    destinationPort: r.localPort,
    sourcePrincipal: r.peer?.uriSans[0] ?? '',
    sni: cfg.includeTlsSession ? r.serverName : '',
    metadataContext: md,
    nowMs: s.info.startMs,
  };
}

function applyOk(s: HttpStream, r: Extract<CheckResult, { kind: 'ok' }>): void {
  const h = s.request.headers;
  for (const [k, v] of r.headersToSet) h[k] = v;
  for (const [k, v] of r.headersToAppend) {
    const cur = headerValue(h, k);
    h[k] = cur === undefined ? v : `${cur},${v}`;
  }
  // Pseudo headers and host stay (Envoy refuses to remove them).
  for (const k of r.headersToRemove) if (k.charCodeAt(0) !== 58 && k !== 'host') delete h[k];
  const add = r.responseHeadersToAdd;
  if (add.length > 0)
    s.responseHooks.push((_st, rh) => {
      for (const [k, v] of add) {
        const cur = rh[k];
        rh[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
      }
    });
}

function replyHeaders(pairs: readonly HeaderPair[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of pairs) out[k] = v; // the last value wins, as Envoy's remove-then-add per header does
  return out;
}

/**
 * Runs the filter for one request: 'continue' when disabled or decided synchronously in favour of the
 * request, else 'stop' (the request was answered, or `resume` runs once the authorizer allows it).
 */
export function runExtAuthzFilter(name: string, cfg: ExtAuthzConfig, s: HttpStream, hcm: CompiledHcm, env: HcmEnv, resume: () => void): 'continue' | 'stop' {
  const counters = countersOf(cfg, env.stats, hcm.statPrefix);
  if (cfg.enabled !== undefined && !cfg.enabled(s.info.dynamicMetadata)) {
    counters?.disabled.inc();
    return 'continue';
  }
  let sync = true;
  let allowedSync = false;
  let cancel: CancelCheck | undefined;
  let reset = false;
  s.onDownstreamReset(() => {
    reset = true;
    cancel?.();
  });
  const proceed = (): void => {
    if (reset) return;
    if (sync) allowedSync = true;
    else resume();
  };
  const complete = (r: CheckResult): void => {
    cancel = undefined;
    if (reset) return;
    if ((r.kind === 'ok' || r.kind === 'denied') && r.dynamicMetadata !== undefined) s.info.dynamicMetadata[name] = { ...s.info.dynamicMetadata[name], ...r.dynamicMetadata };
    switch (r.kind) {
      case 'ok':
        counters?.ok.inc();
        applyOk(s, r);
        return proceed();
      case 'denied':
        counters?.denied.inc();
        s.localReply({ status: r.status, body: r.body, flag: ResponseFlag.UAEX, details: EXT_AUTHZ_DENIED_DETAILS, ...withHeaders(replyHeaders(r.headers)) });
        return;
      case 'error':
        counters?.error.inc();
        if (cfg.failureModeAllow) {
          counters?.failureModeAllowed.inc();
          if (cfg.failureModeAllowHeaderAdd) s.request.headers[FAILURE_MODE_ALLOWED_HEADER] = 'true';
          return proceed();
        }
        s.localReply({ status: cfg.statusOnError, body: '', flag: ResponseFlag.UAEX, details: EXT_AUTHZ_ERROR_DETAILS });
        return;
    }
  };
  const call = (body: Buffer | undefined): void => {
    if (reset) return;
    const svc = cfg.service;
    const cluster = env.cluster(svc.cluster);
    // A cluster removed by CDS is an error (ext_authz_http_impl.cc: "cluster does not exist").
    if (cluster === undefined) return complete({ kind: 'error', reason: `cluster ${svc.cluster} not found` });
    const input = checkInput(cfg, s, body);
    cancel = svc.kind === 'http' ? checkHttp(svc, cluster, input, complete) : checkGrpc(svc, cluster, input, complete);
  };
  const b = cfg.withRequestBody;
  if (b !== undefined && s.request.hasBody) {
    cancel = readBodyForCheck(s.request.body, b.maxRequestBytes, b.allowPartialMessage, (r) => {
      cancel = undefined;
      if (r.kind === 'too-large') {
        if (!reset) s.localReply({ status: 413, body: 'Payload Too Large', flag: 0, details: 'request_payload_too_large' });
        return;
      }
      call(r.body);
    });
  } else call(undefined);
  sync = false;
  if (allowedSync) return 'continue';
  return 'stop';
}

function withHeaders(h: Record<string, string> | undefined): { headers?: Record<string, string> } {
  return h === undefined ? {} : { headers: h };
}
