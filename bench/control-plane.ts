// Control-plane benchmark (issue 3): a generated mesh of 1,000 services, 5,000 endpoints and 100 connected
// proxies. Measures snapshot build, full translation for every proxy, memory, and the time from one
// service changing (a workload added) to every affected proxy acknowledging the push, with real ADS
// streams over loopback gRPC. There is no native control plane to run here; istiod's published figure
// for this size is about one core (istio.io performance page), quoted for comparison, not measured.

import { performance } from 'node:perf_hooks';
import { create } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { Client, credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { ADS_SERVICE } from '../src/xds/ads-service.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../src/xds/type-urls.js';
import { DiscoveryRequestSchema, type DiscoveryRequest, type DiscoveryResponse } from '../src/xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { ClusterSchema } from '../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema } from '../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema } from '../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { snapshotFromConfig } from '../src/model/build-snapshot.js';
import { parseProxy, type Proxy } from '../src/model/proxy.js';
import { LocalWorkloads } from '../src/registry/local-workloads.js';
import { translate } from '../src/translate/translate.js';
import { DiscoveryServer, listenAds } from '../src/xds-server/index.js';
import { generateMesh } from './mesh-generator.js';

const SERVICES = 1000;
const ENDPOINTS_PER_SERVICE = 5;
const NAMESPACES = 10;
const PROXIES = 100;

function mb(n: number): string {
  return (n / 1024 / 1024).toFixed(0);
}

function proxyNode(i: number, namespaces: readonly string[]): { id: string; metadata: Record<string, unknown> } {
  const ns = namespaces[i % namespaces.length] as string;
  return {
    id: `sidecar~10.200.${Math.floor(i / 250)}.${i % 250}~client-${i}.${ns}~${ns}.svc.cluster.local`,
    metadata: { NAMESPACE: ns, LABELS: { app: `client-${i}` }, SERVICE_ACCOUNT: 'default' },
  };
}

/** An Envoy-like SotW client: wildcard CDS and LDS, then EDS and RDS for what they name; ACKs everything. */
class BenchProxy {
  private readonly call: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  private readonly names = new Map<string, string[]>();
  lastEdsAck = 0;
  ready: Promise<void>;

  constructor(client: Client, node: { id: string; metadata: Record<string, unknown> }) {
    this.call = client.makeBidiStreamRequest(ADS_SERVICE.StreamAggregatedResources.path, ADS_SERVICE.StreamAggregatedResources.requestSerialize, ADS_SERVICE.StreamAggregatedResources.responseDeserialize);
    let resolveReady!: () => void;
    this.ready = new Promise((r) => (resolveReady = r));
    const seen = new Set<string>();
    this.call.on('data', (res: DiscoveryResponse) => {
      const t = res.typeUrl;
      this.send(t, this.names.get(t) ?? [], res.versionInfo, res.nonce);
      if (t === CLUSTER_TYPE) {
        const eds = res.resources.map((a) => anyUnpack(a, ClusterSchema)).filter((c) => c?.edsClusterConfig !== undefined).map((c) => c?.edsClusterConfig?.serviceName || c?.name || '');
        this.send(ENDPOINT_TYPE, eds, '', '');
      } else if (t === LISTENER_TYPE) {
        const rds = new Set<string>();
        for (const a of res.resources) {
          const l = anyUnpack(a, ListenerSchema);
          for (const fc of l?.filterChains ?? [])
            for (const f of fc.filters) {
              if (f.configType.case !== 'typedConfig') continue;
              const h = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
              if (h?.routeSpecifier.case === 'rds') rds.add(h.routeSpecifier.value.routeConfigName);
            }
        }
        this.send(ROUTE_TYPE, [...rds].sort(), '', '');
      } else if (t === ENDPOINT_TYPE) {
        this.lastEdsAck = performance.now();
      }
      seen.add(t);
      if (seen.has(CLUSTER_TYPE) && seen.has(ENDPOINT_TYPE) && seen.has(LISTENER_TYPE) && seen.has(ROUTE_TYPE)) resolveReady();
    });
    this.call.on('error', () => undefined);
    this.call.write(create(DiscoveryRequestSchema, { node: { id: node.id, metadata: node.metadata as never }, typeUrl: CLUSTER_TYPE }));
    this.call.write(create(DiscoveryRequestSchema, { typeUrl: LISTENER_TYPE }));
  }

