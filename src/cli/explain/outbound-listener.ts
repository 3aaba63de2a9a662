// Which listener and filter chain of a sidecar take a request its workload sends through the sidecar's
// HTTP proxy (HTTP_PROXY=http://<ip>:15001), decided as the proxy's listener manager decides it
// (src/proxy/network/listener-manager.ts): a plain request (absolute URI) goes to the HTTP connection
// manager of the listener for its destination port among the listeners that do not bind
// (bind_to_port: false, Istio's `0.0.0.0_<port>`), with the filter chain picked by Envoy's rules
// (selectFilterChain); a CONNECT tunnel (https://) is handed to that listener with its TLS facts, or to
// virtualOutbound. The listener manager keeps these rules in private methods, so the port lookup is
// restated here; the chain choice and the compiled listeners are the proxy's own code.

import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChain, FilterChainMatch } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { HttpConnectionManagerSchema, type HttpConnectionManager } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { compileListener, type CompiledChain, type CompiledListener } from '../../proxy/runtime/compile-listener.js';
import type { CompiledHcm } from '../../proxy/runtime/compile-hcm.js';
import type { CompiledTcpProxy } from '../../proxy/network/tcp-proxy.js';
import { selectFilterChain, type ConnectionFacts } from '../../proxy/network/filter-chain-match.js';
import type { ProxyConfig } from './proxy-config.js';
import type { ExplainStep, Verdict } from './types.js';

/** Port of the sidecar's HTTP proxy (Istio's virtualOutbound). */
export const HTTP_PROXY_PORT = 15001;
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

export type ListenerResult =
  | { readonly kind: 'http'; readonly listener: CompiledListener; readonly chain: CompiledChain; readonly hcm: CompiledHcm; readonly hcmProto: HttpConnectionManager | undefined }
  | { readonly kind: 'tcp'; readonly listener: CompiledListener; readonly chain: CompiledChain; readonly tcp: CompiledTcpProxy }
  | { readonly kind: 'rejected'; readonly verdict: Verdict };

interface Compiled {
  readonly listener: CompiledListener;
  readonly proto: Listener;
}

function compileAll(cfg: ProxyConfig, problems: string[]): Compiled[] {
  const out: Compiled[] = [];
  for (const [name, proto] of cfg.listeners) {
    const r = compileListener(proto);
    if (r.ok) out.push({ listener: r.value, proto });
    else problems.push(`listener ${name}: ${r.problems.join('; ')}`);
  }
  return out;
}

/** ListenerManager.apply: listeners reachable by original-destination handoff, by port (a wildcard address wins). */
function handoffListeners(all: readonly Compiled[]): Map<number, Compiled> {
  const byPort = new Map<number, Compiled>();
  for (const c of all) {
    const l = c.listener;
    if (l.bindToPort || l.name === 'virtualInbound') continue;
    if (!byPort.has(l.port) || WILDCARDS.has(l.address)) byPort.set(l.port, c);
  }
  return byPort;
}

function describeMatch(m: FilterChainMatch | undefined): string {
  if (m === undefined) return 'it has no filter_chain_match: any connection';
  const parts: string[] = [];
  if (m.destinationPort !== undefined) parts.push(`destination_port ${m.destinationPort}`);
  if (m.prefixRanges.length > 0) parts.push(`prefix_ranges ${m.prefixRanges.map((r) => `${r.addressPrefix}/${r.prefixLen ?? ''}`).join(',')}`);
  if (m.serverNames.length > 0) parts.push(`server_names ${m.serverNames.join(',')}`);
  if (m.transportProtocol !== '') parts.push(`transport_protocol ${m.transportProtocol}`);
  if (m.applicationProtocols.length > 0) parts.push(`application_protocols ${m.applicationProtocols.join(',')}`);
  if (m.sourcePrefixRanges.length > 0) parts.push(`source_prefix_ranges ${m.sourcePrefixRanges.map((r) => `${r.addressPrefix}/${r.prefixLen ?? ''}`).join(',')}`);
  if (m.sourcePorts.length > 0) parts.push(`source_ports ${m.sourcePorts.join(',')}`);
  return parts.length === 0 ? 'its filter_chain_match is empty: any connection' : `it asks for ${parts.join(', ')}`;
}

