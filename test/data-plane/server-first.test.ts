// A server-first TCP protocol (the server speaks first, as MySQL, SMTP or FTP do) behind a sidecar, on a port
// whose mTLS a PeerAuthentication disables: Istio disables the listener's TLS and HTTP inspectors for that
// port (filter_disabled), so the connection goes to the app at once and the app's greeting reaches the
// client. Before the proxy honoured filter_disabled, the inbound listener waited for the client's first bytes
// to sniff TLS, the client waited for the greeting, and neither spoke.
// https://istio.io/latest/docs/ops/deployment/application-requirements/#server-first-protocols

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { freePort, startMesh, startTestProxy } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';

const DB_IP = '127.0.14.2';

it('a server-first protocol on a port with mTLS DISABLE: the app’s greeting reaches a plaintext client through the inbound listener', async (t) => {
  const target = await freePort();
  const app = createServer((s) => {
    s.write('220 db ready\r\n');
    s.on('data', (d: Buffer) => s.write(`echo ${d.toString()}`));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => app.listen(target, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => app.close(() => r())));
  const mesh = await startMesh(t, {
    'svc.yaml': `apiVersion: v1
kind: Service
metadata: {name: db, namespace: default}
spec:
  selector: {app: db}
  ports: [{name: tcp-db, port: 3306, targetPort: ${target}}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: db, namespace: default}
spec:
  selector: {matchLabels: {app: db}}
  mtls: {mode: PERMISSIVE}
  portLevelMtls:
    ${target}: {mode: DISABLE}
`,
  });
  mesh.cp.workloads.register({ name: 'db-v1', namespace: 'default', address: DB_IP, labels: { app: 'db' }, serviceAccount: 'db', ports: { 'tcp-db': target }, tlsMode: 'istio' });
  await startTestProxy(t, mesh, { node: 'db-v1', ip: DB_IP, labels: { app: 'db' }, serviceAccount: 'db' });

  // A client outside the mesh connects to the pod's port and waits for the server to speak.
  const got = await waitFor(
    () =>
      new Promise<string | undefined>((resolve) => {
        const c = connect(target, DB_IP);
        let text = '';
        const timer = setTimeout(() => {
          c.destroy();
          resolve(undefined);
        }, 2000);
        c.on('data', (d: Buffer) => {
          text += d.toString();
          if (text === '220 db ready\r\n') c.write('hello');
          else if (text.endsWith('echo hello')) {
            clearTimeout(timer);
            c.destroy();
            resolve(text);
          }
        });
        c.on('error', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      }),
    'the greeting through the sidecar',
    15_000,
  );
  assert.equal(got, '220 db ready\r\necho hello');
});
