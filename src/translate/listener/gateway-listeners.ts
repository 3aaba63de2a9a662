// A router's listeners (Istio's gateway.go buildGatewayListeners / buildGatewayTCPBasedFilterChains and
// listener.go buildGatewayListener): one bound listener `<bind>_<port>` per merged server port. Plain HTTP
// servers share one HCM chain with RDS `http.<port>`; HTTPS servers terminating TLS get an SNI chain each with
// their DownstreamTlsContext and RDS `https.<port>.<portName>.<gateway>.<namespace>`; TCP, TLS-terminating TCP,
// PASSTHROUGH and AUTO_PASSTHROUGH servers get network chains (gateway-tcp-chains). A port left with no chain
// gets no listener, and that is reported. Every chain gets the CLIENT-side istio.stats filters (gateways report
// as clients: MetricsForClass), in the HCM or before tcp_proxy, and then its WasmPlugins; HCM chains also get the
// empty stateful_session filter when persistent sessions are on (httpfilter/stateful-session.ts).

import { create } from '@bufbuild/protobuf';
import { warning, type Issue } from '../../lib/issue.js';
import type { Server } from '../../api/networking/gateway.js';
import { isHttpProtocol, parseProtocol } from '../../api/networking/protocol.js';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { FilterChainSchema } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { TrafficDirection } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { HttpConnectionManager_ForwardClientCertDetails as Xfcc } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { listenerName } from '../../xds/names.js';
import type { ProxyContext } from '../context.js';
import { durationFromSeconds } from '../proto-values.js';
import { downstreamTlsSocket, socketAddress } from './address.js';
import { buildGatewayTlsContext } from './downstream-tls.js';
import { chainOpts, toFilterChainMatch, type FilterChainOpts } from './filter-chain-opts.js';
import type { HttpListenerOpts } from './http-connection-manager.js';
import { tlsInspector } from './listener-filters.js';
import { isHttpsServerWithTlsTermination, mergeGateways, serverPortKey, type MergedGateway } from './merge-gateways.js';
import { chainFilters } from './outbound-listener.js';
import { gatewayTcpChains } from './gateway-tcp-chains.js';
import { delimitedStatPrefix } from './well-known.js';
import { securityHttpFilters } from '../httpfilter/security-filters.js';
import { chainWithWasm } from '../extensions/wasm-filter-placement.js';
import { chainWithStats } from '../telemetry/stats-filter.js';
import { chainWithSession } from '../httpfilter/stateful-session.js';
import type { HttpFilter } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';

const WILDCARD = '0.0.0.0';

/** buildGatewayConnectionManager: trusted hops 0, XFCC sanitized and set from the client certificate. */
function gatewayHttpOpts(rds: string, protocol: Server['port']['protocol'], security: readonly HttpFilter[], statPrefix?: string): HttpListenerOpts {
  return {
    class: 'gateway',
    filters: { security },
    rds,
    useRemoteAddress: true,
    protocol: parseProtocol(protocol),
    ...(statPrefix !== undefined && statPrefix !== '' ? { statPrefix } : {}),
    base: {
      xffNumTrustedHops: 0,
      forwardClientCertDetails: Xfcc.SANITIZE_SET,
      setCurrentClientCertDetails: { subject: true, cert: true, dns: true, uri: true },
      serverName: 'istio-envoy',
      httpProtocolOptions: {},
    },
  };
}

/** createGatewayHTTPFilterChainOpts for an HTTPS server terminating TLS. */
function httpsChain(merged: MergedGateway, server: Server, security: readonly HttpFilter[]): FilterChainOpts {
  const info = merged.tlsServerInfo.get(server);
  const tlsContext = buildGatewayTlsContext(server);
  return chainOpts({
    sniHosts: info?.sniHosts ?? [],
    ...(tlsContext !== undefined ? { tlsContext } : {}),
    http: gatewayHttpOpts(info?.routeName ?? '', server.port.protocol, security, server.name),
  });
}

interface PendingListener {
  readonly bind: string;
  readonly port: number;
  readonly chains: FilterChainOpts[];
}

function buildGatewayListener(p: PendingListener): Listener {
  const name = listenerName(p.bind, p.port);
  const needsTls = p.chains.some((c) => c.sniHosts.length > 0 || (c.tlsContext?.commonTlsContext?.alpnProtocols.length ?? 0) > 0);
  const statPrefix = delimitedStatPrefix(`outbound_${name}`);
  return create(ListenerSchema, {
    name,
    address: socketAddress(p.bind, p.port),
    trafficDirection: TrafficDirection.OUTBOUND,
    listenerFilters: needsTls ? [tlsInspector()] : [],
    maxConnectionsToAcceptPerSocketEvent: 1,
    filterChains: p.chains.map((c) => {
      const match = toFilterChainMatch(c);
      const tls = downstreamTlsSocket(c.tlsContext);
      return create(FilterChainSchema, {
        ...(match !== undefined ? { filterChainMatch: match } : {}),
        ...(tls !== undefined ? { transportSocket: tls } : {}),
        filters: chainFilters(c, statPrefix),
        ...(c.metadata !== undefined ? { metadata: c.metadata } : {}),
        transportSocketConnectTimeout: durationFromSeconds(15),
      });
    }),
  });
}

/** Listeners for a router, with the problems met while merging its Gateways and building chains. */
export function buildGatewayListeners(ctx: ProxyContext, issues: Issue[]): Listener[] {
  if (ctx.gateways.length === 0) return [];
  const merged = mergeGateways(ctx.gateways, ctx.snapshot.serviceTargets(ctx.scope));
  issues.push(...merged.issues);
  const security = securityHttpFilters(ctx, 'gateway');
  const pending = new Map<string, PendingListener>();
  const tlsHostsByPort = new Map<number, Map<string, string>>();
  for (const sp of merged.serverPorts) {
    const servers = merged.mergedServers.get(serverPortKey(sp));
    if (servers === undefined) continue;
    const bind = sp.bind !== '' ? sp.bind : WILDCARD;
    let chains: FilterChainOpts[];
    if (isHttpProtocol(parseProtocol(sp.protocol))) {
      chains = [chainOpts({ http: gatewayHttpOpts(servers.routeName, sp.protocol, security) })];
    } else {
      chains = [];
      const tlsHosts = tlsHostsByPort.get(sp.number) ?? new Map<string, string>();
      tlsHostsByPort.set(sp.number, tlsHosts);
      for (const server of servers.servers) {
        if (isHttpsServerWithTlsTermination(server)) chains.push(httpsChain(merged, server, security));
        else chains.push(...gatewayTcpChains(ctx, merged, server, tlsHosts, issues));
      }
    }
    // WasmPlugins for this server port (gateways select CLIENT mode, as Istio's workloadModeForListenerClass).
    chains = chains.map((c) => chainWithWasm(ctx, 'gateway', sp.number, chainWithSession(ctx, 'gateway', chainWithStats(ctx, 'gateway', c))));
    const name = listenerName(bind, sp.number);
    const cur = pending.get(name);
    if (cur === undefined) pending.set(name, { bind, port: sp.number, chains });
    else cur.chains.push(...chains);
  }
  const out: Listener[] = [];
  for (const [name, p] of pending) {
    if (p.chains.length === 0) {
      issues.push(warning(`Gateway ${[...new Set(merged.gatewayNameForServer.values())].join(', ')}`, `gateway omitting listener ${JSON.stringify(name)}: it has no filter chains`));
      continue;
    }
    out.push(buildGatewayListener(p));
  }
  return out;
}
