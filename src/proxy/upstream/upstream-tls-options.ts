// An upstream TLS context's checks and parameters as Node's tls.connect takes them, one place for the HTTP
// pools, tcp_proxy and TLS health checks (Envoy's DefaultCertValidator and TlsParameters on a client context):
// - the certificate must carry a SAN one of the matchers matches (san-check.ts) and, with pins, have its SHA-256
//   in verify_certificate_hash or its SubjectPublicKeyInfo's in verify_certificate_spki (either list may
//   match); with trust_chain_verification ACCEPT_UNTRUSTED the connection goes on whatever failed, the chain
//   included;
// - node runs checkServerIdentity only on a chain it verified, so a context without a trusted CA (whose chain
//   Envoy does not verify either) gets its SAN and pin checks once the handshake is done (tlsConnectUpstream);
// - tls_minimum_protocol_version and tls_maximum_protocol_version (unset or TLS_AUTO: Envoy's client defaults,
//   TLS 1.2 to TLS 1.2), cipher_suites and ecdh_curves.

import { createHash, X509Certificate } from 'node:crypto';
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type SecureVersion, type TLSSocket } from 'node:tls';
import type { TlsSettings } from '../runtime/compile-cluster.js';
import { serverIdentityCheck, type ServerIdentityCheck } from './san-check.js';

const ACCEPT: ServerIdentityCheck = () => undefined;
const checks = new WeakMap<TlsSettings, ServerIdentityCheck>();

/** The certificate check of a context (compiled once per context). */
export function upstreamCertificateCheck(t: TlsSettings): ServerIdentityCheck {
  let c = checks.get(t);
  if (c !== undefined) return c;
  const san = serverIdentityCheck(t.subjectAltNames);
  const pinned = t.verifyHash.length > 0 || t.verifySpki.length > 0;
  c = t.acceptUntrusted
    ? ACCEPT
    : !pinned
      ? san
      : (host: string, cert: PeerCertificate): Error | undefined => {
          const err = san(host, cert);
          if (err !== undefined) return err;
          const hash = createHash('sha256').update(cert.raw).digest('hex');
          // PeerCertificate.pubkey is the bare key; the pin is over the SubjectPublicKeyInfo.
          const spki = createHash('sha256').update(new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
          return t.verifyHash.includes(hash) || t.verifySpki.includes(spki) ? undefined : new Error('upstream certificate hash matches neither verify_certificate_hash nor verify_certificate_spki');
        };
  checks.set(t, c);
  return c;
}

/** The tls.connect options for the context's protocol versions, ciphers and curves. */
export function upstreamTlsParams(t: TlsSettings): { minVersion?: SecureVersion; maxVersion: SecureVersion; ciphers?: string; ecdhCurve?: string } {
  return {
    ...(t.minVersion !== undefined ? { minVersion: t.minVersion } : {}),
    maxVersion: t.maxVersion,
    ...(t.ciphers !== undefined ? { ciphers: t.ciphers } : {}),
    ...(t.ecdhCurves !== undefined ? { ecdhCurve: t.ecdhCurves } : {}),
  };
}

/** The connect option that carries the checks to run after a handshake whose chain was not verified. */
export const CHECK_UNVERIFIED = Symbol('isthmus.upstreamTlsCheckUnverified');

export type UpstreamTlsOptions = ConnectionOptions & { [CHECK_UNVERIFIED]?: ServerIdentityCheck };

/** The context's checks for a connection without a trusted CA (none when it has a CA, checks nothing, or accepts anything). */
export function uncheckedChainOptions(t: TlsSettings, ca: string | undefined): { [CHECK_UNVERIFIED]?: ServerIdentityCheck } {
  if (ca !== undefined || t.acceptUntrusted || (t.subjectAltNames.length === 0 && t.verifyHash.length === 0 && t.verifySpki.length === 0)) return {};
  return { [CHECK_UNVERIFIED]: upstreamCertificateCheck(t) };
}

/** tls.connect, with the context's checks run after a handshake whose chain node did not verify (no trusted CA). */
export function tlsConnectUpstream(o: UpstreamTlsOptions): TLSSocket {
  const s = tlsConnect(o);
  const check = o[CHECK_UNVERIFIED];
  if (check !== undefined) {
    s.once('secureConnect', () => {
      if (s.authorized) return;
      const err = check(o.servername ?? '', s.getPeerCertificate(true));
      if (err !== undefined) s.destroy(err);
    });
  }
  return s;
}
