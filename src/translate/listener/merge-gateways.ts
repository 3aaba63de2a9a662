// All Gateways selecting one router merged into a single logical gateway (Istio's pilot/pkg/model/gateway.go
// mergeGateways): servers grouped per listener port (Gateway ports translated to the workload's target ports
// through its Services, as the legacy selector does), plaintext HTTP servers on a port sharing the
// `http.<port>` route config, TLS servers on a port told apart by SNI (each TLS-terminating HTTPS server
// getting its own `https.<port>.<portName>.<gateway>.<namespace>` route config). Servers Istio rejects —
// duplicate TLS hosts on a port, protocols that cannot share a port, HTTPS servers without a route name —
// are dropped and reported. The route translation reads the same merged view for gateway route configs.

import { warning, type Issue } from '../../lib/issue.js';
import { effectiveTlsMode, isPassThroughServer, type Server } from '../../api/networking/gateway.js';
import { isHttpProtocol, parseProtocol } from '../../api/networking/protocol.js';
import type { GatewayView, ServiceTarget } from '../../model/snapshot.js';
import { gatewayRouteName } from '../route/route-names.js';

export interface ServerPort {
  readonly number: number;
  readonly protocol: string;
  readonly bind: string;
}

export interface MergedServers {
  readonly servers: Server[];
  routeName: string;
}

export interface TlsServerInfo {
  readonly routeName: string;
  readonly sniHosts: readonly string[];
}

export interface MergedGateway {
  /** Unique server ports in the order first seen (listener order). */
  readonly serverPorts: readonly ServerPort[];
  /** Servers per server port (see serverPortKey). Server objects are the merged (sanitized) copies. */
  readonly mergedServers: ReadonlyMap<string, MergedServers>;
  /** `namespace/name` of the Gateway each server came from. */
  readonly gatewayNameForServer: ReadonlyMap<Server, string>;
  /** Route config name -> the servers whose virtual hosts it carries. */
  readonly serversByRouteName: ReadonlyMap<string, readonly Server[]>;
  readonly tlsServerInfo: ReadonlyMap<Server, TlsServerInfo>;
  readonly containsAutoPassthrough: boolean;
  readonly autoPassthroughSniHosts: ReadonlySet<string>;
  /** Servers dropped while merging, with why. */
  readonly issues: readonly Issue[];
}

export function serverPortKey(p: ServerPort): string {
  return `${p.number}|${p.protocol}|${p.bind}`;
}

/** gateway.IsTLSServer: a non-HTTP server with TLS settings. */
export function isTlsServer(s: Server): boolean {
  return s.tls !== undefined && !isHttpProtocol(parseProtocol(s.port.protocol));
}

/** gateway.IsHTTPServer: HTTP-family, or HTTPS terminating TLS. */
export function isHttpServer(s: Server): boolean {
  const p = parseProtocol(s.port.protocol);
  return isHttpProtocol(p) || (p === 'HTTPS' && !isPassThroughServer(s));
}

/** gateway.IsHTTPSServerWithTLSTermination. */
export function isHttpsServerWithTlsTermination(s: Server): boolean {
  return s.tls !== undefined && parseProtocol(s.port.protocol) === 'HTTPS' && !isPassThroughServer(s);
}

/** sanitizeServerHostNamespace: `./host` -> `<ns>/host`, `*\/host` -> `host`, `*\/*` -> `*`. */
function sanitizeServer(s: Server, namespace: string): Server {
  if (!s.hosts.some((h) => h.includes('/'))) return s;
  const hosts: string[] = [];
  for (const h of s.hosts) {
    const slash = h.indexOf('/');
    if (slash < 0) hosts.push(h);
    else if (h.slice(0, slash) === '.') hosts.push(`${namespace}/${h.slice(slash + 1)}`);
    else if (h.slice(0, slash) === '*') {
      if (h.slice(slash + 1) === '*') return { ...s, hosts: ['*'] };
      hosts.push(h.slice(slash + 1));
    } else hosts.push(h);
  }
  return { ...s, hosts };
}

/** GetSNIHostsForServer: the hosts without namespace prefixes, deduplicated and sorted. */
export function sniHostsForServer(s: Server): string[] {
  if (s.tls === undefined) return [];
  return [...new Set(s.hosts.map((h) => (h.includes('/') ? (h.split('/')[1] ?? h) : h)))].sort();
}

/** CheckDuplicates: hosts already claimed on the same bind; when there are none, the hosts are claimed. */
function checkDuplicates(hosts: readonly string[], bind: string, known: Map<string, string>): string[] {
  const dups = hosts.filter((h) => known.get(h) === bind);
  if (dups.length === 0) for (const h of hosts) known.set(h, bind);
  return dups;
}

const DISABLE_PORT_TRANSLATION = 'experimental.istio.io/disable-gateway-port-translation';

/** resolvePorts with the legacy selector: the first Service port of the workload numbered `number` gives its target port. */
function resolvePort(number: number, targets: readonly ServiceTarget[]): number {
  for (const t of targets) {
    if (t.service.labels[DISABLE_PORT_TRANSLATION] !== undefined) continue;
    if (t.port.port === number) return t.targetPort;
  }
  return number;
}

/** canMergeProtocols: HTTP servers join HTTP (or same-protocol) servers. */
function canMergeProtocols(current: string, incoming: string): boolean {
  const c = parseProtocol(current);
  const p = parseProtocol(incoming);
  return (isHttpProtocol(c) || c === p) && isHttpProtocol(p);
}

