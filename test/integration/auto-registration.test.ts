// WorkloadGroup auto-registration through the real control plane: a proxy that connects with
// AUTO_REGISTER_GROUP becomes an endpoint of the services selecting the group's labels while connected.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_KINDS } from '../../src/api/kinds.js';
import { createKindRegistry } from '../../src/api/kind.js';
import { startControlPlane } from '../../src/cli/control-plane.js';
import { CLUSTER_TYPE } from '../../src/xds/type-urls.js';
import { adsClient, openSotw, sidecarNode, sotwRequest } from '../support/xds-server/ads-client.js';
import { waitFor } from '../support/wait.js';

const CONFIG = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: legacy, namespace: vms}
spec:
  hosts: [legacy.vms.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  workloadSelector: {labels: {app: legacy}}
  ports: [{number: 80, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: legacy, namespace: vms}
spec:
  metadata: {labels: {app: legacy}}
  template: {serviceAccount: legacy-sa, ports: {http: 8080}}
`;

describe('WorkloadGroup auto-registration', () => {
  it('registers a connecting proxy as a workload of its group, and removes it when it leaves', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-autoreg-'));
    await writeFile(join(dir, 'config.yaml'), CONFIG);
    const cp = await startControlPlane({ configDir: dir, registry: createKindRegistry(ALL_KINDS), xdsPort: 0, monitoringPort: 0, debounceMs: 10 });
    const client = adsClient(cp.xdsAddress);
    t.after(async () => {
      client.close();
      await cp.close();
      await rm(dir, { recursive: true, force: true });
    });
    const stream = openSotw(client);
    stream.send(sotwRequest({ node: sidecarNode('vm-1', 'vms', '10.9.0.7', { AUTO_REGISTER_GROUP: 'legacy' }), typeUrl: CLUSTER_TYPE }));
    await stream.next('CDS', 10_000);
    const w = await waitFor(() => cp.workloads.list().find((x) => x.name === 'legacy-10-9-0-7'), 'the auto-registered workload');
    assert.equal(w.namespace, 'vms');
    assert.equal(w.serviceAccount, 'legacy-sa');
    assert.equal(w.labels['app'], 'legacy');
    const eps = await waitFor(() => {
      const e = cp.snapshot().endpoints('legacy.vms.internal', 80);
      return e.length > 0 ? e : undefined;
    }, 'the endpoint in the snapshot');
    assert.deepEqual(eps.map((e) => `${e.address}:${e.port} ${e.serviceAccount}`), ['10.9.0.7:8080 legacy-sa']);

    // A proxy naming a group that does not exist is not registered (and its stream keeps working).
    const other = openSotw(client);
    other.send(sotwRequest({ node: sidecarNode('vm-2', 'vms', '10.9.0.8', { AUTO_REGISTER_GROUP: 'nope' }), typeUrl: CLUSTER_TYPE }));
    await other.next('CDS for the second proxy', 10_000);
    assert.equal(cp.workloads.list().length, 1);

    stream.close();
    await waitFor(() => cp.workloads.list().every((x) => x.name !== 'legacy-10-9-0-7'), 'the workload to go with its proxy');
    other.close();
  });
});
