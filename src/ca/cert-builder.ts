// Issues X.509 certificates through @peculiar/x509's generator on WebCrypto; no DER is written here.
// It owns what every certificate the CA issues shares: a positive 128-bit random serial, the signature
// algorithm that fits the CA key, and turning a PKCS#8 PEM key into a WebCrypto signing key. It decides
// nothing about *what* goes into a certificate: root-ca.ts and workload-ca.ts own those policies.

import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { toPem } from './pem.js';
import { X509CertificateGenerator } from './x509.js';
import type { Extension, Name, PublicKey } from './x509.js';

type GeneratorParams = Parameters<typeof X509CertificateGenerator.create>[0];
type SigningAlgorithm = NonNullable<GeneratorParams['signingAlgorithm']>;

export interface SigningKey {
  /** A non-extractable WebCrypto private key, imported for signing only. */
  readonly privateKey: webcrypto.CryptoKey;
  readonly algorithm: SigningAlgorithm;
}

/**
 * The WebCrypto algorithm for a key: ECDSA with SHA-384 for P-384 and SHA-512 for P-521, SHA-256
 * otherwise (what Go's x509 picks); RSA signs with PKCS#1 v1.5 and SHA-256. Other key types are refused.
 */
export function signingAlgorithmFor(key: KeyObject): { import: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams; sign: SigningAlgorithm } {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const [namedCurve, hash] = curve === 'secp384r1' ? ['P-384', 'SHA-384'] : curve === 'secp521r1' ? ['P-521', 'SHA-512'] : ['P-256', 'SHA-256'];
    if (curve !== 'prime256v1' && namedCurve === 'P-256') throw new Error(`unsupported EC curve ${String(curve)}`);
    return { import: { name: 'ECDSA', namedCurve }, sign: { name: 'ECDSA', hash } as SigningAlgorithm };
  }
  if (type === 'rsa') {
    return { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' } };
  }
  throw new Error(`unsupported signing key type ${String(type)}`);
}

/** Imports a PEM private key (PKCS#8, or any form node:crypto reads) for signing; throws when unusable. */
export async function importSigningKey(keyPem: string): Promise<SigningKey> {
  const key = createPrivateKey(keyPem);
  const alg = signingAlgorithmFor(key);
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, alg.import, false, ['sign']);
  return { privateKey, algorithm: alg.sign };
}

/** A positive 128-bit serial as hex (RFC 5280 §4.1.2.2 allows up to 20 octets; Istio uses 128 random bits). */
export function randomSerial(): string {
  const s = randomBytes(16);
  s[0] = (s[0] ?? 0) & 0x7f; // clear the sign bit, so the INTEGER needs no 0x00 pad
  if (s.every((b) => b === 0)) s[15] = 1;
  return s.toString('hex');
}

export interface CertificateParams {
  /** The issuer's subject Name, as parsed from its certificate (re-encoded as the same DER). */
  readonly issuer: Name;
  /** Omitted: an empty subject (the SAN must then be critical, RFC 5280 §4.2.1.6). */
  readonly subject?: Name;
  readonly publicKey: PublicKey | webcrypto.CryptoKey;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: readonly Extension[];
  readonly signer: SigningKey;
}

/** X.509 times carry whole seconds (RFC 5280 §4.1.2.5.2: GeneralizedTime MUST NOT have fractions). */
export function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** Builds and signs a v3 certificate with a random serial; returns it as PEM. Dates are cut to whole seconds. */
export async function issueCertificate(p: CertificateParams): Promise<string> {
  const params: GeneratorParams = {
    serialNumber: randomSerial(),
    issuer: p.issuer,
    notBefore: wholeSeconds(p.notBefore),
    notAfter: wholeSeconds(p.notAfter),
    publicKey: p.publicKey,
    signingKey: p.signer.privateKey,
    signingAlgorithm: p.signer.algorithm,
    extensions: [...p.extensions],
    ...(p.subject === undefined ? {} : { subject: p.subject }),
  };
  const cert = await X509CertificateGenerator.create(params);
  return toPem('CERTIFICATE', new Uint8Array(cert.rawData));
}