/** mergeGateways for `gateways` (already the ones selecting the router), `targets` its workload's service ports. */
export function mergeGateways(gateways: readonly GatewayView[], targets: readonly ServiceTarget[]): MergedGateway {
  const gatewayPorts = new Set<number>();
  const nonPlainTextBinds = new Map<number, Set<string>>();
  const mergedServers = new Map<string, MergedServers>();
  const serverPorts: ServerPort[] = [];
  const plainTextServers = new Map<number, ServerPort>();
  const serversByRouteName = new Map<string, Server[]>();
  const tlsServerInfo = new Map<Server, TlsServerInfo>();
  const gatewayNameForServer = new Map<Server, string>();
  const tlsHostsByPort = new Map<number, Map<string, string>>();
  const issues: Issue[] = [];
  let autoPassthrough = false;

  const addPlainText = (s: Server, sp: ServerPort, routeName: string): void => {
    if (!isTlsServer(s)) plainTextServers.set(sp.number, sp);
    if (isHttpServer(s)) serversByRouteName.set(routeName, [s]);
    mergedServers.set(serverPortKey(sp), { servers: [s], routeName });
    serverPorts.push(sp);
  };

  for (const gw of gateways) {
    gw.servers.forEach((raw, index) => {
      const where = `Gateway ${gw.key} spec.servers[${index}]`;
      const reject = (why: string): void => void issues.push(warning(where, why));
      const s = sanitizeServer(raw, gw.namespace);
      gatewayNameForServer.set(s, gw.key);
      const resolved = resolvePort(s.port.number, targets);
      const routeName = gatewayRouteName(s, resolved, gw);
      if (s.tls !== undefined) {
        const known = tlsHostsByPort.get(resolved) ?? new Map<string, string>();
        tlsHostsByPort.set(resolved, known);
        const dups = checkDuplicates(s.hosts, s.bind ?? '', known);
        if (dups.length > 0) return reject(`skipping server on gateway ${gw.key}, duplicate host names: ${dups.join(', ')}`);
        tlsServerInfo.set(s, { sniHosts: sniHostsForServer(s), routeName });
        if (effectiveTlsMode(s.tls) === 'AUTO_PASSTHROUGH') autoPassthrough = true;
      }
      const sp: ServerPort = { number: resolved, protocol: s.port.protocol, bind: s.bind ?? '' };
      const conflict = (why: string): void => reject(`skipping server on gateway ${gw.name} port ${s.port.name}.${resolved}.${s.port.protocol}: ${why}`);
      if (!gatewayPorts.has(resolved)) {
        gatewayPorts.add(resolved);
        addPlainText(s, sp, routeName);
        return;
      }
      const current = plainTextServers.get(resolved);
      if (current !== undefined) {
        if (!canMergeProtocols(current.protocol, sp.protocol) && current.bind === sp.bind) {
          return conflict(`conflict with existing server ${current.number}.${current.protocol}`);
        }
        if (routeName === '' && current.bind === sp.bind) return conflict('could not build RDS name from server');
        if (current.bind !== sp.bind) {
          const ms = mergedServers.get(serverPortKey(sp));
          if (ms === undefined) addPlainText(s, sp, routeName);
          else {
            ms.routeName = routeName;
            ms.servers.push(s);
            serversByRouteName.set(routeName, [...(serversByRouteName.get(routeName) ?? []), s]);
          }
        } else {
          (mergedServers.get(serverPortKey(current)) as MergedServers).servers.push(s);
          serversByRouteName.set(routeName, [...(serversByRouteName.get(routeName) ?? []), s]);
        }
        return;
      }
      if (!isTlsServer(s)) {
        plainTextServers.set(resolved, sp);
        if (isHttpServer(s)) serversByRouteName.set(routeName, [s]);
        mergedServers.set(serverPortKey(sp), { servers: [s], routeName });
        serverPorts.push(sp);
        return;
      }
      if (isHttpServer(s)) {
        if (routeName === '') return conflict('could not build RDS name from server');
        if (serversByRouteName.has(routeName)) return conflict('non unique port name for HTTPS port');
        serversByRouteName.set(routeName, [s]);
      }
      const binds = nonPlainTextBinds.get(resolved);
      let newBind = true;
      if (binds !== undefined) {
        newBind = !binds.has(sp.bind);
        binds.add(sp.bind);
      } else nonPlainTextBinds.set(resolved, new Set([sp.bind]));
      if (s.tls === undefined && !newBind) return reject(`TLS server without TLS options on gateway ${gw.key}`);
      const ms = mergedServers.get(serverPortKey(sp));
      if (ms === undefined) {
        mergedServers.set(serverPortKey(sp), { servers: [s], routeName: '' });
        serverPorts.push(sp);
      } else ms.servers.push(s);
    });
  }
  const autoPassthroughSniHosts = new Set<string>();
  if (autoPassthrough) {
    for (const ms of mergedServers.values()) {
      for (const s of ms.servers) if (s.tls !== undefined && effectiveTlsMode(s.tls) === 'AUTO_PASSTHROUGH') for (const h of s.hosts) autoPassthroughSniHosts.add(h);
    }
  }
  return { serverPorts, mergedServers, gatewayNameForServer, serversByRouteName, tlsServerInfo, containsAutoPassthrough: autoPassthrough, autoPassthroughSniHosts, issues };
}