function chainOf(c: Compiled, facts: ConnectionFacts): { chain: CompiledChain; proto: FilterChain | undefined; label: string; isDefault: boolean } | undefined {
  const chosen = selectFilterChain(c.listener.chains, facts);
  if (chosen !== undefined) {
    const i = c.listener.chains.findIndex((m) => m.value === chosen);
    const proto = c.proto.filterChains[i];
    return { chain: chosen, proto, label: chosen.name !== '' ? chosen.name : `filter_chains[${i}]`, isDefault: false };
  }
  const d = c.listener.defaultChain;
  if (d === undefined) return undefined;
  return { chain: d, proto: c.proto.defaultFilterChain, label: d.name !== '' ? d.name : 'default_filter_chain', isDefault: true };
}

function hcmProtoOf(fc: FilterChain | undefined): HttpConnectionManager | undefined {
  for (const f of fc?.filters ?? []) {
    if (f.configType.case !== 'typedConfig') continue;
    const m = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
    if (m !== undefined) return m;
  }
  return undefined;
}

function networkText(chain: CompiledChain): string {
  const n = chain.network;
  if (n.kind === 'tcp') return `tcp_proxy to ${n.tcp.clusters.map((c) => (n.tcp.clusters.length > 1 ? `${c.name} (weight ${c.weight})` : c.name)).join(', ')}`;
  const r = n.hcm.routes;
  return `http_connection_manager (stat_prefix ${n.hcm.statPrefix || '-'}) with ${r.kind === 'rds' ? `route configuration "${r.name}" from RDS` : `the inline route configuration "${r.table.name}"`}`;
}

/**
 * The listener and filter chain for a request to `port` sent through the HTTP proxy on `captureIp`.
 * `tls` is set for https:// URLs (sent as a CONNECT tunnel): its server name and ALPN.
 */
export function explainOutboundListener(
  cfg: ProxyConfig,
  captureIp: string,
  port: number,
  tls: { readonly serverName: string; readonly alpn: readonly string[] } | undefined,
  steps: ExplainStep[],
  problems: string[],
): ListenerResult {
  const all = compileAll(cfg, problems);
  const byPort = handoffListeners(all);
  const virtualOutbound = all.find((c) => c.listener.useOriginalDst);
  const via = `the sidecar's HTTP proxy (${captureIp}:${HTTP_PROXY_PORT}${virtualOutbound !== undefined ? `, listener ${virtualOutbound.listener.name}` : ''})`;
  const target = byPort.get(port);
  let listener = target;
  if (target !== undefined) {
    steps.push({
      step: 'listener',
      resource: target.listener.name,
      decision: 'matched',
      detail:
        `${via} ${tls === undefined ? 'hands a request' : 'hands a CONNECT tunnel'} for port ${port} to the listener for that port, as Envoy hands a captured connection to the listener for its original destination; ` +
        `${target.listener.name} (${target.listener.address}:${target.listener.port}, bind_to_port false) is reached only this way`,
    });
  } else if (tls !== undefined && virtualOutbound !== undefined) {
    listener = virtualOutbound;
    steps.push({
      step: 'listener',
      resource: virtualOutbound.listener.name,
      decision: 'matched',
      detail: `no listener serves port ${port}, so ${via} runs the CONNECT tunnel through ${virtualOutbound.listener.name} itself, as Envoy does with a captured connection no other listener takes`,
    });
  }

  if (listener === undefined) return noHttpListener(all, port, via, steps, `no listener serves port ${port}${byPort.size > 0 ? ` (ports with outbound listeners: ${[...byPort.keys()].sort((a, b) => a - b).join(', ')})` : ''}`);

  // A plain request: ListenerManager#proxyRequest's facts. A tunnel: what the listener's inspection sees
  // (nothing, when no chain needs TLS or HTTP inspection).
  const inspects = listener.listener.inspect.tls || listener.listener.inspect.http;
  const facts: ConnectionFacts =
    tls === undefined
      ? { destinationPort: port, destinationIp: '', sourceIp: captureIp, sourcePort: 0, transportProtocol: 'raw_buffer', serverName: '', applicationProtocols: ['http/1.1'] }
      : inspects
        ? { destinationPort: port, destinationIp: captureIp, sourceIp: captureIp, sourcePort: 0, transportProtocol: 'tls', serverName: tls.serverName.toLowerCase(), applicationProtocols: tls.alpn }
        : { destinationPort: port, destinationIp: captureIp, sourceIp: captureIp, sourcePort: 0, transportProtocol: 'raw_buffer', serverName: '', applicationProtocols: [] };
  const picked = chainOf(listener, facts);
  const factText = tls === undefined ? `a plain HTTP/1.1 request for port ${port}` : inspects ? `a TLS connection for port ${port} with SNI "${facts.serverName}"` : `a connection for port ${port} (the listener inspects no bytes)`;
  if (picked === undefined) {
    steps.push({ step: 'filter-chain', resource: listener.listener.name, decision: 'no match', detail: `no filter chain of ${listener.listener.name} accepts ${factText} and it has no default_filter_chain` });
    // A tunnel handed to a listener with no chain for it is closed, as Envoy closes such a connection.
    if (tls !== undefined) return { kind: 'rejected', verdict: { outcome: 'rejected', responseFlag: 'NR', summary: `no filter chain of ${listener.listener.name} accepts the tunnel: the connection is closed (NR)` } };
    return noHttpListener(all, port, via, steps, `listener ${listener.listener.name} has no filter chain for ${factText}`);
  }
  steps.push({
    step: 'filter-chain',
    resource: `${listener.listener.name}/${picked.label}`,
    decision: picked.isDefault ? 'default chain' : 'matched',
    detail: picked.isDefault
      ? `no filter chain matches ${factText}, so the default_filter_chain takes it: ${networkText(picked.chain)}`
      : `${factText} takes this chain, the most specific of ${listener.listener.chains.length} by Envoy's filter chain match order (${describeMatch(picked.proto?.filterChainMatch)}): ${networkText(picked.chain)}`,
  });
  const n = picked.chain.network;
  if (n.kind === 'tcp') {
    if (tls === undefined) return noHttpListener(all, port, via, steps, `the chain for port ${port} is a TCP proxy, not an HTTP connection manager`);
    return { kind: 'tcp', listener: listener.listener, chain: picked.chain, tcp: n.tcp };
  }
  return { kind: 'http', listener: listener.listener, chain: picked.chain, hcm: n.hcm, hcmProto: hcmProtoOf(picked.proto) };
}

