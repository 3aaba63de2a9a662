// The CA and the proxy's workload agent over a real gRPC connection (istio.v1.auth.IstioCertificateService):
// a valid token gets a certificate for exactly its identity, whatever the CSR asks; a missing, foreign or
// expired token is refused with Unauthenticated and the agent keeps retrying; renewal makes a new key.
// Istio: security/pkg/server/ca/server.go (CreateCertificate), security/pkg/nodeagent/cache (rotation).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { Server, ServerCredentials, Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import type { TestContext } from 'node:test';
import { startMeshCa, type MeshCa } from '../../src/ca/mesh-ca.js';
import { createSelfSignedRoot, writeCaFiles } from '../../src/ca/root-ca.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceAccountTokens } from '../../src/ca/service-account-tokens.js';
import { createCsr } from '../../src/ca/csr.js';
import { CA_SERVICE } from '../../src/xds/ca-service.js';
import { IstioCertificateRequestSchema, type IstioCertificateResponse } from '../../src/xds/gen/istio/v1/auth/ca_pb.js';
import { WorkloadAgent } from '../../src/proxy/identity/workload-agent.js';
import { systemClock, type Clock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { mathRandom } from '../../src/proxy/lib/random.js';
import { waitFor } from '../support/wait.js';

async function serveCa(t: TestContext, clock: Clock = systemClock): Promise<{ ca: MeshCa; address: string }> {
  const ca = await startMeshCa({ trustDomain: 'cluster.local', clock, logger: silentLogger });
  const server = new Server();
  ca.addTo(server);
  const port = await new Promise<number>((ok, fail) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : ok(p))));
  t.after(() => new Promise<void>((r) => server.tryShutdown(() => r())));
  return { ca, address: `127.0.0.1:${port}` };
}

function call(address: string, csr: string, token: string | undefined): Promise<{ ok: true; chain: string[] } | { ok: false; code: number; details: string }> {
  const client = new Client(address, credentials.createInsecure());
  const md = new Metadata();
  if (token !== undefined) md.set('authorization', `Bearer ${token}`);
  const m = CA_SERVICE.CreateCertificate;
  return new Promise((resolve) => {
    client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, create(IstioCertificateRequestSchema, { csr }), md, (err: ServiceError | null, r?: IstioCertificateResponse) => {
      client.close();
      resolve(err !== null ? { ok: false, code: err.code, details: err.details } : { ok: true, chain: r?.certChain ?? [] });
    });
  });
}

describe('CA service and workload agent', () => {
  it('signs for the identity the token proves, never the one the CSR asks for; refuses bad tokens', async (t) => {
    const { ca, address } = await serveCa(t);
    const csr = await createCsr({ uri: 'spiffe://cluster.local/ns/kube-system/sa/admin' });
    const token = await ca.issueToken({ namespace: 'default', serviceAccount: 'reviews' });
    const r = await call(address, csr.csrPem, token);
    assert.ok(r.ok);
    assert.equal(r.chain.length, 2, 'the leaf, then the root bundle');
    const leaf = new X509Certificate(r.chain[0] ?? '');
    assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/reviews');
    assert.equal(leaf.checkIssued(new X509Certificate(ca.rootBundle())), true);
    assert.equal(r.chain[1], ca.rootBundle());

    const foreign = await (await ServiceAccountTokens.create(systemClock)).issue({ namespace: 'default', serviceAccount: 'reviews' });
    const expired = await (await ServiceAccountTokens.create(systemClock)).issue({ namespace: 'default', serviceAccount: 'reviews' }, -60_000);
    const cases: [string, string | undefined, RegExp][] = [
      ['no token', undefined, /^request authenticate failure: no bearer token/],
      ['a token from another authority', foreign, /^request authenticate failure: token rejected: signature verification failed/],
      ['an expired token (and another authority)', expired, /^request authenticate failure: token rejected/],
      ['not a JWT', 'garbage', /^request authenticate failure: token rejected/],
    ];
    for (const [name, tok, message] of cases) {
      const x = await call(address, csr.csrPem, tok);
      assert.equal(x.ok, false, name);
      if (!x.ok) {
        assert.equal(x.code, status.UNAUTHENTICATED, name);
        assert.match(x.details, message, name);
      }
    }
    const bad = await call(address, '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', token);
    assert.equal(bad.ok, false);
    if (!bad.ok) {
      assert.equal(bad.code, status.INVALID_ARGUMENT);
      assert.match(bad.details, /^CSR signing error \(CSR is not a valid PKCS#10 certificate request\)$/);
    }
    assert.equal(ca.issued, 1);
  });

  it('the agent gets a certificate, renews it with a new key, and keeps retrying a refused token', async (t) => {
    const { ca, address } = await serveCa(t);
    let changes = 0;
    const agent = new WorkloadAgent({
      caAddress: address,
      token: () => ca.issueToken({ namespace: 'bookinfo', serviceAccount: 'ratings' }),
      clock: systemClock,
      random: mathRandom,
      logger: silentLogger,
      onChange: () => changes++,
    });
    t.after(() => agent.close());
    agent.start();
    const first = await waitFor(() => agent.current, 'the first certificate');
    assert.equal(first.spiffeId, 'spiffe://cluster.local/ns/bookinfo/sa/ratings');
    assert.ok(first.notAfter.getTime() - Date.now() > 23 * 3_600_000, 'the CA default, 24 h');
    agent.renew();
    const second = await waitFor(() => (agent.current?.serial !== first.serial ? agent.current : undefined), 'a renewed certificate');
    assert.notEqual(second.keyPem, first.keyPem, 'a new key for each certificate');
    assert.equal(changes, 2);

    const refused = new WorkloadAgent({
      caAddress: address,
      token: () => Promise.resolve('not-a-token'),
      clock: systemClock,
      random: mathRandom,
      logger: silentLogger,
      onChange: () => assert.fail('no certificate for a bad token'),
    });
    t.after(() => refused.close());
    refused.start();
    const err = await waitFor(() => refused.lastError || undefined, 'the refusal');
    assert.match(err, /^UNAUTHENTICATED: request authenticate failure/);
    assert.equal(refused.current, undefined);
  });

  it('a broken cacerts folder is refused on reload, naming the file, and the current CA keeps signing', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-cacerts-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const root = await createSelfSignedRoot({ trustDomain: 'cluster.local' });
    await writeCaFiles(dir, { ...root, rootPem: root.certPem });
    const ca = await startMeshCa({ trustDomain: 'cluster.local', cacertsDir: dir, clock: systemClock, logger: silentLogger });
    t.after(() => ca.close());
    const before = ca.ca;
    await writeFile(join(dir, 'ca-key.pem'), 'not a key\n');
    const r = await ca.reload();
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /ca-key\.pem is not a readable PEM private key/);
    assert.equal(ca.ca, before, 'nothing changed');
    const csr = await createCsr({ uri: 'spiffe://cluster.local/ns/default/sa/x' });
    assert.equal((await ca.ca.signCsr(csr.csrPem, { namespace: 'default', serviceAccount: 'x' })).ok, true);
  });
});
