// HTTP/1.1 upgrades (WebSocket) through a route: the request head is forwarded to a host of the route's
// cluster over a fresh connection; when the upstream answers 101 the two sockets are piped both ways.
// Anything else the upstream answers is relayed and the connection closed. Enabled per connection manager
// by upgrade_configs (Istio enables websocket everywhere).

import { connect, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HcmEnv } from './hcm-env.js';
import { requestHead, requestHeaderMap } from './http1-head.js';
import type { DownstreamRequest } from './http-stream.js';
import type { RouteSelection } from './route/types.js';

function reply(socket: Duplex, status: number, text: string, body: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${body}`);
}

export function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, r: DownstreamRequest, sel: RouteSelection | undefined, env: HcmEnv): void {
  if (sel === undefined) return reply(socket, 404, 'Not Found', '');
  if (sel.kind !== 'route') return reply(socket, 403, 'Forbidden', '');
  const cluster = env.cluster(sel.cluster);
  if (cluster === undefined) return reply(socket, 503, 'Service Unavailable', '');
  const host = cluster.pick({ hash: undefined, avoid: undefined, originalDestination: cluster.config.kind === 'original-dst' ? r.authority : undefined });
  if (host === undefined) return reply(socket, 503, 'Service Unavailable', 'no healthy upstream');
  const upstream: Socket = connect({ host: host.address, port: host.port });
  // Written as every forwarded head is (requestHead): lower-case names as Envoy's codec sends them, the bytes
  // the parser read, unwritable values left out, config strings (a host or path rewrite) as UTF-8.
  const headers = requestHeaderMap(req.rawHeaders);
  headers['host'] = sel.host ?? r.authority;
  const requestBytes = requestHead(r.method, sel.path ?? r.path, headers, '');
  upstream.once('connect', () => {
    upstream.write(requestBytes);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', () => {
    if (socket.writable && upstream.bytesRead === 0) reply(socket, 503, 'Service Unavailable', 'upstream connect error or disconnect/reset before headers. reset reason: remote connection failure');
    else socket.destroy();
  });
  socket.on('error', () => upstream.destroy());
  socket.on('close', () => upstream.destroy());
  upstream.on('close', () => socket.destroy());
}
