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
import { BODY_NO_HEALTHY_UPSTREAM, upstreamResetBody, upstreamResetDetails, type ResetReason } from './local-reply.js';

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;

/**
 * Opens the tunnel of an upgrade request the filters let through to `cluster` (route header mutations and
 * rewrites already applied to the stream). `socket` is the client's, `head` what it sent after the request head.
 */
export function openTunnel(s: HttpStream, cluster: ClusterHandle, socket: Duplex, head: Buffer, secrets: SecretSource): void {
  const info = s.info;
  const r = s.request;
  info.upstreamCluster = cluster.config.name;
  const host = cluster.pick({ hash: undefined, avoid: undefined, originalDestination: cluster.config.kind === 'original-dst' ? r.authority : undefined, override: s.upstreamOverrideHost });
  if (host === undefined) return s.localReply({ status: 503, body: BODY_NO_HEALTHY_UPSTREAM, flag: ResponseFlag.UH, details: 'no_healthy_upstream' });
  info.upstreamHost = host.key;
  info.attempts = 1;
  // Before the upstream has answered anything the failure is the router's local reply (Envoy's bodies and
  // details); after it, the client's connection just closes with the upstream's.
  let failed = false;
  const fail = (reason: ResetReason, flag: number, transportFailure = ''): void => {
    if (failed || s.response.headersSent || info.responseCode !== 0) return;
    failed = true;
    socket.unpipe(up);
    s.localReply({ status: 503, body: upstreamResetBody(reason, false, transportFailure), flag, details: upstreamResetDetails(reason, transportFailure) });
  };
  const dialed = dial(host, cluster, secrets, undefined);
  if (typeof dialed === 'string') {
    const reason: ResetReason = 'remote connection failure';
    return s.localReply({ status: 503, body: upstreamResetBody(reason, false, dialed), flag: ResponseFlag.UF, details: upstreamResetDetails(reason, dialed) });
  }
  const up: Socket = dialed;
  const timer = setTimeout(() => {
    fail('connection timeout', ResponseFlag.UF);
    up.destroy();
  }, cluster.config.connectTimeoutMs);
  let connected = false;
  up.once(host.transport.kind === 'tls' ? 'secureConnect' : 'connect', () => {
    connected = true;
    clearTimeout(timer);
  });
  // Written as every forwarded head is (requestHead): lower-case names as Envoy's codec sends them.
  r.headers['host'] = s.upstreamAuthority;
  up.write(requestHead(r.method, s.upstreamPath, r.headers, ''));
  if (head.length > 0) up.write(head);
  // The status of the upstream's answer, for the access log and stats; its bytes go to the client as they are.
  up.once('data', (d: Buffer) => {
    const m = STATUS_LINE.exec(d.toString('latin1', 0, Math.min(d.length, 16)));
    info.responseCode = m !== null ? Number(m[1]) : 0;
    info.details = 'via_upstream';
  });
  up.pipe(socket, { end: false });
  socket.pipe(up);
  up.on('error', () => {
    if (up.bytesRead === 0) fail(connected ? 'connection termination' : 'remote connection failure', connected ? ResponseFlag.UC : ResponseFlag.UF);
  });
  // The upstream closing before any answer (Envoy: "reset reason: connection termination", UC).
  up.on('end', () => {
    if (up.bytesRead > 0) socket.end();
    else fail('connection termination', ResponseFlag.UC);
  });
  socket.on('error', () => up.destroy());
  socket.on('close', () => up.destroy());
  up.on('close', () => {
    clearTimeout(timer);
    if (up.bytesRead === 0) fail('connection termination', ResponseFlag.UC);
    else if (!socket.writableEnded) socket.destroy();
  });
}
