// An app that listens on a Unix domain socket, behind its sidecar: a Sidecar resource's ingress listener with
// `defaultEndpoint: unix://<path>` becomes an inbound cluster whose endpoint is a pipe address, and the
// proxy connects to the socket. Before, the endpoint was dropped (only socket addresses were read) and every
// request was answered 503 with no NACK. https://istio.io/latest/docs/reference/config/networking/sidecar/#IstioIngressListener
// (Istio's util.BuildAddress strips the `unix://` scheme from the pipe's path, as the translation now does.)

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, send, startMesh, startTestProxy } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';

const IP = '127.0.16.2';

it('a Sidecar ingress defaultEndpoint unix://path: requests to the port reach the app on its socket', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-uds-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const sock = join(dir, 'app.sock');
  const app = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`uds ${req.url ?? ''}`);
  });
  await new Promise<void>((r) => app.listen(sock, () => r()));
  t.after(() => new Promise<void>((r) => app.close(() => r())));
  const port = await freePort(IP);
  const mesh = await startMesh(t, {
    'svc.yaml': `apiVersion: v1
kind: Service
metadata: {name: uds, namespace: default}
spec:
  selector: {app: uds}
  ports: [{name: http, port: ${port}, targetPort: ${port}}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: uds, namespace: default}
spec:
  workloadSelector: {labels: {app: uds}}
  ingress:
  - port: {number: ${port}, protocol: HTTP, name: http}
    defaultEndpoint: unix://${sock}
`,
  });
  mesh.cp.workloads.register({ name: 'uds-v1', namespace: 'default', address: IP, labels: { app: 'uds' }, serviceAccount: 'uds', ports: { http: port }, tlsMode: 'istio' });
  await startTestProxy(t, mesh, { node: 'uds-v1', ip: IP, labels: { app: 'uds' }, serviceAccount: 'uds' });
  const r = await waitFor(async () => {
    const x = await send(IP, port, { path: '/hello', authority: 'uds.default.svc.cluster.local' }).catch(() => undefined);
    return x?.status === 200 ? x : undefined;
  }, 'a 200 from the app on its socket', 15_000);
  assert.equal(r.body, 'uds /hello');
});
