import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyObject, X509Certificate, createPrivateKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../lib/clock.js';
import { systemClock } from '../lib/clock.js';
import { createCsr } from './csr.js';
import { importSigningKey, issueCertificate } from './cert-builder.js';
import { pemBlocks } from './pem.js';
import { createIntermediateCa, createSelfSignedRoot } from './root-ca.js';
import { CLOCK_SKEW_MS, WorkloadCa } from './workload-ca.js';
import {
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  PeculiarCertificate,
  Pkcs10CertificateRequestGenerator,
  SubjectAlternativeNameExtension,
} from './x509.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function fakeClock(t: number): Clock & { set(t: number): void } {
  let now = t;
  return { now: () => now, set: (v) => void (now = v), setTimeout: () => ({ cancel: () => undefined }) };
}

const ID = { namespace: 'default', serviceAccount: 'reviews' };
const SPIFFE = 'URI:spiffe://cluster.local/ns/default/sa/reviews';

async function newCa(clock: Clock, opts: { maxTtlMs?: number; workloadTtlMs?: number } = {}) {
  const root = await createSelfSignedRoot({ trustDomain: 'cluster.local', ttlDays: 30, clock });
  const ca = new WorkloadCa({ ...root, rootPem: root.certPem }, clock, { trustDomain: 'cluster.local', ...opts });
  return { root, ca };
}

/** A CSR asking for names it must not get. */
async function greedyCsr(): Promise<string> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const csr = await Pkcs10CertificateRequestGenerator.create(
    {
      name: 'CN=admin, O=evil',
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new SubjectAlternativeNameExtension([
          { type: 'url', value: 'spiffe://evil/ns/kube-system/sa/admin' },
          { type: 'dns', value: 'istiod.istio-system.svc' },
        ]),
        new BasicConstraintsExtension(true, undefined, true),
      ],
    },
    webcrypto as unknown as Parameters<typeof Pkcs10CertificateRequestGenerator.create>[1],
  );
  return csr.toString('pem');
}

function leafOf(chainPem: string): X509Certificate {
  return new X509Certificate(pemBlocks(chainPem)[0] ?? '');
}

