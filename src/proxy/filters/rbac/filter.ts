// The envoy.filters.http.rbac filter on the request path (Envoy's RoleBasedAccessControlFilter::
// decodeHeaders): the shadow engine first, counted as shadow_allowed/shadow_denied and never enforced;
// then the enforced engine: allowed requests continue, denied ones get the 403 local reply
// `RBAC: access denied` with details `rbac_access_denied_matched_policy[<policy>|none]` (whitespace in the
// name replaced by '_', Envoy's RBAC::responseDetail). Envoy sets no response flag for an RBAC denial
// (the access log shows `-`, as Istio's logs do). LOG rules always allow (counted as allowed).
// Stats: http.<hcm stat_prefix>.rbac.<rules_stat_prefix>{allowed,denied} and
// http.<hcm stat_prefix>.rbac.<shadow_rules_stat_prefix>{shadow_allowed,shadow_denied}
// (source/extensions/filters/common/rbac/utility.cc generateStats).
// Metadata rules read the stream's dynamic metadata (jwt_authn's payload); `authenticated` principals
// read the connection's verified client certificate. The shadow result is published as dynamic metadata
// (below). Not modelled: RBACPerRoute.

import type { CompiledHcm } from '../../runtime/compile-hcm.js';
import type { HttpStream } from '../../http/http-stream.js';
import { headerValue } from '../../http/headers.js';
import type { StatsScope } from '../../stats/stats-store.js';
import type { Counter } from '../../stats/metric.js';
import { isIP } from 'node:net';
import type { RbacFilterConfig } from './config.js';
import { evaluateRbac, type RbacRequest, type RbacTls } from './engine.js';

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

/** A TLS connection whose client sent no certificate. */
const NO_PEER: RbacTls = Object.freeze({ uriSans: [], dnsSans: [], subject: '' });

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
    tls: r.scheme === 'https' ? (r.peer ?? NO_PEER) : undefined,
    metadata: s.info.dynamicMetadata,
  };
}

/** Dynamic metadata namespace the RBAC filter writes under, whatever the filter instance is named. */
export const RBAC_METADATA_NAMESPACE = 'envoy.filters.http.rbac';

/**
 * Envoy's shadow-engine metadata (rbac_filter.cc decodeHeaders; docs well_known_dynamic_metadata):
 * `<shadow_rules_stat_prefix>shadow_effective_policy_id` when a shadow policy matched and
 * `<shadow_rules_stat_prefix>shadow_engine_result` = allowed|denied, merged into what earlier RBAC filters
 * wrote (setDynamicMetadata merges fields). ext_authz's filter_enabled_metadata reads the policy id.
 */
function publishShadowResult(md: Record<string, Record<string, unknown>>, prefix: string, allowed: boolean, policy: string | undefined): void {
  const ns = (md[RBAC_METADATA_NAMESPACE] ??= {});
  if (policy !== undefined) ns[`${prefix}shadow_effective_policy_id`] = policy;
  ns[`${prefix}shadow_engine_result`] = allowed ? 'allowed' : 'denied';
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
    publishShadowResult(s.info.dynamicMetadata, cfg.shadowRulesStatPrefix, d.allowed, d.matchedPolicy);
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