/** ListenerManager#proxyRequest with no HTTP chain: 502 when virtualOutbound passes through, 404 when it blackholes. */
function noHttpListener(all: readonly Compiled[], port: number, via: string, steps: ExplainStep[], why: string): ListenerResult {
  const vo = all.find((c) => c.listener.useOriginalDst)?.listener;
  const passthrough = vo?.chains.find((c) => c.value.network.kind === 'tcp' && c.destinationPort === undefined)?.value ?? vo?.defaultChain;
  const toPassthrough = passthrough?.network.kind === 'tcp' && passthrough.network.tcp.clusters.some((c) => c.name === 'PassthroughCluster');
  if (toPassthrough) {
    steps.push({
      step: 'listener',
      resource: vo?.name ?? 'virtualOutbound',
      decision: 'rejected',
      detail: `${why}; ${vo?.name ?? 'virtualOutbound'} would pass the bytes through to PassthroughCluster (outboundTrafficPolicy ALLOW_ANY), which a plain HTTP request to ${via} cannot use: it answers 502 (send it as a CONNECT tunnel, e.g. an https:// URL)`,
    });
    return { kind: 'rejected', verdict: { outcome: 'rejected', status: 502, summary: `no HTTP listener for port ${port}: the HTTP proxy answers 502` } };
  }
  const sink = passthrough?.network.kind === 'tcp' ? passthrough.network.tcp.clusters.map((c) => c.name).join(', ') : undefined;
  steps.push({
    step: 'listener',
    resource: vo?.name ?? 'virtualOutbound',
    decision: 'rejected',
    detail: `${why}; ${sink !== undefined ? `${vo?.name ?? 'virtualOutbound'} sends unmatched traffic to ${sink}${sink === 'BlackHoleCluster' ? ' (outboundTrafficPolicy REGISTRY_ONLY: only services in the registry are reachable)' : ''}` : 'nothing takes the connection'}, so ${via} answers 404, no route (NR)`,
  });
  return { kind: 'rejected', verdict: { outcome: 'rejected', status: 404, responseFlag: 'NR', summary: `no listener or route for port ${port}: 404 NR` } };
}
