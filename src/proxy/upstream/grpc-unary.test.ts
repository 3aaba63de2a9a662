// A filter's unary gRPC call through a cluster (grpc-unary.ts) against a real HTTP/2 TLS server: the reply
// and the statuses, and the ALPN it offers. To an Istio mTLS cluster (its TLS offers `istio`, as Istio's
// ISTIO_MUTUAL clusters do) it offers Istio's HTTP/2 list, so a server preferring `istio-h2` (an Istio
// sidecar's inbound mTLS chain matches on it) gets it; to any other TLS cluster the pool's `h2`.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerHttp2Stream } from 'node:http2';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { fromJson } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { compileCluster } from '../runtime/compile-cluster.js';
import { NO_SECRETS } from './connection-pools.js';
import { UpstreamCluster } from './upstream-cluster.js';
import { seededRandom } from '../lib/random.js';
import { systemClock } from '../../lib/clock.js';
import { encodeGrpcFrame } from './grpc-framing.js';
import { grpcUnary, type GrpcUnaryResult } from './grpc-unary.js';
import { selfSigned, signedBy } from '../../../test/translate/secret/certs.js';

const ca = selfSigned('grpc-unary-test-ca');
const cert = signedBy('authz', ca, ['DNS:authz.example']);

/**
 * An HTTP/2 server over TLS preferring `istio-h2` (node's HTTP/2 TLS server only ever negotiates h2, so TLS is a
 * tls server of its own handing each connection to an HTTP/2 server), answering every call with the ALPN its
 * connection negotiated as the reply, or with grpc-status `status`.
 */
async function server(t: { after(f: () => unknown): void }, status = 0): Promise<number> {
  const h2 = createServer();
  h2.on('stream', (stream: ServerHttp2Stream) => {
    const alpn = (stream.session?.socket as TLSSocket | undefined)?.alpnProtocol;
    stream.on('data', () => undefined);
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(status), ...(status !== 0 ? { 'grpc-message': 'no%20way' } : {}) }));
      stream.end(status === 0 ? encodeGrpcFrame(Buffer.from(typeof alpn === 'string' ? alpn : '?')) : undefined);
    });
  });
  const sockets = new Set<TLSSocket>();
  const s = createTlsServer({ key: cert.key, cert: cert.cert, ALPNProtocols: ['istio-h2', 'h2'] }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    h2.emit('connection', socket);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        s.close(() => r());
        for (const x of sockets) x.destroy();
      }),
  );
  return (s.address() as AddressInfo).port;
}

function cluster(port: number, alpn: readonly string[]): UpstreamCluster {
  const proto = fromJson(
    ClusterSchema,
    {
      name: 'authz',
      type: 'STATIC',
      connectTimeout: '1s',
      http2ProtocolOptions: {},
      loadAssignment: { clusterName: 'authz', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: port } } } }] }] },
      transportSocket: {
        name: 'envoy.transport_sockets.tls',
        typedConfig: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
          sni: 'authz.example',
          commonTlsContext: { alpnProtocols: [...alpn], validationContext: { trustedCa: { inlineBytes: ca.cert.toString('base64') }, matchSubjectAltNames: [{ exact: 'authz.example' }] } },
        },
      },
    },
    { registry: XDS_REGISTRY },
  );
  const c = compileCluster(proto);
  if (!c.ok) assert.fail(c.problems.join('; '));
  return new UpstreamCluster(c.value, { clock: systemClock, random: seededRandom(1), secrets: NO_SECRETS }, undefined);
}

function call(c: UpstreamCluster): Promise<GrpcUnaryResult> {
  return new Promise((r) => grpcUnary(c, { path: '/test.Svc/Call', authority: 'authz.example', message: Buffer.from('hi'), timeoutMs: 2000 }, r));
}

describe('grpcUnary over a TLS cluster', () => {
  it("offers Istio's HTTP/2 ALPN to an Istio mTLS cluster, h2 to another; the reply and a failing status come back", async (t) => {
    const port = await server(t);
    const istio = cluster(port, ['istio-peer-exchange', 'istio']);
    const plain = cluster(port, []);
    t.after(() => {
      istio.close();
      plain.close();
    });
    const a = await call(istio);
    assert.ok(a.ok, JSON.stringify(a));
    assert.equal(a.reply.toString(), 'istio-h2');
    const b = await call(plain);
    assert.ok(b.ok, JSON.stringify(b));
    assert.equal(b.reply.toString(), 'h2');
    const denyPort = await server(t, 7);
    const denying = cluster(denyPort, []);
    t.after(() => denying.close());
    assert.deepEqual(await call(denying), { ok: false, status: 7, message: 'no way' });
  });
});
