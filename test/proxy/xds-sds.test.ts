// SDS over ADS against the real control plane, state of the world and delta alike: an ingress gateway whose
// HTTPS servers name `credentialName`s, and whose upstream cluster originates TLS with a DestinationRule
// `credentialName`, subscribes to exactly those `kubernetes://` secrets, is ready only once they arrived,
// terminates TLS with the certificate from the Kubernetes Secret, serves a rotated certificate on the next
// handshake after the Secret changes, and NACKs a Secret it cannot use while the last good one serves.
// A sidecar, whose mTLS clusters name the node agent's `default` and `ROOTCA` secrets over the `sds-grpc`
// cluster, subscribes to none.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { freePort, startMesh, startTestProxy } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { secretYaml, selfSigned, signedBy, type TestCert } from '../translate/secret/certs.js';
import { SECRET_TYPE, CLUSTER_TYPE } from '../../src/xds/type-urls.js';
import { UpstreamTlsContextSchema } from '../../src/xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { secretSourceOf } from '../../src/proxy/xds-client/secret-source.js';
import type { AdsProtocol } from '../../src/proxy/xds-client/ads-client.js';

const web = selfSigned('web.example.com');
const rotated = selfSigned('rotated.example.com');
const mtls = selfSigned('mtls.example.com');
const ca = selfSigned('client-ca.example.com');
// Issued by the credential's CA: MUTUAL verifies client certificates against it.
const client = signedBy('client.example.com', ca);

function gatewayYaml(simplePort: number, mutualPort: number): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: ${simplePort}, name: https-web, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: web-cred}
  - port: {number: ${mutualPort}, name: https-mtls, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: MUTUAL, credentialName: mtls-cred}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {exact: /hello}}]
    directResponse: {status: 200, body: {string: "hello over tls"}}
  - route: [{destination: {host: upstream.example.internal, port: {number: 443}}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: upstream, namespace: istio-system}
spec:
  hosts: [upstream.example.internal]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 443, name: tls, protocol: TLS}]
  endpoints: [{address: 127.0.0.1}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: upstream, namespace: istio-system}
spec:
  host: upstream.example.internal
  trafficPolicy:
    tls: {mode: SIMPLE, credentialName: upstream-ca}
