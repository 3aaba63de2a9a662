// HTTP/1.1 upgrades (WebSocket) through a route. The connection manager handles an upgrade request as any
// other, as Envoy does: request header processing, the route decision and the HTTP filters (an RBAC deny, a
// fault or a JWT failure answers it like any request); at the router, instead of a request on a pooled
// connection, the head goes to a host of the route's cluster on a connection of its own, with the cluster's
// transport (mTLS between sidecars), and the two sockets are piped both ways. The upstream's answer is relayed
// as bytes: a 101 carries on as the tunnel, anything else is relayed and the connection closes with it. A host
// that cannot be reached is the router's 503 local reply. Enabled per connection manager by upgrade_configs
// (Istio enables websocket everywhere).

import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { requestHead } from './http1-head.js';
import type { HttpStream } from './http-stream.js';
import type { ClusterHandle } from '../upstream/cluster-handle.js';
import type { SecretSource } from '../upstream/connection-pools.js';
import { dial } from '../upstream/dial.js';
import { ResponseFlag } from './response-flags.js';
import { BODY_NO_HEALTHY_UPSTREAM } from './local-reply.js';

const CONNECT_FAILURE = 'upstream connect error or disconnect/reset before headers. reset reason: remote connection failure';
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;

/**
 * Opens the tunnel of an upgrade request the filters let through to `cluster` (route header mutations and
 * rewrites already applied to the stream). `socket` is the client's, `head` what it sent after the request head.
 */
export function openTunnel(s: HttpStream, cluster: ClusterHandle, socket: Duplex, head: Buffer, secrets: SecretSource): void {
  const info = s.info;
  const r = s.request;
  info.upstreamCluster = cluster.config.name;
  const host = cluster.pick({ hash: undefined, avoid: undefined, originalDestination: cluster.config.kind === 'original-dst' ? r.authority : undefined });
  if (host === undefined) return s.localReply({ status: 503, body: BODY_NO_HEALTHY_UPSTREAM, flag: ResponseFlag.UH, details: 'no_healthy_upstream' });
  info.upstreamHost = host.key;
  info.attempts = 1;
  const upstream: Socket | string = dial(host, cluster, secrets, undefined);
  if (typeof upstream === 'string') return s.localReply({ status: 503, body: CONNECT_FAILURE, flag: ResponseFlag.UF, details: 'upstream_reset_before_response_started{connection_failure}' });
  // Written as every forwarded head is (requestHead): lower-case names as Envoy's codec sends them.
  r.headers['host'] = s.upstreamAuthority;
  upstream.write(requestHead(r.method, s.upstreamPath, r.headers, ''));
  if (head.length > 0) upstream.write(head);
  // The status of the upstream's answer, for the access log and stats; its bytes go to the client as they are.
  upstream.once('data', (d: Buffer) => {
    const m = STATUS_LINE.exec(d.toString('latin1', 0, Math.min(d.length, 16)));
    info.responseCode = m !== null ? Number(m[1]) : 0;
    info.details = 'via_upstream';
  });
  upstream.pipe(socket);
  socket.pipe(upstream);
  upstream.on('error', () => {
    if (upstream.bytesRead > 0) return void socket.destroy();
    socket.unpipe(upstream);
    upstream.unpipe(socket);
    s.localReply({ status: 503, body: CONNECT_FAILURE, flag: ResponseFlag.UF, details: 'upstream_reset_before_response_started{remote_connection_failure}' });
  });
  socket.on('error', () => upstream.destroy());
  socket.on('close', () => upstream.destroy());
  upstream.on('close', () => {
    if (upstream.bytesRead > 0) socket.destroy();
  });
}
