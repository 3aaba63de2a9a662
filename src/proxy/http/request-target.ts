// The request target as the connection manager takes it before routing: an absolute-form URI (a request
// to the sidecar's HTTP proxy) gives its authority and path, then the path is normalized as the connection
// manager's config says (path-normalization.ts), or the request is answered.

import type { Http1Request } from './http1-server.js';
import type { Duplex } from 'node:stream';
import type { HcmStats } from './hcm-stats.js';
import type { DownstreamRequest, HttpStream } from './http-stream.js';
import { normalizeRequestPath, type PathNormalization } from './path-normalization.js';

/** absolute-form (proxy requests): the URI's authority wins (RFC 9112 §3.2.2). */
export function absoluteForm(req: Http1Request): void {
  const path = req.path;
  if (path.charCodeAt(0) === 47 /* / */ || !(path.startsWith('http://') || path.startsWith('https://'))) return;
  let u: URL;
  try {
    u = new URL(path);
  } catch {
    return; // not a URI: left as is, no route will match it
  }
  req.authority = u.host;
  req.path = `${u.pathname}${u.search}`;
  req.headers['host'] = u.host;
}

/**
 * Envoy's path normalization before routing and the filters (conn_manager_impl.cc decodeHeaders): the path is
 * replaced, or the request answered 400 `path_normalization_failed` (a gRPC request too when it would be
 * redirected), or 307 to the path with its escaped slashes unescaped, counted in
 * downstream_rq_failed_path_normalization and downstream_rq_redirected_with_normalized_path. False when the
 * stream was answered.
 */
export function normalizeStreamPath(s: HttpStream, o: PathNormalization, stats: HcmStats | undefined): boolean {
  const r = s.request;
  const n = normalizeRequestPath(r.path, o);
  if (n.action === 'continue') {
    if (n.path !== r.path) {
      r.path = n.path;
      s.upstreamPath = n.path; // what goes upstream unless a route rewrites it
    }
    return true;
  }
  const grpc = String(r.headers['content-type'] ?? '').startsWith('application/grpc');
  if (n.action === 'reject' || grpc) {
    stats?.rqFailedPathNormalization.inc();
    s.localReply({ status: 400, body: '', flag: 0, details: 'path_normalization_failed' });
  } else {
    stats?.rqRedirectedWithNormalizedPath.inc();
    s.localReply({ status: 307, body: '', flag: 0, details: 'path_normalization_failed', headers: { location: n.path } });
  }
  return false;
}

/**
 * The same for an upgrade request (WebSocket), which has no stream to answer on: the path is replaced, or the
 * socket gets the 400 or the 307 itself. False when the request was answered.
 */
export function normalizeUpgradePath(r: DownstreamRequest, socket: Duplex, o: PathNormalization, stats: HcmStats | undefined): boolean {
  const n = normalizeRequestPath(r.path, o);
  if (n.action === 'continue') {
    r.path = n.path;
    return true;
  }
  if (n.action === 'reject') {
    stats?.rqFailedPathNormalization.inc();
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  } else {
    stats?.rqRedirectedWithNormalizedPath.inc();
    socket.end(`HTTP/1.1 307 Temporary Redirect\r\nlocation: ${n.path}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
  }
  return false;
}