`;
}

const secrets = (webCert: TestCert): string =>
  secretYaml('istio-system', 'web-cred', { 'tls.crt': webCert.cert, 'tls.key': webCert.key }) +
  secretYaml('istio-system', 'mtls-cred', { 'tls.crt': mtls.cert, 'tls.key': mtls.key, 'ca.crt': ca.cert }) +
  secretYaml('istio-system', 'upstream-ca', { 'ca.crt': ca.cert }, 'Opaque');

/** GET /hello over TLS; the certificate the gateway presented and the answer. */
function getOverTls(port: number, cert?: TestCert): Promise<{ fingerprint: string; status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path: '/hello', servername: 'shop.example.com', rejectUnauthorized: false, agent: false, ...(cert !== undefined ? { cert: cert.cert, key: cert.key } : {}) },
      (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => ok({ fingerprint, status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

const fingerprintOf = (c: TestCert): string => new X509Certificate(c.cert).fingerprint256;

const PROTOCOLS: readonly AdsProtocol[] = ['sotw', 'delta'];

describe('SDS over ADS (gateway credentialName)', () => {
  for (const protocol of PROTOCOLS) {
    it(`${protocol}: subscribes to the credentials, is ready only with them, terminates TLS with them, follows a rotation and NACKs a bad one`, async (t) => {
      const [simplePort, mutualPort] = [await freePort(), await freePort()];
      const mesh = await startMesh(t, { 'gw.yaml': gatewayYaml(simplePort, mutualPort), 'secrets.yaml': secrets(web) });
      const proxy = await startTestProxy(t, mesh, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' } }, { xdsProtocol: protocol });
      assert.equal(proxy.xds.protocol, protocol);

      // Ready means every subscribed secret is here already.
      const names = ['kubernetes://mtls-cred', 'kubernetes://mtls-cred-cacert', 'kubernetes://upstream-ca-cacert', 'kubernetes://web-cred'];
      assert.deepEqual(proxy.xds.typeState(SECRET_TYPE).names, names);
      assert.deepEqual([...proxy.xds.table(SECRET_TYPE).keys()], names);
      const source = secretSourceOf(proxy.xds);
      assert.equal(source.certificate('kubernetes://web-cred')?.cert, web.cert.toString());
      assert.equal(source.certificate('kubernetes://web-cred')?.key, web.key.toString());
      assert.equal(source.validation('kubernetes://mtls-cred-cacert')?.trustedCa, ca.cert.toString());
      assert.equal(source.validation('kubernetes://upstream-ca-cacert')?.trustedCa, ca.cert.toString());
      assert.equal(source.certificate('kubernetes://mtls-cred-cacert'), undefined, 'a validation context is not a certificate');
      assert.equal(source.certificate('kubernetes://nope'), undefined);

      // The gateway terminates TLS with the certificate from the Kubernetes Secret (MUTUAL asks for ours).
      const first = await getOverTls(simplePort);
      assert.deepEqual(first, { fingerprint: fingerprintOf(web), status: 200, body: 'hello over tls' });
      const mutual = await getOverTls(mutualPort, client);
      assert.equal(mutual.fingerprint, fingerprintOf(mtls));
      // A client certificate the credential's CA did not issue, or none at all, is refused (require_client_certificate).
      await assert.rejects(getOverTls(mutualPort, selfSigned('stranger.example.com')));
      await assert.rejects(getOverTls(mutualPort));

      // Rotation: the Secret changes; the update arrives over SDS and the next handshake uses it.
      const before = proxy.xds.table(SECRET_TYPE).get('kubernetes://web-cred');
      const untouched = proxy.xds.table(SECRET_TYPE).get('kubernetes://mtls-cred');
      await mesh.write('secrets.yaml', secrets(rotated));
      await waitFor(() => source.certificate('kubernetes://web-cred')?.cert === rotated.cert.toString(), 'the rotated certificate over SDS', 10_000);
      const after = proxy.xds.table(SECRET_TYPE).get('kubernetes://web-cred');
      assert.notEqual(after?.version, before?.version);
      // Only the changed secret was sent (delta by protocol; state of the world by this server's partial pushes).
      assert.equal(proxy.xds.table(SECRET_TYPE).get('kubernetes://mtls-cred'), untouched);
      assert.equal((await getOverTls(simplePort)).fingerprint, fingerprintOf(rotated));
      assert.equal(proxy.xds.typeState(SECRET_TYPE).lastError, undefined);

      // A certificate with another certificate's key: NACKed; the rotated certificate keeps serving.
      await mesh.write('secrets.yaml', secrets({ cert: web.cert, key: rotated.key }));
      const nack = await waitFor(() => proxy.xds.typeState(SECRET_TYPE).lastError, 'the SDS NACK', 10_000);
      assert.match(nack, /^SDS update rejected \(version \S*\): kubernetes:\/\/web-cred: tls_certificate\.private_key: does not match the first certificate of certificate_chain$/);
      assert.equal(source.certificate('kubernetes://web-cred')?.cert, rotated.cert.toString());
      assert.equal((await getOverTls(simplePort)).fingerprint, fingerprintOf(rotated));
    });
  }

  it('a sidecar does not ask ADS for the node agent secrets its mTLS clusters name (sds-grpc)', async (t) => {
    const mesh = await startMesh(t, {
      'svc.yaml': `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: 9080}]
`,
    });
    const proxy = await startTestProxy(t, mesh, { node: 'productpage-v1', ip: '127.0.0.1', labels: { app: 'productpage' } }, { xdsProtocol: 'delta' });
    const agentNames = new Set<string>();
    for (const e of proxy.xds.table(CLUSTER_TYPE).values()) {
      for (const m of e.message.transportSocketMatches) {
        const cfg = m.transportSocket?.configType;
        const common = cfg?.case === 'typedConfig' ? anyUnpack(cfg.value, UpstreamTlsContextSchema)?.commonTlsContext : undefined;
        for (const s of common?.tlsCertificateSdsSecretConfigs ?? []) if (s.sdsConfig?.configSourceSpecifier.case === 'apiConfigSource') agentNames.add(s.name);
      }
    }
    assert.ok(agentNames.has('default'), `the mesh clusters name the agent's certificate: ${[...agentNames].join(' ')}`);
    assert.deepEqual(proxy.xds.typeState(SECRET_TYPE).names, []);
    assert.equal(proxy.xds.table(SECRET_TYPE).size, 0);
  });
});
