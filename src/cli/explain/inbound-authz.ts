// The destination half of `isthmus explain`: once the caller's sidecar has picked an endpoint that is another
// sidecar, the request is followed into that sidecar's virtualInbound listener (the filter chain for the port,
// mTLS or plaintext as the caller's cluster sends it) and its authorization filters are run with what the
// destination would see: the caller's SPIFFE identity (from its workload certificate) and address, the method,
// path, host and headers. A denial names the policy and rule as Envoy's details do
// (`rbac_access_denied_matched_policy[ns[default]-policy[deny-all]-rule[0]]`). jwt_authn and ext_authz depend on
// a token or an external service and are named but not simulated.

import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { compileListener, type CompiledChain } from '../../proxy/runtime/compile-listener.js';
import { selectFilterChain, type ConnectionFacts } from '../../proxy/network/filter-chain-match.js';
import { evaluateRbac, type CompiledRbac, type RbacRequest } from '../../proxy/filters/rbac/engine.js';
import { rbacDeniedDetails } from '../../proxy/filters/rbac/filter.js';
import type { ProxyConfig } from './proxy-config.js';
import type { ExplainStep, Verdict } from './types.js';

export interface InboundCaller {
  readonly ip: string;
  /** The caller's SPIFFE id, when its sidecar has a workload certificate. */
  readonly principal: string | undefined;
}

export interface InboundRequest {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly headers: Readonly<Record<string, string>>;
}

const ISTIO_MTLS_ALPN = ['istio-http/1.1', 'istio'];

/** Whether the caller's cluster sends mTLS to `endpoint` (a TLS transport, or the tlsMode-istio socket match). */
export function sendsMtls(cfg: Omit<ProxyConfig, 'hostFlags'>, cluster: Cluster | undefined, endpoint: string): boolean {
  if (cluster === undefined) return false;
  if (cluster.transportSocket?.name === 'envoy.transport_sockets.tls') return true;
  const tlsMatch = cluster.transportSocketMatches.find((m) => m.transportSocket?.name === 'envoy.transport_sockets.tls');
  if (tlsMatch === undefined) return false;
  const cla = cfg.endpoints.get(cluster.edsClusterConfig?.serviceName || cluster.name);
  for (const l of cla?.endpoints ?? []) {
    for (const e of l.lbEndpoints) {
      const ep = e.hostIdentifier.case === 'endpoint' ? e.hostIdentifier.value : undefined;
      const sa = ep?.address?.address.case === 'socketAddress' ? ep.address.address.value : undefined;
      const key = sa === undefined ? '' : `${sa.address}:${sa.portSpecifier.case === 'portValue' ? sa.portSpecifier.value : 0}`;
      if (key !== endpoint) continue;
      const md = e.metadata?.filterMetadata['envoy.transport_socket_match'] as Readonly<Record<string, unknown>> | undefined;
      return Object.entries((tlsMatch.match ?? {}) as Readonly<Record<string, unknown>>).every(([k, v]) => md?.[k] === v);
    }
  }
  return false;
}

function chainFor(dest: Omit<ProxyConfig, 'hostFlags'>, ip: string, port: number, caller: InboundCaller, mtls: boolean): { chain: CompiledChain; listener: string } | string {
  const proto = dest.listeners.get('virtualInbound');
  if (proto === undefined) return 'the destination has no virtualInbound listener';
  const compiled = compileListener(proto);
  if (!compiled.ok) return `the destination's virtualInbound listener does not compile: ${compiled.problems[0] ?? ''}`;
  const facts: ConnectionFacts = {
    destinationIp: ip,
    destinationPort: port,
    sourceIp: caller.ip,
    sourcePort: 0,
    transportProtocol: mtls ? 'tls' : 'raw_buffer',
    serverName: '',
    applicationProtocols: mtls ? ISTIO_MTLS_ALPN : ['http/1.1'],
  };
  const chain = selectFilterChain(compiled.value.chains, facts) ?? compiled.value.defaultChain;
  if (chain === undefined) return `no filter chain of virtualInbound takes a ${mtls ? 'mTLS' : 'plaintext'} connection on port ${port}`;
  return { chain, listener: proto.name };
}

