// Routes that answer without an upstream (pilot/pkg/networking/core/route/route.go ApplyRedirect and
// ApplyDirectResponse). Redirect: host and path (or prefix rewrite), scheme, a port given or derived
// (FROM_REQUEST_PORT is the port the route is built for; FROM_PROTOCOL_DEFAULT is Envoy's default), never an
// explicit :80 for http or :443 for https, and the response code (301 when unset; a code Envoy has no enum
// for leaves the route without an action, as Istio). Direct response: status and an inline string or bytes.

import { create } from '@bufbuild/protobuf';
import type { HTTPDirectResponse, HTTPRedirect } from '../../api/networking/virtual-service.js';
import {
  DirectResponseActionSchema,
  RedirectActionSchema,
  RedirectAction_RedirectResponseCode as RedirectCode,
  type Route,
} from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { DataSourceSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';

const RESPONSE_CODES: Readonly<Record<number, RedirectCode>> = {
  0: RedirectCode.MOVED_PERMANENTLY,
  301: RedirectCode.MOVED_PERMANENTLY,
  302: RedirectCode.FOUND,
  303: RedirectCode.SEE_OTHER,
  307: RedirectCode.TEMPORARY_REDIRECT,
  308: RedirectCode.PERMANENT_REDIRECT,
};

/** Sets `out.action` to the redirect; `listenPort` is the port the route is built for, `isTls` whether that listener terminates TLS. */
export function applyRedirect(out: Route, redirect: HTTPRedirect, listenPort: number, isTls: boolean): void {
  const action = create(RedirectActionSchema, { hostRedirect: redirect.authority ?? '' });
  if (redirect.prefixRewrite !== undefined && redirect.prefixRewrite !== '') action.pathRewriteSpecifier = { case: 'prefixRewrite', value: redirect.prefixRewrite };
  else action.pathRewriteSpecifier = { case: 'pathRedirect', value: redirect.uri ?? '' };
  if (redirect.scheme !== undefined && redirect.scheme !== '') action.schemeRewriteSpecifier = { case: 'schemeRedirect', value: redirect.scheme };
  if (redirect.port !== undefined || redirect.derivePort !== undefined) {
    if (redirect.port !== undefined) action.portRedirect = redirect.port;
    else if (redirect.derivePort === 'FROM_REQUEST_PORT') action.portRedirect = listenPort;
    const scheme = redirect.scheme !== undefined && redirect.scheme !== '' ? redirect.scheme : isTls ? 'https' : 'http';
    if ((action.portRedirect === 80 && scheme === 'http') || (action.portRedirect === 443 && scheme === 'https')) action.portRedirect = 0;
  }
  const code = RESPONSE_CODES[redirect.redirectCode ?? 0];
  if (code === undefined) {
    out.action = { case: undefined };
    return;
  }
  action.responseCode = code;
  out.action = { case: 'redirect', value: action };
}

export function applyDirectResponse(out: Route, dr: HTTPDirectResponse): void {
  const action = create(DirectResponseActionSchema, { status: dr.status ?? 0 });
  const body = dr.body;
  if (body?.string !== undefined) action.body = create(DataSourceSchema, { specifier: { case: 'inlineString', value: body.string } });
  else if (body?.bytes !== undefined) action.body = create(DataSourceSchema, { specifier: { case: 'inlineBytes', value: Uint8Array.from(Buffer.from(body.bytes, 'base64')) } });
  out.action = { case: 'directResponse', value: action };
}
