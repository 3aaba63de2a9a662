// simulate(): the walk from a call to a Result. Validates the call, picks the listener (or, for proxyless
// gRPC, the api_listener named after the target), works out what the listener filters see, picks the filter
// chain, checks downstream TLS, then hands off to the HCM (http.ts) or records the tcp_proxy cluster.
// Routing outcomes end in a Stop and are returned, never thrown.

import { isIP } from 'node:net';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { anyIs, anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import type { ProxyResources } from '../../../src/translate/resources.js';
import { grpcListenerName } from '../../../src/xds/names.js';
import {
  HttpConnectionManagerSchema,
  HttpConnectionManager_CodecType as CodecType,
} from '../../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../../src/xds/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { DownstreamTlsContextSchema } from '../../../src/xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { stripPort } from './authority.js';
import { checkClusters } from './check-clusters.js';
import { selectFilterChain } from './filter-chain.js';
import { routeHttp } from './http.js';
import { HTTP_INSPECTOR, TLS_INSPECTOR, defaultTlsAlpn, hasListenerFilter, selectListener } from './listener-select.js';
import { Stop } from './stop.js';
import { DEFAULT_ADDRESS, type Call, type Conn, type Result, type SimulateOptions, type TlsMode } from './types.js';

const DEFAULT_SOURCE = '10.10.10.10';
const HCM_NAME = 'envoy.filters.network.http_connection_manager';
const TCP_PROXY_NAME = 'envoy.filters.network.tcp_proxy';

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
