// Workload identity and mutual TLS between sidecars, end to end: each proxy makes its own key, gets a SPIFFE
// certificate from the control plane's CA with its workload token (istio.v1.auth.IstioCertificateService),
// and serves it as the SDS secrets `default` / `ROOTCA` that Istio's mTLS contexts name. Auto mTLS sends
// ISTIO_MUTUAL to endpoints labelled tlsMode=istio, verifying the server's service-account identity; the
// server's inbound chain requires a client certificate from the mesh's roots (STRICT) or also takes
// plaintext (PERMISSIVE, Istio's default); RBAC sees the caller's identity (source.principal).
// Istio: https://istio.io/latest/docs/concepts/security/#mutual-tls-authentication and
// https://istio.io/latest/docs/reference/config/security/peer_authentication/

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startMesh, startTestProxy, startUpstream, viaSidecar, type TestMesh } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { createIntermediateCa, createSelfSignedRoot, loadCacerts, writeCaFiles } from '../../src/ca/root-ca.js';
import { WorkloadCa } from '../../src/ca/workload-ca.js';
import { createCsr } from '../../src/ca/csr.js';
import type { TestContext } from 'node:test';
import type { RunningProxy } from '../../src/proxy/proxy.js';
import { secretItems } from '../../src/cli/proxy-config/secrets.js';
import { parseConfigDump } from '../../src/cli/proxy-config/config-dump.js';
import { serviceYaml, STRICT_MTLS } from '../support/mesh-yaml.js';
import type { MeshConfig } from '../../src/model/mesh-config.js';



interface Pair {
  readonly mesh: TestMesh;
  readonly target: number;
  readonly seen: { headers: Record<string, unknown> }[];
  readonly client: RunningProxy;
  readonly server: RunningProxy;
}

/**
 * productpage (127.0.1.11) -> reviews (127.0.1.12, app on 127.0.0.1:<target>), both sidecars with identities.
 * `serverAccount` is the identity the reviews proxy's token names (the registry says bookinfo-reviews).
 */
async function pair(t: TestContext, files: Record<string, string>, o: { serverAccount?: string; certTtlSeconds?: number; cacertsDir?: string; mesh?: Partial<MeshConfig> } = {}): Promise<Pair> {
  const target = await freePort();
  const app = await startUpstream(t, 'reviews', '127.0.0.1', target);
  const mesh = await startMesh(t, { 'svc.yaml': serviceYaml('reviews', 9080, target) + serviceYaml('productpage', 9080, 9080), ...files }, o.mesh ?? {}, o.cacertsDir !== undefined ? { cacertsDir: o.cacertsDir } : {});
  mesh.cp.workloads.register({ name: 'reviews-v1', namespace: 'default', address: '127.0.1.12', labels: { app: 'reviews' }, serviceAccount: 'bookinfo-reviews', ports: { http: target }, tlsMode: 'istio' });
  mesh.cp.workloads.register({ name: 'productpage-v1', namespace: 'default', address: '127.0.1.11', labels: { app: 'productpage' }, serviceAccount: 'bookinfo-productpage', tlsMode: 'istio' });
  const identity = (sa: string) => ({
    identity: { token: () => mesh.cp.ca.issueToken({ namespace: 'default', serviceAccount: sa }), ...(o.certTtlSeconds !== undefined ? { certTtlSeconds: o.certTtlSeconds } : {}) },
  });
  const server = await startTestProxy(t, mesh, { node: 'reviews-v1', ip: '127.0.1.12', labels: { app: 'reviews' }, serviceAccount: 'bookinfo-reviews' }, identity(o.serverAccount ?? 'bookinfo-reviews'));
  const client = await startTestProxy(t, mesh, { node: 'productpage-v1', ip: '127.0.1.11', labels: { app: 'productpage' }, serviceAccount: 'bookinfo-productpage' }, identity('bookinfo-productpage'));
  return { mesh, target, seen: app.seen as { headers: Record<string, unknown> }[], client, server };
}

const reviews = (p: Pair, headers: Record<string, string> = {}) => viaSidecar('127.0.1.11', 'http://reviews:9080/reviews/1', { headers });

/** Waits until productpage's sidecar gets 200 from reviews (config and certificates arrive asynchronously). */
function ok200(p: Pair, what: string): Promise<{ status: number; body: string }> {
  return waitFor(async () => {
    const x = await reviews(p).catch(() => undefined);
    return x?.status === 200 ? x : undefined;
  }, what, 10_000);
}

