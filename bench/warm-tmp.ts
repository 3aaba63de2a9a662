import { generateMesh } from '/work/main/bench/mesh-generator.js';
import { snapshotFromConfig } from '/work/main/src/model/build-snapshot.js';
import { parseProxy } from '/work/main/src/model/proxy.js';
import { LocalWorkloads } from '/work/main/src/registry/local-workloads.js';
import { buildProxyContext } from '/work/main/src/translate/context.js';
import { buildClusters } from '/work/main/src/translate/cluster/build-clusters.js';
import { buildEndpoints } from '/work/main/src/translate/endpoint/build-endpoints.js';
import { buildListenersWithIssues } from '/work/main/src/translate/listener/build-listeners.js';
const N = Number(process.env.N ?? 100);
const mesh = generateMesh(1000, 5, 10);
const local = new LocalWorkloads();
for (const w of mesh.workloads) local.register(w);
const snap = snapshotFromConfig(mesh.entries, { localWorkloads: local.list() });
const proxies = Array.from({ length: N }, (_, i) => { const ns = `ns-${i % 10}`; const p = parseProxy({ id: `sidecar~10.200.0.${i}~client-${i}.${ns}~${ns}.svc.cluster.local`, metadata: { NAMESPACE: ns, LABELS: { app: `client-${i}` } } }); if (!p.ok) throw new Error(); return p.value; });
for (const p of proxies.slice(0, 10)) { const ctx = buildProxyContext(snap, p); buildEndpoints(ctx, buildClusters(ctx)); }
const t = performance.now();
for (const p of proxies) { const ctx = buildProxyContext(snap, p); const c = buildClusters(ctx); buildEndpoints(ctx, c); buildListenersWithIssues(ctx); }
console.log('warm ctx+clusters+endpoints+listeners ms/proxy', ((performance.now() - t) / N).toFixed(1));
