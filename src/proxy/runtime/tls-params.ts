// TlsParameters as both sides compile them (compile-downstream-tls.ts, compile-cluster.ts): protocol versions,
// cipher suites and curves in OpenSSL's terms.

import { createSecureContext } from 'node:tls';

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** TlsParameters.TlsProtocol (TLS_AUTO, 0, absent: the side's default). */
export const TLS_VERSIONS: Readonly<Record<number, TlsVersion>> = { 1: 'TLSv1', 2: 'TLSv1.1', 3: 'TLSv1.2', 4: 'TLSv1.3' };

/** Whether OpenSSL can build a context with these options (Envoy refuses a context it cannot build). */
export function secureContextAccepts(o: { ciphers?: string; ecdhCurve?: string }): boolean {
  try {
    createSecureContext(o);
    return true;
  } catch {
    return false;
  }
}

/** Envoy's cipher_suites entries (BoringSSL syntax: `[A|B]` is a group of equal preference) as one OpenSSL list. */
export function cipherList(suites: readonly string[]): string {
  return suites.flatMap((s) => s.replace(/^\[|\]$/g, '').split('|')).filter((s) => s !== '').join(':');
}
