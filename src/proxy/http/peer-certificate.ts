// The verified client certificate of a downstream TLS connection, as RBAC (`authenticated` principals,
// source.principal) and the access log (%DOWNSTREAM_PEER_URI_SAN%) read it.

/** The client certificate of a TLS connection, as RBAC and the access log see it. */
export interface PeerCertificate {
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  /** RFC 2253 subject, as Envoy's `%DOWNSTREAM_PEER_SUBJECT%`. */
  readonly subject: string;
  /** SHA-256 of the certificate's DER, lower-case hex (XFCC `Hash`, `%DOWNSTREAM_PEER_FINGERPRINT_256%`). */
  readonly hash: string;
  /** The URI SANs of this proxy's own certificate on the connection (XFCC `By`). */
  readonly localUriSans: readonly string[];
  /** The certificate as PEM (XFCC `Cert`), made when asked. */
  readonly pem?: () => string;
}