/** An HTTP/1.1 request over TLS straight to the reviews sidecar's inbound port, as a client presenting `cert`. */
function tlsRequest(port: number, opts: { cert?: string; key?: string; ca?: string }): Promise<{ ok: true; status: number } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.1.12', port, ...opts, rejectUnauthorized: false, ALPNProtocols: ['istio-http/1.1', 'istio'], servername: 'outbound_.9080_._.reviews.default.svc.cluster.local' });
    let buf = '';
    const done = (r: { ok: true; status: number } | { ok: false; error: string }): void => {
      s.destroy();
      resolve(r);
    };
    s.setTimeout(5000, () => done({ ok: false, error: 'timeout' }));
    s.on('secureConnect', () => s.write('GET /x HTTP/1.1\r\nhost: reviews:9080\r\nconnection: close\r\n\r\n'));
    s.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(buf);
      if (m !== null) done({ ok: true, status: Number(m[1]) });
    });
    s.on('error', (e) => done({ ok: false, error: e.message }));
    s.on('close', () => done({ ok: false, error: 'closed before a response' }));
  });
}

describe('workload certificates and mTLS between sidecars', () => {
  it('each proxy gets a SPIFFE certificate for its service account over SDS, and auto mTLS carries the caller identity to RBAC', async (t) => {
    const p = await pair(t, {
      'authz.yaml': `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-callers, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  action: ALLOW
  rules:
  - from: [{source: {principals: [cluster.local/ns/default/sa/bookinfo-productpage]}}]
`,
    });
    const r = await ok200(p, 'productpage -> reviews over mTLS');
    assert.equal(r.body, 'reviews');
    // The app learns its caller as in Istio: the inbound sidecar appends the XFCC element of the mTLS connection.
    assert.match(
      String(p.seen.at(-1)?.headers['x-forwarded-client-cert']),
      /^By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-reviews;Hash=[0-9a-f]{64};Subject="";URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-productpage$/,
    );

    // The certificate is the proxy's: its URI SAN is exactly the identity its token proves.
    const dump = (await (await fetch(`${p.server.adminUrl}/config_dump`)).json()) as { configs: { '@type': string; dynamic_active_secrets?: { name: string }[] }[] };
    const secrets = dump.configs.find((c) => c['@type'].endsWith('SecretsConfigDump'));
    assert.deepEqual(secrets?.dynamic_active_secrets?.map((s) => s.name), ['default', 'ROOTCA']);
    const cert = p.server.agent?.current;
    assert.ok(cert !== undefined);
    // Envoy's server.days_until_first_cert_expiring: whole days left on the workload certificate (the CA's 24 h
    // default leaves 0), and only set because the proxy holds one (`usedonly` lists it).
    const days = Math.floor((cert.notAfter.getTime() - Date.now()) / 86_400_000);
    const certStat = await (await fetch(`${p.server.adminUrl}/stats?usedonly&filter=${encodeURIComponent('^server\\.days_until_first_cert_expiring$')}`)).text();
    assert.equal(certStat, `server.days_until_first_cert_expiring: ${days}\n`);
    // `isthmus proxy-config secret` reads them from the dump as istioctl shows them.
    const parsed = parseConfigDump(dump);
    assert.ok(parsed !== undefined);
    const items = secretItems(parsed, Date.now()) ?? [];
    assert.deepEqual(
      items.map((i) => [i.resource_name, i.state, i.type, i.cert_valid]),
      [
        ['default', 'ACTIVE', 'Cert Chain', true],
        ['ROOTCA', 'ACTIVE', 'CA', true],
      ],
    );
    assert.equal(BigInt(`0x${items[0]?.serial_number ?? '0'}`), BigInt(`0x${cert.serial}`));
    assert.equal(cert.spiffeId, 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
    assert.equal(new X509Certificate(cert.certChainPem).checkIssued(new X509Certificate(p.mesh.cp.ca.rootBundle())), true);

    // Only productpage's identity is allowed: with the policy naming someone else, the same call is denied.
    await p.mesh.write(
      'authz.yaml',
      `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-callers, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  action: ALLOW
  rules:
  - from: [{source: {principals: [cluster.local/ns/default/sa/someone-else]}}]
`,
    );
    const denied = await waitFor(async () => {
      const x = await reviews(p);
      return x.status === 403 ? x : undefined;
    }, 'the policy change to deny productpage', 10_000);
    assert.equal(denied.body, 'RBAC: access denied');
  });

  it('STRICT refuses plaintext and certificates from another CA or expired ones; a mesh certificate gets in', async (t) => {
    // A CA whose key the test holds, so it can also mint an expired certificate from the same root.
    const caDir = await mkdtemp(join(tmpdir(), 'isthmus-cacerts-'));
    t.after(() => rm(caDir, { recursive: true, force: true }));
    // Made "three days ago", so that the same CA can also have issued a certificate that has since expired.
    const root = await createSelfSignedRoot({ trustDomain: 'cluster.local', clock: { now: () => Date.now() - 3 * 86_400_000, setTimeout: () => ({ cancel() {} }) } });
    await writeCaFiles(caDir, { ...root, rootPem: root.certPem });
    const p = await pair(t, { 'pa.yaml': STRICT_MTLS }, { cacertsDir: caDir });
    await ok200(p, 'mTLS between the sidecars under STRICT');

    // Plaintext straight to the workload's port: no filter chain takes it (STRICT has TLS chains only).
    const plain = await fetch(`http://127.0.1.12:${p.target}/`).then((r) => `status ${r.status}`, (e: Error) => `refused: ${e.message}`);
    assert.match(plain, /^refused/);

    const signer = await loadCacerts(caDir);
    assert.ok(signer.ok);
    const id = { namespace: 'default', serviceAccount: 'attacker' };
    const issue = async (ca: WorkloadCa, ttlMs?: number): Promise<{ cert: string; key: string }> => {
      const csr = await createCsr({ uri: 'spiffe://cluster.local/ns/default/sa/attacker' });
      const s = await ca.signCsr(csr.csrPem, id, ttlMs);
      assert.ok(s.ok);
      return { cert: s.certChainPem, key: csr.keyPem };
    };
    // Positive control: a current certificate from the mesh's CA is accepted.
    const good = await issue(new WorkloadCa(signer.value, { now: () => Date.now(), setTimeout: () => ({ cancel() {} }) }, { trustDomain: 'cluster.local' }));
    assert.deepEqual(await tlsRequest(p.target, good), { ok: true, status: 200 });

    const other = await createSelfSignedRoot({ trustDomain: 'cluster.local' });
    const foreign = await issue(new WorkloadCa({ ...other, rootPem: other.certPem }, { now: () => Date.now(), setTimeout: () => ({ cancel() {} }) }, { trustDomain: 'cluster.local' }));
    const foreignResult = await tlsRequest(p.target, foreign);
    assert.equal(foreignResult.ok, false, 'a certificate from another CA is refused');

    const twoDaysAgo = Date.now() - 2 * 86_400_000;
    const expired = await issue(new WorkloadCa(signer.value, { now: () => twoDaysAgo, setTimeout: () => ({ cancel() {} }) }, { trustDomain: 'cluster.local' }), 3_600_000);
    assert.equal((await tlsRequest(p.target, expired)).ok, false, 'an expired certificate is refused');

    const none = await tlsRequest(p.target, {});
    assert.equal(none.ok, false, 'TLS without a client certificate is refused');
  });

  it('trustDomainAliases: STRICT also takes a mesh certificate of an alias trust domain, and sidecars in the new domain talk mTLS', async (t) => {
    const caDir = await mkdtemp(join(tmpdir(), 'isthmus-cacerts-'));
    t.after(() => rm(caDir, { recursive: true, force: true }));
    const root = await createSelfSignedRoot({ trustDomain: 'new.example' });
    await writeCaFiles(caDir, { ...root, rootPem: root.certPem });
    const p = await pair(t, { 'pa.yaml': STRICT_MTLS }, { cacertsDir: caDir, mesh: { trustDomain: 'new.example', trustDomainAliases: ['cluster.local'] } });
    await ok200(p, 'mTLS between the sidecars in trust domain new.example');
    const signer = await loadCacerts(caDir);
    assert.ok(signer.ok);
    const issue = async (trustDomain: string): Promise<{ cert: string; key: string }> => {
      const csr = await createCsr({ uri: `spiffe://${trustDomain}/ns/default/sa/legacy` });
      const s = await new WorkloadCa(signer.value, { now: () => Date.now(), setTimeout: () => ({ cancel() {} }) }, { trustDomain }).signCsr(csr.csrPem, { namespace: 'default', serviceAccount: 'legacy' });
      assert.ok(s.ok);
      return { cert: s.certChainPem, key: csr.keyPem };
    };
    // A workload not yet moved to the new trust domain (the alias) is let in; one of a domain that is neither is not.
    assert.deepEqual(await tlsRequest(p.target, await issue('cluster.local')), { ok: true, status: 200 });
    assert.equal((await tlsRequest(p.target, await issue('other.example'))).ok, false);
  });

  it('PERMISSIVE (the default) takes plaintext and mTLS on the same port', async (t) => {
    const p = await pair(t, {});
    await ok200(p, 'mTLS between the sidecars');
    const plain = await fetch(`http://127.0.1.12:${p.target}/plain`);
    assert.equal(plain.status, 200);
    assert.equal(await plain.text(), 'reviews');
  });

  it('a workload-level DISABLE makes clients send plaintext to that workload (Istio\'s EDS mTLS check)', async (t) => {
    const p = await pair(t, {
      'pa.yaml': `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: reviews-plain, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  mtls: {mode: DISABLE}
`,
    });
    // The reviews sidecar now has plaintext chains only; a client still sending mTLS would find no chain.
    const r = await ok200(p, 'productpage -> reviews in plaintext');
    assert.equal(r.body, 'reviews');
    const dump = (await (await fetch(`${p.client.adminUrl}/config_dump?include_eds`)).json()) as { configs: { dynamic_endpoint_configs?: { endpoint_config: { cluster_name: string } }[] }[] };
    const eds = dump.configs.flatMap((c) => c.dynamic_endpoint_configs ?? []).find((e) => e.endpoint_config.cluster_name === 'outbound|9080||reviews.default.svc.cluster.local');
    assert.ok(eds !== undefined);
    assert.equal(JSON.stringify(eds).includes('envoy.transport_socket_match'), false, 'the endpoint lost its tlsMode metadata');
  });

  it('the client refuses a server whose certificate names the wrong service account', async (t) => {
    // The reviews proxy holds a valid mesh certificate, but for `impostor`, not the bookinfo-reviews account
    // the registry lists for its endpoints: the client sidecar's SAN check fails the handshake.
    const p = await pair(t, {}, { serverAccount: 'impostor' });
    const r = await waitFor(async () => {
      const x = await reviews(p).catch(() => undefined);
      return x !== undefined && x.status !== 404 ? x : undefined;
    }, 'an answer from the client sidecar', 10_000);
    assert.equal(r.status, 503);
    // Envoy: `... reset reason: remote connection failure, transport failure reason: TLS_error: ... CERTIFICATE_VERIFY_FAILED`.
    assert.match(r.body, /^upstream connect error or disconnect\/reset before headers\. .*transport failure reason: TLS error: .*spiffe:\/\/cluster\.local\/ns\/default\/sa\/impostor/);
    assert.equal(p.seen.length, 0, 'nothing reached the app');
  });

  it('certificates rotate under load without losing a request', async (t) => {
    const p = await pair(t, {}, { certTtlSeconds: 3 });
    await ok200(p, 'mTLS between the sidecars');
    const first = p.client.agent?.current?.serial;
    const statuses = new Map<number, number>();
    const until = Date.now() + 5_000;
    // Four concurrent callers for 5 s: the certificates (3 s life) are renewed at half-life at least once.
    await Promise.all(
      [0, 1, 2, 3].map(async () => {
        while (Date.now() < until) {
          const r = await reviews(p).catch(() => ({ status: 0 }));
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }
      }),
    );
    assert.deepEqual([...statuses.keys()], [200], `every request succeeded: ${JSON.stringify([...statuses])}`);
    assert.notEqual(p.client.agent?.current?.serial, first, 'the client certificate was renewed');
    assert.ok((p.server.agent?.fetches ?? 0) >= 2, 'the server certificate was renewed');
  });

  it('a root rotation through the cacerts folder keeps traffic flowing: new root trusted first, then the new signer', async (t) => {
    const caDir = await mkdtemp(join(tmpdir(), 'isthmus-cacerts-'));
    t.after(() => rm(caDir, { recursive: true, force: true }));
    const rootA = await createSelfSignedRoot({ trustDomain: 'cluster.local' });
    const rootB = await createSelfSignedRoot({ trustDomain: 'cluster.local' });
    await writeCaFiles(caDir, { ...rootA, rootPem: rootA.certPem });
    const p = await pair(t, {}, { cacertsDir: caDir, certTtlSeconds: 3 });
    await ok200(p, 'mTLS with root A');
    const statuses = new Map<number, number>();
    let running = true;
    const traffic = Promise.all(
      [0, 1].map(async () => {
        while (running) {
          const r = await reviews(p).catch(() => ({ status: 0 }));
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }
      }),
    );
    const both = [p.client, p.server];
    const b = new X509Certificate(rootB.certPem);
    // Step 1: the bundle gains root B while A still signs; every proxy picks it up with its next certificate.
    await writeCaFiles(caDir, { ...rootA, rootPem: rootA.certPem + rootB.certPem, chainPem: rootA.certPem });
    await waitFor(() => both.every((x) => x.agent?.current?.rootPem.includes(rootB.certPem.trim()) === true), 'every proxy trusting root B', 20_000);
    // Step 2: an intermediate of root B signs; the bundle keeps root A for the certificates still out there.
    const intermediate = await createIntermediateCa(rootB);
    await writeCaFiles(caDir, { ...intermediate, rootPem: rootB.certPem + rootA.certPem, chainPem: intermediate.certPem + rootB.certPem });
    const issuedByB = (x: RunningProxy): boolean => {
      const chain = x.agent?.current?.certChainPem ?? '';
      const certs = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      return certs.length === 2 && new X509Certificate(certs[1] ?? '').checkIssued(b);
    };
    await waitFor(() => both.every(issuedByB), 'every proxy holding a certificate from root B', 20_000);
    await ok200(p, 'mTLS with root B');
    running = false;
    await traffic;
    assert.deepEqual([...statuses.keys()], [200], `every request succeeded: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(200) ?? 0) > 10);
  });
});
