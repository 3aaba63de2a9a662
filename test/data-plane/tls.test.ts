// TLS at the gateway: passthrough routed by SNI to the right backend (the proxy never terminates it), and
// TLS origination to an upstream by a DestinationRule (SIMPLE), with SNI sent and the upstream's reply
// relayed.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { crlRevoking, secretYaml, selfSigned, signedBy, type TestCert } from '../translate/secret/certs.js';
import { freePort, send, startMesh, startTestProxy } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';

async function httpsBackend(t: import('node:test').TestContext, name: string, seenSni: string[], cert?: TestCert): Promise<number> {
  const c = cert ?? selfSigned(`${name}.example.com`);
  const server = createHttpsServer({ cert: c.cert, key: c.key }, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${name} ${req.url ?? ''}`);
  });
  server.on('secureConnection', (s) => seenSni.push((s as unknown as { servername?: string }).servername ?? ''));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** GET over TLS to the gateway port with the given SNI; returns the HTTP response text. */
function tlsGet(port: number, sni: string, path: string): Promise<string> {
  return new Promise((ok, fail) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: sni, rejectUnauthorized: false }, () => s.write(`GET ${path} HTTP/1.1\r\nhost: ${sni}\r\nconnection: close\r\n\r\n`));
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('end', () => ok(out));
    s.on('close', () => ok(out));
    s.on('error', fail);
  });
}

/**
 * An ingress gateway on `port` that originates TLS (a DestinationRule `tls` per backend, as YAML) to HTTPS
 * backends on 127.0.0.1: `/<name>...` reaches `<name>.example.com`, the last backend takes everything else;
 * each request's host is its backend's name (what auto_sni and auto_san_validation check). Resolves once the
 * gateway is ready.
 */
async function originatingGateway(t: import('node:test').TestContext, port: number, backends: readonly { name: string; port: number; tls: string }[], files: Record<string, string> = {}): Promise<void> {
  const entry = (b: { name: string; port: number; tls: string }): string => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${b.name}, namespace: istio-system}
spec:
  hosts: [${b.name}.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 443, name: https, protocol: HTTPS}]
  endpoints: [{address: 127.0.0.1, ports: {https: ${b.port}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${b.name}, namespace: istio-system}
spec:
  host: ${b.name}.example.com
  trafficPolicy: {tls: ${b.tls}}
---
`;
  const route = (b: { name: string }, match: boolean): string =>
    `${match ? `  - match: [{uri: {prefix: /${b.name}}}]\n    route` : '  - route'}: [{destination: {host: ${b.name}.example.com, port: {number: 443}}}]\n    headers: {request: {set: {host: ${b.name}.example.com}}}\n`;
  const mesh = await startMesh(t, {
    'gw.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: ${port}, name: http, protocol: HTTP}, hosts: ["*"]}]
---
${backends.map(entry).join('')}apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
${backends.map((b, i) => route(b, i < backends.length - 1)).join('')}`,
    ...files,
  });
  await startTestProxy(t, mesh, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' } });
}

/** Two HTTPS backends with certificates of one CA: `kept`, and `revoked`, which the tests' CRL revokes. */
async function crlBackends(t: import('node:test').TestContext): Promise<{ ca: TestCert; revokedCert: TestCert; kept: number; revoked: number }> {
  const ca = selfSigned('upstream-ca.example.com');
  const revokedCert = signedBy('revoked.example.com', ca, ['DNS:revoked.example.com']);
  const kept = await httpsBackend(t, 'kept', [], signedBy('kept.example.com', ca, ['DNS:kept.example.com']));
  const revoked = await httpsBackend(t, 'revoked', [], revokedCert);
  return { ca, revokedCert, kept, revoked };
}

/** Through the gateway on `port`: `/kept` reaches its backend over verified TLS, `/revoked` is refused (503, the TLS error). */
async function expectRevokedRefused(port: number): Promise<void> {
  const r = await waitFor(async () => {
    const x = await send('127.0.0.1', port, { path: '/kept' }).catch(() => undefined);
    return x?.status === 200 ? x : undefined;
  }, 'the gateway to originate verified TLS', 10_000);
  assert.equal(r.body, 'kept /kept');
  const refused = await send('127.0.0.1', port, { path: '/revoked' });
  assert.equal(refused.status, 503);
  assert.match(refused.body, /transport failure reason: TLS error: .*revoked/);
}

describe('TLS through the gateway', () => {
  it('passes TLS through by SNI to the matching backend', async (t) => {
    const sni: string[] = [];
    const a = await httpsBackend(t, 'alpha', sni);
    const b = await httpsBackend(t, 'beta', sni);
    const port = await freePort();
    const mesh = await startMesh(t, {
      'tls.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: ${port}, name: tls, protocol: TLS}, tls: {mode: PASSTHROUGH}, hosts: [alpha.example.com, beta.example.com]}]
---
${['alpha', 'beta']
  .map(
    (n, i) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${n}, namespace: istio-system}
spec:
  hosts: [${n}.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 443, name: tls, protocol: TLS}]
  endpoints: [{address: 127.0.0.1, ports: {tls: ${i === 0 ? a : b}}}]
---
`,
  )
  .join('')}apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: istio-system}
spec:
  hosts: [alpha.example.com, beta.example.com]
  gateways: [gw]
  tls:
  - match: [{sniHosts: [alpha.example.com]}]
    route: [{destination: {host: alpha.example.com, port: {number: 443}}}]
  - match: [{sniHosts: [beta.example.com]}]
    route: [{destination: {host: beta.example.com, port: {number: 443}}}]
`,
    });
    await startTestProxy(t, mesh, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' } });
    const ra = await waitFor(async () => {
      const r = await tlsGet(port, 'alpha.example.com', '/one').catch(() => '');
      return r.includes('alpha /one') ? r : undefined;
    }, 'TLS passthrough to alpha', 10_000);
    assert.match(ra, /^HTTP\/1\.1 200 /);
    const rb = await tlsGet(port, 'beta.example.com', '/two');
    assert.match(rb, /\r\nbeta \/two\r\n/);
    assert.deepEqual(sni.slice(-2), ['alpha.example.com', 'beta.example.com'], 'the backends saw the client SNI: the proxy did not terminate TLS');
    // An SNI no server matches: the connection is closed without an answer.
    const none = await tlsGet(port, 'gamma.example.com', '/').catch(() => 'closed');
    assert.ok(none === '' || none === 'closed', `unexpected answer: ${none}`);
  });

  it('originates TLS to an upstream per a DestinationRule (SIMPLE, with SNI)', async (t) => {
    const sni: string[] = [];
    const secure = await httpsBackend(t, 'secure', sni);
    const port = await freePort();
    await originatingGateway(t, port, [{ name: 'secure', port: secure, tls: '{mode: SIMPLE, sni: secure.example.com, insecureSkipVerify: true}' }]);
    const r = await waitFor(async () => {
      const x = await send('127.0.0.1', port, { path: '/over-tls' }).catch(() => undefined);
      return x?.status === 200 ? x : undefined;
    }, 'the gateway to originate TLS', 10_000);
    assert.equal(r.body, 'secure /over-tls');
    assert.equal(sni.at(-1), 'secure.example.com');
  });

  it('SIMPLE with caCertificates and no sni: the request host becomes the SNI and the certificate is checked against it', async (t) => {
    // Istio sets auto_sni and auto_san_validation when a DestinationRule names neither sni nor SANs; the CA file
    // is served by the proxy as istio-agent serves it (`file-root:<path>`).
    const sni: string[] = [];
    const secure = await httpsBackend(t, 'secure', sni);
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-ca-file-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, selfSigned('secure.example.com').cert);
    const port = await freePort();
    const tls = `{mode: SIMPLE, caCertificates: ${caFile}}`;
    await originatingGateway(t, port, [{ name: 'wrong', port: secure, tls }, { name: 'secure', port: secure, tls }]);
    const r = await waitFor(async () => {
      const x = await send('127.0.0.1', port, { path: '/verified' }).catch(() => undefined);
      return x?.status === 200 ? x : undefined;
    }, 'the gateway to originate verified TLS', 10_000);
    assert.equal(r.body, 'secure /verified');
    assert.equal(sni.at(-1), 'secure.example.com', 'auto SNI from the host');
    // The same backend under another name: its certificate is not valid for wrong.example.com.
    const wrong = await send('127.0.0.1', port, { path: '/wrong' });
    assert.equal(wrong.status, 503);
    assert.match(wrong.body, /transport failure reason: TLS error: .*wrong\.example\.com/);
  });
  it('SIMPLE with caCrl: an upstream whose certificate the CRL revokes is refused (503 UF), its unrevoked sibling is not', async (t) => {
    // DestinationRule tls.caCrl becomes the validation context's CRL (a file, read when the cluster arrives).
    const { ca, revokedCert, kept, revoked } = await crlBackends(t);
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-crl-file-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'ca.pem'), ca.cert);
    await writeFile(join(dir, 'ca.crl'), crlRevoking(ca, [revokedCert]));
    const port = await freePort();
    const tls = `{mode: SIMPLE, caCertificates: ${join(dir, 'ca.pem')}, caCrl: ${join(dir, 'ca.crl')}}`;
    await originatingGateway(t, port, [{ name: 'revoked', port: revoked, tls }, { name: 'kept', port: kept, tls }]);
    await expectRevokedRefused(port);
  });
  it('SIMPLE with credentialName: the CRL of the Secret (`ca.crl`, over SDS) refuses a revoked upstream too', async (t) => {
    const { ca, revokedCert, kept, revoked } = await crlBackends(t);
    const port = await freePort();
    const tls = '{mode: SIMPLE, credentialName: upstream-ca}';
    const secret = secretYaml('istio-system', 'upstream-ca', { 'ca.crt': ca.cert, 'ca.crl': crlRevoking(ca, [revokedCert]) }, 'Opaque');
    await originatingGateway(t, port, [{ name: 'revoked', port: revoked, tls }, { name: 'kept', port: kept, tls }], { 'secret.yaml': secret });
    await expectRevokedRefused(port);
  });
});
