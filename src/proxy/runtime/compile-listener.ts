// Compiles an Envoy Listener into what the listener manager runs: its address, whether it binds
// (bind_to_port) or only receives handed-off connections (use_original_dst), its filter chains with their
// compiled matches, transport (plaintext or TLS termination) and terminal network filter (HTTP connection
// manager or tcp_proxy), with the network RBAC and Wasm filters before it, and Istio's TCP metadata exchange
// (`istio.metadata_exchange`), which runs first. Unknown required filters are problems, so the update is NACKed
// whole.

import type { Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChain, ListenerFilter, ListenerFilterChainMatchPredicate } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { TrafficDirection } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { compileFilterChainMatch, inspectionNeeds, type CompiledMatch } from '../network/filter-chain-match.js';
import { compileTcpProxy, type CompiledTcpProxy } from '../network/tcp-proxy.js';
import { compileDownstreamTls, type DownstreamTls } from './compile-downstream-tls.js';
import { compileHcm, DEFAULT_BUFFER_LIMIT, reporterFor, type CompiledHcm } from './compile-hcm.js';
import { typedStructOf } from './typed-struct.js';
import { compileStatsConfig, STATS_FILTER_TYPE } from '../telemetry/stats-config.js';
import { compilePeerExchangeConfig, PEER_EXCHANGE_FILTER_TYPE, type PeerExchangeConfig } from '../telemetry/peer-exchange-config.js';
import type { IstioStatsFilter } from '../telemetry/istio-metrics.js';
import type { Compiled } from './compile-cluster.js';
import { durationMs } from './duration.js';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { RBACSchema as NetworkRbacSchema } from '../../xds/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { compileNetworkRbac, NETWORK_RBAC_FILTER_TYPE, type NetworkRbacConfig } from '../filters/rbac/network-filter.js';
import { WasmSchema as NetworkWasmSchema } from '../../xds/gen/envoy/extensions/filters/network/wasm/v3/wasm_pb.js';
import { compileWasmPluginConfig, NETWORK_WASM_FILTER_TYPE, type WasmFilterConfig } from '../filters/wasm/config.js';

export type NetworkFilter = { readonly kind: 'hcm'; readonly hcm: CompiledHcm } | { readonly kind: 'tcp'; readonly tcp: CompiledTcpProxy };

export interface CompiledChain {
  readonly name: string;
  readonly tls: DownstreamTls | undefined;
  /** transport_socket_connect_timeout: a TLS handshake not done by then closes the connection (0 = none). */
  readonly handshakeTimeoutMs: number;
  /** envoy.filters.network.rbac filters before the terminal filter, in order. */
  readonly rbac: readonly NetworkRbacConfig[];
  /** envoy.filters.network.wasm filters before the terminal filter, in order (empty: no per-connection cost). */
  readonly wasm: readonly WasmFilterConfig[];
  /** Istio's TCP metadata exchange, run before every other filter; undefined: none on this chain. */
  readonly peerExchange: PeerExchangeConfig | undefined;
  readonly network: NetworkFilter;
}

export interface CompiledListener {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** additional_addresses: more addresses the listener is bound to (Istio sets one for dual-stack). */
  readonly additionalAddresses: readonly { readonly address: string; readonly port: number }[];
  readonly bindToPort: boolean;
  readonly useOriginalDst: boolean;
  readonly direction: 'inbound' | 'outbound' | 'unspecified';
  readonly chains: readonly CompiledMatch<CompiledChain>[];
  readonly defaultChain: CompiledChain | undefined;
  readonly inspect: { readonly tls: boolean; readonly http: boolean };
  /** 0 = wait for the first bytes as long as it takes (Envoy: listener_filters_timeout 0 disables it). */
  readonly inspectTimeoutMs: number;
  /**
   * The inspectors' filter_disabled, by destination port: a disabled inspector does not look at a connection
   * to that port (Istio turns them off on inbound ports whose chains need no SNI, ALPN or HTTP sniffing, so a
   * server-first protocol such as MySQL is not held waiting for client bytes).
   */
  readonly inspectorDisabled: { readonly tls: (port: number) => boolean; readonly http: (port: number) => boolean };
  readonly continueOnInspectTimeout: boolean;
}

const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP_PROXY_TYPE = 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
/** Listener filters this proxy implements (inspection is done when chains need it). */
const KNOWN_LISTENER_FILTERS = new Set(['envoy.filters.listener.tls_inspector', 'envoy.filters.listener.http_inspector', 'envoy.filters.listener.original_dst']);

