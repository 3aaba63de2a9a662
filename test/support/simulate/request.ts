// The HTTP request as route matching sees it, built from the call by the HCM's rules: :authority (with
// strip_any_host_port / strip_matching_host_port), :path split into path and raw query, merge_slashes and
// normalize_path, :method, :scheme and the gRPC content-type.

import type { HttpConnectionManager } from '../../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { portOf, stripPort } from './authority.js';
import type { Conn } from './types.js';

export interface Req {
  readonly authority: string;
  readonly path: string;
  readonly pathOnly: string;
  readonly query: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly clientCert: boolean;
  readonly tls: boolean;
}

export function buildRequest(hcm: HttpConnectionManager, c: Conn, tls: boolean): Req {
  const headers = new Map<string, string>();
  for (const [k, v] of Object.entries(c.call.headers ?? {})) headers.set(k.toLowerCase(), v);
  let authority = c.call.host ?? headers.get(':authority') ?? headers.get('host') ?? '';
  if (hcm.stripPortMode.case === 'stripAnyHostPort' && hcm.stripPortMode.value) authority = stripPort(authority);
  else if (hcm.stripMatchingHostPort && portOf(authority) === c.call.port) authority = stripPort(authority);
  let path = c.call.path ?? '/';
  const q = path.search(/[?#]/);
  let pathOnly = q < 0 ? path : path.slice(0, q);
  const query = q >= 0 && path[q] === '?' ? path.slice(q + 1).split('#')[0] ?? '' : '';
  if (hcm.mergeSlashes) pathOnly = pathOnly.replace(/\/{2,}/g, '/');
  if (hcm.normalizePath === true) pathOnly = removeDotSegments(pathOnly);
  path = pathOnly + (query !== '' ? `?${query}` : '');
  headers.set(':authority', authority);
  headers.set(':path', path);
  headers.set(':method', c.call.method ?? 'GET');
  headers.set(':scheme', tls ? 'https' : 'http');
  if (c.call.protocol === 'grpc' && !headers.has('content-type')) headers.set('content-type', 'application/grpc');
  return { authority, path, pathOnly, query, headers, clientCert: c.tls === 'mtls', tls };
}

/** RFC 3986 section 5.2.4, as Envoy's normalize_path. */
function removeDotSegments(p: string): string {
  const out: string[] = [];
  const segs = p.split('/');
  for (const [i, s] of segs.entries()) {
    if (s === '.') {
      if (i === segs.length - 1) out.push('');
    } else if (s === '..') {
      if (out.length > 1) out.pop();
      if (i === segs.length - 1) out.push('');
    } else out.push(s);
  }
  const joined = out.join('/');
  return joined.startsWith('/') ? joined : `/${joined}`;
}