describe('WorkloadCa.signCsr', () => {
  for (const keyType of ['ECDSA-P256', 'RSA-2048'] as const) {
    it(`issues a SPIFFE certificate for a ${keyType} CSR that verifies against the root`, async () => {
      const clock = fakeClock(T0);
      const { root, ca } = await newCa(clock);
      const { csrPem, keyPem } = await createCsr({ uri: 'spiffe://cluster.local/ns/default/sa/reviews', keyType });
      const r = await ca.signCsr(csrPem, ID);
      assert.equal(r.ok, true, JSON.stringify(r));
      if (!r.ok) return;
      const rootCert = new X509Certificate(root.certPem);
      const leaf = leafOf(r.certChainPem);
      assert.equal(leaf.checkIssued(rootCert), true);
      assert.equal(leaf.verify(rootCert.publicKey), true);
      assert.equal(leaf.checkPrivateKey(createPrivateKey(keyPem)), true);
      assert.equal(leaf.ca, false);
      assert.equal(leaf.subjectAltName, SPIFFE);
      assert.equal(leaf.subject, undefined);
      assert.deepEqual(leaf.keyUsage, [ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth]);
      assert.equal(r.rootPem, rootCert.toString());
      // The chain served is leaf + signing cert.
      assert.deepEqual(pemBlocks(r.certChainPem).slice(1), [rootCert.toString()]);
    });
  }

  it('ignores the SANs, subject and CA flag a CSR asks for', async () => {
    const { ca } = await newCa(fakeClock(T0));
    const r = await ca.signCsr(await greedyCsr(), ID);
    assert.equal(r.ok, true, JSON.stringify(r));
    if (!r.ok) return;
    const leaf = leafOf(r.certChainPem);
    assert.equal(leaf.subjectAltName, SPIFFE);
    assert.equal(leaf.subject, undefined);
    assert.equal(leaf.ca, false);
    const p = new PeculiarCertificate(leaf.raw);
    const ku = p.getExtension(KeyUsagesExtension);
    assert.equal(ku?.usages, KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment);
    assert.deepEqual([...(p.getExtension(ExtendedKeyUsageExtension)?.usages ?? [])], [ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth]);
    assert.equal(p.getExtension(SubjectAlternativeNameExtension)?.critical, true);
  });

  it('serials are random 128-bit values', async () => {
    const { ca } = await newCa(fakeClock(T0));
    const { csrPem } = await createCsr({ uri: 'spiffe://x' });
    const serials = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await ca.signCsr(csrPem, ID);
      assert.equal(r.ok, true);
      if (r.ok) serials.add(leafOf(r.certChainPem).serialNumber);
    }
    assert.equal(serials.size, 5);
    for (const s of serials) assert.ok(s.replace(/^0+/, '').length > 16 && s.length <= 32, s);
  });

  const ttlCases: { name: string; opts: { maxTtlMs?: number; workloadTtlMs?: number }; ttl?: number; lifetime: number }[] = [
    { name: 'default is 24h', opts: {}, lifetime: DAY },
    { name: 'a configured default', opts: { workloadTtlMs: 12 * HOUR }, lifetime: 12 * HOUR },
    { name: 'a requested TTL within the max', opts: { maxTtlMs: 2 * DAY }, ttl: HOUR, lifetime: HOUR },
    { name: 'a requested TTL above the max is capped', opts: { maxTtlMs: 2 * DAY }, ttl: 10 * DAY, lifetime: 2 * DAY },
    { name: 'a zero TTL means the default', opts: {}, ttl: 0, lifetime: DAY },
    { name: 'never past the CA certificate', opts: { maxTtlMs: 365 * DAY }, ttl: 100 * DAY, lifetime: 30 * DAY },
  ];
  for (const c of ttlCases) {
    it(`TTL: ${c.name}`, async () => {
      const { ca } = await newCa(fakeClock(T0), c.opts);
      const { csrPem } = await createCsr({ uri: 'spiffe://x' });
      const r = await ca.signCsr(csrPem, ID, c.ttl);
      assert.equal(r.ok, true, JSON.stringify(r));
      if (!r.ok) return;
      const leaf = leafOf(r.certChainPem);
      assert.equal(Date.parse(leaf.validFrom), T0 - CLOCK_SKEW_MS);
      assert.equal(Date.parse(leaf.validTo), T0 + c.lifetime);
      assert.equal(r.notAfter.getTime(), T0 + c.lifetime);
    });
  }

  it('refuses CSRs it cannot trust, each with a reason', async () => {
    const { ca } = await newCa(fakeClock(T0));
    const { csrPem } = await createCsr({ uri: 'spiffe://x' });
    // Flip a byte inside the signature (the DER's last bytes), keeping the structure intact.
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 3] = (der[der.length - 3] ?? 0) ^ 0xff;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weakKeys = {
      privateKey: await webcrypto.subtle.importKey('pkcs8', weak.privateKey.export({ format: 'der', type: 'pkcs8' }), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['sign']),
      publicKey: await webcrypto.subtle.importKey('spki', weak.publicKey.export({ format: 'der', type: 'spki' }), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']),
    };
    const weakCsr = (
      await Pkcs10CertificateRequestGenerator.create(
        { keys: weakKeys, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } } as Parameters<typeof Pkcs10CertificateRequestGenerator.create>[0],
        webcrypto as unknown as Parameters<typeof Pkcs10CertificateRequestGenerator.create>[1],
      )
    ).toString('pem');
    const cases: { name: string; csr: string; id?: typeof ID; reason: RegExp }[] = [
      { name: 'bad signature', csr: tampered, reason: /^CSR signature check failed: signature does not verify with the enclosed public key$/ },
      { name: 'garbage inside PEM', csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', reason: /^CSR is not a valid PKCS#10 certificate request$/ },
      { name: 'not PEM at all', csr: 'hello', reason: /^expected one PEM CERTIFICATE REQUEST, found 0$/ },
      { name: 'two CSRs', csr: csrPem + csrPem, reason: /^expected one PEM CERTIFICATE REQUEST, found 2$/ },
      { name: 'weak RSA key', csr: weakCsr, reason: /^CSR RSA key has 1024 bits; at least 2048 are required$/ },
      { name: 'identity with a path separator', csr: csrPem, id: { namespace: 'default/sa/admin', serviceAccount: 'x' }, reason: /^namespace "default\/sa\/admin" is not a valid Kubernetes name$/ },
      { name: 'empty service account', csr: csrPem, id: { namespace: 'default', serviceAccount: '' }, reason: /^service account "" is not a valid Kubernetes name$/ },
    ];
    for (const c of cases) {
      const r = await ca.signCsr(c.csr, c.id ?? ID);
      assert.equal(r.ok, false, c.name);
      if (!r.ok) assert.match(r.reason, c.reason, c.name);
    }
  });

  it('an expired signer refuses to sign', async () => {
    const clock = fakeClock(T0);
    const { ca } = await newCa(clock);
    const { csrPem } = await createCsr({ uri: 'spiffe://x' });
    clock.set(T0 + 31 * DAY);
    const r = await ca.signCsr(csrPem, ID);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /^CA certificate expired at 2026-01-31T00:00:00\.000Z$/);
  });

  it('signs with an intermediate and serves its chain', async () => {
    const clock = fakeClock(T0);
    const root = await createSelfSignedRoot({ trustDomain: 'cluster.local', org: 'Root', clock });
    const inter = await createIntermediateCa(root, { clock });
    const ca = new WorkloadCa({ ...inter, chainPem: inter.certPem + root.certPem, rootPem: root.certPem }, clock, { trustDomain: 'cluster.local' });
    const { csrPem } = await createCsr({ uri: 'spiffe://x' });
    const r = await ca.signCsr(csrPem, ID);
    assert.equal(r.ok, true, JSON.stringify(r));
    if (!r.ok) return;
    const [leaf, mid, top] = pemBlocks(r.certChainPem).map((p) => new X509Certificate(p));
    assert.ok(leaf !== undefined && mid !== undefined && top !== undefined);
    assert.equal(leaf.verify(mid.publicKey), true);
    assert.equal(leaf.checkIssued(mid), true);
    assert.equal(mid.verify(new X509Certificate(root.certPem).publicKey), true);
    assert.equal(top.fingerprint256, new X509Certificate(root.certPem).fingerprint256);
  });
  it('signs with a plugged-in P-384 CA key using ECDSA with SHA-384, at whole seconds', async () => {
    const clock = fakeClock(T0 + 1234); // a clock with milliseconds
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const keyPem = KeyObject.from(keys.privateKey).export({ format: 'pem', type: 'pkcs8' }).toString();
    const name = new Name('O=Plugged');
    const certPem = await issueCertificate({
      issuer: name,
      subject: name,
      publicKey: keys.publicKey,
      notBefore: new Date(T0),
      notAfter: new Date(T0 + 30 * DAY),
      extensions: [new BasicConstraintsExtension(true, undefined, true)],
      signer: await importSigningKey(keyPem),
    });
    const ca = new WorkloadCa({ certPem, keyPem, rootPem: certPem }, clock, { trustDomain: 'cluster.local' });
    const { csrPem } = await createCsr({ uri: 'spiffe://x' });
    const r = await ca.signCsr(csrPem, ID);
    assert.equal(r.ok, true, JSON.stringify(r));
    if (!r.ok) return;
    const leaf = new PeculiarCertificate(pemBlocks(r.certChainPem)[0] ?? '');
    assert.deepEqual(leaf.signatureAlgorithm, { name: 'ECDSA', hash: { name: 'SHA-384' } });
    assert.equal(leafOf(r.certChainPem).verify(new X509Certificate(certPem).publicKey), true);
    assert.equal(leaf.notBefore.getTime(), T0 + 1000 - CLOCK_SKEW_MS);
    assert.equal(leaf.notAfter.getTime(), T0 + 1000 + DAY);
    assert.equal(r.notAfter.getTime(), T0 + 1000 + DAY);
  });
});

