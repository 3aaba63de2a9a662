import { generateMesh } from './mesh-generator.js';
import { snapshotFromConfig } from '../src/model/build-snapshot.js';
import { parseProxy } from '../src/model/proxy.js';
import { LocalWorkloads } from '../src/registry/local-workloads.js';
import { translate } from '../src/translate/translate.js';
const mesh = generateMesh(1000, 5, 10);
const local = new LocalWorkloads();
for (const w of mesh.workloads) local.register(w);
const snap = snapshotFromConfig(mesh.entries, { localWorkloads: local.list() });
for (let i = 0; i < 3; i++) {
  const p = parseProxy({ id: `sidecar~10.200.0.${i}~client-${i}.ns-${i}~ns-${i}.svc.cluster.local`, metadata: { NAMESPACE: `ns-${i}`, LABELS: { app: `client-${i}` } } });
  if (p.ok) { const r = translate(snap, p.value); console.log(r.clusters.length, r.endpoints.length, r.listeners.length, r.routes.length, r.routes.map(x=>x.virtualHosts.length).join(',')); }
}
