// The sidecar's capture listener for inbound traffic, `virtualInbound` on 0.0.0.0:15006 (Istio's
// listener_inbound.go buildInboundListeners/inboundVirtualListener): one set of filter chains per workload
// target port (matched on destination_port; HTTP ports get an HCM with an inline `inbound|<port>||` route
// config, TCP ports a tcp_proxy to the `inbound|<port>||` cluster, undeclared ports both, chosen by the HTTP
// inspector), passthrough chains to InboundPassthroughClusterIpv4 for every other port, and a blackhole chain
// for connections to 15006 itself. Which chains a port gets depends on its PeerAuthentication mTLS mode
// (inbound-match-options): plaintext, mTLS, or both (PERMISSIVE, Istio's default). HCMs carry the
// SERVER-side istio.stats filters, and so do TCP chains (before tcp_proxy) and the blackhole chain
// (buildInboundNetworkFilters, buildInboundBlackhole). Every chain starts with the istio.metadata_exchange
// network filter (TCPListenerMx: buildCompleteNetworkFilters, buildInboundNetworkFiltersForHTTP,
// buildInboundBlackhole), which exchanges workload metadata with a client that negotiated `istio-peer-exchange`.

import { create } from '@bufbuild/protobuf';
import { warning, type Issue } from '../../lib/issue.js';
import { isHttpProtocol, parseProtocol, type Protocol } from '../../api/networking/protocol.js';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { FilterChainMatchSchema, FilterChainSchema, type Filter, type FilterChain, type ListenerFilter } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { TrafficDirection } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { HttpConnectionManager_ForwardClientCertDetails as Xfcc, type HttpFilter } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { securityHttpFilters, securityNetworkFilters } from '../httpfilter/security-filters.js';
import { httpFiltersWithWasm, networkWasmBeforeHcm, tcpFiltersWithWasm } from '../extensions/wasm-filter-placement.js';
import { BLACKHOLE_CLUSTER, INBOUND_PASSTHROUGH_CLUSTER_IPV4, VIRTUAL_INBOUND_LISTENER, VIRTUAL_INBOUND_PORT, listenerName } from '../../xds/names.js';
import type { ProxyContext } from '../context.js';
import { durationFromSeconds } from '../proto-values.js';
import { inboundRouteConfig } from '../route/inbound-route.js';
import { inboundRouteName } from '../route/route-names.js';
import { downstreamTlsSocket, socketAddress } from './address.js';
import { buildHttpConnectionManager, type HttpListenerOpts } from './http-connection-manager.js';
import {
  filterChainMatchOptions,
  inboundAuthnFor,
  inboundMtlsSettings,
  passthroughMtlsSettings,
  tlsContextFor,
  type FilterChainMatchOption,
  type InboundAuthn,
  type InboundListenerProtocol,
  type MtlsSettings,
} from './inbound-match-options.js';
import { httpInspector, originalDst, predicateForOtherPorts, predicateForPorts, tlsInspector } from './listener-filters.js';
import { hcmFilter } from './outbound-listener.js';
import { statsHttpFilters, statsNetworkFilters } from '../telemetry/stats-filter.js';
import { tcpListenerMetadataExchange } from '../telemetry/metadata-exchange.js';
import { plainTcpProxy } from './tcp-proxy.js';
import { RESERVED_PROXY_PORTS, TLS_TRANSPORT, VIRTUAL_INBOUND_BLACKHOLE_CHAIN, VIRTUAL_INBOUND_CATCHALL_HTTP_CHAIN, delimitedStatPrefix } from './well-known.js';

const WILDCARD = '0.0.0.0';

/** Istio's inboundChainConfig. */
interface InboundChainConfig {
  readonly clusterName: string;
  readonly servicePort: number;
  readonly targetPort: number;
  readonly protocol: Protocol | undefined;
  /** The service the chain serves ('' for passthrough). */
  readonly hostname: string;
  readonly passthrough: boolean;
}

function inboundListenerProtocol(p: Protocol | undefined): InboundListenerProtocol {
  if (p === undefined) return 'auto';
  return isHttpProtocol(p) ? 'http' : 'tcp';
}

function chainName(cc: InboundChainConfig, protocol: 'http' | 'tcp'): string {
  if (cc.passthrough) return protocol === 'http' ? VIRTUAL_INBOUND_CATCHALL_HTTP_CHAIN : VIRTUAL_INBOUND_LISTENER;
  return listenerName(WILDCARD, cc.targetPort);
}

function statPrefix(cc: InboundChainConfig): string {
  return delimitedStatPrefix(cc.passthrough ? cc.clusterName : `inbound_${chainName(cc, 'http')}`);
}

