// The envoy.filters.http.jwt_authn filter on the request path (Envoy's jwt_authn Filter::decodeHeaders and
// onComplete, source/extensions/filters/http/jwt_authn/filter.cc): CORS preflights pass when
// bypass_cors_preflight is set; the first rule whose match fits picks the requirement (none: continue);
// a passing request continues with the verified payloads in dynamic metadata under
// `envoy.filters.http.jwt_authn`; a failing one gets jwt_verify_lib's status text as a 401 (403 for a
// disallowed audience) with `www-authenticate: Bearer realm="<scheme>://<host><path>"` (path cut at 256
// characters; `, error="invalid_token"` unless the token was missing) and the details
// `jwt_authn_access_denied{<text with '_' for spaces>}`; no response flag. strip_failure_response sends an
// empty body and no www-authenticate header.
// Signature checks are asynchronous: the filter then stops and resumes the chain when done, unless the
// downstream reset meanwhile. Not modelled: PerRouteConfig, stats, clear_route_cache.

import type { HttpStream } from '../../http/http-stream.js';
import { headerValue } from '../../http/headers.js';
import { RequestView } from '../../http/route/request-view.js';
import type { Random } from '../../lib/random.js';
import { JWT_AUTHN_METADATA_NAMESPACE, type JwtAuthnConfig, type JwtVerifierNode } from './config.js';
import { JwtStatus, jwtDeniedDetails, jwtStatusHttpCode, jwtStatusText } from './status.js';
import { verifyNode, type VerifyRequest } from './verifier.js';

/** filter.cc MaximumUriLength. */
const MAX_URI_PATH = 256;
const NO_RANDOM: Random = { next: () => 0 };

export interface JwtAuthnOptions {
  /** Wall clock in ms (tests pin it); Date.now by default. */
  readonly nowMs?: () => number;
}

/** Http::Utility::isCorsPreflightRequest. */
function isCorsPreflight(s: HttpStream): boolean {
  const h = s.request.headers;
  return s.request.method === 'OPTIONS' && (headerValue(h, 'origin') ?? '') !== '' && (headerValue(h, 'access-control-request-method') ?? '') !== '';
}

function findVerifier(cfg: JwtAuthnConfig, s: HttpStream): JwtVerifierNode | undefined {
  if (cfg.rules.length === 0) return undefined;
  const r = s.request;
  const view = new RequestView();
  view.reset({ authority: r.authority, path: r.path, method: r.method, scheme: r.scheme, headers: r.headers }, NO_RANDOM, false);
  for (const rule of cfg.rules) if (rule.match.matches(view)) return rule.verifier;
  return undefined;
}

/** Http::Utility::buildOriginalUri: x-forwarded-proto, host and the (original) path, cut at 256. */
function originalUri(s: HttpStream): string {
  const h = s.request.headers;
  const path = headerValue(h, 'x-envoy-original-path') ?? s.request.path;
  const scheme = headerValue(h, 'x-forwarded-proto') ?? s.request.scheme;
  return `${scheme}://${s.request.authority}${path.length > MAX_URI_PATH ? path.slice(0, MAX_URI_PATH) : path}`;
}

/** Applies the outcome; true when the request may continue. */
function complete(cfg: JwtAuthnConfig, s: HttpStream, status: JwtStatus, data: Record<string, unknown>, uri: string): boolean {
  if (status === JwtStatus.Ok) {
    let any = false;
    for (const _ in data) {
      any = true;
      break;
    }
    if (any) {
      const md = s.info.dynamicMetadata;
      md[JWT_AUTHN_METADATA_NAMESPACE] = Object.assign(md[JWT_AUTHN_METADATA_NAMESPACE] ?? {}, data);
    }
    return true;
  }
  const text = jwtStatusText(status);
  const details = jwtDeniedDetails(status);
  if (cfg.stripFailureResponse) s.localReply({ status: jwtStatusHttpCode(status), body: '', flag: 0, details });
  else {
    const auth = `Bearer realm="${uri}"${status === JwtStatus.JwtMissed ? '' : ', error="invalid_token"'}`;
    s.localReply({ status: jwtStatusHttpCode(status), body: text, flag: 0, details, headers: { 'www-authenticate': auth } });
  }
  return false;
}

/** Runs the filter for one request: 'continue', or 'stop' (answered, or `resume` is called once verified). */
export function runJwtAuthnFilter(cfg: JwtAuthnConfig, s: HttpStream, resume: () => void, opts: JwtAuthnOptions = {}): 'continue' | 'stop' {
  if (cfg.bypassCorsPreflight && isCorsPreflight(s)) return 'continue';
  const verifier = findVerifier(cfg, s);
  if (verifier === undefined) return 'continue';
  const uri = originalUri(s);
  const req: VerifyRequest = {
    headers: s.request.headers,
    path: s.request.path,
    nowSeconds: Math.floor((opts.nowMs ?? Date.now)() / 1000),
    providers: cfg.providers,
    data: {},
  };
  const r = verifyNode(verifier, req);
  if (!(r instanceof Promise)) return complete(cfg, s, r, req.data, uri) ? 'continue' : 'stop';
  let reset = false;
  s.onDownstreamReset(() => {
    reset = true;
  });
  r.then(
    (st) => {
      if (!reset && complete(cfg, s, st, req.data, uri)) resume();
    },
    () => {
      if (!reset) complete(cfg, s, JwtStatus.JwtVerificationFail, req.data, uri);
    },
  );
  return 'stop';
}
