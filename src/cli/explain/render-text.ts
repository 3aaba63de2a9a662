// An explain report for people: the request, the numbered steps (step kind, Envoy resource, decision,
// then why, then the Istio resource behind it), the verdict naming the step that decided a rejection,
// and what actually came back when the request was sent.

import { describeIstioConfig } from './istio-resource.js';
import type { ExplainReport } from './types.js';

const WIDTH = Math.max(...['proxy', 'listener', 'filter-chain', 'route-config', 'virtual-host', 'route', 'route-action', 'http-filter', 'cluster', 'endpoints', 'inbound', 'inbound-authz'].map((s) => s.length));

export function renderExplainText(r: ExplainReport): string {
  const lines: string[] = [];
  const extra = Object.entries(r.request.headers)
    .filter(([k]) => k !== 'host')
    .map(([k, v]) => ` -H '${k}: ${v}'`)
    .join('');
  lines.push(`${r.request.method} ${r.request.url}${extra} from ${r.proxy}`, '');
  const n = String(r.steps.length).length;
  r.steps.forEach((s, i) => {
    lines.push(`${String(i + 1).padStart(n)}. ${s.step.padEnd(WIDTH)}  ${s.resource}: ${s.decision}`);
    const indent = ' '.repeat(n + 2);
    lines.push(`${indent}${s.detail}`);
    if (s.istioResource !== undefined) lines.push(`${indent}Istio: ${describeIstioConfig(s.istioResource)}`);
  });
  lines.push('');
  const v = r.verdict;
  if (v.outcome === 'routed') {
    lines.push(`Verdict: ${v.summary}`);
  } else {
    const last = r.steps.at(-1);
    const code = [v.status !== undefined ? String(v.status) : undefined, v.responseFlag].filter((x) => x !== undefined).join(' ');
    lines.push(`Verdict: rejected${code !== '' ? ` with ${code}` : ''}. ${v.summary}`);
    if (last !== undefined) lines.push(`Decided at step ${r.steps.length} (${last.step} ${last.resource}${last.istioResource !== undefined ? `, ${describeIstioConfig(last.istioResource)}` : ''}).`);
  }
  if (r.sent !== undefined) {
    const s = r.sent;
    lines.push(`Sent: ${s.status}${s.responseFlag !== undefined ? ` ${s.responseFlag}` : ''} in ${s.durationMs} ms${s.asExplained ? ', as explained' : ', not what the explanation predicts (percentages, live health or the upstream may differ)'}.`);
  }
  for (const p of r.problems) lines.push(`warning: ${p}`);
  return lines.join('\n') + '\n';
}
