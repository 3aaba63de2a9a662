// A connected proxy as the control plane knows it: parsed from the xDS node (Istio's
// model.ParseServiceNodeWithMetadata): `<type>~<ip>~<id>~<dns domain>`, e.g.
// `sidecar~10.0.0.1~reviews-v1-abc.default~default.svc.cluster.local`, and node metadata (Istio's
// NodeMetadata: NAMESPACE, LABELS, SERVICE_ACCOUNT, WORKLOAD_NAME, GENERATOR, ...).

import { error, type Issue } from '../lib/issue.js';
import type { Labels, Locality } from '../registry/types.js';
import { NO_LOCALITY } from '../registry/types.js';

/** `sidecar` and `router` (gateway) as Istio's NodeType; `proxyless` is a sidecar-type node with GENERATOR=grpc. */
export type ProxyType = 'sidecar' | 'router' | 'proxyless';

export interface Proxy {
  readonly id: string;
  readonly type: ProxyType;
  readonly ipAddresses: readonly string[];
  /** Pod-style id: `reviews-v1-abc.default`. */
  readonly workloadId: string;
  readonly dnsDomain: string;
  readonly namespace: string;
  readonly labels: Labels;
  readonly serviceAccount: string;
  readonly workloadName: string;
  readonly locality: Locality;
  readonly istioVersion: string;
  /** Node metadata as sent (JSON of the Struct), for debug dumps and `proxy-status`. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface NodeInfo {
  readonly id: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly locality?: Partial<Locality>;
}

const NODE_TYPES = new Set(['sidecar', 'router']);

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function labelsOf(v: unknown): Labels {
  if (v === null || typeof v !== 'object') return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Parse the node; the issues name the field and reason (a proxy with a bad id is refused at connect). */
export function parseProxy(node: NodeInfo): { ok: true; value: Proxy } | { ok: false; issues: Issue[] } {
  const parts = node.id.split('~');
  if (parts.length !== 4) {
    return { ok: false, issues: [error('node.id', `missing parts in the service node ${JSON.stringify(node.id)}: want <type>~<ip>~<id>~<domain>`)] };
  }
  const [type, ip, workloadId, dnsDomain] = parts as [string, string, string, string];
  const issues: Issue[] = [];
  if (!NODE_TYPES.has(type)) issues.push(error('node.id', `invalid node type (valid types: sidecar, router) in the service node ${JSON.stringify(node.id)}`));
  const ips = ip === '' ? [] : ip.split(',');
  const md = node.metadata ?? {};
  const dotted = workloadId.indexOf('.');
  const namespace =
    str(md['NAMESPACE']) ?? (dotted >= 0 ? workloadId.slice(dotted + 1) : undefined) ?? (dnsDomain.split('.')[0] || 'default');
  if (issues.length > 0) return { ok: false, issues };
  const generator = str(md['GENERATOR']);
  const proxyType: ProxyType = type === 'router' ? 'router' : generator === 'grpc' ? 'proxyless' : 'sidecar';
  const labels = labelsOf(md['LABELS']);
  const locality: Locality = {
    region: node.locality?.region ?? NO_LOCALITY.region,
    zone: node.locality?.zone ?? NO_LOCALITY.zone,
    subZone: node.locality?.subZone ?? NO_LOCALITY.subZone,
  };
  return {
    ok: true,
    value: Object.freeze({
      id: node.id,
      type: proxyType,
      ipAddresses: ips,
      workloadId,
      dnsDomain,
      namespace,
      labels,
      serviceAccount: str(md['SERVICE_ACCOUNT']) ?? 'default',
      workloadName: str(md['WORKLOAD_NAME']) ?? (dotted >= 0 ? workloadId.slice(0, dotted) : workloadId),
      locality,
      istioVersion: str(md['ISTIO_VERSION']) ?? '',
      metadata: md,
    }),
  };
}
