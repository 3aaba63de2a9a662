// What the matched route does, recorded on the Result: a cluster (named, from cluster_header, or weighted),
// a redirect (status code and rewrites), a direct response, or a non-forwarding action.

import {
  RedirectAction_RedirectResponseCode as RedirectCode,
  type RedirectAction,
  type Route,
} from '../../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { Req } from './request.js';
import { Stop } from './stop.js';
import type { RedirectResult, Result } from './types.js';

const REDIRECT_STATUS: Record<RedirectCode, number> = {
  [RedirectCode.MOVED_PERMANENTLY]: 301,
  [RedirectCode.FOUND]: 302,
  [RedirectCode.SEE_OTHER]: 303,
  [RedirectCode.TEMPORARY_REDIRECT]: 307,
  [RedirectCode.PERMANENT_REDIRECT]: 308,
};

export function applyAction(route: Route, req: Req, r: Result): void {
  const where = `route ${route.name !== '' ? route.name : '(unnamed)'}`;
  const a = route.action;
  switch (a.case) {
    case 'route': {
      const spec = a.value.clusterSpecifier;
      if (spec.case === 'cluster') r.cluster = spec.value;
      else if (spec.case === 'clusterHeader') {
        const v = req.headers.get(spec.value.toLowerCase());
        if (v === undefined || v === '') throw new Stop('no cluster', `${where}: cluster_header ${spec.value} is missing`);
        r.cluster = v;
      } else if (spec.case === 'weightedClusters') {
        r.weightedClusters = spec.value.clusters.map((c) => ({
          name: c.clusterHeader !== '' ? (req.headers.get(c.clusterHeader.toLowerCase()) ?? '') : c.name,
          weight: c.weight ?? 0,
        }));
      } else throw new Stop('unsupported', `${where}: cluster specifier ${spec.case ?? 'unset'}`);
      return;
    }
    case 'redirect':
      r.redirect = redirectOf(a.value);
      return;
    case 'directResponse': {
      const b = a.value.body?.specifier;
      const body = b?.case === 'inlineString' ? b.value : b?.case === 'inlineBytes' ? new TextDecoder().decode(b.value) : undefined;
      r.directResponse = body === undefined ? { status: a.value.status } : { status: a.value.status, body };
      return;
    }
    case 'nonForwardingAction':
      r.nonForwarding = true;
      return;
    default:
      throw new Stop('unsupported', `${where}: action ${a.case ?? 'unset'}`);
  }
}

function redirectOf(a: RedirectAction): RedirectResult {
  const out: { -readonly [K in keyof RedirectResult]: RedirectResult[K] } = { responseCode: REDIRECT_STATUS[a.responseCode] ?? 301 };
  const s = a.schemeRewriteSpecifier;
  if (s.case === 'httpsRedirect' && s.value) out.scheme = 'https';
  else if (s.case === 'schemeRedirect') out.scheme = s.value;
  if (a.hostRedirect !== '') out.host = a.hostRedirect;
  if (a.portRedirect !== 0) out.port = a.portRedirect;
  const p = a.pathRewriteSpecifier;
  if (p.case === 'pathRedirect') out.path = p.value;
  else if (p.case === 'prefixRewrite') out.prefixRewrite = p.value;
  if (a.stripQuery) out.stripQuery = true;
  return out;
}
