import { generateMesh } from './mesh-generator.js';
import { snapshotFromConfig } from '../src/model/build-snapshot.js';
const mesh = generateMesh(20, 1, 2);
const snap = snapshotFromConfig(mesh.entries, {});
for (const h of ['svc-0.ns-0.svc.cluster.local', 'svc-5.ns-1.svc.cluster.local', 'svc-10.ns-0.svc.cluster.local']) {
  console.log(h, snap.serviceFor(h, 'ns-0')?.namespace, snap.destinationRule({ namespace: 'ns-0', labels: {}, ipAddresses: [] }, h)?.ref.name, snap.destinationRule({ namespace: 'ns-1', labels: {}, ipAddresses: [] }, h)?.ref.name);
}
