// annotations.K8sAnalyzer: unknown (IST0108), deprecated (IST0135), misplaced (IST0107) and invalid
// (IST0125) Istio annotations on Namespaces, Services, Pods and Deployments.
// Source: istio/istio pkg/config/analysis/analyzers/annotations/annotations.go; value checks from
// pkg/kube/inject/validate.go (AnnotationValidation), with Go's error wording.

import { at } from '../../lib/issue.js';
import type { ResourceEntry } from '../../api/entry.js';
import { groupOf } from '../../api/resource.js';
import { ALWAYS_IGNORED_ANNOTATIONS, isIstioAnnotation, lookupAnnotation } from '../annotations.js';
import type { Analyzer } from '../framework.js';

/** The kinds Istio checks, by group. */
const CHECKED: readonly { group: string; kind: string }[] = [
  { group: '', kind: 'Namespace' },
  { group: '', kind: 'Service' },
  { group: '', kind: 'Pod' },
  { group: 'apps', kind: 'Deployment' },
];

const DEPRECATION_EXTRA: Readonly<Record<string, string>> = {
  'sidecar.istio.io/inject': ' in favor of the "sidecar.istio.io/inject" label',
};

// --- value validation (pkg/kube/inject/validate.go) ---

const parseUintError = (fn: string, v: string, bits: number): string | undefined => {
  if (!/^[0-9]+$/.test(v)) return `strconv.${fn}: parsing ${JSON.stringify(v)}: invalid syntax`;
  if (BigInt(v) >= 1n << BigInt(bits)) return `strconv.${fn}: parsing ${JSON.stringify(v)}: value out of range`;
  return undefined;
};

const validateUInt32 = (v: string): string | undefined => parseUintError('ParseUint', v, 32);

const validateBool = (v: string): string | undefined =>
  ['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)
    ? undefined
    : `strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`;

function parsePort(s: string): string | undefined {
  const e = parseUintError('ParseUint', s.trim(), 16);
  return e === undefined ? undefined : `failed parsing port '${s}': ${e}`;
}

function portListError(param: string, ports: string): string | undefined {
  const trimmed = ports.trim();
  if (trimmed === '') return undefined;
  for (const p of trimmed.split(',')) {
    const e = parsePort(p);
    if (e !== undefined) return `${param} invalid: failed parsing port '${p}': ${e}`;
  }
  return undefined;
}

function cidrListError(cidrs: string): string | undefined {
  if (cidrs === '') return undefined;
  for (const c of cidrs.split(',')) {
    const slash = c.lastIndexOf('/');
    if (slash < 0) return `failed parsing cidr '${c}': netip.ParsePrefix(${JSON.stringify(c)}): no '/'`;
    const ip = c.slice(0, slash);
    const bits = c.slice(slash + 1);
    const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
    const isV4 = v4 !== null && v4.slice(1).every((o) => Number(o) <= 255 && (o === '0' || !o.startsWith('0')));
    const isV6 = !isV4 && ip.includes(':') && /^[0-9a-fA-F:.]+$/.test(ip);
    if (!isV4 && !isV6) return `failed parsing cidr '${c}': netip.ParsePrefix(${JSON.stringify(c)}): ParseAddr(${JSON.stringify(ip)}): unable to parse IP`;
    const max = isV4 ? 32 : 128;
    if (!/^(0|[1-9][0-9]*)$/.test(bits) || Number(bits) > max)
      return `failed parsing cidr '${c}': netip.ParsePrefix(${JSON.stringify(c)}): bad bits after slash: ${JSON.stringify(bits)}`;
  }
  return undefined;
}

const VALIDATORS: Readonly<Record<string, (v: string) => string | undefined>> = {
  'sidecar.istio.io/interceptionMode': (v) =>
    ['REDIRECT', 'TPROXY', 'NONE'].includes(v) ? undefined : `interceptionMode invalid, use REDIRECT,TPROXY,NONE: ${v}`,
  'status.sidecar.istio.io/port': (v) => (parsePort(v) === undefined ? undefined : `excludeInboundPorts invalid: ${parsePort(v) ?? ''}`),
  'readiness.status.sidecar.istio.io/initialDelaySeconds': validateUInt32,
  'readiness.status.sidecar.istio.io/periodSeconds': validateUInt32,
  'readiness.status.sidecar.istio.io/failureThreshold': validateUInt32,
  'traffic.sidecar.istio.io/includeOutboundIPRanges': (v) => {
    if (v === '*') return undefined;
    const e = cidrListError(v);
    return e === undefined ? undefined : `includeIPRanges invalid: ${e}`;
  },
  'traffic.sidecar.istio.io/excludeOutboundIPRanges': (v) => {
    const e = cidrListError(v);
    return e === undefined ? undefined : `excludeIPRanges invalid: ${e}`;
  },
  'traffic.sidecar.istio.io/includeInboundPorts': (v) => (v === '*' ? undefined : portListError('includeInboundPorts', v)),
  'traffic.sidecar.istio.io/excludeInboundPorts': (v) => portListError('excludeInboundPorts', v),
  'traffic.sidecar.istio.io/excludeOutboundPorts': (v) => portListError('excludeOutboundPorts', v),
  'prometheus.istio.io/merge-metrics': validateBool,
};

/** Istio's error for an invalid annotation value, or undefined when valid or not checked. */
export function annotationValueError(name: string, value: string): string | undefined {
  return VALIDATORS[name]?.(value);
}

function check(ctx: Parameters<Analyzer['analyze']>[0], e: ResourceEntry, kind: string): void {
  const annotations = e.resource.metadata.annotations ?? {};
  const labels = e.resource.metadata.labels ?? {};
  for (const [ann, value] of Object.entries(annotations)) {
    if (!isIstioAnnotation(ann) || ALWAYS_IGNORED_ANNOTATIONS.has(ann)) continue;
    const path = at('metadata.annotations', ann);
    const def = lookupAnnotation(ann);
    if (def === undefined) {
      ctx.report('IST0108', e, [ann], path);
      continue;
    }
    if (def.deprecated) {
      // Both the deprecated annotation and its replacement label: the user knows; stay quiet.
      if (!(ann === 'sidecar.istio.io/inject' && labels['sidecar.istio.io/inject'] !== undefined)) {
        ctx.report('IST0135', e, [ann, DEPRECATION_EXTRA[ann] ?? ''], path);
      }
    }
    if (def.resources.includes('Any')) continue;
    if (!def.resources.includes(kind)) {
      ctx.report('IST0107', e, [ann, def.resources.join(', ')], path);
      continue;
    }
    const err = annotationValueError(ann, value);
    if (err !== undefined) ctx.report('IST0125', e, [ann, err], path);
  }
}

export const annotationsAnalyzer: Analyzer = {
  name: 'annotations.K8sAnalyzer',
  description: 'Checks for misplaced and invalid Istio annotations in Kubernetes resources',
  inputs: CHECKED.map((k) => `${k.group}/${k.kind}`),
  analyze(ctx) {
    for (const e of ctx.entries) {
      const g = groupOf(e.resource.apiVersion);
      const k = CHECKED.find((c) => c.group === g && c.kind === e.resource.kind);
      if (k !== undefined) check(ctx, e, k.kind);
    }
  },
};
