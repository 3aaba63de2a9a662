// Traffic simulation over generated xDS (Istio's pilot/pkg/simulation/traffic.go, in TypeScript): given the
// resources translation produced for one proxy and a described call, say which listener, filter chain, route
// config, virtual host, route and cluster Envoy would pick. It reads protobuf-es messages only and follows the
// Envoy API documentation (comments in src/xds/gen/envoy/**, copied from the .proto files) rule by rule:
// listener hand-off on original destination, FilterChainMatch narrowing, VirtualHost.domains search order,
// RouteMatch / HeaderMatcher semantics. It never runs a proxy and never mutates its input.

import { AssertionError } from 'node:assert';
import { BlockList, isIP } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { anyIs, anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { RE2JS } from 're2js';
import type { ProxyResources } from '../../src/translate/resources.js';
import { VIRTUAL_INBOUND_LISTENER, VIRTUAL_OUTBOUND_LISTENER, grpcListenerName } from '../../src/xds/names.js';
import type { Listener } from '../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import {
  FilterChainMatch_ConnectionSourceType as SourceType,
  type FilterChain,
  type FilterChainMatch,
  type ListenerFilterChainMatchPredicate,
} from '../../src/xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { Address, CidrRange } from '../../src/xds/gen/envoy/config/core/v3/address_pb.js';
import type { RouteConfiguration } from '../../src/xds/gen/envoy/config/route/v3/route_pb.js';
import {
  RedirectAction_RedirectResponseCode as RedirectCode,
  VirtualHost_TlsRequirementType as TlsRequirement,
  type HeaderMatcher,
  type RedirectAction,
  type Route,
  type RouteMatch,
  type VirtualHost,
} from '../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { StringMatcher } from '../../src/xds/gen/envoy/type/matcher/v3/string_pb.js';
import {
  HttpConnectionManagerSchema,
  HttpConnectionManager_CodecType as CodecType,
  type HttpConnectionManager,
} from '../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema, type TcpProxy } from '../../src/xds/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { DownstreamTlsContextSchema } from '../../src/xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';

export type CallMode = 'outbound' | 'inbound' | 'gateway' | 'proxyless';
export type CallProtocol = 'http' | 'http2' | 'grpc' | 'tcp' | 'tls';
export type TlsMode = 'plaintext' | 'tls' | 'mtls';

/** A request or connection as the proxy sees it. */
export interface Call {
  /** Destination port (the original destination for captured traffic). */
  readonly port: number;
  /** Destination IP; default `1.3.3.7`, an address no test names (as Istio's simulation). */
  readonly address?: string;
  /** `tls` is opaque TLS (TCP inside); `grpc` is HTTP/2 with content-type application/grpc. */
  readonly protocol: CallProtocol;
  /** Transport security the client uses; default `tls` for protocol `tls`, else `plaintext`. */
  readonly tls?: TlsMode;
  /** :authority; default empty. For proxyless calls, the target host (`${host}:${port}` names the listener). */
  readonly host?: string;
  /** Default for TLS calls: `host` (as Istio's simulation). */
  readonly sni?: string;
  /** Client ALPN list in preference order; defaults as Istio's simulation (`http/1.1`, `h2`, `istio-*`). */
  readonly alpn?: readonly string[];
  /** :path with query; default `/`. */
  readonly path?: string;
  /** :method; default GET. */
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Downstream source; default 10.10.10.10:54321 (external, not loopback). */
  readonly sourceAddress?: string;
  readonly sourcePort?: number;
  /** outbound (iptables to 15001, default), inbound (to 15006), gateway (no capture), proxyless (gRPC api_listener). */
  readonly callMode?: CallMode;
}

export type SimulationError =
  | 'invalid call'
  | 'no listener'
  | 'no filter chain'
  | 'multiple filter chains'
  | 'tls required'
  | 'mtls required'
  | 'protocol error'
  | 'no network filter'
  | 'no route config'
  | 'no virtual host'
  | 'tls redirect'
  | 'no route'
  | 'no cluster'
  | 'cluster not found'
  | 'invalid config'
  | 'unsupported';

export interface WeightedTarget {
  readonly name: string;
  readonly weight: number;
}

export interface RedirectResult {
  readonly responseCode: number;
  readonly scheme?: string;
  readonly host?: string;
  readonly port?: number;
  readonly path?: string;
  readonly prefixRewrite?: string;
  readonly stripQuery?: boolean;
}

/** The matched messages themselves, for assertions on fields the summary does not carry. */
export interface MatchedMessages {
  listener?: Listener;
  filterChain?: FilterChain;
  hcm?: HttpConnectionManager;
  tcpProxy?: TcpProxy;
  routeConfiguration?: RouteConfiguration;
  virtualHost?: VirtualHost;
  route?: Route;
}

