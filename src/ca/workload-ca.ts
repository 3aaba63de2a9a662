// Signs workload certificates, as istiod's CA does for the CreateCertificate call
// (istio security/pkg/pki/ca/ca.go; https://istio.io/latest/docs/concepts/security/#pki). The identity
// comes from the authenticated caller, never from the CSR: whatever SANs or subject the CSR asks for
// are ignored, and the certificate carries exactly one URI SAN,
// `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`. The CSR only contributes its public
// key, after its self-signature is checked. Also holds the trust bundle, which can hold several roots
// while a root is being rotated. It does not authenticate callers or serve SDS.

import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import { importSigningKey, issueCertificate, signingAlgorithmFor, wholeSeconds } from './cert-builder.js';
import type { SigningKey } from './cert-builder.js';
import { pemBlocks } from './pem.js';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  PeculiarCertificate,
  Pkcs10CertificateRequest,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
} from './x509.js';

export interface WorkloadSigner {
  readonly certPem: string;
  readonly keyPem: string;
  /** Certificates served after the leaf, issuer first; defaults to the signing certificate alone. */
  readonly chainPem?: string;
  readonly rootPem: string;
}

export interface WorkloadCaOptions {
  readonly trustDomain: string;
  /** Lifetime when the caller asks for none; Istio's DEFAULT_WORKLOAD_CERT_TTL is 24h. */
  readonly workloadTtlMs?: number;
  /** Longest lifetime issued; Istio's MAX_WORKLOAD_CERT_TTL is 90 days. */
  readonly maxTtlMs?: number;
}

export interface WorkloadIdentity {
  readonly namespace: string;
  readonly serviceAccount: string;
}

export type SignResult =
  | { readonly ok: true; readonly certChainPem: string; readonly rootPem: string; readonly notAfter: Date }
  | { readonly ok: false; readonly reason: string };

const DAY_MS = 86_400_000;
/** Istio backdates notBefore for clock skew between CA and workloads (util.ClockSkewGracePeriod). */
export const CLOCK_SKEW_MS = 60_000;
const MIN_RSA_BITS = 2048;
/** Kubernetes names are DNS labels/subdomains; anything else must not reach a SPIFFE path segment. */
const NAME_RE = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

