// Secure contexts for TLS termination (gateway SIMPLE/MUTUAL servers, inbound mTLS), built from a chain's
// DownstreamTlsContext and the secrets it names, cached until those secrets change.

import { createSecureContext, type SecureContext } from 'node:tls';
import type { DownstreamTls } from '../runtime/compile-downstream-tls.js';
import { SDS_MISSING, type SecretSource } from '../upstream/connection-pools.js';

const cache = new WeakMap<DownstreamTls, { key: string; ctx: SecureContext }>();

/** The context for `tls`, or why there is none (a secret not yet supplied, a bad key). */
export function secureContextFor(tls: DownstreamTls, secrets: SecretSource): SecureContext | string {
  const cert = tls.sdsCertificate !== undefined ? secrets.certificate(tls.sdsCertificate) : tls.inlineCertificate;
  if (cert === undefined) return SDS_MISSING;
  const ca = tls.sdsValidation !== undefined ? secrets.validation(tls.sdsValidation)?.trustedCa : tls.inlineTrustedCa;
  if (tls.sdsValidation !== undefined && ca === undefined) return SDS_MISSING;
  const key = `${cert.cert.length}:${cert.cert.slice(-64)}|${ca?.slice(-64) ?? ''}`;
  const hit = cache.get(tls);
  if (hit !== undefined && hit.key === key) return hit.ctx;
  try {
    const ctx = createSecureContext({ cert: cert.cert, key: cert.key, ...(ca !== undefined ? { ca } : {}), ...(tls.minVersion !== undefined ? { minVersion: tls.minVersion } : {}) });
    cache.set(tls, { key, ctx });
    return ctx;
  } catch (e) {
    return `TLS error: ${e instanceof Error ? e.message : String(e)}`;
  }
}
