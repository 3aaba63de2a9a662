// `proxy-config listeners`: istioctl's listener tables (istioctl/pkg/writer/envoy/configdump/listener.go).
// Verbose (the default): ADDRESSES PORT MATCH DESTINATION, one row per filter chain (the default chain
// included), chains of a listener ordered by DESTINATION descending; `--verbose=false`: ADDRESSES PORT TYPE.
// Listeners sort by port, address, then type. MATCH summarises the filter_chain_match (`ALL`,
// `Trans: raw_buffer; App: http/1.1,h2c`, `Addr: *:9080`); DESTINATION names what the chain does
// (`Route: 9080`, `Cluster: outbound|...`, `PassthroughCluster`, `Inline Route: /healthz/ready*`).

import type { ConfigDump, Table } from './config-dump.js';
import { dumpListeners } from './config-dump.js';
import { addressParts, list, num, obj, str, strings, field, withoutType, type JsonObject } from './json-fields.js';
import { describeMatch } from './route-match.js';

const HCM = 'envoy.filters.network.http_connection_manager';
const TCP_PROXY = 'envoy.filters.network.tcp_proxy';
const BLACKHOLE = 'BlackHoleCluster';

export interface ListenerFilter {
  /** Equal (ignoring case) to the listener's address or one of its additional addresses. */
  readonly address?: string;
  readonly port?: number;
  /** HTTP, TCP, HTTP+TCP or UNKNOWN, ignoring case. */
  readonly type?: string;
}

function filterChains(l: JsonObject): JsonObject[] {
  const chains = list(l, 'filter_chains');
  const dflt = obj(l, 'default_filter_chain');
  return dflt !== undefined ? [...chains, dflt] : chains;
}

function typeUrlEnds(f: JsonObject, suffix: string): boolean {
  const t = obj(f, 'typed_config')?.['@type'];
  return typeof t === 'string' && t.endsWith(suffix);
}

function isHcm(f: JsonObject): boolean {
  return str(f, 'name') === HCM || typeUrlEnds(f, '.HttpConnectionManager');
}

function isTcpProxy(f: JsonObject): boolean {
  return str(f, 'name') === TCP_PROXY || typeUrlEnds(f, '.TcpProxy');
}

/** istioctl skips TCP proxies to the BlackHoleCluster when typing a listener or naming a destination. */
function isBlackhole(f: JsonObject): boolean {
  return JSON.stringify(field(f, 'typed_config') ?? null).includes(BLACKHOLE);
}

/** HTTP, TCP, HTTP+TCP or UNKNOWN, from the network filters of every chain. */
export function listenerType(l: JsonObject): string {
  let http = 0;
  let tcp = 0;
  for (const chain of filterChains(l)) {
    for (const f of list(chain, 'filters')) {
      if (isHcm(f)) http++;
      else if (isTcpProxy(f) && !isBlackhole(f)) tcp++;
    }
  }
  if (http > 0) return tcp === 0 ? 'HTTP' : 'HTTP+TCP';
  return tcp > 0 ? 'TCP' : 'UNKNOWN';
}

function listenerAddresses(l: JsonObject): string[] {
  const main = addressParts(obj(l, 'address'));
  const extra = list(l, 'additional_addresses').map((a) => str(obj(obj(a, 'address'), 'socket_address'), 'address'));
  return [main.kind === 'socket' || main.kind === 'pipe' ? main.address : '', ...extra];
}

function listenerPort(l: JsonObject): number {
  const a = addressParts(obj(l, 'address'));
  return a.kind === 'socket' ? a.port : 0;
}