export function spiffeId(trustDomain: string, id: WorkloadIdentity): string {
  return `spiffe://${trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

interface Signing {
  readonly signer: SigningKey;
  readonly authorityKeyId: AuthorityKeyIdentifierExtension;
}

export class WorkloadCa {
  private readonly keyPem: string;
  private readonly cert: PeculiarCertificate;
  private readonly chainPem: string;
  private readonly notBefore: number;
  private readonly notAfter: number;
  private readonly workloadTtlMs: number;
  private readonly maxTtlMs: number;
  private readonly trustDomain: string;
  private roots: readonly X509Certificate[] = [];
  /** The WebCrypto key and AKI, prepared on first use (WebCrypto import is asynchronous). */
  private signing: Promise<Signing> | undefined;

  /** Throws when the signer is unusable (unparseable, key mismatch, unsupported key, not a CA): a start-up error. */
  constructor(signer: WorkloadSigner, private readonly clock: Clock, opts: WorkloadCaOptions) {
    this.trustDomain = opts.trustDomain;
    this.workloadTtlMs = opts.workloadTtlMs ?? DAY_MS;
    this.maxTtlMs = opts.maxTtlMs ?? 90 * DAY_MS;
    const cert = new X509Certificate(signer.certPem);
    const key = createPrivateKey(signer.keyPem);
    const certSpki = cert.publicKey.export({ format: 'der', type: 'spki' });
    if (!createPublicKey(key).export({ format: 'der', type: 'spki' }).equals(certSpki)) {
      throw new Error('CA key does not match the CA certificate');
    }
    if (!cert.ca) throw new Error('CA certificate is not a CA (basicConstraints CA:TRUE is missing)');
    signingAlgorithmFor(key); // throws for key types we cannot sign with
    this.keyPem = signer.keyPem;
    this.cert = new PeculiarCertificate(cert.raw);
    this.chainPem = pemBlocks(signer.chainPem ?? signer.certPem).join('');
    this.notBefore = Date.parse(cert.validFrom);
    this.notAfter = Date.parse(cert.validTo);
    for (const pem of pemBlocks(signer.rootPem)) {
      const added = this.addTrustedRoot(pem);
      if (!added.ok) throw new Error(`root certificate: ${added.reason}`);
    }
    if (this.roots.length === 0) throw new Error('no root certificate given');
  }

  private prepare(): Promise<Signing> {
    this.signing ??= (async () => {
      const ski = this.cert.getExtension(SubjectKeyIdentifierExtension);
      const authorityKeyId = ski === null ? await AuthorityKeyIdentifierExtension.create(this.cert.publicKey) : new AuthorityKeyIdentifierExtension(ski.keyId);
      return { signer: await importSigningKey(this.keyPem), authorityKeyId };
    })();
    return this.signing;
  }

  /**
   * Adds a root to the trust bundle (e.g. the new root during a rotation, while workloads still hold
   * certificates from the old one). Idempotent per certificate.
   */
  addTrustedRoot(pem: string): { ok: true } | { ok: false; reason: string } {
    const blocks = pemBlocks(pem);
    if (blocks.length !== 1) return { ok: false, reason: `expected one PEM certificate, found ${blocks.length}` };
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(blocks[0] ?? '');
    } catch (e) {
      return { ok: false, reason: `cannot be parsed: ${(e as Error).message}` };
    }
    if (!cert.ca) return { ok: false, reason: 'is not a CA certificate' };
    if (!this.roots.some((r) => r.fingerprint256 === cert.fingerprint256)) this.roots = [...this.roots, cert];
    return { ok: true };
  }

  /** Every trusted root, PEM, in the order added. */
  rootBundle(): string {
    return this.roots.map((r) => r.toString()).join('');
  }

  async signCsr(csrPem: string, identity: WorkloadIdentity, ttlMs?: number): Promise<SignResult> {
    const now = this.clock.now();
    if (now >= this.notAfter) return { ok: false, reason: `CA certificate expired at ${new Date(this.notAfter).toISOString()}` };
    if (now < this.notBefore) return { ok: false, reason: `CA certificate is not valid before ${new Date(this.notBefore).toISOString()}` };
    for (const [field, value] of [['namespace', identity.namespace], ['service account', identity.serviceAccount]] as const) {
      if (!NAME_RE.test(value)) return { ok: false, reason: `${field} "${value}" is not a valid Kubernetes name` };
    }

    const blocks = pemBlocks(csrPem, 'CERTIFICATE REQUEST');
    if (blocks.length !== 1) return { ok: false, reason: `expected one PEM CERTIFICATE REQUEST, found ${blocks.length}` };
    let csr: Pkcs10CertificateRequest;
    try {
      csr = new Pkcs10CertificateRequest(blocks[0] ?? '');
    } catch {
      return { ok: false, reason: 'CSR is not a valid PKCS#10 certificate request' };
    }
    let signed: boolean;
    try {
      signed = await csr.verify();
    } catch {
      // The library throws for algorithms WebCrypto lacks (e.g. RSA-PSS parameters, unknown OIDs).
      return { ok: false, reason: 'CSR signature check failed: unsupported signature algorithm or unreadable key' };
    }
    if (!signed) return { ok: false, reason: 'CSR signature check failed: signature does not verify with the enclosed public key' };
    const subjectKey = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
    const bits = subjectKey.asymmetricKeyDetails?.modulusLength;
    if (subjectKey.asymmetricKeyType === 'rsa' && bits !== undefined && bits < MIN_RSA_BITS) {
      return { ok: false, reason: `CSR RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required` };
    }

    let signing: Signing;
    try {
      signing = await this.prepare();
    } catch (e) {
      return { ok: false, reason: `CA key cannot be used for signing: ${(e as Error).message}` };
    }
    // Istio refuses a TTL above the max (caerror.TTLError); we cap it instead, and never outlive the CA.
    const requested = ttlMs !== undefined && ttlMs > 0 ? ttlMs : this.workloadTtlMs;
    const notAfter = wholeSeconds(new Date(Math.min(now + Math.min(requested, this.maxTtlMs), this.notAfter)));
    const leaf = await issueCertificate({
      issuer: this.cert.subjectName,
      // No subject: the identity lives only in the SAN (SPIFFE X.509-SVID §2).
      publicKey: csr.publicKey,
      notBefore: new Date(now - CLOCK_SKEW_MS),
      notAfter,
      extensions: [
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment, true),
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth]),
        new BasicConstraintsExtension(false, undefined, true),
        signing.authorityKeyId,
        // RFC 5280 §4.2.1.6: with an empty subject the SAN extension must be critical.
        new SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId(this.trustDomain, identity) }], true),
      ],
      signer: signing.signer,
    });
    // Report what the certificate says (X.509 dates have whole seconds).
    return { ok: true, certChainPem: leaf + this.chainPem, rootPem: this.rootBundle(), notAfter };
  }
}
