// The CA's own key material: creating a self-signed root (Istio's self-signed istiod CA) and loading or
// writing Istio's plug-in CA layout (`cacerts`: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem;
// https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/). Loading validates the
// bundle and reports every problem with the file it is in; nothing here logs key material.
// It does not sign workload certificates (workload-ca.ts does).

import { KeyObject, X509Certificate, createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  PeculiarCertificate,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
} from './x509.js';
import { systemClock } from '../lib/clock.js';
import type { Clock } from '../lib/clock.js';
import { error, warning } from '../lib/issue.js';
import type { Issue, Result } from '../lib/issue.js';
import type { Logger } from '../lib/logger.js';
import { importSigningKey, issueCertificate } from './cert-builder.js';
import { pemBlocks } from './pem.js';

export type CaKeyType = 'ECDSA-P256' | 'RSA-2048';

export interface RootCaOptions {
  readonly trustDomain: string;
  /** Subject O=; Istio's default organisation is the trust domain `cluster.local`. */
  readonly org?: string;
  readonly ttlDays?: number;
  readonly keyType?: CaKeyType;
  readonly clock?: Clock;
}

export interface CaKeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** The signer a WorkloadCa runs with: its certificate and key, the chain above it, and the trusted root(s). */
export interface CaSigner extends CaKeyPair {
  /** Certificates that follow a leaf in a served chain, issuer first (cert-chain.pem). */
  readonly chainPem?: string;
  readonly rootPem: string;
}

export const CACERTS_FILES = {
  cert: 'ca-cert.pem',
  key: 'ca-key.pem',
  root: 'root-cert.pem',
  chain: 'cert-chain.pem',
} as const;

/** A fresh CA key pair (extractable, so its private key can be written out as PKCS#8 PEM). */
export async function generateCaKey(keyType: CaKeyType): Promise<webcrypto.CryptoKeyPair> {
  const algorithm =
    keyType === 'RSA-2048'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 }
      : { name: 'ECDSA', namedCurve: 'P-256' };
  return (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

function pkcs8Pem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ format: 'pem', type: 'pkcs8' }).toString();
}

/**
 * A self-signed root: CA:TRUE (critical), keyCertSign|cRLSign (critical), subject O=<org>, and the
 * trust domain's SPIFFE ID `spiffe://<trust-domain>` as its URI SAN (SPIFFE X.509-SVID §4.1 lets a
 * signing certificate carry the trust domain's ID, with no path).
 */
export async function createSelfSignedRoot(opts: RootCaOptions): Promise<CaKeyPair> {
  const { trustDomain, org = 'cluster.local', ttlDays = 3650, keyType = 'ECDSA-P256', clock = systemClock } = opts;
  const keys = await generateCaKey(keyType);
  const keyPem = pkcs8Pem(keys.privateKey);
  const name = new Name([{ O: [org] }]);
  const now = clock.now();
  const certPem = await issueCertificate({
    issuer: name,
    subject: name,
    publicKey: keys.publicKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + ttlDays * 86_400_000),
    extensions: [
      new BasicConstraintsExtension(true, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
      await SubjectKeyIdentifierExtension.create(keys.publicKey),
      new SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }]),
    ],
    signer: await importSigningKey(keyPem),
  });
  return { certPem, keyPem };
}

export interface IntermediateCaOptions {
  readonly org?: string;
  /** Subject CN=, so several intermediates under one root can be told apart. */
  readonly commonName?: string;
  readonly ttlDays?: number;
  readonly keyType?: CaKeyType;
  readonly clock?: Clock;
}

