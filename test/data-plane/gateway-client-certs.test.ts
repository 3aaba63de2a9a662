// A Gateway's client certificate checks, through the real control plane and an ingress gateway proxy: what
// Istio's ServerTLSSettings ask (subjectAltNames, verifyCertificateHash, verifyCertificateSpki, caCrl,
// insecureSkipVerify, OPTIONAL_MUTUAL) and Envoy enforces in its certificate validator
// (https://istio.io/latest/docs/reference/config/networking/gateway/#ServerTLSSettings,
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/transport_sockets/tls/v3/common.proto#envoy-v3-api-msg-extensions-transport-sockets-tls-v3-certificatevalidationcontext).
// Before, the proxy checked only the chain: any certificate the CA issued passed a MUTUAL server whatever its
// SANs, pins or revocation, and OPTIONAL_MUTUAL let an untrusted certificate through.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { freePort, startMesh, startTestProxy } from '../support/data-plane.js';
import { crlRevoking, secretYaml, selfSigned, signedBy, type TestCert } from '../translate/secret/certs.js';

const server = selfSigned('gw.example.com');
const ca = selfSigned('client-ca.example.com');
const good = signedBy('good-client', ca, ['DNS:good.example.com', 'URI:spiffe://example.org/ns/a/sa/good']);
const other = signedBy('other-client', ca, ['DNS:other.example.com']);
const revoked = signedBy('revoked-client', ca, ['DNS:good.example.com']);
const stranger = selfSigned('stranger.example.com');

const hashOf = (c: TestCert): string => new X509Certificate(c.cert).fingerprint256;
const spkiOf = (c: TestCert): string => createHash('sha256').update(new X509Certificate(c.cert).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');

/** GET over TLS with an optional client certificate: the status, or `refused` when the gateway closed the connection. */
function get(port: number, cert?: TestCert): Promise<string> {
  return new Promise((ok) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/hello', servername: 'shop.example.com', rejectUnauthorized: false, agent: false, ...(cert !== undefined ? { cert: cert.cert, key: cert.key } : {}) }, (res) => {
      res.resume();
      res.on('end', () => ok(String(res.statusCode)));
    });
    req.on('error', () => ok('refused'));
    req.end();
  });
}

describe('gateway client certificate checks', () => {
  it('MUTUAL and OPTIONAL_MUTUAL servers enforce subjectAltNames, certificate pins, the CRL and insecureSkipVerify as Envoy does', async (t) => {
    const ports = { san: await freePort(), hash: await freePort(), spki: await freePort(), optional: await freePort(), skip: await freePort(), crl: await freePort(), credentialCrl: await freePort() };
    // The CRL server uses files on the proxy (serverCertificate, privateKey, caCertificates, caCrl).
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-gw-crl-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const f = (n: string): string => join(dir, n);
    await Promise.all([writeFile(f('tls.crt'), server.cert), writeFile(f('tls.key'), server.key), writeFile(f('ca.crt'), ca.cert), writeFile(f('ca.crl'), crlRevoking(ca, [revoked]))]);
    const cred = (mode: string, extra = ''): string => `{mode: ${mode}, credentialName: gw-cred${extra}}`;
    const mesh = await startMesh(t, {
      'secrets.yaml': secretYaml('istio-system', 'gw-cred', { 'tls.crt': server.cert, 'tls.key': server.key, 'ca.crt': ca.cert }),
      // A credential with a CRL (Istio reads `ca.crl` from the Secret): it reaches the proxy over SDS.
      'secrets-crl.yaml': secretYaml('istio-system', 'gw-cred-crl', { 'tls.crt': server.cert, 'tls.key': server.key, 'ca.crt': ca.cert, 'ca.crl': crlRevoking(ca, [revoked]) }),
      'gw.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: ${ports.san}, name: https-san, protocol: HTTPS}
    hosts: ["*"]
    tls: ${cred('MUTUAL', ', subjectAltNames: [good.example.com]')}
  - port: {number: ${ports.hash}, name: https-hash, protocol: HTTPS}
    hosts: ["*"]
    tls: ${cred('MUTUAL', `, verifyCertificateHash: ["${hashOf(good)}"]`)}
  - port: {number: ${ports.spki}, name: https-spki, protocol: HTTPS}
    hosts: ["*"]
    tls: ${cred('MUTUAL', `, verifyCertificateSpki: ["${spkiOf(other)}"]`)}
  - port: {number: ${ports.optional}, name: https-optional, protocol: HTTPS}
    hosts: ["*"]
    tls: ${cred('OPTIONAL_MUTUAL')}
  - port: {number: ${ports.skip}, name: https-skip, protocol: HTTPS}
    hosts: ["*"]
    tls: ${cred('MUTUAL', ', insecureSkipVerify: true')}
  - port: {number: ${ports.crl}, name: https-crl, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: MUTUAL, serverCertificate: ${f('tls.crt')}, privateKey: ${f('tls.key')}, caCertificates: ${f('ca.crt')}, caCrl: ${f('ca.crl')}}
  - port: {number: ${ports.credentialCrl}, name: https-credential-crl, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: MUTUAL, credentialName: gw-cred-crl}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - directResponse: {status: 200, body: {string: hello}}
`,
    });
    await startTestProxy(t, mesh, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' } });

    // subjectAltNames: the CA issued both, only the one with the SAN gets in.
    assert.deepEqual([await get(ports.san, good), await get(ports.san, other), await get(ports.san)], ['200', 'refused', 'refused']);
    // verifyCertificateHash / verifyCertificateSpki: only the pinned certificate (or key) gets in.
    assert.deepEqual([await get(ports.hash, good), await get(ports.hash, other)], ['200', 'refused']);
    assert.deepEqual([await get(ports.spki, other), await get(ports.spki, good)], ['200', 'refused']);
    // OPTIONAL_MUTUAL: no certificate is fine, a trusted one is fine, an untrusted one is refused.
    assert.deepEqual([await get(ports.optional), await get(ports.optional, good), await get(ports.optional, stranger)], ['200', '200', 'refused']);
    // insecureSkipVerify (ACCEPT_UNTRUSTED): a certificate no CA here issued still gets in.
    assert.deepEqual([await get(ports.skip, stranger), await get(ports.skip, good)], ['200', '200']);
    // caCrl: a revoked certificate is refused, its unrevoked sibling gets in.
    assert.deepEqual([await get(ports.crl, good), await get(ports.crl, revoked)], ['200', 'refused']);
    // The same through a credential's `ca.crl`, which comes in the SDS validation secret.
    assert.deepEqual([await get(ports.credentialCrl, good), await get(ports.credentialCrl, revoked)], ['200', 'refused']);
  });
});
