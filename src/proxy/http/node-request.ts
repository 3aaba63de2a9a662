// A request of node's HTTP/1.1 server (the fallback codec, and the sidecar's HTTP proxy requests) as the
// connection manager's DownstreamRequest.

import type { IncomingMessage } from 'node:http';
import type { DownstreamRequest, HttpProtocol } from './downstream.js';
import type { ConnectionFacts } from './hcm-env.js';
import type { HeaderMap } from './headers.js';

/** A request of node's HTTP/1.1 server (the fallback codec and the sidecar's HTTP proxy requests). */
export function nodeRequest(req: IncomingMessage, f: ConnectionFacts): DownstreamRequest {
  const h = req.headers as HeaderMap;
  let path = req.url ?? '/';
  let authority = (h['host'] ?? '') as string;
  if (path.charCodeAt(0) !== 47 /* / */ && (path.startsWith('http://') || path.startsWith('https://'))) {
    // absolute-form (proxy requests): the URI's authority wins (RFC 9112 §3.2.2)
    const u = new URL(path);
    authority = u.host;
    path = `${u.pathname}${u.search}`;
    h['host'] = authority;
  }
  const protocol: HttpProtocol = req.httpVersionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
  const hasBody = h['content-length'] !== undefined ? h['content-length'] !== '0' : h['transfer-encoding'] !== undefined;
  return {
    method: req.method ?? 'GET',
    path,
    authority,
    scheme: f.tls ? 'https' : 'http',
    protocol,
    headers: h,
    hasBody,
    body: req,
    remoteAddress: f.remoteAddress,
    remotePort: f.remotePort,
    localAddress: f.localAddress,
    localPort: f.localPort,
    serverName: f.serverName,
    peer: f.peer,
  };
}