/** Istio's HTTP options for inbound chains: no RDS, XFCC appended, Envoy's server name `istio-envoy`. */
function inboundHttpOpts(cc: InboundChainConfig, security: readonly HttpFilter[], telemetry: readonly HttpFilter[]): HttpListenerOpts {
  const h2 = cc.protocol === 'HTTP2' || cc.protocol === 'GRPC' || cc.protocol === 'GRPC-Web';
  return {
    class: 'sidecar-inbound',
    filters: { security, telemetry },
    routeConfig: inboundRouteConfig({ name: cc.clusterName, cluster: cc.clusterName, servicePort: cc.servicePort, hostname: cc.hostname, protocol: cc.protocol }),
    useRemoteAddress: false,
    protocol: cc.protocol,
    statPrefix: statPrefix(cc),
    base: {
      forwardClientCertDetails: Xfcc.APPEND_FORWARD,
      setCurrentClientCertDetails: { subject: true, uri: true, dns: true },
      serverName: 'istio-envoy',
      ...(h2 ? { http2ProtocolOptions: {} } : {}),
    },
  };
}

/** inboundChainForOpts: one filter chain per match option. */
/** The authn/authz filters of this proxy's inbound chains (security-filters.ts). */
interface InboundSecurity {
  readonly http: readonly HttpFilter[];
  readonly tcp: readonly Filter[];
}

function inboundSecurity(ctx: ProxyContext): InboundSecurity {
  return { http: securityHttpFilters(ctx, 'sidecar-inbound'), tcp: securityNetworkFilters(ctx) };
}

/**
 * WasmPlugins go in as Istio places them (wasm-filter-placement.ts): HTTP chains look plugins up by target port
 * (buildSidecarInboundHTTPOpts), TCP chains by service port (buildInboundNetworkFilters: fcc.port.Port).
 */
function chainsFor(ctx: ProxyContext, cc: InboundChainConfig, mtls: MtlsSettings, options: readonly FilterChainMatchOption[], security: InboundSecurity): FilterChain[] {
  return options.map((o) => {
    const match = create(FilterChainMatchSchema, {
      applicationProtocols: [...o.applicationProtocols],
      transportProtocol: o.transportProtocol,
      ...(cc.targetPort > 0 ? { destinationPort: cc.targetPort } : {}),
    });
    // Metadata exchange goes first, so RBAC and stats see the peer (buildCompleteNetworkFilters, istio/istio#41066).
    const filters = o.protocol === 'http'
      ? [
          tcpListenerMetadataExchange(),
          ...networkWasmBeforeHcm(ctx, 'sidecar-inbound', cc.targetPort),
          hcmFilter(buildHttpConnectionManager(inboundHttpOpts(cc, httpFiltersWithWasm(ctx, 'sidecar-inbound', cc.targetPort, security.http), statsHttpFilters(ctx, 'sidecar-inbound')), statPrefix(cc))),
        ]
      : [tcpListenerMetadataExchange(), ...tcpFiltersWithWasm(ctx, 'sidecar-inbound', cc.servicePort, security.tcp, [...statsNetworkFilters(ctx, 'sidecar-inbound'), plainTcpProxy(cc.clusterName, cc.clusterName)])];
    const tls = downstreamTlsSocket(tlsContextFor(o, mtls));
    return create(FilterChainSchema, { filterChainMatch: match, filters, name: chainName(cc, o.protocol), ...(tls !== undefined ? { transportSocket: tls } : {}) });
  });
}

/**
 * buildInboundChainConfigs with Sidecar `ingress` listeners: one chain per listener port, to the
 * `inbound|<port>||` cluster (which points at the listener's defaultEndpoint), serving the service whose
 * target port it is, if any.
 */
function sidecarIngressChainConfigs(ctx: ProxyContext): InboundChainConfig[] {
  const byPort = new Map<number, InboundChainConfig>();
  for (const ingress of ctx.sidecar?.spec.ingress ?? []) {
    const port = ingress.port.number ?? 0;
    if (port === 0 || RESERVED_PROXY_PORTS.has(port) || byPort.has(port)) continue;
    const target = ctx.serviceTargets.find((t) => t.targetPort === port);
    byPort.set(port, {
      clusterName: inboundRouteName(port),
      servicePort: target?.port.port ?? port,
      targetPort: port,
      protocol: parseProtocol(ingress.port.protocol ?? ''),
      hostname: target?.service.hostname ?? '',
      passthrough: false,
    });
  }
  return [...byPort.values()].sort((a, b) => a.targetPort - b.targetPort);
}

/** buildInboundChainConfigs: one config per target port (the first service claiming a port wins), by port. */
function chainConfigs(ctx: ProxyContext, issues: Issue[]): InboundChainConfig[] {
  if ((ctx.sidecar?.spec.ingress ?? []).length > 0) return sidecarIngressChainConfigs(ctx);
  const byPort = new Map<number, InboundChainConfig>();
  for (const t of ctx.serviceTargets) {
    if (RESERVED_PROXY_PORTS.has(t.targetPort)) continue;
    const cc: InboundChainConfig = {
      clusterName: inboundRouteName(t.targetPort),
      servicePort: t.port.port,
      targetPort: t.targetPort,
      protocol: t.port.protocol,
      hostname: t.service.hostname,
      passthrough: false,
    };
    const old = byPort.get(t.targetPort);
    if (old !== undefined) {
      if (old.protocol !== cc.protocol && old.hostname !== cc.hostname) {
        issues.push(
          warning(
            `Service ${t.service.namespace}/${t.service.name} port ${t.port.port}`,
            `conflicting inbound listener:${t.targetPort}. existing: ${old.hostname}, incoming: ${cc.hostname}`,
          ),
        );
      }
      continue;
    }
    byPort.set(t.targetPort, cc);
  }
  return [...byPort.values()].sort((a, b) => a.targetPort - b.targetPort);
}

