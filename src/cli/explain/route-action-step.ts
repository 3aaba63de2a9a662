// The route action as the router runs it: where the request goes (a cluster, weighted clusters with
// their weights, a cluster named by a header), what is rewritten (path and authority, computed by the
// proxy's selection), the timeout, retries, mirrors and hash policies; or the redirect / direct response
// the router answers with. Reads the compiled selection for what the proxy would do and the Route proto
// for what the config says.

import type { Route } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import type { RouteSelection } from '../../proxy/http/route/types.js';
import { describeIstioConfig } from './istio-resource.js';
import type { ExplainStep, Verdict, WeightedTarget } from './types.js';

export type ActionOutcome =
  | { readonly kind: 'forward'; readonly clusters: readonly WeightedTarget[]; readonly weighted: boolean }
  | { readonly kind: 'answered'; readonly verdict: Verdict };

function ms(n: number): string {
  return n === 0 ? 'disabled' : n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`;
}

/** Describes and decides the selected route's action. `label` names the route resource. */
export function explainRouteAction(sel: RouteSelection, route: Route | undefined, label: string, istio: string | undefined, requestPath: string, steps: ExplainStep[]): ActionOutcome {
  const base = { step: 'route-action' as const, resource: label, ...(istio !== undefined ? { istioResource: istio } : {}) };
  const from = istio !== undefined ? ` (${describeIstioConfig(istio)})` : '';
  if (sel.kind === 'redirect') {
    steps.push({ ...base, decision: `redirect ${sel.status}`, detail: `the route redirects${from}: ${sel.status} with location ${sel.location}` });
    return { kind: 'answered', verdict: { outcome: 'rejected', status: sel.status, summary: `the route redirects with ${sel.status} to ${sel.location}${from}` } };
  }
  if (sel.kind === 'directResponse') {
    const body = sel.body !== undefined ? Buffer.from(sel.body).toString('utf8') : '';
    const shown = body.length > 80 ? `${body.slice(0, 80)}…` : body;
    const blockAll = sel.virtualHost.name === 'block_all';
    steps.push({
      ...base,
      decision: `direct response ${sel.status}`,
      detail: `the route answers directly${from}: ${sel.status}${body !== '' ? ` with body ${JSON.stringify(shown)}` : ' with no body'}${blockAll ? ' (Istio\'s block_all: the host is not in the service registry and outboundTrafficPolicy is REGISTRY_ONLY)' : ''}`,
    });
    return { kind: 'answered', verdict: { outcome: 'rejected', status: sel.status, summary: blockAll ? `the host is not in the mesh's registry and outboundTrafficPolicy is REGISTRY_ONLY: direct response ${sel.status}` : `direct response ${sel.status} from the route${from}` } };
  }

  const a = route?.action.case === 'route' ? route.action.value : undefined;
  const parts: string[] = [];
  let clusters: WeightedTarget[];
  let weighted = false;
  const spec = a?.clusterSpecifier;
  if (spec?.case === 'weightedClusters') {
    weighted = true;
    clusters = spec.value.clusters.map((c) => ({ cluster: c.name !== '' ? c.name : `(from header ${c.clusterHeader})`, weight: c.weight ?? 0 }));
    const total = clusters.reduce((s, c) => s + c.weight, 0);
    parts.push(`weighted clusters: ${clusters.map((c) => `${c.cluster} ${c.weight}${total > 0 ? ` (${Math.round((1000 * c.weight) / total) / 10}%)` : ''}`).join(', ')}`);
  } else if (spec?.case === 'clusterHeader') {
    clusters = sel.cluster !== '' ? [{ cluster: sel.cluster, weight: 1 }] : [];
    parts.push(`the cluster named by header ${spec.value}: ${sel.cluster !== '' ? sel.cluster : 'absent'}`);
  } else {
    clusters = [{ cluster: sel.cluster, weight: 1 }];
    parts.push(`cluster ${sel.cluster}`);
  }
  if (sel.path !== undefined) parts.push(`path rewritten to ${sel.path} (was ${requestPath})`);
  if (sel.host !== undefined) parts.push(`authority rewritten to ${sel.host}`);
  else if (sel.action.autoHostRewrite) parts.push("authority rewritten to the picked host's name (auto_host_rewrite)");
  parts.push(`timeout ${ms(sel.action.timeoutMs)}`);
  const r = sel.action.retryPolicy;
  if (r !== undefined && r.numRetries > 0) {
    parts.push(`up to ${r.numRetries} retries on ${[...r.retryOn].join(',')}${r.retriableStatusCodes.size > 0 ? ` (statuses ${[...r.retriableStatusCodes].join(',')})` : ''}${r.perTryTimeoutMs > 0 ? `, ${ms(r.perTryTimeoutMs)} per try` : ''}`);
  } else parts.push('no retries');
  for (const m of sel.action.mirrorPolicies) parts.push(`mirrors to ${m.cluster !== '' ? m.cluster : `the cluster in header ${m.clusterHeader}`} (${Math.round((10000 * m.fraction.numerator) / m.fraction.denominator) / 100}%)`);
  if (sel.action.hashPolicies.length > 0) parts.push(`hashes on ${sel.action.hashPolicies.map((h) => h.kind).join(', ')} for consistent-hash balancing`);
  steps.push({ ...base, decision: weighted ? 'split' : 'forward', detail: parts.join('; ') });
  if (clusters.length === 0) {
    return { kind: 'answered', verdict: { outcome: 'rejected', status: sel.action.clusterNotFoundStatus, responseFlag: 'NC', summary: `the route names its cluster by a header the request lacks: ${sel.action.clusterNotFoundStatus} NC` } };
  }
  return { kind: 'forward', clusters, weighted };
}
