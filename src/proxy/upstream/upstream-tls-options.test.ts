// An upstream TLS context's checks and parameters, through a real listener to a real HTTPS upstream on
// 127.0.0.1 (Envoy's client context: DefaultCertValidator, TlsParameters): certificate pins
// (verify_certificate_hash, verify_certificate_spki), trust_chain_verification ACCEPT_UNTRUSTED, the protocol
// versions (TLS 1.2 at most unless tls_maximum_protocol_version says otherwise), and the cipher suites and
// curves OpenSSL cannot use, refused.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash, X509Certificate } from 'node:crypto';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { JsonObject } from '@bufbuild/protobuf';
import { compileCluster } from '../runtime/compile-cluster.js';
import { clusterManagerOf, prefix, route, routeConfig, staticCluster, vhost, toCluster } from '../../../test/support/xds-fixtures.js';
import { closeAll, startHcmListener } from '../../../test/support/hcm-listener.js';
import { ask } from '../../../test/support/http-ask.js';
import { selfSigned, signedBy } from '../../../test/translate/secret/certs.js';
import type { ClusterManager } from './cluster-manager.js';
import type { ListenerManager } from '../network/listener-manager.js';

const ca = selfSigned('upstream-tls-ca.example.com');
const other = selfSigned('someone-else.example.com');
const server = signedBy('backend.example.com', ca, ['DNS:backend.example.com']);
const der = new X509Certificate(server.cert).raw;
const certHash = createHash('sha256').update(der).digest('hex');
const spkiHash = createHash('sha256').update(new X509Certificate(server.cert).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');

let upstream: Server;
let clusters: ClusterManager;
let manager: ListenerManager;
let port = 0;

/** An UpstreamTlsContext (JSON) trusting `trusted`, with `validation` and `params` added. */
function tlsCluster(name: string, upstreamPort: number, trusted: Buffer | undefined, validation: JsonObject = {}, params: JsonObject = {}): ReturnType<typeof staticCluster> {
  return staticCluster(name, upstreamPort, {
    transportSocket: {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        sni: 'backend.example.com',
        commonTlsContext: { tlsParams: params, validationContext: { ...(trusted !== undefined ? { trustedCa: { inlineString: trusted.toString() } } : {}), ...validation } },
      },
    },
  });
}

const CASES: Readonly<Record<string, { trusted: Buffer | undefined; validation?: JsonObject; params?: JsonObject }>> = {
  // No trusted CA: the chain is not verified (as in Envoy), the pins still are.
  'pin-no-ca': { trusted: undefined, validation: { verifyCertificateHash: [certHash] } },
  'wrong-pin-no-ca': { trusted: undefined, validation: { verifyCertificateSpki: [Buffer.alloc(32).toString('base64')] } },
  plain: { trusted: ca.cert },
  tls13: { trusted: ca.cert, params: { tlsMaximumProtocolVersion: 'TLSv1_3' } },
  'hash-pin': { trusted: ca.cert, validation: { verifyCertificateHash: [certHash.toUpperCase().match(/../g)?.join(':') ?? ''] } },
  'spki-pin': { trusted: ca.cert, validation: { verifyCertificateSpki: [spkiHash] } },
  'wrong-pin': { trusted: ca.cert, validation: { verifyCertificateHash: ['00'.repeat(32)] } },
  'wrong-ca': { trusted: other.cert },
  'accept-untrusted': { trusted: other.cert, validation: { trustChainVerification: 'ACCEPT_UNTRUSTED', verifyCertificateHash: ['00'.repeat(32)] } },
};

before(async () => {
  upstream = createHttpsServer({ cert: server.cert, key: server.key }, (req, res) => {
    const version = (req.socket as TLSSocket).getProtocol() ?? '';
    res.writeHead(200, { 'content-length': String(version.length) }).end(version);
  });
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  clusters = clusterManagerOf(Object.entries(CASES).map(([name, c]) => tlsCluster(name, upstreamPort, c.trusted, c.validation, c.params)));
  const routes = routeConfig('inline', [vhost('all', ['*'], Object.keys(CASES).map((name) => route(name, prefix(`/${name}`), toCluster(name))))]);
  const l = await startHcmListener('tls-options', { routes, clusters });
  manager = l.manager;
  port = l.port;
});

after(() => closeAll([manager, clusters], upstream));

async function get(path: string): Promise<{ status: number; body: string }> {
  const r = await ask(port, { path, timeoutMs: 5000 });
  return { status: r.status, body: r.body };
}

describe('upstream TLS parameters', () => {
  it("without tls_maximum_protocol_version a client context stops at TLS 1.2 (Envoy's default); with it, TLS 1.3", async () => {
    assert.deepEqual(await get('/plain'), { status: 200, body: 'TLSv1.2' });
    assert.deepEqual(await get('/tls13'), { status: 200, body: 'TLSv1.3' });
  });

  it('cipher suites and curves OpenSSL cannot use are refused', () => {
    const r = compileCluster(tlsCluster('bad', 1, ca.cert, {}, { cipherSuites: ['NOT-A-CIPHER'], ecdhCurves: ['P-999'] }));
    assert.equal(r.ok, false);
    assert.deepEqual(r.ok ? [] : r.problems.map((p) => p.replace(/:.*$/, '')), [
      'transport_socket.typed_config.common_tls_context.tls_params.cipher_suites',
      'transport_socket.typed_config.common_tls_context.tls_params.ecdh_curves',
    ]);
  });
});

describe('upstream certificate checks', () => {
  it('a certificate matching verify_certificate_hash (colons and case as Envoy allows) or verify_certificate_spki is accepted', async () => {
    assert.equal((await get('/hash-pin')).status, 200);
    assert.equal((await get('/spki-pin')).status, 200);
  });

  it('a certificate matching no pin is refused: 503, as a failed handshake', async () => {
    const r = await get('/wrong-pin');
    assert.equal(r.status, 503);
    assert.match(r.body, /upstream connect error or disconnect\/reset before headers/);
  });

  it('without a trusted CA the chain goes unverified but the pins are checked', async () => {
    assert.equal((await get('/pin-no-ca')).status, 200);
    assert.equal((await get('/wrong-pin-no-ca')).status, 503);
  });

  it('ACCEPT_UNTRUSTED goes on whatever failed (here the CA and the pin); without it the same CA is refused', async () => {
    assert.equal((await get('/wrong-ca')).status, 503);
    assert.deepEqual(await get('/accept-untrusted'), { status: 200, body: 'TLSv1.2' });
  });
});