/** istioctl's fixed ALPN sets and how they read. */
const APP_PROTOCOLS: readonly (readonly [string, readonly string[]])[] = [
  ['App: HTTP TLS', ['http/1.0', 'http/1.1', 'h2c', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']],
  ['App: Istio HTTP Plain', ['istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']],
  ['App: TCP TLS', ['istio-peer-exchange', 'istio']],
  ['App: HTTP', ['http/1.0', 'http/1.1', 'h2c']],
];

/** The MATCH cell: SNI, transport, ALPN and destination address/port of a filter_chain_match, or ALL. */
export function describeChainMatch(m: JsonObject | undefined): string {
  const descrs: string[] = [];
  const sni = strings(m, 'server_names');
  if (sni.length > 0) descrs.push(`SNI: ${sni.join(',')}`);
  const trans = str(m, 'transport_protocol');
  if (trans !== '') descrs.push(`Trans: ${trans}`);
  const alpn = strings(m, 'application_protocols');
  if (alpn.length > 0) {
    const known = APP_PROTOCOLS.find(([, set]) => set.length === alpn.length && set.every((p, i) => alpn[i] === p));
    descrs.push(known !== undefined ? known[0] : `App: ${alpn.join(',')}`);
  }
  const port = field(m, 'destination_port') !== undefined ? `:${num(m, 'destination_port')}` : '';
  const prefixes = list(m, 'prefix_ranges').map((p) => `${str(p, 'address_prefix')}/${num(p, 'prefix_len')}`);
  if (prefixes.length > 0) descrs.push(`Addr: ${prefixes.join(',')}${port}`);
  else if (port !== '') descrs.push(`Addr: *${port}`);
  return descrs.length > 0 ? descrs.join('; ') : 'ALL';
}

function clusterCell(cluster: string): string {
  return cluster.includes('Cluster') ? cluster : `Cluster: ${cluster}`;
}

/** An inline route config: the one cluster a catch-all route goes to, or each virtual host's matches. */
function describeRouteConfig(rc: JsonObject): string {
  const vhosts = list(rc, 'virtual_hosts');
  const only = vhosts.length === 1 ? vhosts[0] : undefined;
  const domains = strings(only, 'domains');
  const routes = list(only, 'routes');
  const route = routes.length === 1 ? routes[0] : undefined;
  const cluster = str(obj(route, 'route'), 'cluster');
  if (domains.length === 1 && domains[0] === '*' && str(obj(route, 'match'), 'prefix') === '/' && cluster !== '') return clusterCell(cluster);
  const parts = vhosts.map((vh) => {
    const ds = strings(vh, 'domains');
    const described = ds.length === 1 && ds[0] === '*' ? '' : ds.join('/');
    const matches = list(vh, 'routes')
      .map((r) => describeMatch(obj(r, 'match')))
      .join(', ');
    return described === '' ? matches : `${described} ${matches}`;
  });
  return `Inline Route: ${parts.join('; ')}`;
}

/** The DESTINATION cell of a filter chain. */
export function describeDestination(filters: readonly JsonObject[]): string {
  for (const f of filters) {
    if (isHcm(f)) {
      const hcm = obj(f, 'typed_config');
      const inline = obj(hcm, 'route_config');
      if (inline !== undefined) return describeRouteConfig(inline);
      const rds = str(obj(hcm, 'rds'), 'route_config_name');
      return rds !== '' ? `Route: ${rds}` : 'HTTP';
    }
    if (isTcpProxy(f) && !isBlackhole(f)) return clusterCell(str(obj(f, 'typed_config'), 'cluster'));
  }
  return 'Non-HTTP/Non-TCP';
}

export function listenerMatches(l: JsonObject, f: ListenerFilter): boolean {
  if (f.address !== undefined && f.address !== '') {
    const want = f.address.toLowerCase();
    if (!listenerAddresses(l).some((a) => a.toLowerCase() === want)) return false;
  }
  if (f.port !== undefined && f.port !== 0 && listenerPort(l) !== f.port) return false;
  if (f.type !== undefined && f.type !== '' && listenerType(l).toLowerCase() !== f.type.toLowerCase()) return false;
  return true;
}

function listenerOrder(a: JsonObject, b: JsonObject): number {
  const pa = listenerPort(a);
  const pb = listenerPort(b);
  if (pa !== pb) return pa - pb;
  const aa = listenerAddresses(a)[0] ?? '';
  const ab = listenerAddresses(b)[0] ?? '';
  if (aa !== ab) return aa < ab ? -1 : 1;
  const ta = listenerType(a);
  const tb = listenerType(b);
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

export function listenerTable(d: ConfigDump, f: ListenerFilter = {}, opts: { verbose?: boolean; withName?: boolean } = {}): Table {
  const verbose = opts.verbose ?? true;
  const withName = opts.withName ?? false;
  const selected = dumpListeners(d)
    .filter((l) => listenerMatches(l, f))
    .sort(listenerOrder);
  const rows: string[][] = [];
  for (const l of selected) {
    const lead = [...(withName ? [`listener/${str(l, 'name')}`] : []), listenerAddresses(l).join(','), String(listenerPort(l))];
    if (!verbose) {
      rows.push([...lead, listenerType(l)]);
      continue;
    }
    const chains = filterChains(l)
      .map((c) => ({ match: describeChainMatch(obj(c, 'filter_chain_match')), destination: describeDestination(list(c, 'filters')) }))
      .sort((a, b) => (a.destination > b.destination ? -1 : a.destination < b.destination ? 1 : 0));
    for (const c of chains) rows.push([...lead, c.match, c.destination]);
  }
  const headers = [...(withName ? ['NAME'] : []), 'ADDRESSES', 'PORT', ...(verbose ? ['MATCH', 'DESTINATION'] : ['TYPE'])];
  return { headers, rows };
}

/** `-o json|yaml`: the Listener messages that pass `f`, in dump order. */
export function listenerData(d: ConfigDump, f: ListenerFilter = {}): JsonObject[] {
  return dumpListeners(d)
    .filter((l) => listenerMatches(l, f))
    .map(withoutType);
}
