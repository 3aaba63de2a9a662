// The SPIFFE id a workload certificate carries (its URI SAN), as explain reads it from a config dump.

import { X509Certificate } from 'node:crypto';

/** The URI SAN of a PEM certificate (the caller's SPIFFE id). */
export function spiffeIdOf(certPem: string): string | undefined {
  try {
    const x = new X509Certificate(certPem);
    return (x.subjectAltName ?? '').split(/,\s*/).find((s) => s.startsWith('URI:'))?.slice(4);
  } catch {
    return undefined;
  }
}
