// The text of `isthmus x describe`, in istioctl x describe pod's layout and words (istioctl/pkg/describe
// describe.go: printPod, printService, printDestinationRule, printVirtualService, printPeerAuthentication,
// printConfigs, printIngressService): three-space indents, `--------------------` between sections.
// Where istioctl says little we say a bit more, in the same style: a destination that reaches the pod is
// always named (istioctl names it only when it has a weight), so is the rest of a traffic split, routes
// that miss the pod are always listed under "additional destination(s)", and the policies' actions are
// shown.

import { kname } from './hosts.js';
import type { DestinationRuleSummary, RouteSummary, ServiceSummary, VirtualServiceSummary, WorkloadDescription } from './types.js';

const L1 = '   ';
const L2 = '      ';
const SEPARATOR = '--------------------';

function renderMatches(r: RouteSummary): string {
  return r.match.length === 0 ? 'everything' : r.match.map((m) => `Match: ${m}`).join(', ');
}

function routeTo(d: RouteSummary['destinations'][number]): string {
  return `Route to host "${d.host}"${d.subset !== undefined ? ` subset "${d.subset}"` : ''}${d.weight !== undefined ? ` with weight ${d.weight}%` : ''}`;
}

/**
 * istioctl httpRouteMatchSvc: the facts a route contributes, and whether it reaches the pod. In a route
 * that reaches the pod, a destination on another subset is listed with the others (a traffic split);
 * in one that does not, it is the reason.
 */
function routeFacts(r: RouteSummary, dr: DestinationRuleSummary | undefined, ns: string): { reaches: boolean; lines: string[] } {
  const facts: string[] = [];
  const notes: string[] = [];
  for (const d of r.destinations) {
    switch (d.target) {
      case 'workload':
      case 'other-host':
        facts.push(routeTo(d));
        break;
      case 'other-subset':
        if (r.reachesWorkload) facts.push(`${routeTo(d)} (non-matching subset)`);
        else notes.push(`Route to non-matching subset ${d.subset ?? ''} for (${renderMatches(r)})`);
        break;
      case 'unknown-subset':
        (r.reachesWorkload ? facts : notes).push(
          dr === undefined
            ? `Warning: Route to subset ${d.subset ?? ''} but NO DESTINATION RULE defining subsets!`
            : `Warning: Route to UNKNOWN subset ${d.subset ?? ''}; check DestinationRule ${kname(dr.name, dr.namespace, ns)}`,
        );
        break;
    }
  }
  if (r.reachesWorkload) {
    const conditions: string[] = [];
    if (r.fault !== undefined) conditions.push(`Fault injection ${r.fault}`);
    conditions.push(...r.match.map((m) => `Match: ${m}`));
    if (conditions.length > 0) facts.push(conditions.join(', '));
    return { reaches: true, lines: facts };
  }
  if (r.other !== undefined) notes.push(`${r.other[0]?.toUpperCase() ?? ''}${r.other.slice(1)} for (${renderMatches(r)})`);
  return { reaches: false, lines: [...facts, ...notes] };
}

/** istioctl printVirtualService. */
export function renderVirtualService(vs: VirtualServiceSummary, dr: DestinationRuleSummary | undefined, ns: string): string[] {
  const out = [`VirtualService: ${kname(vs.name, vs.namespace, ns)}`];
  let matches = 0;
  let facts = 0;
  const mismatches: string[] = [];
  for (const r of vs.routes) {
    const f = routeFacts(r, dr, ns);
    if (f.reaches) {
      matches++;
      facts += f.lines.length;
      out.push(...f.lines.map((l) => L1 + l));
    } else mismatches.push(...f.lines);
  }
  const count = (p: RouteSummary['protocol']): number => vs.routes.filter((r) => r.protocol === p).length;
  if (matches === 0) {
    if (count('http') > 0) out.push(`${L1}WARNING: No destinations match pod subsets (checked ${count('http')} HTTP routes)`);
    if (count('tcp') > 0) out.push(`${L1}WARNING: No destinations match pod subsets (checked ${count('tcp')} TCP routes)`);
    if (count('tls') > 0) out.push(`${L1}WARNING: No destinations match pod subsets (checked ${count('tls')} TLS routes)`);
    out.push(...mismatches.map((m) => L2 + m));
    return out;
  }
  if (matches < vs.routes.length) {
    // Earlier routes may catch traffic first: say what else the VirtualService does.
    out.push(`${L1}${vs.routes.length - matches} additional destination(s) that will not reach this pod`);
    out.push(...mismatches.map((m) => L2 + m));
    return out;
  }
  if (facts === 0) {
    if (count('http') > 0) out.push(`${L1}${count('http')} HTTP route(s)`);
    if (count('tcp') > 0) out.push(`${L1}${count('tcp')} TCP route(s)`);
  }
  return out;
}