export interface Result {
  listener?: string;
  /** The chain's name, `#<index>` for an unnamed one, `default_filter_chain` (or its name) for the default. */
  filterChain?: string;
  networkFilters?: string[];
  httpFilters?: string[];
  routeConfig?: string;
  virtualHost?: string;
  route?: string;
  /** The single upstream cluster of an HTTP route or a TCP proxy. */
  cluster?: string;
  weightedClusters?: WeightedTarget[];
  /** Set (with `cluster`) only when a tcp_proxy made the choice. */
  tcpCluster?: string;
  redirect?: RedirectResult;
  directResponse?: { status: number; body?: string };
  nonForwarding?: boolean;
  error?: SimulationError;
  /** Why the error, naming the resource and field. */
  detail?: string;
  /** One line per decision, for failure messages. */
  trace: string[];
  raw: MatchedMessages;
}

export interface SimulateOptions {
  /** Require routed clusters to exist in `resources.clusters` (Envoy: 503 NC otherwise). Default true. */
  readonly requireClusters?: boolean;
}

export const DEFAULT_ADDRESS = '1.3.3.7';
const DEFAULT_SOURCE = '10.10.10.10';
const HCM_NAME = 'envoy.filters.network.http_connection_manager';
const TCP_PROXY_NAME = 'envoy.filters.network.tcp_proxy';
const TLS_INSPECTOR = ['envoy.filters.listener.tls_inspector', 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector'];
const HTTP_INSPECTOR = ['envoy.filters.listener.http_inspector', 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector'];

class Stop extends Error {
  constructor(readonly kind: SimulationError, readonly why: string) {
    super(why);
  }
}

/** What the connection looks like after listener filters ran. */
interface Conn {
  readonly call: Call;
  readonly tls: TlsMode;
  readonly dst: string;
  readonly src: string;
  readonly srcPort: number;
  readonly transport: string;
  readonly sni: string;
  readonly alpn: readonly string[];
}

/** Runs `call` against `resources` the way Envoy would route it; never throws for routing outcomes. */
export function simulate(resources: ProxyResources, call: Call, opts: SimulateOptions = {}): Result {
  const r: Result = { trace: [], raw: {} };
  try {
    run(resources, call, r, opts.requireClusters ?? true);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    r.error = e.kind;
    r.detail = e.why;
    r.trace.push(`error: ${e.kind}: ${e.why}`);
  }
  return r;
}

function run(res: ProxyResources, call: Call, r: Result, requireClusters: boolean): void {
  const tls: TlsMode = call.tls ?? (call.protocol === 'tls' ? 'tls' : 'plaintext');
  if (call.protocol === 'tls' && tls === 'plaintext') throw new Stop('invalid call', 'protocol tls needs tls or mtls');
  if (call.alpn !== undefined && call.alpn.length > 0 && tls === 'plaintext') throw new Stop('invalid call', 'ALPN is only sent in TLS');
  const mode = call.callMode ?? 'outbound';
  if (mode === 'proxyless') return runProxyless(res, call, r, requireClusters);

  const dst = call.address ?? DEFAULT_ADDRESS;
  if (isIP(dst) === 0) throw new Stop('invalid call', `address ${dst} is not an IP`);
  const l = selectListener(res.listeners, mode, dst, call.port, r.trace);
  r.listener = l.name;
  r.raw.listener = l;

  const inspectTls = hasListenerFilter(l, TLS_INSPECTOR, call.port);
  let transport = 'raw_buffer';
  let sni = '';
  let alpn: readonly string[] = [];
  if (inspectTls && tls !== 'plaintext') {
    transport = 'tls';
    sni = call.sni ?? (tls === 'tls' ? stripPort(call.host ?? '') : '');
    alpn = call.alpn ?? defaultTlsAlpn(call.protocol, tls);
  }
  // http_inspector only looks at plaintext (Envoy: it skips connections whose transport was detected).
  if (tls === 'plaintext' && hasListenerFilter(l, HTTP_INSPECTOR, call.port)) {
    if (call.protocol === 'http') alpn = ['http/1.1'];
    else if (call.protocol === 'http2' || call.protocol === 'grpc') alpn = ['h2c'];
  }
  const conn: Conn = { call, tls, dst, src: call.sourceAddress ?? DEFAULT_SOURCE, srcPort: call.sourcePort ?? 54321, transport, sni, alpn };
  r.trace.push(`connection: transport=${transport} sni=${sni || '-'} alpn=[${alpn.join(',')}]`);

  const fc = selectFilterChain(l, conn, r.trace);
  r.raw.filterChain = fc.chain;
  r.filterChain = fc.label;
  r.networkFilters = fc.chain.filters.map((f) => f.name);

  const downstreamTls = fc.chain.transportSocket?.configType.case === 'typedConfig' ? fc.chain.transportSocket.configType.value : undefined;
  const terminatesTls = downstreamTls !== undefined && anyIs(downstreamTls, DownstreamTlsContextSchema);
  if (terminatesTls && tls === 'plaintext') throw new Stop('tls required', `filter chain ${fc.label} terminates TLS, the call is plaintext`);
  if (terminatesTls && tls !== 'mtls' && anyUnpack(downstreamTls, DownstreamTlsContextSchema)?.requireClientCertificate === true) {
    throw new Stop('mtls required', `filter chain ${fc.label} requires a client certificate`);
  }
  const inner: TlsMode = terminatesTls ? 'plaintext' : tls;

  for (const f of fc.chain.filters) {
    const cfg = f.configType.case === 'typedConfig' ? f.configType.value : undefined;
    if (cfg !== undefined ? anyIs(cfg, HttpConnectionManagerSchema) : f.name === HCM_NAME) {
      const hcm = unpack(cfg, HttpConnectionManagerSchema, `filter ${f.name} in chain ${fc.label}`);
      if (inner !== 'plaintext' || call.protocol === 'tcp' || call.protocol === 'tls') {
        throw new Stop('protocol error', `chain ${fc.label} speaks HTTP, the call is ${call.protocol}${inner !== 'plaintext' ? ' inside TLS' : ''}`);
      }
      if (hcm.codecType === CodecType.HTTP1 && call.protocol !== 'http') throw new Stop('protocol error', `HCM in ${fc.label} is HTTP/1 only`);
      if (hcm.codecType === CodecType.HTTP2 && call.protocol === 'http') throw new Stop('protocol error', `HCM in ${fc.label} is HTTP/2 only`);
      return routeHttp(res, hcm, conn, tls !== 'plaintext', r, requireClusters);
    }
    if (cfg !== undefined ? anyIs(cfg, TcpProxySchema) : f.name === TCP_PROXY_NAME) {
      const tcp = unpack(cfg, TcpProxySchema, `filter ${f.name} in chain ${fc.label}`);
      r.raw.tcpProxy = tcp;
      const spec = tcp.clusterSpecifier;
      if (spec.case === 'cluster') {
        r.cluster = spec.value;
        r.tcpCluster = spec.value;
      } else if (spec.case === 'weightedClusters') {
        r.weightedClusters = spec.value.clusters.map((c) => ({ name: c.name, weight: c.weight }));
      } else throw new Stop('invalid config', `tcp_proxy in chain ${fc.label} has no cluster`);
      checkClusters(res, r, requireClusters);
      return;
    }
  }
  throw new Stop('no network filter', `chain ${fc.label} has neither ${HCM_NAME} nor ${TCP_PROXY_NAME}`);
}

/** gRPC proxyless: the api_listener named after the target; the vhost is chosen by the target authority. */
function runProxyless(res: ProxyResources, call: Call, r: Result, requireClusters: boolean): void {
  if (call.host === undefined || call.host === '') throw new Stop('invalid call', 'proxyless calls need host');
  const name = call.host.includes(':') ? call.host : grpcListenerName(call.host, call.port);
  const l = res.listeners.find((x) => x.name === name);
  if (l?.apiListener?.apiListener === undefined) throw new Stop('no listener', `no api_listener named ${name}`);
  r.listener = l.name;
  r.raw.listener = l;
  const hcm = unpack(l.apiListener.apiListener, HttpConnectionManagerSchema, `api_listener of ${name}`);
  const conn: Conn = { call: { ...call, protocol: 'grpc', host: name }, tls: 'plaintext', dst: call.address ?? DEFAULT_ADDRESS, src: DEFAULT_SOURCE, srcPort: 54321, transport: 'raw_buffer', sni: '', alpn: [] };
  routeHttp(res, hcm, conn, false, r, requireClusters);
}

function unpack<D extends DescMessage>(cfg: Any | undefined, schema: D, where: string): MessageShape<D> {
  const m = cfg === undefined ? undefined : anyUnpack(cfg, schema);
  if (m === undefined) throw new Stop('invalid config', `${where}: typed_config is not ${schema.typeName}`);
  return m;
}

// ---- listeners ------------------------------------------------------------------------------------------

/**
 * Captured outbound traffic lands on virtualOutbound; with use_original_dst Envoy hands the connection to the
 * listener whose address is the original destination ip:port, else 0.0.0.0:port, else keeps it
 * (Listener.use_original_dst). Inbound capture lands on virtualInbound, which never hands off (Istio sets no
 * use_original_dst there). Without capture a connection reaches only listeners bound to the port.
 */
function selectListener(listeners: readonly Listener[], mode: CallMode, dst: string, port: number, trace: string[]): Listener {
  const byAddress = (bound: boolean): Listener | undefined => {
    const pool = listeners.filter((l) => l.apiListener === undefined && (!bound || l.bindToPort !== false));
    return pool.find((l) => listenerAddresses(l).some((a) => a.port === port && a.ip === dst)) ??
      pool.find((l) => listenerAddresses(l).some((a) => a.port === port && isWildcardFor(a.ip, dst)));
  };
  const capture = mode === 'outbound' ? VIRTUAL_OUTBOUND_LISTENER : mode === 'inbound' ? VIRTUAL_INBOUND_LISTENER : undefined;
  const virtual = capture === undefined ? undefined : listeners.find((l) => l.name === capture);
  if (virtual !== undefined) {
    if (mode === 'outbound' && virtual.useOriginalDst === true) {
      const target = byAddress(false);
      if (target !== undefined && target !== virtual) {
        trace.push(`listener ${target.name}: original destination ${dst}:${port} handed off from ${virtual.name}`);
        return target;
      }
    }
    trace.push(`listener ${virtual.name}: captured ${mode} traffic`);
    return virtual;
  }
  const bound = byAddress(true);
  if (bound === undefined) throw new Stop('no listener', `no listener bound to ${dst}:${port}${capture !== undefined ? ` and no ${capture}` : ''}`);
  trace.push(`listener ${bound.name}: bound to port ${port}`);
  return bound;
}

function listenerAddresses(l: Listener): { ip: string; port: number }[] {
  const out: { ip: string; port: number }[] = [];
  const add = (a: Address | undefined): void => {
    if (a?.address.case !== 'socketAddress') return;
    const s = a.address.value;
    if (s.portSpecifier.case === 'portValue') out.push({ ip: s.address, port: s.portSpecifier.value });
  };
  add(l.address);
  for (const extra of l.additionalAddresses) add(extra.address);
  return out;
}

function isWildcardFor(listenIp: string, dst: string): boolean {
  if (listenIp === '0.0.0.0') return isIP(dst) === 4;
  return listenIp === '::';
}

function hasListenerFilter(l: Listener, ids: readonly string[], port: number): boolean {
  return l.listenerFilters.some((f) => {
    const typeUrl = f.configType.case === 'typedConfig' ? f.configType.value.typeUrl : '';
    if (!ids.includes(f.name) && !ids.includes(typeUrl)) return false;
    return f.filterDisabled === undefined || !predicateMatches(f.filterDisabled, port);
  });
}

function predicateMatches(p: ListenerFilterChainMatchPredicate, port: number): boolean {
  switch (p.rule.case) {
    case 'orMatch':
      return p.rule.value.rules.some((x) => predicateMatches(x, port));
    case 'andMatch':
      return p.rule.value.rules.every((x) => predicateMatches(x, port));
    case 'notMatch':
      return !predicateMatches(p.rule.value, port);
    case 'anyMatch':
      return true;
    case 'destinationPortRange':
      return port >= p.rule.value.start && port < p.rule.value.end;
    default:
      return false;
  }
}

function defaultTlsAlpn(protocol: CallProtocol, tls: TlsMode): string[] {
  const h2 = protocol === 'http2' || protocol === 'grpc';
  if (tls === 'mtls') return [protocol === 'http' ? 'istio-http/1.1' : h2 ? 'istio-h2' : 'istio'];
  return protocol === 'http' ? ['http/1.1'] : h2 ? ['h2'] : [];
}

// ---- filter chains -------------------------------------------------------------------------------------

interface Candidate {
  readonly chain: FilterChain;
  readonly label: string;
  readonly m: FilterChainMatch | undefined;
}

/** A criterion's rank for one chain: undefined excludes it, 0 means the chain does not constrain it. */
type Ranker = (m: FilterChainMatch | undefined) => number | undefined;

/**
 * FilterChainMatch (listener_components.proto): criteria apply in order (destination port, destination IP,
 * server name, transport protocol, application protocols, direct source IP, source type, source IP, source
 * port); at each step only the chains that match most specifically continue, so Envoy never falls back to a
 * less specific chain once a more specific one matched an earlier criterion. No chain left: the listener's
 * default_filter_chain. Application protocols: the first ALPN in the client's list that some chain names wins
 * (Envoy FilterChainManagerImpl::findFilterChainForApplicationProtocols).
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#config-listener-v3-filterchainmatch
 */
function selectFilterChain(l: Listener, c: Conn, trace: string[]): { chain: FilterChain; label: string } {
  if (l.filterChainMatcher !== undefined) throw new Stop('unsupported', `listener ${l.name} uses filter_chain_matcher`);
  let left: Candidate[] = l.filterChains.map((chain, i) => ({ chain, label: chain.name !== '' ? chain.name : `#${i}`, m: chain.filterChainMatch }));
  const firstAlpn = c.alpn.find((a) => left.some((x) => x.m?.applicationProtocols.includes(a) === true));
  const local = isLoopback(c.src) || c.src === c.dst;
  const steps: [string, Ranker][] = [
    ['destination_port', (m) => (m?.destinationPort === undefined ? 0 : m.destinationPort === c.call.port ? 1 : undefined)],
    ['prefix_ranges', (m) => cidrRank(m?.prefixRanges ?? [], c.dst)],
    ['server_names', (m) => sniRank(m?.serverNames ?? [], c.sni)],
    ['transport_protocol', (m) => (m === undefined || m.transportProtocol === '' ? 0 : m.transportProtocol === c.transport ? 1 : undefined)],
    ['application_protocols', (m) => (m === undefined || m.applicationProtocols.length === 0 ? 0 : firstAlpn !== undefined && m.applicationProtocols.includes(firstAlpn) ? 1 : undefined)],
    ['direct_source_prefix_ranges', (m) => cidrRank(m?.directSourcePrefixRanges ?? [], c.src)],
    ['source_type', (m) => {
      const t = m?.sourceType ?? SourceType.ANY;
      if (t === SourceType.ANY) return 0;
      return (t === SourceType.SAME_IP_OR_LOOPBACK) === local ? 1 : undefined;
    }],
    ['source_prefix_ranges', (m) => cidrRank(m?.sourcePrefixRanges ?? [], c.src)],
    ['source_ports', (m) => (m === undefined || m.sourcePorts.length === 0 ? 0 : m.sourcePorts.includes(c.srcPort) ? 1 : undefined)],
  ];
  for (const [step, rank] of steps) {
    const before = left.length;
    let best = -1;
    let kept: Candidate[] = [];
    for (const x of left) {
      const v = rank(x.m);
      if (v === undefined) continue;
      if (v > best) [best, kept] = [v, [x]];
      else if (v === best) kept.push(x);
    }
    left = kept;
    if (left.length !== before) trace.push(`filter chains after ${step}: [${left.map((x) => x.label).join(', ')}]`);
    if (left.length === 0) break;
  }
  const only = left[0];
  if (left.length > 1) throw new Stop('multiple filter chains', `listener ${l.name}: chains ${left.map((x) => x.label).join(', ')} all match`);
  if (only !== undefined) {
    trace.push(`filter chain ${only.label}`);
    return only;
  }
  if (l.defaultFilterChain !== undefined) {
    const label = l.defaultFilterChain.name !== '' ? l.defaultFilterChain.name : 'default_filter_chain';
    trace.push(`filter chain ${label} (default)`);
    return { chain: l.defaultFilterChain, label };
  }
  throw new Stop('no filter chain', `listener ${l.name}: no filter chain matches and there is no default_filter_chain`);
}

/** Longest matching prefix wins; no ranges behaves like 0.0.0.0/0 and ::/0. */
function cidrRank(ranges: readonly CidrRange[], ip: string): number | undefined {
  if (ranges.length === 0) return 0;
  let best: number | undefined;
  for (const r of ranges) {
    const len = r.prefixLen ?? 0;
    if (cidrContains(r.addressPrefix, len, ip) && (best === undefined || len > best)) best = len;
  }
  return best;
}

function cidrContains(prefix: string, len: number, ip: string): boolean {
  const family = isIP(prefix);
  if (family === 0 || family !== isIP(ip)) return false;
  const list = new BlockList();
  list.addSubnet(prefix, len, family === 4 ? 'ipv4' : 'ipv6');
  return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || cidrContains('127.0.0.0', 8, ip);
}

/** server_names: exact, then `*.example.com`, then `*.com` (longer suffix is more specific). */
function sniRank(names: readonly string[], sni: string): number | undefined {
  if (names.length === 0) return 0;
  if (sni === '') return undefined;
  const host = sni.toLowerCase();
  let best: number | undefined;
  for (const n of names.map((x) => x.toLowerCase())) {
    if (n === host) return Number.MAX_SAFE_INTEGER;
    if (n.startsWith('*.') && host.endsWith(n.slice(1)) && host.length > n.length - 1 && (best === undefined || n.length > best)) best = n.length;
  }
  return best;
}

// ---- HTTP routing --------------------------------------------------------------------------------------

interface Req {
  readonly authority: string;
  readonly path: string;
  readonly pathOnly: string;
  readonly query: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly clientCert: boolean;
  readonly tls: boolean;
}

function routeHttp(res: ProxyResources, hcm: HttpConnectionManager, c: Conn, tls: boolean, r: Result, requireClusters: boolean): void {
  r.raw.hcm = hcm;
  r.httpFilters = hcm.httpFilters.map((f) => f.name);
  let rc: RouteConfiguration | undefined;
  switch (hcm.routeSpecifier.case) {
    case 'routeConfig':
      rc = hcm.routeSpecifier.value;
      if (rc.name !== '') r.routeConfig = rc.name;
      break;
    case 'rds': {
      const name = hcm.routeSpecifier.value.routeConfigName;
      r.routeConfig = name;
      rc = res.routes.find((x) => x.name === name);
      if (rc === undefined) throw new Stop('no route config', `RDS route config ${name} is not among the resources`);
      break;
    }
    default:
      throw new Stop('unsupported', `HCM route_specifier ${hcm.routeSpecifier.case ?? 'unset'}`);
  }
  r.raw.routeConfiguration = rc;
  if (rc.vhds !== undefined) throw new Stop('unsupported', `route config ${rc.name} uses vhds`);

  const req = buildRequest(hcm, c, tls);
  const vh = selectVirtualHost(rc, req.authority);
  r.virtualHost = vh.name;
  r.raw.virtualHost = vh;
  r.trace.push(`virtual host ${vh.name} for authority ${JSON.stringify(req.authority)}`);
  if (vh.requireTls !== TlsRequirement.NONE && !tls) throw new Stop('tls redirect', `virtual host ${vh.name} requires TLS (301 to https)`);
  if (vh.matcher !== undefined) throw new Stop('unsupported', `virtual host ${vh.name} uses matcher`);

  const route = vh.routes.find((x, i) => routeMatches(x, i, vh, req));
  if (route === undefined) throw new Stop('no route', `virtual host ${vh.name}: no route matches ${c.call.method ?? 'GET'} ${req.path}`);
  r.route = route.name;
  r.raw.route = route;
  r.trace.push(`route ${route.name !== '' ? route.name : `#${vh.routes.indexOf(route)}`}`);
  applyAction(route, req, r);
  checkClusters(res, r, requireClusters);
}

function buildRequest(hcm: HttpConnectionManager, c: Conn, tls: boolean): Req {
  const headers = new Map<string, string>();
  for (const [k, v] of Object.entries(c.call.headers ?? {})) headers.set(k.toLowerCase(), v);
  let authority = c.call.host ?? headers.get(':authority') ?? headers.get('host') ?? '';
  if (hcm.stripPortMode.case === 'stripAnyHostPort' && hcm.stripPortMode.value) authority = stripPort(authority);
  else if (hcm.stripMatchingHostPort && portOf(authority) === c.call.port) authority = stripPort(authority);
  let path = c.call.path ?? '/';
  const q = path.search(/[?#]/);
  let pathOnly = q < 0 ? path : path.slice(0, q);
  const query = q >= 0 && path[q] === '?' ? path.slice(q + 1).split('#')[0] ?? '' : '';
  if (hcm.mergeSlashes) pathOnly = pathOnly.replace(/\/{2,}/g, '/');
  if (hcm.normalizePath === true) pathOnly = removeDotSegments(pathOnly);
  path = pathOnly + (query !== '' ? `?${query}` : '');
  headers.set(':authority', authority);
  headers.set(':path', path);
  headers.set(':method', c.call.method ?? 'GET');
  headers.set(':scheme', tls ? 'https' : 'http');
  if (c.call.protocol === 'grpc' && !headers.has('content-type')) headers.set('content-type', 'application/grpc');
  return { authority, path, pathOnly, query, headers, clientCert: c.tls === 'mtls', tls };
}

/** RFC 3986 section 5.2.4, as Envoy's normalize_path. */
function removeDotSegments(p: string): string {
  const out: string[] = [];
  const segs = p.split('/');
  for (const [i, s] of segs.entries()) {
    if (s === '.') {
      if (i === segs.length - 1) out.push('');
    } else if (s === '..') {
      if (out.length > 1) out.pop();
      if (i === segs.length - 1) out.push('');
    } else out.push(s);
  }
  const joined = out.join('/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}

/**
 * VirtualHost.domains (route_components.proto): exact, then suffix wildcards (`*.foo.com`, `*-bar.foo.com`),
 * then prefix wildcards (`foo.*`), then `*`; longest wildcard first; a wildcard never matches the empty
 * string. Envoy lowercases the authority and compares `host:port` literally unless the route config sets
 * ignore_port_in_host_matching (Istio lists both `host` and `host:port` in domains).
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-virtualhost-domains
 */
function selectVirtualHost(rc: RouteConfiguration, authority: string): VirtualHost {
  let host = authority.toLowerCase();
  if (rc.ignorePortInHostMatching) host = stripPort(host);
  const all = rc.virtualHosts.flatMap((vh) => vh.domains.map((d) => ({ vh, d: d.toLowerCase() })));
  const exact = all.find((x) => x.d === host);
  if (exact !== undefined) return exact.vh;
  const wild = (kind: 'suffix' | 'prefix'): VirtualHost | undefined => {
    let best: { vh: VirtualHost; len: number } | undefined;
    for (const { vh, d } of all) {
      if (d === '*' || !(kind === 'suffix' ? d.startsWith('*') : d.endsWith('*'))) continue;
      const fixed = kind === 'suffix' ? d.slice(1) : d.slice(0, -1);
      const hit = host.length > fixed.length && (kind === 'suffix' ? host.endsWith(fixed) : host.startsWith(fixed));
      if (hit && (best === undefined || fixed.length > best.len)) best = { vh, len: fixed.length };
    }
    return best?.vh;
  };
  const found = wild('suffix') ?? wild('prefix') ?? all.find((x) => x.d === '*')?.vh;
  if (found === undefined) throw new Stop('no virtual host', `route config ${rc.name}: no domain matches ${JSON.stringify(authority)}`);
  return found;
}

/**
 * RouteMatch (route_components.proto): path specifiers see :path without query or fragment; case_sensitive
 * (default true) applies to prefix, path and path_separated_prefix, not to safe_regex, which must match the
 * whole path; every header and query matcher must hold; grpc needs content-type application/grpc[+...].
 * runtime_fraction has no randomness here: only a 0 numerator excludes the route.
 */
function routeMatches(route: Route, index: number, vh: VirtualHost, req: Req): boolean {
  const where = `virtual host ${vh.name} route ${route.name !== '' ? route.name : `#${index}`}`;
  const m: RouteMatch | undefined = route.match;
  if (m === undefined) throw new Stop('invalid config', `${where}: match is required`);
  const cs = m.caseSensitive ?? true;
  const fold = (s: string): string => (cs ? s : s.toLowerCase());
  const p = m.pathSpecifier;
  switch (p.case) {
    case 'prefix':
      if (!fold(req.pathOnly).startsWith(fold(p.value))) return false;
      break;
    case 'path':
      if (fold(req.pathOnly) !== fold(p.value)) return false;
      break;
    case 'pathSeparatedPrefix': {
      const path = fold(req.pathOnly);
      const pre = fold(p.value);
      if (path !== pre && !path.startsWith(`${pre}/`)) return false;
      break;
    }
    case 'safeRegex':
      if (!regex(p.value.regex, where).matches(req.pathOnly)) return false;
      break;
    case 'connectMatcher':
      if (req.headers.get(':method') !== 'CONNECT') return false;
      break;
    default:
      throw new Stop('unsupported', `${where}: path specifier ${p.case ?? 'unset'}`);
  }
  if (m.dynamicMetadata.length > 0) throw new Stop('unsupported', `${where}: dynamic_metadata match`);
  const rf = m.runtimeFraction?.defaultValue;
  if (rf !== undefined && rf.numerator === 0) return false;
  if (m.grpc !== undefined) {
    const ct = req.headers.get('content-type') ?? '';
    if (ct !== 'application/grpc' && !ct.startsWith('application/grpc+')) return false;
  }
  if (m.tlsContext !== undefined) {
    if (m.tlsContext.presented !== undefined && m.tlsContext.presented !== req.clientCert) return false;
    if (m.tlsContext.validated !== undefined && m.tlsContext.validated !== req.clientCert) return false;
  }
  if (!m.headers.every((h) => headerMatches(h, req.headers, where))) return false;
  return m.queryParameters.every((qp) => {
    const v = firstQueryValue(req.query, qp.name);
    if (v === undefined) return false;
    const s = qp.queryParameterMatchSpecifier;
    if (s.case === 'presentMatch') return s.value;
    if (s.case === 'stringMatch') return stringMatches(s.value, v, where);
    return true;
  });
}

/** The first value of `name`, not URL-decoded (Envoy matches the raw query string). */
function firstQueryValue(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    if (k === name) return eq < 0 ? '' : part.slice(eq + 1);
  }
  return undefined;
}

/**
 * HeaderMatcher (route_components.proto; Envoy HeaderUtility::matchHeaders): a missing header fails every rule
 * except present_match:false (or present_match:true when inverted), unless treat_missing_header_as_empty;
 * invert_match flips the result only for a header that is present or treated as empty.
 */
function headerMatches(h: HeaderMatcher, headers: ReadonlyMap<string, string>, where: string): boolean {
  const value = headers.get(h.name.toLowerCase());
  const s = h.headerMatchSpecifier;
  if (value === undefined && !h.treatMissingHeaderAsEmpty) {
    return s.case === 'presentMatch' && s.value === h.invertMatch;
  }
  const v = value ?? '';
  let ok: boolean;
  switch (s.case) {
    case 'exactMatch':
      ok = s.value === '' || v === s.value;
      break;
    case 'safeRegexMatch':
      ok = regex(s.value.regex, where).matches(v);
      break;
    case 'rangeMatch':
      ok = /^[+-]?\d+$/.test(v) && BigInt(v) >= s.value.start && BigInt(v) < s.value.end;
      break;
    case 'presentMatch':
      ok = s.value;
      break;
    case 'prefixMatch':
      ok = v.startsWith(s.value);
      break;
    case 'suffixMatch':
      ok = v.endsWith(s.value);
      break;
    case 'containsMatch':
      ok = v.includes(s.value);
      break;
    case 'stringMatch':
      ok = stringMatches(s.value, v, where);
      break;
    default:
      ok = value !== undefined;
  }
  return ok !== h.invertMatch;
}

/** StringMatcher (type/matcher/v3/string.proto): ignore_case applies to exact/prefix/suffix/contains, not regex. */
function stringMatches(m: StringMatcher, value: string, where: string): boolean {
  const p = m.matchPattern;
  const fold = (s: string): string => (m.ignoreCase ? s.toLowerCase() : s);
  switch (p.case) {
    case 'exact':
      return fold(value) === fold(p.value);
    case 'prefix':
      return fold(value).startsWith(fold(p.value));
    case 'suffix':
      return fold(value).endsWith(fold(p.value));
    case 'contains':
      return fold(value).includes(fold(p.value));
    case 'safeRegex':
      return regex(p.value.regex, where).matches(value);
    default:
      throw new Stop('unsupported', `${where}: string matcher ${p.case ?? 'unset'}`);
  }
}

const regexCache = new Map<string, RE2JS>();

/** RE2 with full-match semantics, as Envoy's safe_regex. */
function regex(pattern: string, where: string): RE2JS {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = RE2JS.compile(pattern);
    } catch (e) {
      throw new Stop('invalid config', `${where}: regex ${JSON.stringify(pattern)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    regexCache.set(pattern, re);
  }
  return re;
}

const REDIRECT_STATUS: Record<RedirectCode, number> = {
  [RedirectCode.MOVED_PERMANENTLY]: 301,
  [RedirectCode.FOUND]: 302,
  [RedirectCode.SEE_OTHER]: 303,
  [RedirectCode.TEMPORARY_REDIRECT]: 307,
  [RedirectCode.PERMANENT_REDIRECT]: 308,
};

function applyAction(route: Route, req: Req, r: Result): void {
  const where = `route ${route.name !== '' ? route.name : '(unnamed)'}`;
  const a = route.action;
  switch (a.case) {
    case 'route': {
      const spec = a.value.clusterSpecifier;
      if (spec.case === 'cluster') r.cluster = spec.value;
      else if (spec.case === 'clusterHeader') {
        const v = req.headers.get(spec.value.toLowerCase());
        if (v === undefined || v === '') throw new Stop('no cluster', `${where}: cluster_header ${spec.value} is missing`);
        r.cluster = v;
      } else if (spec.case === 'weightedClusters') {
        r.weightedClusters = spec.value.clusters.map((c) => ({
          name: c.clusterHeader !== '' ? (req.headers.get(c.clusterHeader.toLowerCase()) ?? '') : c.name,
          weight: c.weight ?? 0,
        }));
      } else throw new Stop('unsupported', `${where}: cluster specifier ${spec.case ?? 'unset'}`);
      return;
    }
    case 'redirect':
      r.redirect = redirectOf(a.value);
      return;
    case 'directResponse': {
      const b = a.value.body?.specifier;
      const body = b?.case === 'inlineString' ? b.value : b?.case === 'inlineBytes' ? new TextDecoder().decode(b.value) : undefined;
      r.directResponse = body === undefined ? { status: a.value.status } : { status: a.value.status, body };
      return;
    }
    case 'nonForwardingAction':
      r.nonForwarding = true;
      return;
    default:
      throw new Stop('unsupported', `${where}: action ${a.case ?? 'unset'}`);
  }
}

function redirectOf(a: RedirectAction): RedirectResult {
  const out: { -readonly [K in keyof RedirectResult]: RedirectResult[K] } = { responseCode: REDIRECT_STATUS[a.responseCode] ?? 301 };
  const s = a.schemeRewriteSpecifier;
  if (s.case === 'httpsRedirect' && s.value) out.scheme = 'https';
  else if (s.case === 'schemeRedirect') out.scheme = s.value;
  if (a.hostRedirect !== '') out.host = a.hostRedirect;
  if (a.portRedirect !== 0) out.port = a.portRedirect;
  const p = a.pathRewriteSpecifier;
  if (p.case === 'pathRedirect') out.path = p.value;
  else if (p.case === 'prefixRewrite') out.prefixRewrite = p.value;
  if (a.stripQuery) out.stripQuery = true;
  return out;
}

function checkClusters(res: ProxyResources, r: Result, required: boolean): void {
  if (!required) return;
  const names = r.weightedClusters?.map((w) => w.name) ?? (r.cluster !== undefined ? [r.cluster] : []);
  const missing = names.filter((n) => !res.clusters.some((c) => c.name === n));
  if (missing.length > 0) throw new Stop('cluster not found', `cluster ${missing.join(', ')} is not among the resources`);
}

function portOf(authority: string): number | undefined {
  const m = /:(\d+)$/.exec(authority);
  return m !== null && !authority.endsWith(']') ? Number(m[1]) : undefined;
}

function stripPort(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(':');
  return colon >= 0 && authority.indexOf(':') === colon && /^\d+$/.test(authority.slice(colon + 1)) ? authority.slice(0, colon) : authority;
}

// ---- assertions ----------------------------------------------------------------------------------------

type Summary = Omit<Result, 'trace' | 'raw'>;
/** Fields to check; a field given as undefined must be absent. `error` is always checked (absent: no error). */
export type Expectation = { [K in keyof Summary]?: Summary[K] | undefined };

/** Simulates `call` and fails with a readable message when any expected field differs. Returns the result. */
export function expectRoute(resources: ProxyResources, call: Call, expected: Expectation, opts: SimulateOptions = {}): Result {
  const got = simulate(resources, call, opts);
  const problems: string[] = [];
  const keys = new Set<keyof Summary>([...(Object.keys(expected) as (keyof Summary)[]), 'error']);
  for (const k of keys) {
    if (!isDeepStrictEqual(got[k], expected[k])) problems.push(`  ${k}: want ${show(expected[k])}, got ${show(got[k])}`);
  }
  if (problems.length > 0) {
    const { trace, raw: _raw, ...summary } = got;
    throw new AssertionError({
      message: [
        `simulate ${describeCall(call)}:`,
        ...problems,
        `result: ${JSON.stringify(summary)}`,
        'trace:',
        ...trace.map((t) => `  ${t}`),
      ].join('\n'),
    });
  }
  return got;
}

function show(v: unknown): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}

export function describeCall(c: Call): string {
  const mode = c.callMode ?? 'outbound';
  const target = mode === 'proxyless' ? `xds:///${c.host ?? ''}:${c.port}` : `${c.address ?? DEFAULT_ADDRESS}:${c.port}`;
  const parts = [`${mode} ${c.protocol}${c.tls !== undefined && c.tls !== 'plaintext' ? `+${c.tls}` : ''} to ${target}`];
  if (c.host !== undefined && mode !== 'proxyless') parts.push(`host=${c.host}`);
  if (c.sni !== undefined) parts.push(`sni=${c.sni}`);
  if (c.protocol !== 'tcp' && c.protocol !== 'tls') parts.push(`${c.method ?? 'GET'} ${c.path ?? '/'}`);
  if (c.headers !== undefined) parts.push(`headers=${JSON.stringify(c.headers)}`);
  return parts.join(' ');
}
