// Secure contexts for TLS termination (gateway SIMPLE/MUTUAL servers, inbound mTLS), built from a chain's
// DownstreamTlsContext and the secrets it names, cached until those secrets change.

import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import type { PeerCertificate } from '../http/hcm-env.js';
import type { DownstreamTls } from '../runtime/compile-downstream-tls.js';
import { SDS_MISSING, type SecretSource } from '../upstream/connection-pools.js';

/** Secret sources answer the same object while a secret is unchanged, so a new object means a rotation. */
const cache = new WeakMap<DownstreamTls, { cert: object; ca: object | string | undefined; ctx: SecureContext }>();

/** The context for `tls`, or why there is none (a secret not yet supplied, a bad key). */
export function secureContextFor(tls: DownstreamTls, secrets: SecretSource): SecureContext | string {
  const cert = tls.sdsCertificate !== undefined ? secrets.certificate(tls.sdsCertificate) : tls.inlineCertificate;
  if (cert === undefined) return SDS_MISSING;
  const validation = tls.sdsValidation !== undefined ? secrets.validation(tls.sdsValidation) : undefined;
  if (tls.sdsValidation !== undefined && validation === undefined) return SDS_MISSING;
  const ca = validation?.trustedCa ?? tls.inlineTrustedCa;
  const caKey = validation ?? tls.inlineTrustedCa;
  const hit = cache.get(tls);
  if (hit !== undefined && hit.cert === cert && hit.ca === caKey) return hit.ctx;
  try {
    const ctx = createSecureContext({ cert: cert.cert, key: cert.key, ...(ca !== undefined ? { ca } : {}), ...(tls.minVersion !== undefined ? { minVersion: tls.minVersion } : {}) });
    cache.set(tls, { cert, ca: caKey, ctx });
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