function blackholeChain(ctx: ProxyContext): FilterChain {
  return create(FilterChainSchema, {
    name: VIRTUAL_INBOUND_BLACKHOLE_CHAIN,
    filterChainMatch: create(FilterChainMatchSchema, { destinationPort: VIRTUAL_INBOUND_PORT }),
    filters: [tcpListenerMetadataExchange(), ...statsNetworkFilters(ctx, 'sidecar-inbound'), plainTcpProxy(BLACKHOLE_CLUSTER, BLACKHOLE_CLUSTER)],
  });
}

/** needPerPortPassthroughFilterChain: ports an inbound chain already serves (Sidecar ingress ports, else service target ports). */
function handledPorts(ctx: ProxyContext): Set<number> {
  const ingress = ctx.sidecar?.spec.ingress ?? [];
  if (ingress.length > 0) return new Set(ingress.map((i) => i.port.number ?? 0));
  return new Set(ctx.serviceTargets.map((t) => t.targetPort));
}

/** buildInboundPassthroughChains: the catch-all chains, plus per-port ones for port-level mTLS overrides. */
function passthroughChains(ctx: ProxyContext, authn: InboundAuthn, security: InboundSecurity): FilterChain[] {
  return passthroughMtlsSettings(authn, handledPorts(ctx)).flatMap((mtls) => {
    const cc: InboundChainConfig = { clusterName: INBOUND_PASSTHROUGH_CLUSTER_IPV4, servicePort: 0, targetPort: mtls.port, protocol: undefined, hostname: '', passthrough: true };
    return chainsFor(ctx, cc, mtls, filterChainMatchOptions(mtls.mode, 'auto'), security);
  });
}

/** populateListenerFilters: original_dst, then the inspectors, enabled only on the ports whose chains need them. */
function inboundListenerFilters(chains: readonly FilterChain[]): ListenerFilter[] {
  const tlsByPort = new Map<number, boolean>();
  const httpByPort = new Map<number, boolean>();
  for (const fc of chains) {
    const port = fc.filterChainMatch?.destinationPort ?? 0;
    const needsTls = fc.filterChainMatch?.transportProtocol === TLS_TRANSPORT;
    const needsHttp = (fc.filterChainMatch?.applicationProtocols ?? []).some((a) => a === 'http/1.1' || a === 'h2c');
    tlsByPort.set(port, (tlsByPort.get(port) ?? false) || needsTls);
    httpByPort.set(port, (httpByPort.get(port) ?? false) || needsHttp);
  }
  const out: ListenerFilter[] = [originalDst()];
  if ([...tlsByPort.values()].some(Boolean)) {
    if (tlsByPort.get(0) === true) {
      const off = [...tlsByPort].filter(([p, on]) => p !== 0 && !on).map(([p]) => p);
      out.push(tlsInspector(off.length > 0 ? predicateForPorts(off) : undefined));
    } else {
      const on = [...tlsByPort].filter(([p, v]) => p !== 0 && v).map(([p]) => p);
      out.push(tlsInspector(on.length > 0 ? predicateForOtherPorts(on) : undefined));
    }
  }
  if ([...httpByPort.values()].some(Boolean)) {
    const off = [...httpByPort].filter(([, on]) => !on).map(([p]) => p);
    out.push(httpInspector(off.length > 0 ? predicateForPorts(off) : undefined));
  }
  return out;
}

export function buildVirtualInboundListener(ctx: ProxyContext, issues: Issue[]): Listener {
  const authn = inboundAuthnFor(ctx);
  const security = inboundSecurity(ctx);
  const chains: FilterChain[] = [blackholeChain(ctx), ...passthroughChains(ctx, authn, security)];
  for (const cc of chainConfigs(ctx, issues)) {
    const mtls = inboundMtlsSettings(authn, cc.targetPort);
    chains.push(...chainsFor(ctx, cc, mtls, filterChainMatchOptions(mtls.mode, inboundListenerProtocol(cc.protocol)), security));
  }
  return create(ListenerSchema, {
    name: VIRTUAL_INBOUND_LISTENER,
    address: socketAddress(WILDCARD, VIRTUAL_INBOUND_PORT),
    trafficDirection: TrafficDirection.INBOUND,
    continueOnListenerFiltersTimeout: true,
    maxConnectionsToAcceptPerSocketEvent: 1,
    filterChains: chains,
    listenerFilters: inboundListenerFilters(chains),
    listenerFiltersTimeout: durationFromSeconds(0),
  });
}