/** A CA certificate signed by `parent` (an intermediate for the plug-in layout, one per cluster). */
export async function createIntermediateCa(parent: CaKeyPair, opts: IntermediateCaOptions = {}): Promise<CaKeyPair> {
  const { org = 'cluster.local', commonName = 'Intermediate CA', ttlDays = 365, keyType = 'ECDSA-P256', clock = systemClock } = opts;
  const parentCert = new PeculiarCertificate(parent.certPem);
  const signer = await importSigningKey(parent.keyPem);
  const parentSki = parentCert.getExtension(SubjectKeyIdentifierExtension);
  const keys = await generateCaKey(keyType);
  const now = clock.now();
  const certPem = await issueCertificate({
    issuer: parentCert.subjectName,
    subject: new Name([{ O: [org] }, { CN: [commonName] }]),
    publicKey: keys.publicKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(Math.min(now + ttlDays * 86_400_000, parentCert.notAfter.getTime())),
    extensions: [
      new BasicConstraintsExtension(true, 0, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
      await SubjectKeyIdentifierExtension.create(keys.publicKey),
      parentSki === null ? await AuthorityKeyIdentifierExtension.create(parentCert.publicKey) : new AuthorityKeyIdentifierExtension(parentSki.keyId),
    ],
    signer,
  });
  return { certPem, keyPem: pkcs8Pem(keys.privateKey) };
}

function parseCerts(text: string, file: string, issues: Issue[]): X509Certificate[] {
  const blocks = pemBlocks(text);
  if (blocks.length === 0) {
    issues.push(error(file, 'contains no PEM CERTIFICATE block'));
    return [];
  }
  const out: X509Certificate[] = [];
  blocks.forEach((pem, i) => {
    try {
      out.push(new X509Certificate(pem));
    } catch (e) {
      issues.push(error(file, `certificate ${i + 1} cannot be parsed: ${(e as Error).message}`));
    }
  });
  return out;
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ format: 'der', type: 'spki' }).equals(b.export({ format: 'der', type: 'spki' }));
}

function hasKeyCertSign(cert: X509Certificate): boolean {
  const ku = new PeculiarCertificate(cert.raw).getExtension(KeyUsagesExtension);
  return ku === null || (ku.usages & KeyUsageFlags.keyCertSign) !== 0;
}

/** Walks ca-cert → cert-chain → a root in root-cert by issuer name and signature; returns why it breaks, or null. */
function chainProblem(caCert: X509Certificate, chain: readonly X509Certificate[], roots: readonly X509Certificate[]): string | null {
  let current = caCert;
  for (let depth = 0; depth <= chain.length; depth++) {
    if (roots.some((r) => r.fingerprint256 === current.fingerprint256)) return null;
    if (roots.some((r) => current.checkIssued(r) && current.verify(r.publicKey))) return null;
    const next = chain.find((c) => c.fingerprint256 !== current.fingerprint256 && current.checkIssued(c) && current.verify(c.publicKey));
    if (next === undefined) {
      return `the chain from ${CACERTS_FILES.cert} stops at "${current.subject.trim()}": its issuer "${current.issuer.trim()}" is neither ${CACERTS_FILES.root} nor a certificate in ${CACERTS_FILES.chain} whose key signed it`;
    }
    current = next;
  }
  return `the chain from ${CACERTS_FILES.cert} loops without reaching ${CACERTS_FILES.root}`;
}

/**
 * Loads Istio's plug-in CA files from `dir` and checks them: all four present and parseable, ca-key
 * matches ca-cert, ca-cert is a CA (basicConstraints CA:TRUE and, when key usage is present,
 * keyCertSign), and ca-cert chains through cert-chain.pem to root-cert.pem. Every problem is an issue
 * whose path is the file it concerns. An expired ca-cert is a warning (signing will refuse).
 */
