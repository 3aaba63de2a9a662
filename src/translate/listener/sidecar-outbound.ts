// A sidecar's per-port outbound listeners (Istio's listener.go buildSidecarOutboundListeners and
// buildSidecarOutboundListener), for the catch-all egress listener: every port of every service the proxy
// sees. HTTP ports share `0.0.0.0_<port>` (RDS `<port>`, services told apart by virtual host); TCP and TLS
// ports get `<vip>_<port>` (or `0.0.0.0_<port>` without a VIP; one listener per pod IP for headless services);
// undeclared protocols are sniffed (http_inspector picks the HCM chain, else the TCP chain). Listeners built
// for the same address and port merge as Istio does, turning into sniffed listeners when HTTP meets TCP;
// clashes Istio refuses (MySQL/Mongo beside anything else, duplicate TCP matches) are reported, not applied.
// Every chain gets the CLIENT-side istio.stats filters (in the HCM, or before tcp_proxy) and then its WasmPlugins;
// HCM chains also get the empty stateful_session filter when persistent sessions are on (stateful-session.ts).

import { isIP } from 'node:net';
import { warning, type Issue } from '../../lib/issue.js';
import { isHttpProtocol, isTcpProtocol, type Protocol } from '../../api/networking/protocol.js';
import type { Service } from '../../registry/types.js';
import type { Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { listenerName } from '../../xds/names.js';
import type { ProxyContext } from '../context.js';
import { sidecarOutboundRouteName, sniffedServiceRouteName } from '../route/route-names.js';
import { chainOpts, conflictsWith, type FilterChainOpts } from './filter-chain-opts.js';
import { buildOutboundListener } from './outbound-listener.js';
import { buildOutboundTcpChains, buildOutboundTlsChains, serviceAddress, virtualServicesForHost, type ListenPort } from './outbound-tcp-chains.js';
import { outboundCatchAllFilters } from './virtual-outbound.js';
import { chainWithWasm } from '../extensions/wasm-filter-placement.js';
import { chainWithStats } from '../telemetry/stats-filter.js';
import { chainWithSession } from '../httpfilter/stateful-session.js';
import { PLAINTEXT_HTTP_ALPNS, RAW_BUFFER_TRANSPORT, RESERVED_PROXY_PORTS } from './well-known.js';

const WILDCARD = '0.0.0.0';

type ListenerProtocol = 'http' | 'tcp' | 'auto' | 'unknown';

/** ModelProtocolToListenerProtocol. */
function listenerProtocol(p: Protocol | undefined): ListenerProtocol {
  if (p === undefined) return 'auto';
  if (isHttpProtocol(p)) return 'http';
  if (isTcpProtocol(p)) return 'tcp';
  return 'unknown';
}

interface Entry {
  readonly port: ListenPort;
  readonly bind: string;
  chains: FilterChainOpts[];
  /** The listener's protocol so far; undefined once it sniffs (Istio's protocol.Unsupported). */
  protocol: Protocol | undefined;
}

interface Opts {
  readonly service: Service;
  readonly port: ListenPort;
  bind: string;
  cidrs: readonly string[];
}

class OutboundBuilder {
  readonly entries = new Map<string, Entry>();

  constructor(private readonly ctx: ProxyContext, private readonly issues: Issue[]) {}

  #httpChains(o: Opts, lp: ListenerProtocol): FilterChainOpts[] {
    // Sniffed services bound to their own VIP get a route config of their own; the rest share `<port>`.
    const rds = lp === 'auto' && o.bind !== WILDCARD ? sniffedServiceRouteName(o.service.hostname, o.port.port) : sidecarOutboundRouteName(o.port.port);
    return [chainOpts({ http: { class: 'sidecar-outbound', rds, useRemoteAddress: false, protocol: o.port.protocol } })];
  }

  #sniffedHttpChains(o: Opts, lp: ListenerProtocol): FilterChainOpts[] {
    return this.#httpChains(o, lp).map((c) => ({ ...c, applicationProtocols: PLAINTEXT_HTTP_ALPNS, transportProtocol: RAW_BUFFER_TRANSPORT }));
  }

  #tcpChains(o: Opts): FilterChainOpts[] {
    const input = { service: o.service, port: o.port, bind: o.bind, cidrs: o.cidrs, virtualServices: virtualServicesForHost(o.service.hostname, this.ctx.meshVirtualServices) };
    return [...buildOutboundTlsChains(this.ctx, input), ...buildOutboundTcpChains(this.ctx, input)];
  }

  #merge(cur: Entry, incoming: readonly FilterChainOpts[], o: Opts): void {
    for (const c of incoming) {
      if (cur.chains.some((x) => conflictsWith(x, c))) {
        this.issues.push(
          warning(
            `Service ${o.service.namespace}/${o.service.name} port ${o.port.port}`,
            `listener ${listenerName(o.bind, o.port.port)}: a filter chain with the same match already exists (accepted ${protocolName(cur.protocol)}, rejected ${protocolName(o.port.protocol)} for ${o.service.hostname}); the new one is dropped`,
          ),
        );
        continue;
      }
      cur.chains.push(c);
    }
  }

  add(o: Opts): void {
    const lp = listenerProtocol(o.port.protocol);
    if (lp === 'unknown') return; // UDP and the like: no listener.
    if (o.bind === '') {
      if (lp === 'http') o.bind = WILDCARD;
      else {
        const address = serviceAddress(o.service);
        if (address.includes('/')) {
          o.bind = WILDCARD;
          o.cidrs = [address];
        } else o.bind = address;
      }
    }
    const key = listenerName(o.bind, o.port.port);
    const cur = this.entries.get(key);
    let chains: FilterChainOpts[];
    let protocol = o.port.protocol;
    type Conflict = 'none' | 'httpOverTcp' | 'tcpOverHttp' | 'tcpOverTcp' | 'tcpOverAuto' | 'autoOverHttp' | 'autoOverTcp';
    let conflict: Conflict = 'none';
    if (o.port.protocol === 'HTTP_PROXY') {
      chains = this.#httpChains(o, lp);
    } else if (lp === 'http') {
      if (cur !== undefined) {
        if (!isTcpProtocol(cur.protocol)) return; // the shared HTTP listener already exists
        conflict = 'httpOverTcp';
      }
      if (o.bind === WILDCARD) {
        // A TCP fallthrough default chain follows, so this is a sniffed listener rather than a pure HTTP one.
        chains = this.#sniffedHttpChains(o, lp);
        protocol = undefined;
      } else chains = this.#httpChains(o, lp);
    } else if (lp === 'tcp') {
      chains = this.#tcpChains(o);
      if (cur !== undefined) conflict = isHttpProtocol(cur.protocol) ? 'tcpOverHttp' : isTcpProtocol(cur.protocol) ? 'tcpOverTcp' : 'tcpOverAuto';
    } else if (cur !== undefined && cur.protocol === undefined) {
      // Sniffed over sniffed (headless pods sharing a wildcard key): only the TCP chains are new.
      conflict = 'tcpOverAuto';
      chains = this.#tcpChains(o);
    } else {
      if (cur !== undefined) conflict = isHttpProtocol(cur.protocol) ? 'autoOverHttp' : 'autoOverTcp';
      chains = [...this.#tcpChains(o), ...this.#sniffedHttpChains(o, lp)];
    }
    if (cur !== undefined && conflict !== 'none' && wellKnownPortClash(o.port.protocol, cur.protocol)) {
      this.issues.push(
        warning(
          `Service ${o.service.namespace}/${o.service.name} port ${o.port.port}`,
          `listener ${key}: ${protocolName(o.port.protocol)} for ${o.service.hostname} conflicts with the existing ${protocolName(cur.protocol)} listener on a well-known port; ignored`,
        ),
      );
      return;
    }
    switch (conflict) {
      case 'none':
      case 'autoOverHttp':
        this.entries.set(key, { port: o.port, bind: o.bind, chains, protocol });
        return;
      case 'httpOverTcp':
      case 'tcpOverHttp':
      case 'autoOverTcp':
        this.#merge(cur as Entry, chains, o);
        (cur as Entry).protocol = undefined;
        return;
      case 'tcpOverTcp':
      case 'tcpOverAuto':
        this.#merge(cur as Entry, chains, o);
        return;
    }
  }
}