function compileChain(fc: FilterChain, path: string, problems: string[], direction: CompiledListener['direction'], bufferLimit: number): CompiledChain | undefined {
  let network: NetworkFilter | undefined;
  let istioStats: IstioStatsFilter | undefined;
  const rbac: NetworkRbacConfig[] = [];
  const wasm: WasmFilterConfig[] = [];
  let peerExchange: PeerExchangeConfig | undefined;
  fc.filters.forEach((f, i) => {
    const fp = `${path}.filters[${i}](${f.name})`;
    if (f.configType.case !== 'typedConfig') {
      problems.push(`${fp}: typed_config must be set`);
      return;
    }
    const any = f.configType.value;
    const type = any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1);
    if (network !== undefined) {
      problems.push(`${fp}: follows the terminal filter ${network.kind === 'hcm' ? 'http_connection_manager' : 'tcp_proxy'}`);
      return;
    }
    if (type === HCM_TYPE) {
      const r = compileHcm(any, `${fp}.typed_config`, direction, bufferLimit);
      if (r.ok) network = { kind: 'hcm', hcm: r.value };
      else problems.push(...r.problems);
    } else if (type === TCP_PROXY_TYPE) {
      const r = compileTcpProxy(any, `${fp}.typed_config`);
      if (r.ok) network = { kind: 'tcp', tcp: istioStats !== undefined ? { ...r.value, istioStats } : r.value };
      else problems.push(...r.problems);
    } else if (type === NETWORK_RBAC_FILTER_TYPE) {
      const m = anyUnpack(any, NetworkRbacSchema);
      const r = m !== undefined ? compileNetworkRbac(m, `${fp}.typed_config`) : { ok: false as const, problems: [`${fp}.typed_config: cannot be decoded`] };
      if (r.ok) rbac.push(r.value);
      else problems.push(...r.problems);
    } else if (type === NETWORK_WASM_FILTER_TYPE) {
      const m = anyUnpack(any, NetworkWasmSchema);
      const r = m !== undefined ? compileWasmPluginConfig(m.config, `${fp}.typed_config`) : { ok: false as const, problems: [`${fp}.typed_config: cannot be decoded`] };
      if (r.ok) wasm.push(r.value);
      else problems.push(...r.problems);
    } else if (typedStructOf(any)?.type === PEER_EXCHANGE_FILTER_TYPE) {
      const ts = typedStructOf(any);
      // It runs first here: after a Wasm filter (which sees the bytes) its frames would reach that filter in Envoy.
      if (peerExchange !== undefined) problems.push(`${fp}: a second metadata exchange filter on the chain`);
      else if (wasm.length > 0) problems.push(`${fp}: the metadata exchange must come before the Wasm network filters`);
      if (ts !== undefined) peerExchange = compilePeerExchangeConfig(ts.value, `${fp}.typed_config.value`, problems);
    } else if (typedStructOf(any)?.type === STATS_FILTER_TYPE) {
      const ts = typedStructOf(any);
      if (ts !== undefined) {
        const config = compileStatsConfig(ts.value, `${fp}.typed_config.value`, problems);
        istioStats = { config, reporter: reporterFor(direction, config.serverGateway) };
      }
    } else problems.push(`${fp}: unsupported network filter ${type}`);
  });
  if (network === undefined) {
    if (fc.filters.length === 0) problems.push(`${path}.filters: a filter chain needs a terminal filter (http_connection_manager or tcp_proxy)`);
    return undefined;
  }
  let tls: DownstreamTls | undefined;
  const ts = fc.transportSocket;
  if (ts !== undefined && ts.configType.case === 'typedConfig' && !ts.configType.value.typeUrl.endsWith('RawBuffer')) {
    const r = compileDownstreamTls(ts.configType.value, `${path}.transport_socket`);
    if (r.ok) tls = r.value;
    else problems.push(...r.problems);
  }
  return { name: fc.name, tls, handshakeTimeoutMs: durationMs(fc.transportSocketConnectTimeout, 0), rbac, wasm, peerExchange, network };
}

function listenerFilterProblems(lf: readonly ListenerFilter[], problems: string[]): void {
  lf.forEach((f, i) => {
    if (!KNOWN_LISTENER_FILTERS.has(f.name) && !f.name.startsWith('istio.')) problems.push(`listener_filters[${i}](${f.name}): unsupported listener filter`);
  });
}

const NEVER = (): boolean => false;

