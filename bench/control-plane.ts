// Control-plane benchmark (issue 3): a generated mesh of 1,000 services, 5,000 endpoints and 100 connected
// proxies. Measures snapshot build, full translation for every proxy, memory, and the time from one
// service changing (a workload added) to every affected proxy acknowledging the push, with real ADS
// streams over loopback gRPC, and how a change no proxy can see is handled (every proxy keeps its
// generation). There is no native control plane to run here; istiod's published figure for this size is
// about one core (istio.io performance page), quoted for comparison, not measured.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { snapshotFromConfig } from '../src/model/build-snapshot.js';
import { parseProxy, type Proxy } from '../src/model/proxy.js';
import { LocalWorkloads } from '../src/registry/local-workloads.js';
import { translate } from '../src/translate/translate.js';
import { DiscoveryServer, listenAds } from '../src/xds-server/index.js';
import { generateMesh } from './mesh-generator.js';
import { startLoadClients } from './load-clients.js';

const SERVICES = Number(process.env["BENCH_SERVICES"] ?? 1000);
const ENDPOINTS_PER_SERVICE = 5;
const NAMESPACES = 10;
const PROXIES = Number(process.env["BENCH_PROXIES"] ?? 100);

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
  global.gc?.();
  log(`  heap after snapshot + translation (retained): +${mb(process.memoryUsage().heapUsed - heap0)} MB, RSS ${mb(process.memoryUsage().rss)} MB`);

  const ds = new DiscoveryServer({ translate, snapshot, debounceAfterMs: 100 });
  const ads = await listenAds(ds, { port: 0 });
  // The proxies run in a child process, so their decoding does not share this process's core.
  const load = startLoadClients(ads.address, proxies.length, mesh.namespaces);
  const synced = await load.next();
  log(`  ${PROXIES} proxies connected and synced (CDS, EDS, LDS, RDS): ${synced} ms`);

  const translations = ds.translateCount;
  load.mark();
  local.register({ name: 'svc-7-new', namespace: mesh.namespaces[7 % NAMESPACES] as string, address: '10.250.0.1', labels: { app: 'svc-7', version: 'v1' }, ports: { http: 8080 } });
  ds.configChanged(() => snapshotFromConfig(mesh.entries, { localWorkloads: local.list(), version: '2' }));
  const converged = await load.next();
  log(`  one service changed -> every proxy acked the new endpoints: ${converged} ms (includes the 100 ms debounce)`);
  log(`    retranslated ${ds.translateCount - translations} proxies, kept ${ds.reuseCount} generations`);

  // A change no proxy can see (a workload no service selects): every proxy keeps its generation.
  const [translated, kept] = [ds.translateCount, ds.reuseCount];
  t = performance.now();
  local.register({ name: 'idle', namespace: mesh.namespaces[0] as string, address: '10.250.0.2', labels: { app: 'nothing-selects-this' } });
  ds.configChanged(() => snapshotFromConfig(mesh.entries, { localWorkloads: local.list(), version: '3' }));
  const deadline = performance.now() + 60_000;
  while (ds.translateCount - translated + ds.reuseCount - kept < PROXIES && performance.now() < deadline) await sleep(5);
  log(`  a change no proxy sees: ${ds.reuseCount - kept} proxies kept their generation, ${ds.translateCount - translated} retranslated, ${(performance.now() - t).toFixed(0)} ms (includes the 100 ms debounce)`);
  await load.close();
  await ads.close();
  log(`  istiod reference: ~1 vCPU for 1,000 services / 2,000 sidecars (istio.io performance page); not run here`);
}
