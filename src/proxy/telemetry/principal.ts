// The principal a certificate stands for in Istio's telemetry: its first URI SAN (a SPIFFE id).

import type { X509Certificate } from 'node:crypto';

/** The first URI SAN of `cert`, '' when there is none. */
export function uriSanOf(cert: X509Certificate | undefined): string {
  const uri = (cert?.subjectAltName ?? '').split(/,\s*/).find((s) => s.startsWith('URI:'));
  return uri === undefined ? '' : uri.slice(4);
}