/** ListenerFilterChainMatchPredicate over the destination port (Envoy's ListenerFilterMatcher). */
function compilePredicate(p: ListenerFilterChainMatchPredicate, path: string, problems: string[]): (port: number) => boolean {
  const r = p.rule;
  switch (r.case) {
    case 'anyMatch':
      return () => true;
    case 'destinationPortRange': {
      const { start, end } = r.value;
      return (port) => port >= start && port < end;
    }
    case 'notMatch': {
      const inner = compilePredicate(r.value, `${path}.not_match`, problems);
      return (port) => !inner(port);
    }
    case 'orMatch':
    case 'andMatch': {
      const key = r.case === 'orMatch' ? 'or_match' : 'and_match';
      const rules = r.value.rules.map((x, i) => compilePredicate(x, `${path}.${key}.rules[${i}]`, problems));
      if (rules.length < 2) problems.push(`${path}.${key}.rules: value must contain at least 2 item(s)`);
      return r.case === 'orMatch' ? (port) => rules.some((f) => f(port)) : (port) => rules.every((f) => f(port));
    }
    case undefined:
      problems.push(`${path}: one of or_match, and_match, not_match, any_match or destination_port_range must be set`);
      return NEVER;
  }
}

/** Where each inspector is disabled; an inspector the listener does not list is not consulted (chains decide). */
function inspectorsDisabled(lf: readonly ListenerFilter[], problems: string[]): CompiledListener['inspectorDisabled'] {
  let tls: (port: number) => boolean = NEVER;
  let http: (port: number) => boolean = NEVER;
  lf.forEach((f, i) => {
    if (f.filterDisabled === undefined) return;
    const d = compilePredicate(f.filterDisabled, `listener_filters[${i}](${f.name}).filter_disabled`, problems);
    if (f.name === 'envoy.filters.listener.tls_inspector') tls = d;
    else if (f.name === 'envoy.filters.listener.http_inspector') http = d;
  });
  return { tls, http };
}

export function compileListener(l: Listener): Compiled<CompiledListener> {
  const problems: string[] = [];
  if (l.apiListener !== undefined) problems.push('api_listener: API listeners are for proxyless clients, not for this proxy');
  const a = l.address?.address;
  const sa = a?.case === 'socketAddress' ? a.value : undefined;
  if (sa === undefined && l.apiListener === undefined) problems.push('address.socket_address: must be set');
  listenerFilterProblems(l.listenerFilters, problems);
  const inspectorDisabled = inspectorsDisabled(l.listenerFilters, problems);
  const direction: CompiledListener['direction'] = l.trafficDirection === TrafficDirection.INBOUND ? 'inbound' : l.trafficDirection === TrafficDirection.OUTBOUND ? 'outbound' : 'unspecified';
  const chains: CompiledMatch<CompiledChain>[] = [];
  const bufferLimit = l.perConnectionBufferLimitBytes ?? DEFAULT_BUFFER_LIMIT;
  l.filterChains.forEach((fc, i) => {
    const c = compileChain(fc, `filter_chains[${i}]`, problems, direction, bufferLimit);
    if (c !== undefined) chains.push(compileFilterChainMatch(fc.filterChainMatch, c, `filter_chains[${i}].filter_chain_match`, problems));
  });
  const defaultChain = l.defaultFilterChain !== undefined ? compileChain(l.defaultFilterChain, 'default_filter_chain', problems, direction, bufferLimit) : undefined;
  const additionalAddresses: { address: string; port: number }[] = [];
  l.additionalAddresses.forEach((x, i) => {
    const xa = x.address?.address;
    if (xa?.case !== 'socketAddress' || xa.value.portSpecifier.case !== 'portValue') return void problems.push(`additional_addresses[${i}].address: only socket addresses with a port value are supported`);
    if (x.socketOptions !== undefined) problems.push(`additional_addresses[${i}].socket_options: not supported`);
    additionalAddresses.push({ address: xa.value.address, port: xa.value.portSpecifier.value });
  });
  if (problems.length > 0) return { ok: false, problems };
  const inspect = inspectionNeeds(chains);
  return {
    ok: true,
    value: {
      name: l.name,
      address: sa?.address ?? '0.0.0.0',
      port: sa?.portSpecifier.case === 'portValue' ? sa.portSpecifier.value : 0,
      additionalAddresses,
      bindToPort: l.bindToPort ?? true,
      useOriginalDst: l.useOriginalDst ?? false,
      direction,
      chains,
      defaultChain,
      inspect,
      inspectTimeoutMs: durationMs(l.listenerFiltersTimeout, 15_000),
      continueOnInspectTimeout: l.continueOnListenerFiltersTimeout,
      inspectorDisabled,
    },
  };
}
