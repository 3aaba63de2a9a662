// The mTLS identities seen on connections to an upstream host: the server's certificate URI SAN (recorded
// when the handshake's identity check runs) and this proxy's own (from the client certificate it
// presents). Istio's stats filter reports them as destination_principal and source_principal on the
// client side (upstream.uri_san_peer_certificate / uri_san_local_certificate). Kept per picked host: every
// connection to one endpoint of one cluster carries the same identities.

import { X509Certificate } from 'node:crypto';
import type { PickedHost } from './cluster-handle.js';
import { uriSanOf } from '../telemetry/principal.js';

export interface UpstreamIdentity {
  peer: string;
  local: string;
}

const byHost = new WeakMap<PickedHost, UpstreamIdentity>();
const localByPem = new Map<string, string>();

/** The identities last seen on a TLS connection to `host`; undefined before one was made (or without TLS). */
export function upstreamIdentity(host: PickedHost): UpstreamIdentity | undefined {
  return byHost.get(host);
}

export function recordPeerIdentity(host: PickedHost, peer: string): void {
  const id = byHost.get(host);
  if (id === undefined) byHost.set(host, { peer, local: '' });
  else id.peer = peer;
}

/** This proxy's principal in the client certificate `pem` (parsed once per certificate). */
export function recordLocalIdentity(host: PickedHost, pem: string | Buffer): void {
  const key = typeof pem === 'string' ? pem : pem.toString('latin1');
  let local = localByPem.get(key);
  if (local === undefined) {
    try {
      local = uriSanOf(new X509Certificate(pem));
    } catch {
      local = '';
    }
    if (localByPem.size > 64) localByPem.clear();
    localByPem.set(key, local);
  }
  const id = byHost.get(host);
  if (id === undefined) byHost.set(host, { peer: '', local });
  else id.local = local;
}
