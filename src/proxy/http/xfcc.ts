// x-forwarded-client-cert, as Envoy's connection manager handles it (ConnectionManagerUtility::
// mutateXfccRequestHeader; docs configuration/http/http_conn_man/headers#x-forwarded-client-cert):
// SANITIZE (the default) drops it; FORWARD_ONLY keeps it on mTLS connections; APPEND_FORWARD adds this
// connection's element on mTLS; SANITIZE_SET replaces it with that element on mTLS; ALWAYS_FORWARD_ONLY keeps it.
// Without a client certificate every mode but ALWAYS_FORWARD_ONLY drops it. The element is
// `By=<local URI SAN>;Hash=<sha256 of the peer certificate, hex>` then, as set_current_client_cert_details asks
// and in Envoy's order, `Cert="<URL-encoded PEM>"`, `Subject="<subject>"`, `URI=<peer URI SAN>` (`URI=` when
// it has none), `DNS=<peer DNS SAN>` (one per name). Istio sidecars use APPEND_FORWARD with subject, uri and
// dns, so the app learns who called it; Istio gateways SANITIZE_SET with cert too.

import type { HeaderMap } from './headers.js';
import type { PeerCertificate } from './peer-certificate.js';

export type XfccMode = 'sanitize' | 'forward_only' | 'append_forward' | 'sanitize_set' | 'always_forward_only';

export interface XfccConfig {
  readonly mode: XfccMode;
  readonly cert: boolean;
  readonly subject: boolean;
  readonly uri: boolean;
  readonly dns: boolean;
}

export const XFCC_HEADER = 'x-forwarded-client-cert';

/** This connection's XFCC element. */
export function xfccElement(peer: PeerCertificate, c: XfccConfig): string {
  const parts: string[] = [];
  const by = peer.localUriSans[0];
  if (by !== undefined) parts.push(`By=${by}`);
  parts.push(`Hash=${peer.hash}`);
  // Envoy URL-encodes the PEM (PercentEncoding::urlEncode: all but RFC 3986's unreserved characters).
  const pem = c.cert ? peer.pem?.() : undefined;
  if (pem !== undefined && pem !== '') parts.push(`Cert="${encodeURIComponent(pem).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)}"`);
  if (c.subject) parts.push(`Subject="${peer.subject.replaceAll('"', '\\"')}"`);
  if (c.uri) {
    if (peer.uriSans.length === 0) parts.push('URI=');
    for (const uri of peer.uriSans) parts.push(`URI=${uri}`);
  }
  if (c.dns) for (const d of peer.dnsSans) parts.push(`DNS=${d}`);
  return parts.join(';');
}

/** Applies the mode to the request headers; `peer` is the verified client certificate, if any. */
export function mutateXfcc(h: HeaderMap, c: XfccConfig, peer: PeerCertificate | undefined): void {
  if (c.mode === 'always_forward_only') return;
  if (peer === undefined || c.mode === 'sanitize') {
    delete h[XFCC_HEADER];
    return;
  }
  if (c.mode === 'forward_only') return;
  const mine = xfccElement(peer, c);
  const old = h[XFCC_HEADER];
  if (c.mode === 'append_forward' && old !== undefined && old !== '') h[XFCC_HEADER] = `${Array.isArray(old) ? old.join(',') : old},${mine}`;
  else h[XFCC_HEADER] = mine;
}