/** Runs the destination's inbound authorization; a verdict when it refuses the request, else undefined. */
export function explainInboundAuthz(dest: Omit<ProxyConfig, 'hostFlags'>, destId: string, endpoint: string, req: InboundRequest, caller: InboundCaller, mtls: boolean, steps: ExplainStep[]): Verdict | undefined {
  const i = endpoint.lastIndexOf(':');
  const ip = endpoint.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(endpoint.slice(i + 1));
  const found = chainFor(dest, ip, port, caller, mtls);
  const who = `${mtls ? `mTLS from ${caller.principal ?? 'a peer without an identity'}` : 'plaintext'} from ${caller.ip}`;
  if (typeof found === 'string') {
    steps.push({ step: 'inbound', resource: destId, decision: 'rejected', detail: `${found}: the connection is closed` });
    return { outcome: 'rejected', summary: `the destination sidecar ${destId} refuses the connection (${found})` };
  }
  steps.push({ step: 'inbound', resource: `${destId} ${found.listener} ${found.chain.name}`, decision: 'matched', detail: `the destination sidecar takes the connection (${who}) on filter chain ${found.chain.name}` });
  const rbacReq: RbacRequest = {
    method: req.method,
    path: req.path,
    host: req.authority,
    headers: (name) => (name === ':authority' || name === 'host' ? req.authority : name === ':method' ? req.method : name === ':path' ? req.path : req.headers[name]),
    directRemoteIp: caller.ip,
    remoteIp: caller.ip,
    sourcePort: 0,
    destinationIp: ip,
    destinationPort: port,
    sni: '',
    tls: mtls ? { uriSans: caller.principal !== undefined ? [caller.principal] : [], dnsSans: [], subject: '' } : undefined,
    metadata: {},
  };
  const decide = (name: string, rules: CompiledRbac): Verdict | undefined => {
    const d = evaluateRbac(rules, rbacReq);
    const policy = d.matchedPolicy !== undefined ? ` (policy ${d.matchedPolicy})` : '';
    if (d.allowed) {
      steps.push({ step: 'inbound-authz', resource: name, decision: 'allowed', detail: `${d.action} rules allow it${policy}` });
      return undefined;
    }
    const details = rbacDeniedDetails(d.matchedPolicy);
    steps.push({ step: 'inbound-authz', resource: name, decision: 'denied', detail: `${d.action} rules deny it${policy}: 403 RBAC: access denied, ${details}` });
    return { outcome: 'rejected', status: 403, summary: `denied by the destination ${destId}: 403 RBAC: access denied (${details})` };
  };
  const n = found.chain.network;
  for (const r of found.chain.rbac) {
    if (r.rules === undefined) continue;
    const v = decide(`${destId} envoy.filters.network.rbac`, r.rules);
    if (v !== undefined) return { ...v, summary: `the destination ${destId} closes the connection (${v.summary.slice(v.summary.indexOf('(') + 1, -1)})` };
  }
  if (n.kind !== 'hcm') return undefined;
  for (const f of n.hcm.httpFilters) {
    if (f.kind === 'rbac') {
      if (f.config.rules === undefined) continue;
      const v = decide(`${destId} ${f.name}`, f.config.rules);
      if (v !== undefined) return v;
    } else if (f.kind === 'jwt_authn' || f.kind === 'ext_authz') {
      steps.push({ step: 'inbound-authz', resource: `${destId} ${f.name}`, decision: 'not simulated', detail: f.kind === 'jwt_authn' ? 'the destination checks JWTs here (send the request to see its answer)' : 'the destination asks its external authorizer here (send the request to see its answer)' });
    }
  }
  return undefined;
}