function policyLines(p: { tlsMode?: string; policies: readonly string[] }, indent: string, tlsLabel: string): string[] {
  const out: string[] = [];
  if (p.tlsMode !== undefined) out.push(`${indent}${tlsLabel}: ${p.tlsMode}`);
  if (p.policies.length > 0) out.push(`${indent}Policies: ${p.policies.join('/')}`);
  return out;
}

/** istioctl printDestinationRule. */
export function renderDestinationRule(dr: DestinationRuleSummary, ns: string): string[] {
  const out = [`DestinationRule: ${kname(dr.name, dr.namespace, ns)} for "${dr.host}"`];
  if (dr.mergedWith.length > 0) out.push(`${L1}(merged with ${dr.mergedWith.join(', ')})`);
  if (dr.matchingSubsets.length > 0 || dr.nonMatchingSubsets.length > 0) {
    if (dr.matchingSubsets.length === 0) out.push(`${L1}WARNING POD DOES NOT MATCH ANY SUBSETS.  (Non matching subsets ${dr.nonMatchingSubsets.join(',')})`);
    out.push(`${L1}Matching subsets: ${dr.matchingSubsets.join(',')}`);
    if (dr.nonMatchingSubsets.length > 0) out.push(`${L2}(Non-matching subsets ${dr.nonMatchingSubsets.join(',')})`);
  }
  const tp = dr.trafficPolicy;
  if (tp === undefined) out.push(`${L1}No Traffic Policy`);
  else {
    out.push(...policyLines(tp, L1, 'Traffic Policy TLS Mode'));
    if (tp.portLevel.length > 0) {
      out.push(`${L1}Port Level Settings:`);
      for (const p of tp.portLevel) out.push(`    ${p.port}:`, ...policyLines(p, L2, 'TLS Mode'));
    }
  }
  out.push(...dr.notes.map((n) => `${L1}Note: ${n}`));
  return out;
}

function renderService(s: ServiceSummary, ns: string): string[] {
  const out = [`Service: ${kname(s.name, s.namespace, ns)}`];
  for (const p of s.ports) {
    out.push(p.targetPort !== undefined ? `${L1}Port: ${p.name} ${p.port}/${p.protocol} targets pod port ${p.targetPort}` : `${L1}Port: ${p.name} ${p.port}/${p.protocol} ${p.problem ?? ''}`);
  }
  if (s.destinationRule !== undefined) out.push(...renderDestinationRule(s.destinationRule, ns));
  for (const vs of s.virtualServices) out.push(...renderVirtualService(vs, s.destinationRule, ns));
  out.push(...s.warnings);
  return out;
}

export function renderDescribeText(d: WorkloadDescription): string {
  const ns = d.pod.namespace;
  const out: string[] = [`Pod: ${d.pod.name}`, `${L1}Pod Revision: ${d.pod.revision}`];
  out.push(d.pod.ports.length > 0 ? `${L1}Pod Ports: ${d.pod.ports.map((p) => `${p.port} (${p.name})`).join(', ')}` : `${L1}Pod does not expose ports`);
  out.push(...d.warnings, SEPARATOR);
  d.services.forEach((s, i) => {
    if (i > 0) out.push(SEPARATOR);
    out.push(...renderService(s, ns));
  });
  if (d.services.length > 0) out.push(SEPARATOR);

  const pa = d.peerAuthentication;
  out.push('Effective PeerAuthentication:', `${L1}Workload mTLS mode: ${pa.mode}`);
  if (pa.portLevel.length > 0) out.push(`${L1}Port Level mTLS mode:`, ...pa.portLevel.map((p) => `${L2}${p.port}: ${p.mode}`));
  if (pa.applied.length > 0) out.push('Applied PeerAuthentication:', `${L1}${pa.applied.map((r) => `${r.name}.${r.namespace}`).join(', ')}`);
  if (d.authorizationPolicies.length > 0) {
    const names = d.authorizationPolicies.map((p) => `${p.name}.${p.namespace} (${p.action}${p.dryRun ? ', dry run' : ''})`);
    out.push('Applied AuthorizationPolicy:', `${L1}${names.join(', ')}`);
  }

  out.push(...d.ingressNotes);
  for (const e of d.ingress) {
    out.push(SEPARATOR);
    if (e.urls.length === 0) out.push(`Exposed on Ingress Gateway ${e.gateway} (no HTTP servers)`);
    for (const url of e.urls) out.push(`Exposed on Ingress Gateway ${url}`);
    const svc = d.services.find((s) => `${s.name}.${s.namespace}` === e.service);
    out.push(...renderVirtualService(e.virtualService, svc?.destinationRule, ns));
  }
  return out.join('\n') + '\n';
}
