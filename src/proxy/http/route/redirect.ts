// Redirect routes: the status (MOVED_PERMANENTLY 301, FOUND 302, SEE_OTHER 303, TEMPORARY_REDIRECT 307,
// PERMANENT_REDIRECT 308) and the full Location, built as Envoy's Http::Utility::newUri:
// - scheme: scheme_redirect, else https when https_redirect, else the request's;
// - host: host_redirect, else the request's authority, without its port when a port_redirect is given or
//   when the scheme changes and the port was the old scheme's default (:80 for http, :443 for https);
// - port: `:port_redirect` when set;
// - path: path_redirect (keeping the request's query unless path_redirect has its own), or the request
//   path after the redirect's prefix_rewrite / regex_rewrite (finalizePathHeaderForRedirect); a leading
//   '/' is ensured; strip_query drops the query unless path_redirect carried one.
// The virtual host's require_tls redirect is `https://<authority><path>` with 301 (createSslRedirectPath).
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-redirectaction

import { RedirectAction_RedirectResponseCode as Code, type RedirectAction } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { RequestView } from './request-view.js';
import { applyPathRewrite, compileRegexSubstitution, type PathRewrite } from './rewrite.js';
import { checkHeaderValueField } from './field-rules.js';
import type { RouteInput } from './types.js';

const STATUS: Record<Code, number> = {
  [Code.MOVED_PERMANENTLY]: 301,
  [Code.FOUND]: 302,
  [Code.SEE_OTHER]: 303,
  [Code.TEMPORARY_REDIRECT]: 307,
  [Code.PERMANENT_REDIRECT]: 308,
};

export interface CompiledRedirect {
  readonly status: number;
  location(req: RequestView, matchedLength: number | undefined): string;
}

/** The request's x-forwarded-proto as Envoy's connection manager set it, else its scheme. */
function forwardedProto(input: RouteInput): string {
  const v = input.headers['x-forwarded-proto'];
  return typeof v === 'string' && v !== '' ? v : input.scheme;
}

/** processRequestHost: the authority, without a port that the new scheme or port makes wrong. */
function requestHost(input: RouteInput, newScheme: string, newPort: string): string {
  const host = input.authority;
  if (host === '') return host;
  let end: number;
  if (host[0] === '[') {
    end = host.lastIndexOf(']:');
    if (end >= 0) end += 1;
  } else {
    end = host.lastIndexOf(':');
  }
  if (end < 0) return host;
  const port = host.slice(end);
  const proto = forwardedProto(input);
  let remove = newPort !== '';
  if (newScheme !== proto) remove ||= (proto === 'https' && port === ':443') || (proto === 'http' && port === ':80');
  return remove ? host.slice(0, end) : host;
}

export function compileRedirect(r: RedirectAction, path: string, problems: string[]): CompiledRedirect {
  const status = STATUS[r.responseCode];
  if (status === undefined) problems.push(`${path}.response_code: unknown redirect response code ${String(r.responseCode)}`);
  const scheme = r.schemeRewriteSpecifier.case === 'schemeRedirect' ? r.schemeRewriteSpecifier.value : r.schemeRewriteSpecifier.case === 'httpsRedirect' && r.schemeRewriteSpecifier.value ? 'https' : '';
  const port = r.portRedirect !== 0 ? `:${r.portRedirect}` : '';
  if (r.portRedirect > 65535) problems.push(`${path}.port_redirect: ${r.portRedirect} is not a port`);
  const hostRedirect = checkHeaderValueField(r.hostRedirect, `${path}.host_redirect`, problems) ? r.hostRedirect : '';
  const stripQuery = r.stripQuery;
  const s = r.pathRewriteSpecifier;
  let pathRedirect = '';
  let rewrite: PathRewrite | undefined;
  if (s.case === 'pathRedirect') {
    if (checkHeaderValueField(s.value, `${path}.path_redirect`, problems)) pathRedirect = s.value;
  } else if (s.case === 'prefixRewrite' && s.value !== '') {
    if (checkHeaderValueField(s.value, `${path}.prefix_rewrite`, problems)) rewrite = { kind: 'prefix', value: s.value };
  }
  else if (s.case === 'regexRewrite') {
    const c = compileRegexSubstitution(s.value, `${path}.regex_rewrite`, problems);
    if (c !== undefined) rewrite = { kind: 'regex', ...c };
  }
  const pathRedirectHasQuery = pathRedirect.includes('?');

  return Object.freeze({
    status: status ?? 301,
    location(req: RequestView, matchedLength: number | undefined): string {
      const input = req.input;
      const finalScheme = scheme !== '' ? scheme : input.scheme;
      const finalHost = hostRedirect !== '' ? hostRedirect : requestHost(input, finalScheme, port);
      let finalPath: string;
      if (pathRedirect !== '') {
        if (pathRedirectHasQuery) finalPath = pathRedirect;
        else {
          const q = input.path.indexOf('?');
          finalPath = q < 0 ? pathRedirect : pathRedirect + input.path.slice(q);
        }
      } else {
        finalPath = (rewrite !== undefined ? applyPathRewrite(rewrite, req, matchedLength) : undefined) ?? input.path;
      }
      if (!finalPath.startsWith('/')) finalPath = `/${finalPath}`;
      if (!pathRedirectHasQuery && stripQuery) {
        const q = finalPath.indexOf('?');
        if (q >= 0) finalPath = finalPath.slice(0, q);
      }
      return `${finalScheme}://${finalHost}${port}${finalPath}`;
    },
  });
}

/** The require_tls redirect: https with the authority and path as sent. */
export function sslRedirectLocation(input: RouteInput): string {
  return `https://${input.authority}${input.path}`;
}

/** Whether require_tls applies to a request that is not https (EXTERNAL_ONLY exempts x-envoy-internal: true). */
export function needsTls(input: RouteInput, externalOnly: boolean): boolean {
  if (forwardedProto(input) === 'https') return false;
  return !externalOnly || input.headers['x-envoy-internal'] !== 'true';
}
