// networking.istio.io VirtualService HTTP matches: Istio's checks on StringMatch values
// (validateStringMatch, validateStringMatchRegexp, validateStringRegexp) and on the HTTPMatchRequest list of
// one HTTP route (the match loop of validateHTTPRoute in istio/istio pkg/config/validation/virtualservice.go).

import { at, error, type Issue } from '../../lib/issue.js';
import { onlyOneOf } from '../istio-common.js';
import { portErrors, regexErrors } from '../validation/common.js';
import { byteLength, goQuote } from '../validation/go-format.js';
import { isIstioDns1123Label, istioLabelsIssues } from '../validation/istio-labels.js';
import { headerNameOrJwtClaimErrors } from './http-headers.js';
import type { HTTPMatchRequest, StringMatch } from './http-route.js';
import { gatewayNamesIssues } from './route-common.js';

// ---------------------------------------------------------------------------------------------------------
// String matches

/** A StringMatch is a oneof. */
export function stringMatchOneOf(path: string, sm: StringMatch | undefined): Issue[] {
  return sm === undefined ? [] : onlyOneOf(path, sm, ['exact', 'prefix', 'regex']);
}

/** validateStringRegexp: RE2 syntax, at most 1024 bytes (Envoy's program-size limit approximated by length). */
export function stringRegexpIssues(path: string, re: string, where: string): Issue[] {
  if (byteLength(re) > 1024) return [error(path, `${goQuote(where)}: regex is too large, max length allowed is 1024`)];
  return regexErrors(re).map((m) =>
    error(path, `${goQuote(where)}: ${m}; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)`),
  );
}

/** Only the regex member is checked (URI matches allow an empty prefix). */
export function stringMatchRegexpIssues(path: string, sm: StringMatch | undefined, where: string): Issue[] {
  if (sm?.regex === undefined) return [];
  if (sm.regex === '') return [error(at(path, 'regex'), `${goQuote(where)}: regex string match should not be empty`)];
  return stringRegexpIssues(at(path, 'regex'), sm.regex, where);
}

function stringMatchIssues(path: string, sm: StringMatch | undefined, where: string): Issue[] {
  if (sm === undefined) return [];
  if (sm.prefix !== undefined) {
    if (sm.prefix === '') return [error(at(path, 'prefix'), `${goQuote(where)}: prefix string match should not be empty`)];
    return [];
  }
  return stringMatchRegexpIssues(path, sm, where);
}

// ---------------------------------------------------------------------------------------------------------
// Match requests

/** The `match` list of one HTTP route (validateHTTPRoute's loop over matches). */
export function matchRequestIssues(path: string, matches: readonly HTTPMatchRequest[] | undefined): Issue[] {
  const out: Issue[] = [];
  for (const [j, m] of (matches ?? []).entries()) {
    const mp = at(path, j);
    for (const f of ['uri', 'scheme', 'method', 'authority'] as const) out.push(...stringMatchOneOf(at(mp, f), m[f]));
    for (const [name, sm] of Object.entries(m.headers ?? {})) {
      const p = at(at(mp, 'headers'), name);
      out.push(...stringMatchOneOf(p, sm));
      for (const e of headerNameOrJwtClaimErrors(name)) out.push(error(p, e));
      out.push(...stringMatchIssues(p, sm, 'headers'));
    }
    for (const [name, sm] of Object.entries(m.withoutHeaders ?? {})) {
      const p = at(at(mp, 'withoutHeaders'), name);
      out.push(...stringMatchOneOf(p, sm));
      for (const e of headerNameOrJwtClaimErrors(name)) out.push(error(p, e));
      // `regex: "*"` is not RE2: Istio translates it into a presence match.
      if (sm.regex !== '*') out.push(...stringMatchIssues(p, sm, 'withoutHeaders'));
    }
    // Envoy allows an empty URI prefix, but not an empty scheme/method/authority prefix.
    out.push(...stringMatchRegexpIssues(at(mp, 'uri'), m.uri, 'uri'));
    out.push(...stringMatchIssues(at(mp, 'scheme'), m.scheme, 'scheme'));
    out.push(...stringMatchIssues(at(mp, 'method'), m.method, 'method'));
    out.push(...stringMatchIssues(at(mp, 'authority'), m.authority, 'authority'));
    for (const [name, sm] of Object.entries(m.queryParams ?? {})) {
      const p = at(at(mp, 'queryParams'), name);
      out.push(...stringMatchOneOf(p, sm));
      out.push(...stringMatchIssues(p, sm, 'queryParams'));
    }
  }
  for (const [j, m] of (matches ?? []).entries()) {
    const mp = at(path, j);
    if ((m.port ?? 0) !== 0) for (const e of portErrors(m.port ?? 0)) out.push(error(at(mp, 'port'), e));
    out.push(...istioLabelsIssues(at(mp, 'sourceLabels'), m.sourceLabels));
    out.push(...gatewayNamesIssues(at(mp, 'gateways'), m.gateways, false, false));
    if ((m.sourceNamespace ?? '') !== '' && !isIstioDns1123Label(m.sourceNamespace ?? ''))
      out.push(error(at(mp, 'sourceNamespace'), `sourceNamespace match ${m.sourceNamespace ?? ''} is invalid`));
  }
  return out;
}
