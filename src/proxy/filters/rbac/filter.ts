// The envoy.filters.http.rbac filter on the request path (Envoy's RoleBasedAccessControlFilter::
// decodeHeaders): the shadow engine first, counted as shadow_allowed/shadow_denied and never enforced;
// then the enforced engine: allowed requests continue, denied ones get the 403 local reply
// `RBAC: access denied` with details `rbac_access_denied_matched_policy[<policy>|none]` (whitespace in the
// name replaced by '_', Envoy's RBAC::responseDetail). Envoy sets no response flag for an RBAC denial
// (the access log shows `-`, as Istio's logs do). LOG rules always allow (counted as allowed).
// Stats: http.<hcm stat_prefix>.rbac.<rules_stat_prefix>{allowed,denied} and
// http.<hcm stat_prefix>.rbac.<shadow_rules_stat_prefix>{shadow_allowed,shadow_denied}
// (source/extensions/filters/common/rbac/utility.cc generateStats).
// Not modelled: dynamic metadata (the proxy has none yet: metadata rules see an empty map, and the shadow
// result is not published as metadata), peer certificates (the connection manager does not expose them:
// every connection is seen as plaintext, so `authenticated` principals do not match) and RBACPerRoute.

import type { CompiledHcm } from '../../runtime/compile-hcm.js';
import type { HttpStream } from '../../http/http-stream.js';
import { headerValue } from '../../http/headers.js';
import type { StatsScope } from '../../stats/stats-store.js';
import type { Counter } from '../../stats/metric.js';
import { isIP } from 'node:net';
import type { RbacFilterConfig } from './config.js';
import { evaluateRbac, type RbacRequest } from './engine.js';

export const RBAC_DENIED_BODY = 'RBAC: access denied';
export const RBAC_DENIED_STATUS = 403;

/** %RESPONSE_CODE_DETAILS% of a denial. */
export function rbacDeniedDetails(policy: string | undefined): string {
  return `rbac_access_denied_matched_policy[${policy === undefined ? 'none' : policy.replace(/\s/g, '_')}]`;
}

interface RbacCounters {
  readonly allowed: Counter;
  readonly denied: Counter;
  readonly shadowAllowed: Counter;
  readonly shadowDenied: Counter;
}

/** Counters per filter config and HCM stat prefix, created once. */
const countersByConfig = new WeakMap<RbacFilterConfig, Map<string, RbacCounters>>();

function countersOf(cfg: RbacFilterConfig, stats: StatsScope, statPrefix: string): RbacCounters {
  let m = countersByConfig.get(cfg);
  if (m === undefined) {
    m = new Map();
    countersByConfig.set(cfg, m);
  }
  let c = m.get(statPrefix);
  if (c === undefined) {
    const base = `http.${statPrefix}.rbac.`;
    c = {
      allowed: stats.counter(`${base}${cfg.rulesStatPrefix}allowed`),
      denied: stats.counter(`${base}${cfg.rulesStatPrefix}denied`),
      shadowAllowed: stats.counter(`${base}${cfg.shadowRulesStatPrefix}shadow_allowed`),
      shadowDenied: stats.counter(`${base}${cfg.shadowRulesStatPrefix}shadow_denied`),
    };
    m.set(statPrefix, c);
  }
  return c;
}

/**
 * The address the connection manager trusts as the client (Envoy's ConnectionManagerUtility::
 * mutateRequestHeaders): with use_remote_address, the peer unless xff_num_trusted_hops > 0, then the
 * XFF entry that many hops from the right of what the client sent; without it, the XFF entry
 * xff_num_trusted_hops from the right (the last one by default). An entry that is not an IP falls back to
 * the peer address. Our connection manager has already appended the peer to XFF when use_remote_address
 * is set (and skip_xff_append is not), so that entry is skipped.
 */
export function trustedRemoteAddress(headers: Readonly<Record<string, string | string[] | undefined>>, peer: string, hcm: Pick<CompiledHcm, 'useRemoteAddress' | 'xffNumTrustedHops' | 'skipXffAppend'>): string {
  let skip: number;
  if (hcm.useRemoteAddress) {
    if (hcm.xffNumTrustedHops === 0) return peer;
    skip = hcm.xffNumTrustedHops - 1 + (hcm.skipXffAppend ? 0 : 1);
  } else skip = hcm.xffNumTrustedHops;
  const xff = headerValue(headers, 'x-forwarded-for');
  if (xff === undefined) return peer;
  const parts = xff.split(',');
  const entry = parts[parts.length - 1 - skip]?.trim();
  return entry !== undefined && isIP(entry) !== 0 ? entry : peer;
}

const NO_METADATA: Readonly<Record<string, unknown>> = Object.freeze({});

/** The RBAC view of one HTTP request. */
export function rbacRequestOf(s: HttpStream, hcm: CompiledHcm): RbacRequest {
  const r = s.request;
  const h = r.headers;
  return {
    method: r.method,
    path: r.path,
    host: r.authority,
    headers: (name) => headerValue(h, name),
    directRemoteIp: r.remoteAddress,
    remoteIp: trustedRemoteAddress(h, r.remoteAddress, hcm),
    sourcePort: r.remotePort,
    destinationIp: r.localAddress,
    destinationPort: r.localPort,
    sni: r.serverName,
    metadata: NO_METADATA,
  };
}

/** Runs the filter for one request: 'continue', or 'stop' after the 403 local reply. */
export function runRbacFilter(cfg: RbacFilterConfig, s: HttpStream, hcm: CompiledHcm, stats: StatsScope | undefined): 'continue' | 'stop' {
  if (cfg.rules === undefined && cfg.shadowRules === undefined) return 'continue';
  const req = rbacRequestOf(s, hcm);
  const counters = stats !== undefined ? countersOf(cfg, stats, hcm.statPrefix) : undefined;
  if (cfg.shadowRules !== undefined) {
    const d = evaluateRbac(cfg.shadowRules, req);
    if (d.allowed) counters?.shadowAllowed.inc();
    else counters?.shadowDenied.inc();
  }
  if (cfg.rules === undefined) return 'continue';
  const d = evaluateRbac(cfg.rules, req);
  if (d.allowed) {
    counters?.allowed.inc();
    return 'continue';
  }
  counters?.denied.inc();
  s.localReply({ status: RBAC_DENIED_STATUS, body: RBAC_DENIED_BODY, flag: 0, details: rbacDeniedDetails(d.matchedPolicy) });
  return 'stop';
}
