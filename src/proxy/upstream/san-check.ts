// Upstream certificate identity checks as Envoy does them (CertificateValidationContext
// match_subject_alt_names / match_typed_subject_alt_names): when matchers are given, the peer certificate
// must carry a SAN (URI, DNS, email or IP) that one of them matches, and the host name is not checked;
// without matchers Envoy does not compare the host name either (only the chain is verified). Istio relies on
// this for ISTIO_MUTUAL: the SNI is `outbound_.9080_._.reviews...`, the check is on the SPIFFE URI.
// Node's default check (hostname against DNS SANs) is replaced accordingly.

import type { PeerCertificate } from 'node:tls';
import type { StringMatcher } from '../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import { compileStringMatcher } from '../http/route/string-matcher.js';

export type ServerIdentityCheck = (hostname: string, cert: PeerCertificate) => Error | undefined;

const checks = new WeakMap<readonly StringMatcher[], ServerIdentityCheck>();

/** The SANs of a peer certificate, without their type prefixes (`URI:`, `DNS:`, `IP Address:`, `email:`). */
export function subjectAltNames(cert: Pick<PeerCertificate, 'subjectaltname'>): string[] {
  const text = cert.subjectaltname ?? '';
  if (text === '') return [];
  return text.split(/,\s*/).map((s) => s.slice(s.indexOf(':') + 1));
}

const ACCEPT: ServerIdentityCheck = () => undefined;

/** The check for a TLS context's SAN matchers, compiled once per matcher list. */
export function serverIdentityCheck(matchers: readonly StringMatcher[]): ServerIdentityCheck {
  if (matchers.length === 0) return ACCEPT;
  let c = checks.get(matchers);
  if (c === undefined) {
    const problems: string[] = [];
    const tests = matchers.map((m, i) => compileStringMatcher(m, `match_subject_alt_names[${i}]`, problems));
    c = (_host, cert) => {
      const sans = subjectAltNames(cert);
      if (sans.some((s) => tests.some((t) => t(s)))) return undefined;
      return new Error(`upstream certificate SAN verification failed: [${sans.join(', ')}] matches none of the expected names`);
    };
    checks.set(matchers, c);
  }
  return c;
}
