// envoy.filters.network.rbac (envoy.extensions.filters.network.rbac.v3.RBAC) on a TCP filter chain: the
// connection's attributes (peer and local address, SNI, the verified client certificate) are checked once,
// before tcp_proxy dials upstream (Envoy's default enforcement_type ONE_TIME_ON_FIRST_BYTE decides on the
// first bytes; deciding at accept is the same decision, since no request attribute exists on TCP). A denied
// connection is closed without a byte upstream. Stats: <stat_prefix>rbac.{allowed,denied} and
// <stat_prefix>rbac.<shadow_rules_stat_prefix>{shadow_allowed,shadow_denied}
// (source/extensions/filters/network/rbac/rbac_filter.cc; Istio's stat_prefix is `tcp.`).

import type { RBAC as NetworkRbacProto } from '../../../xds/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { RBAC_EnforcementType } from '../../../xds/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import type { StatsScope } from '../../stats/stats-store.js';
import { evaluateRbac, type CompiledRbac, type RbacTls } from './engine.js';
import { compileRbacEngines } from './config.js';
import { rbacDeniedDetails } from './filter.js';

export const NETWORK_RBAC_FILTER_TYPE = 'envoy.extensions.filters.network.rbac.v3.RBAC';

export interface NetworkRbacConfig {
  readonly rules: CompiledRbac | undefined;
  readonly shadowRules: CompiledRbac | undefined;
  readonly statPrefix: string;
  readonly shadowRulesStatPrefix: string;
}

export type NetworkRbacResult = { readonly ok: true; readonly value: NetworkRbacConfig } | { readonly ok: false; readonly problems: string[] };

export function compileNetworkRbac(m: NetworkRbacProto, path: string): NetworkRbacResult {
  const r = compileRbacEngines(m, path);
  const problems = r.ok ? [] : [...r.problems];
  if (m.enforcementType === RBAC_EnforcementType.CONTINUOUS) problems.push(`${path}.enforcement_type: CONTINUOUS is not supported (ONE_TIME_ON_FIRST_BYTE only)`);
  if (!r.ok || problems.length > 0) return { ok: false, problems };
  return { ok: true, value: Object.freeze({ rules: r.rules, shadowRules: r.shadowRules, statPrefix: m.statPrefix, shadowRulesStatPrefix: m.shadowRulesStatPrefix }) };
}

/** A TCP connection as the network RBAC filter sees it. */
export interface RbacConnection {
  readonly remoteIp: string;
  readonly remotePort: number;
  readonly localIp: string;
  readonly localPort: number;
  readonly sni: string;
  /** Set on TLS connections (peer certificate fields empty when the client sent none). */
  readonly tls: RbacTls | undefined;
}

/** Runs the chain's network RBAC filters in order; the details of the first denial, or undefined when all allow. */
export function runNetworkRbac(filters: readonly NetworkRbacConfig[], c: RbacConnection, stats: StatsScope | undefined): string | undefined {
  const req = {
    directRemoteIp: c.remoteIp,
    remoteIp: c.remoteIp,
    sourcePort: c.remotePort,
    destinationIp: c.localIp,
    destinationPort: c.localPort,
    sni: c.sni,
    tls: c.tls,
    metadata: {},
  };
  for (const f of filters) {
    if (f.shadowRules !== undefined) {
      const d = evaluateRbac(f.shadowRules, req);
      stats?.counter(`${f.statPrefix}rbac.${f.shadowRulesStatPrefix}${d.allowed ? 'shadow_allowed' : 'shadow_denied'}`).inc();
    }
    if (f.rules === undefined) continue;
    const d = evaluateRbac(f.rules, req);
    stats?.counter(`${f.statPrefix}rbac.${d.allowed ? 'allowed' : 'denied'}`).inc();
    if (!d.allowed) return rbacDeniedDetails(d.matchedPolicy);
  }
  return undefined;
}