export async function loadCacerts(dir: string, clock: Clock = systemClock): Promise<Result<CaSigner>> {
  const issues: Issue[] = [];
  const texts = new Map<string, string>();
  for (const file of Object.values(CACERTS_FILES)) {
    try {
      texts.set(file, await readFile(join(dir, file), 'utf8'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      issues.push(error(file, code === 'ENOENT' ? `missing from ${dir}` : `cannot be read: ${code ?? (e as Error).message}`));
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  const text = (f: string): string => texts.get(f) ?? '';

  const [caCert] = parseCerts(text(CACERTS_FILES.cert), CACERTS_FILES.cert, issues);
  // root-cert.pem may hold several roots (old and new during a rotation); any of them may anchor the chain.
  const roots = parseCerts(text(CACERTS_FILES.root), CACERTS_FILES.root, issues);
  const root = roots[0];
  const chain = parseCerts(text(CACERTS_FILES.chain), CACERTS_FILES.chain, issues);
  let key: KeyObject | undefined;
  try {
    key = createPrivateKey(text(CACERTS_FILES.key));
  } catch {
    // The parser's message may quote the input; say only that it is unreadable.
    issues.push(error(CACERTS_FILES.key, 'is not a readable PEM private key'));
  }

  if (caCert !== undefined) {
    if (key !== undefined && !sameKey(createPublicKey(key), caCert.publicKey)) {
      issues.push(error(CACERTS_FILES.key, `does not match the public key of ${CACERTS_FILES.cert}`));
    }
    if (!caCert.ca) issues.push(error(CACERTS_FILES.cert, 'is not a CA certificate (basicConstraints CA:TRUE is missing)'));
    else if (!hasKeyCertSign(caCert)) issues.push(error(CACERTS_FILES.cert, 'key usage does not allow certificate signing (keyCertSign)'));
    if (Date.parse(caCert.validTo) <= clock.now()) issues.push(warning(CACERTS_FILES.cert, `expired at ${new Date(caCert.validTo).toISOString()}`));
  }
  roots.forEach((r, i) => {
    if (!r.ca) issues.push(error(CACERTS_FILES.root, `certificate ${i + 1} is not a CA certificate (basicConstraints CA:TRUE is missing)`));
  });
  if (caCert !== undefined && roots.length > 0 && chain.length > 0) {
    const problem = chainProblem(caCert, chain, roots);
    if (problem !== null) issues.push(error(CACERTS_FILES.chain, problem));
  }

  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length > 0 || caCert === undefined || root === undefined || key === undefined) return { ok: false, issues: errors };
  // Served chains start with the signing cert (Istio's cert-chain.pem does); add it when the file omits it.
  const rest = chain.filter((c) => c.fingerprint256 !== caCert.fingerprint256).map((c) => c.toString());
  return {
    ok: true,
    value: {
      certPem: caCert.toString(),
      keyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
      chainPem: [caCert.toString(), ...rest].join(''),
      rootPem: pemBlocks(text(CACERTS_FILES.root)).join(''),
    },
    warnings: issues.filter((i) => i.severity === 'warning'),
  };
}

export interface CaFiles {
  readonly certPem: string;
  readonly keyPem: string;
  readonly rootPem: string;
  /** Defaults to ca-cert followed by root-cert (or just the cert when it is the root). */
  readonly chainPem?: string;
}

async function writeAtomically(path: string, data: string, mode: number): Promise<void> {
  // A fresh temp file is created with its final mode, so a key is never briefly world-readable.
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(tmp, data, { mode, flag: 'wx' });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Writes the plug-in layout to `dir` (created 0700 if missing): the key 0600, certificates 0644. */
export async function writeCaFiles(dir: string, files: CaFiles, logger?: Logger): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const chainPem = files.chainPem ?? (files.certPem === files.rootPem ? files.certPem : files.certPem + files.rootPem);
  await writeAtomically(join(dir, CACERTS_FILES.key), files.keyPem, 0o600);
  await writeAtomically(join(dir, CACERTS_FILES.cert), files.certPem, 0o644);
  await writeAtomically(join(dir, CACERTS_FILES.root), files.rootPem, 0o644);
  await writeAtomically(join(dir, CACERTS_FILES.chain), chainPem, 0o644);
  logger?.info('wrote CA files', { dir, files: Object.values(CACERTS_FILES).join(',') });
}