describe('issued certificates in TLS', () => {
  it('two workloads complete a mutual TLS handshake and see each other\'s SPIFFE ID', async () => {
    const root = await createSelfSignedRoot({ trustDomain: 'cluster.local', clock: systemClock });
    const ca = new WorkloadCa({ ...root, rootPem: root.certPem }, systemClock, { trustDomain: 'cluster.local' });
    const issue = async (sa: string): Promise<{ cert: string; key: string }> => {
      const { csrPem, keyPem } = await createCsr({ uri: 'ignored' });
      const r = await ca.signCsr(csrPem, { namespace: 'default', serviceAccount: sa });
      assert.ok(r.ok);
      return { cert: r.ok ? r.certChainPem : '', key: keyPem };
    };
    const server = await issue('ratings');
    const client = await issue('reviews');
    const srv = createServer({ ...server, ca: ca.rootBundle(), requestCert: true, rejectUnauthorized: true }, (s) => {
      s.end(String(s.getPeerCertificate().subjectaltname));
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    try {
      const { port } = srv.address() as AddressInfo;
      // SPIFFE certificates carry no DNS name: the peer is checked by its URI SAN, as Envoy does.
      const sock = connect({ host: '127.0.0.1', port, ...client, ca: ca.rootBundle(), checkServerIdentity: () => undefined });
      await once(sock, 'secureConnect');
      assert.equal(sock.getPeerCertificate().subjectaltname, 'URI:spiffe://cluster.local/ns/default/sa/ratings');
      let body = '';
      sock.setEncoding('utf8').on('data', (d: string) => (body += d));
      await once(sock, 'end');
      assert.equal(body, 'URI:spiffe://cluster.local/ns/default/sa/reviews');
    } finally {
      srv.close();
    }
  });
});

describe('WorkloadCa construction and roots', () => {
  it('rejects a key that does not match the certificate', async () => {
    const a = await createSelfSignedRoot({ trustDomain: 'cluster.local' });
    const b = await createSelfSignedRoot({ trustDomain: 'cluster.local' });
    assert.throws(() => new WorkloadCa({ certPem: a.certPem, keyPem: b.keyPem, rootPem: a.certPem }, fakeClock(T0), { trustDomain: 'cluster.local' }), /CA key does not match the CA certificate/);
  });

  it('keeps both roots in the bundle during a rotation, once each', async () => {
    const clock = fakeClock(T0);
    const { root, ca } = await newCa(clock);
    const next = await createSelfSignedRoot({ trustDomain: 'cluster.local', org: 'Next', clock });
    assert.deepEqual(ca.addTrustedRoot(next.certPem), { ok: true });
    assert.deepEqual(ca.addTrustedRoot(next.certPem), { ok: true });
    const bundle = pemBlocks(ca.rootBundle()).map((p) => new X509Certificate(p).subject);
    assert.deepEqual(bundle, [new X509Certificate(root.certPem).subject, 'O=Next']);
    assert.equal(bundle.length, 2);
  });

  it('refuses a non-CA or unreadable root', async () => {
    const clock = fakeClock(T0);
    const { ca } = await newCa(clock);
    const { csrPem } = await createCsr({ uri: 'spiffe://x' });
    const r = await ca.signCsr(csrPem, ID);
    assert.ok(r.ok);
    if (!r.ok) return;
    const leafPem = pemBlocks(r.certChainPem)[0] ?? '';
    assert.deepEqual(ca.addTrustedRoot(leafPem), { ok: false, reason: 'is not a CA certificate' });
    assert.deepEqual(ca.addTrustedRoot('nope'), { ok: false, reason: 'expected one PEM certificate, found 0' });
    assert.equal(pemBlocks(ca.rootBundle()).length, 1);
  });
});