  private send(typeUrl: string, names: string[], version: string, nonce: string): void {
    if (nonce === '' && JSON.stringify(this.names.get(typeUrl)) === JSON.stringify(names)) return;
    this.names.set(typeUrl, names);
    this.call.write(create(DiscoveryRequestSchema, { typeUrl, resourceNames: names, versionInfo: version, responseNonce: nonce }));
  }

  close(): void {
    this.call.end();
  }
}

export async function benchControlPlane(log: (line: string) => void): Promise<void> {
  log(`control plane: ${SERVICES} services, ${SERVICES * ENDPOINTS_PER_SERVICE} endpoints, ${PROXIES} proxies`);
  let t = performance.now();
  const mesh = generateMesh(SERVICES, ENDPOINTS_PER_SERVICE, NAMESPACES);
  log(`  load + validate ${mesh.entries.length} resources: ${(performance.now() - t).toFixed(0)} ms`);
  const local = new LocalWorkloads();
  for (const w of mesh.workloads) local.register(w);
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  t = performance.now();
  const snapshot = snapshotFromConfig(mesh.entries, { localWorkloads: local.list(), version: '1' });
  log(`  snapshot build: ${(performance.now() - t).toFixed(0)} ms`);
  const proxies: Proxy[] = [];
  for (let i = 0; i < PROXIES; i++) {
    const p = parseProxy(proxyNode(i, mesh.namespaces));
    if (!p.ok) throw new Error('bad proxy');
    proxies.push(p.value);
  }
  t = performance.now();
  let resources = 0;
  const cpu0 = process.cpuUsage();
  for (const p of proxies) {
    const r = translate(snapshot, p);
    resources += r.clusters.length + r.endpoints.length + r.listeners.length + r.routes.length;
  }
  const ms = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  log(`  full translation, ${PROXIES} proxies: ${ms.toFixed(0)} ms (${(ms / PROXIES).toFixed(1)} ms/proxy, ${(resources / PROXIES).toFixed(0)} resources/proxy, CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms)`);
  log(`  heap after snapshot + translation: +${mb(process.memoryUsage().heapUsed - heap0)} MB, RSS ${mb(process.memoryUsage().rss)} MB`);

  const ds = new DiscoveryServer({ translate, snapshot, debounceAfterMs: 100 });
  const ads = await listenAds(ds, { port: 0 });
  const client = new Client(ads.address, credentials.createInsecure(), { 'grpc.max_receive_message_length': 256 * 1024 * 1024 });
  t = performance.now();
  const clients = proxies.map((_, i) => new BenchProxy(client, proxyNode(i, mesh.namespaces)));
  await Promise.all(clients.map((c) => c.ready));
  log(`  ${PROXIES} proxies connected and synced (CDS, EDS, LDS, RDS): ${(performance.now() - t).toFixed(0)} ms`);

  const changed = performance.now();
  local.register({ name: 'svc-7-new', namespace: mesh.namespaces[7 % NAMESPACES] as string, address: '10.250.0.1', labels: { app: 'svc-7', version: 'v1' }, ports: { http: 8080 } });
  ds.configChanged(() => snapshotFromConfig(mesh.entries, { localWorkloads: local.list(), version: '2' }));
  const deadline = Date.now() + 120_000;
  while (clients.some((c) => c.lastEdsAck < changed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const acked = clients.filter((c) => c.lastEdsAck >= changed);
  const last = Math.max(...acked.map((c) => c.lastEdsAck));
  log(`  one service changed -> all ${acked.length}/${PROXIES} affected proxies acked: ${(last - changed).toFixed(0)} ms (includes the 100 ms debounce)`);
  for (const c of clients) c.close();
  client.close();
  await ads.close();
  log(`  istiod reference: ~1 vCPU for 1,000 services / 2,000 sidecars (istio.io performance page); not run here`);
}
