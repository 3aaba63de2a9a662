// Secure contexts for TLS termination (gateway SIMPLE/MUTUAL servers, inbound mTLS), built from a chain's
// DownstreamTlsContext and the secrets it names, cached until those secrets change.

import { createHash } from 'node:crypto';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { serverIdentityCheck } from '../upstream/san-check.js';
import type { PeerCertificate } from '../http/hcm-env.js';
import type { DownstreamTls } from '../runtime/compile-downstream-tls.js';
import { SDS_MISSING, type SecretSource } from '../upstream/connection-pools.js';

/** Secret sources answer the same object while a secret is unchanged, so a new object means a rotation. */
const cache = new WeakMap<DownstreamTls, { certs: readonly object[]; ca: object | string | undefined; ctx: SecureContext }>();

/** The context for `tls`, or why there is none (a secret not yet supplied, a bad key). */
export function secureContextFor(tls: DownstreamTls, secrets: SecretSource): SecureContext | string {
  const first = tls.sdsCertificate !== undefined ? secrets.certificate(tls.sdsCertificate) : tls.inlineCertificate;
  if (first === undefined) return SDS_MISSING;
  const certs: { readonly cert: string; readonly key: string }[] = [first, ...tls.moreInlineCertificates];
  for (const name of tls.moreSdsCertificates) {
    const c = secrets.certificate(name);
    if (c === undefined) return SDS_MISSING;
    certs.push(c);
  }
  const validation = tls.sdsValidation !== undefined ? secrets.validation(tls.sdsValidation) : undefined;
  if (tls.sdsValidation !== undefined && validation === undefined) return SDS_MISSING;
  const ca = validation?.trustedCa ?? tls.inlineTrustedCa;
  const caKey = validation ?? tls.inlineTrustedCa;
  const hit = cache.get(tls);
  if (hit !== undefined && hit.ca === caKey && hit.certs.length === certs.length && hit.certs.every((c, i) => c === certs[i])) return hit.ctx;
  try {
    const ctx = createSecureContext({
      // Several certificates (RSA and ECDSA, say): OpenSSL picks the one the client's signature algorithms allow.
      cert: certs.length === 1 ? first.cert : certs.map((c) => c.cert),
      key: certs.length === 1 ? first.key : certs.map((c) => c.key),
      ...(ca !== undefined ? { ca } : {}),
      // With a CRL, OpenSSL checks the client's certificate against it during verification; an SDS validation
      // secret's (a credential's `ca.crl`) replaces the static one, as Envoy merges the SDS context over the default.
      ...((validation?.crl ?? tls.crl) !== undefined ? { crl: validation?.crl ?? tls.crl } : {}),
      ...(tls.minVersion !== undefined ? { minVersion: tls.minVersion } : {}),
      ...(tls.maxVersion !== undefined ? { maxVersion: tls.maxVersion } : {}),
      ...(tls.ciphers !== undefined ? { ciphers: tls.ciphers } : {}),
      ...(tls.ecdhCurves !== undefined ? { ecdhCurve: tls.ecdhCurves } : {}),
    });
    cache.set(tls, { certs, ca: caKey, ctx });
    return ctx;
  } catch (e) {
    return `TLS error: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** The verified client certificate of an accepted TLS connection, as RBAC and the access log read it. */
export function peerCertificateOf(tls: TLSSocket): PeerCertificate | undefined {
  const x = tls.getPeerX509Certificate();
  if (x === undefined) return undefined;
  const sans = (cert: { subjectAltName?: string | undefined } | undefined, prefix: string): string[] =>
    (cert?.subjectAltName ?? '')
      .split(/,\s*/)
      .filter((s) => s.startsWith(prefix))
      .map((s) => s.slice(prefix.length));
  // A workload certificate has an empty subject (the identity is in the SAN); Node then reports none at all.
  const raw = (x.subject as string | undefined) ?? '';
  // Node prints the subject one attribute per line, most significant first; RFC 2253 reverses and joins with ','.
  const subject = raw.split('\n').filter((l) => l !== '').reverse().join(',');
  return {
    uriSans: sans(x, 'URI:'),
    dnsSans: sans(x, 'DNS:'),
    subject,
    hash: x.fingerprint256.replaceAll(':', '').toLowerCase(),
    localUriSans: sans(tls.getX509Certificate(), 'URI:'),
    pem: () => x.toString(),
  };
}

interface WithSsl {
  readonly ssl?: { verifyError(): Error | null } | null;
}

/**
 * Whether the client's certificate chain verified against the context's trusted CAs. OpenSSL verifies it
 * during the handshake, but only tls.Server reads the result (its `authorized`); a TLSSocket made directly on an
 * accepted socket, as the listener does after inspecting the ClientHello, leaves `authorized` false. So the
 * same check tls.Server makes is made here: a certificate was sent and its verification error is null.
 */
export function clientCertificateVerified(tls: TLSSocket): { ok: true } | { ok: false; reason: string } {
  if (tls.getPeerX509Certificate() === undefined) return { ok: false, reason: 'peer did not return a certificate' };
  const ssl = (tls as unknown as WithSsl).ssl;
  if (ssl === undefined || ssl === null) return { ok: false, reason: 'TLS session unavailable' };
  const err = ssl.verifyError();
  return err === null ? { ok: true } : { ok: false, reason: err.message };
}

/** Whether a chain asks the client for a certificate: to require it, or to check one that is presented. */
export function requestsClientCertificate(tls: DownstreamTls): boolean {
  return tls.requireClientCertificate || tls.sdsValidation !== undefined || tls.inlineTrustedCa !== undefined || tls.subjectAltNames.length > 0 || tls.verifySpki.length > 0 || tls.verifyHash.length > 0;
}

/**
 * Envoy's client certificate checks after a handshake (DefaultCertValidator): without a certificate, the
 * connection is refused only if one is required; a presented certificate must verify against the trusted
 * CAs (and the CRL), carry a SAN one of match_subject_alt_names matches, and, with pins, have a SHA-256 hash
 * in verify_certificate_hash or an SPKI hash in verify_certificate_spki (either list may match). Every check
 * applies whether or not the certificate is required. With ACCEPT_UNTRUSTED the connection goes on whatever
 * failed. `verified`: the chain verified, so the certificate names the peer (RBAC, XFCC, the access log).
 */
export function checkClientCertificate(tls: TLSSocket, t: DownstreamTls): { ok: true; verified: boolean } | { ok: false; reason: string } {
  const cert = tls.getPeerX509Certificate();
  if (cert === undefined) return t.requireClientCertificate ? { ok: false, reason: 'peer did not return a certificate' } : { ok: true, verified: false };
  const fail = (reason: string): { ok: false; reason: string } | undefined => (t.acceptUntrusted ? undefined : { ok: false, reason });
  let verified = false;
  if (t.sdsValidation !== undefined || t.inlineTrustedCa !== undefined) {
    const v = clientCertificateVerified(tls);
    verified = v.ok;
    const refused = v.ok ? undefined : fail(v.reason);
    if (refused !== undefined) return refused;
  }
  if (t.subjectAltNames.length > 0) {
    const err = serverIdentityCheck(t.subjectAltNames)('', tls.getPeerCertificate());
    const refused = err === undefined ? undefined : fail(`certificate SAN matches none of match_subject_alt_names`);
    if (refused !== undefined) return refused;
  }
  if (t.verifyHash.length > 0 || t.verifySpki.length > 0) {
    const hash = createHash('sha256').update(cert.raw).digest('hex');
    const spki = createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    const refused = t.verifyHash.includes(hash) || t.verifySpki.includes(spki) ? undefined : fail('certificate hash matches neither verify_certificate_hash nor verify_certificate_spki');
    if (refused !== undefined) return refused;
  }
  return { ok: true, verified };
}
