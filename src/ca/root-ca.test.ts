import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyObject, X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../lib/clock.js';
import { CACERTS_FILES, createIntermediateCa, createSelfSignedRoot, generateCaKey, loadCacerts, writeCaFiles } from './root-ca.js';
import type { CaKeyPair } from './root-ca.js';
import { importSigningKey, issueCertificate } from './cert-builder.js';
import { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension, Name, PeculiarCertificate } from './x509.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const clockAt = (t: number): Clock => ({ now: () => t, setTimeout: () => ({ cancel: () => undefined }) });

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-ca-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('createSelfSignedRoot', () => {
  for (const keyType of ['ECDSA-P256', 'RSA-2048'] as const) {
    it(`makes a self-signed CA with ${keyType}`, async () => {
      const root = await createSelfSignedRoot({ trustDomain: 'example.org', org: 'Example', ttlDays: 10, keyType, clock: clockAt(T0) });
      const cert = new X509Certificate(root.certPem);
      assert.equal(cert.ca, true);
      assert.equal(cert.subject, 'O=Example');
      assert.equal(cert.issuer, 'O=Example');
      assert.equal(cert.checkIssued(cert), true);
      assert.equal(cert.verify(cert.publicKey), true);
      assert.equal(cert.checkPrivateKey(createPrivateKey(root.keyPem)), true);
      assert.equal(new Date(cert.validFrom).getTime(), T0 - 60_000);
      assert.equal(new Date(cert.validTo).getTime(), T0 + 10 * 86_400_000);
      assert.equal(cert.subjectAltName, 'URI:spiffe://example.org');
      assert.equal(cert.publicKey.asymmetricKeyType, keyType === 'RSA-2048' ? 'rsa' : 'ec');
      const ku = new PeculiarCertificate(cert.raw).getExtension(KeyUsagesExtension);
      assert.equal(ku?.usages, KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign);
      assert.equal(ku?.critical, true);
    });
  }

  it('defaults to O=cluster.local and ten years', async () => {
    const cert = new X509Certificate((await createSelfSignedRoot({ trustDomain: 'cluster.local', clock: clockAt(T0) })).certPem);
    assert.equal(cert.subject, 'O=cluster.local');
    assert.equal(new Date(cert.validTo).getTime(), T0 + 3650 * 86_400_000);
  });
});

/** A CA:FALSE certificate issued by `root`, with its key. */
async function nonCaCert(root: CaKeyPair): Promise<CaKeyPair> {
  const keys = await generateCaKey('ECDSA-P256');
  const certPem = await issueCertificate({
    issuer: new PeculiarCertificate(root.certPem).subjectName,
    subject: new Name('CN=not-a-ca'),
    publicKey: keys.publicKey,
    notBefore: new Date(T0),
    notAfter: new Date(T0 + 86_400_000),
    extensions: [new BasicConstraintsExtension(false, undefined, true)],
    signer: await importSigningKey(root.keyPem),
  });
  return { certPem, keyPem: KeyObject.from(keys.privateKey).export({ format: 'pem', type: 'pkcs8' }).toString() };
}

/** A valid plug-in layout: root → intermediate (ca-cert), cert-chain = intermediate + root. */
async function pluginBundle(): Promise<{ root: CaKeyPair; ca: CaKeyPair }> {
  const root = await createSelfSignedRoot({ trustDomain: 'cluster.local', org: 'Root Org', clock: clockAt(T0) });
  const ca = await createIntermediateCa(root, { commonName: 'cluster-1', clock: clockAt(T0) });
  return { root, ca };
}

// Certificates are made asynchronously, once, before the table of cases is declared.
const { root, ca } = await pluginBundle();
const other = await createSelfSignedRoot({ trustDomain: 'cluster.local', org: 'Other', clock: clockAt(T0) });
const leaf = await nonCaCert(root);