function protocolName(p: Protocol | undefined): string {
  const lp = listenerProtocol(p);
  return lp === 'http' ? 'HTTP' : lp === 'tcp' ? 'TCP' : 'UNKNOWN';
}

/** isConflictWithWellKnownPort inverted: MySQL and Mongo share a port with nothing else. */
function wellKnownPortClash(incoming: Protocol | undefined, existing: Protocol | undefined): boolean {
  const special = (p: Protocol | undefined): boolean => p === 'Mongo' || p === 'MySQL';
  return (special(incoming) || special(existing)) && incoming !== existing;
}

/** Outbound listeners for every visible service port, in Istio's merge order (services by hostname, ports as declared). */
export function buildSidecarOutboundListeners(ctx: ProxyContext, issues: Issue[]): Listener[] {
  const b = new OutboundBuilder(ctx, issues);
  const self = ctx.proxy.ipAddresses[0];
  for (const service of ctx.services) {
    for (const sp of service.ports) {
      const port: ListenPort = { port: sp.port, name: sp.name, protocol: sp.protocol };
      // Never a wildcard HTTP listener on the proxy's own ports (CanBindToPort / conflictWithReservedListener).
      if (isHttpProtocol(sp.protocol) && RESERVED_PROXY_PORTS.has(sp.port)) continue;
      const headless = service.resolution === 'NONE' && service.addresses.length === 0 && (isTcpProtocol(sp.protocol) || sp.protocol === undefined);
      if (!headless) {
        b.add({ service, port, bind: '', cidrs: [] });
        continue;
      }
      // Headless: one listener per pod IP, since there is no VIP to tell them apart by.
      const instances = ctx.snapshot.endpoints(service.hostname, sp.port);
      if (service.source !== 'Kubernetes' && instances.length === 0 && service.selector === undefined) {
        b.add({ service, port, bind: '', cidrs: [] });
        continue;
      }
      for (const ep of instances) {
        if (isIP(ep.address) === 0 || ep.address === self) continue;
        b.add({ service, port, bind: ep.address, cidrs: [] });
      }
    }
  }
  const fallthrough = outboundCatchAllFilters(ctx);
  // WasmPlugins (CLIENT side) on every chain but the passthrough fallthrough, as Istio's buildListenerFromEntry
  // and buildCompleteNetworkFilters place them.
  return [...b.entries.values()].map((e) =>
    buildOutboundListener(
      {
        bind: e.bind,
        port: e.port.port,
        chains: e.chains.map((c) => chainWithWasm(ctx, 'sidecar-outbound', e.port.port, chainWithSession(ctx, 'sidecar-outbound', chainWithStats(ctx, 'sidecar-outbound', c)))),
      },
      fallthrough,
    ),
  );
}