describe('loadCacerts', () => {
  const good: Record<string, string> = {
    [CACERTS_FILES.cert]: ca.certPem,
    [CACERTS_FILES.key]: ca.keyPem,
    [CACERTS_FILES.root]: root.certPem,
    [CACERTS_FILES.chain]: ca.certPem + root.certPem,
  };
  const write = async (dir: string, files: Record<string, string | undefined>): Promise<void> => {
    for (const [name, text] of Object.entries(files)) if (text !== undefined) await writeFile(join(dir, name), text);
  };

  it('loads a valid intermediate bundle', async () => {
    await withDir(async (dir) => {
      await write(dir, good);
      const r = await loadCacerts(dir, clockAt(T0));
      assert.equal(r.ok, true, JSON.stringify(r));
      if (!r.ok) return;
      assert.equal(new X509Certificate(r.value.certPem).subject, 'O=cluster.local\nCN=cluster-1');
      assert.equal(r.value.rootPem, new X509Certificate(root.certPem).toString());
      assert.equal(r.value.chainPem, new X509Certificate(ca.certPem).toString() + new X509Certificate(root.certPem).toString());
      assert.deepEqual(r.warnings, []);
    });
  });

  it('loads a root used directly as the CA (chain is the root itself)', async () => {
    await withDir(async (dir) => {
      await write(dir, { [CACERTS_FILES.cert]: root.certPem, [CACERTS_FILES.key]: root.keyPem, [CACERTS_FILES.root]: root.certPem, [CACERTS_FILES.chain]: root.certPem });
      const r = await loadCacerts(dir, clockAt(T0));
      assert.equal(r.ok, true, JSON.stringify(r));
    });
  });

  it('accepts a root-cert.pem holding two roots (rotation) and keeps both', async () => {
    await withDir(async (dir) => {
      await write(dir, { ...good, [CACERTS_FILES.root]: other.certPem + root.certPem });
      const r = await loadCacerts(dir, clockAt(T0));
      assert.equal(r.ok, true, JSON.stringify(r));
      if (r.ok) assert.equal(r.value.rootPem, new X509Certificate(other.certPem).toString() + new X509Certificate(root.certPem).toString());
    });
  });

  const badCases: { name: string; files: Record<string, string | undefined>; issues: { path: string; message: RegExp }[] }[] = [
    {
      name: 'missing files are each named',
      files: { ...good, [CACERTS_FILES.key]: undefined, [CACERTS_FILES.chain]: undefined },
      issues: [
        { path: 'ca-key.pem', message: /^missing from / },
        { path: 'cert-chain.pem', message: /^missing from / },
      ],
    },
    {
      name: 'key that does not match ca-cert',
      files: { ...good, [CACERTS_FILES.key]: other.keyPem },
      issues: [{ path: 'ca-key.pem', message: /^does not match the public key of ca-cert\.pem$/ }],
    },
    {
      name: 'garbage key, without echoing it',
      files: { ...good, [CACERTS_FILES.key]: 'SECRET-MATERIAL' },
      issues: [{ path: 'ca-key.pem', message: /^is not a readable PEM private key$/ }],
    },
    {
      name: 'non-CA cert',
      files: { ...good, [CACERTS_FILES.cert]: leaf.certPem, [CACERTS_FILES.key]: leaf.keyPem, [CACERTS_FILES.chain]: leaf.certPem + root.certPem },
      issues: [{ path: 'ca-cert.pem', message: /^is not a CA certificate \(basicConstraints CA:TRUE is missing\)$/ }],
    },
    {
      name: 'chain that does not lead to root-cert',
      files: { ...good, [CACERTS_FILES.root]: other.certPem, [CACERTS_FILES.chain]: ca.certPem + other.certPem },
      issues: [{ path: 'cert-chain.pem', message: /^the chain from ca-cert\.pem stops at "O=cluster\.local\nCN=cluster-1": its issuer "O=Root Org" is neither root-cert\.pem nor a certificate in cert-chain\.pem whose key signed it$/ }],
    },
    {
      name: 'file that holds no certificate',
      files: { ...good, [CACERTS_FILES.root]: 'not a pem\n' },
      issues: [{ path: 'root-cert.pem', message: /^contains no PEM CERTIFICATE block$/ }],
    },
  ];
  for (const c of badCases) {
    it(`refuses: ${c.name}`, async () => {
      await withDir(async (dir) => {
        await write(dir, c.files);
        const r = await loadCacerts(dir, clockAt(T0));
        assert.equal(r.ok, false);
        if (r.ok) return;
        assert.equal(r.issues.length, c.issues.length, JSON.stringify(r.issues));
        c.issues.forEach((want, i) => {
          assert.equal(r.issues[i]?.path, want.path);
          assert.match(r.issues[i]?.message ?? '', want.message);
        });
        assert.ok(!JSON.stringify(r.issues).includes('SECRET-MATERIAL'));
      });
    });
  }

  it('warns when ca-cert has expired', async () => {
    await withDir(async (dir) => {
      await write(dir, good);
      const r = await loadCacerts(dir, clockAt(T0 + 400 * 86_400_000));
      assert.equal(r.ok, true);
      if (!r.ok) return;
      assert.equal(r.warnings.length, 1);
      assert.equal(r.warnings[0]?.path, 'ca-cert.pem');
      assert.match(r.warnings[0]?.message ?? '', /^expired at /);
    });
  });
});

describe('writeCaFiles', () => {
  it('writes the plug-in layout with the key 0600, and loadCacerts reads it back', async () => {
    await withDir(async (dir) => {
      const root = await createSelfSignedRoot({ trustDomain: 'cluster.local', clock: clockAt(T0) });
      const lines: string[] = [];
      const logger = { level: 'debug', enabled: () => true, debug: log, info: log, warn: log, error: log } as const;
      function log(msg: string, fields?: Record<string, unknown>): void {
        lines.push(msg + JSON.stringify(fields ?? {}));
      }
      const out = join(dir, 'cacerts');
      await writeCaFiles(out, { certPem: root.certPem, keyPem: root.keyPem, rootPem: root.certPem }, logger);
      assert.equal((await stat(join(out, 'ca-key.pem'))).mode & 0o777, 0o600);
      assert.equal((await stat(join(out, 'ca-cert.pem'))).mode & 0o777, 0o644);
      assert.equal((await stat(out)).mode & 0o777, 0o700);
      assert.equal(await readFile(join(out, 'ca-key.pem'), 'utf8'), root.keyPem);
      assert.equal(await readFile(join(out, 'cert-chain.pem'), 'utf8'), root.certPem);
      assert.ok(lines.length > 0);
      assert.ok(!lines.join('').includes('PRIVATE KEY'));
      const loaded = await loadCacerts(out, clockAt(T0));
      assert.equal(loaded.ok, true, JSON.stringify(loaded));

      // Overwriting an existing, looser file still leaves the key 0600.
      await writeFile(join(out, 'ca-key.pem'), 'x', { mode: 0o644 });
      await writeCaFiles(out, { certPem: root.certPem, keyPem: root.keyPem, rootPem: root.certPem });
      assert.equal((await stat(join(out, 'ca-key.pem'))).mode & 0o777, 0o600);
    });
  });
});
