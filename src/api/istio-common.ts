// Types and checks shared by several Istio kinds: workload selectors (the security/telemetry
// `matchLabels` one and the networking `labels` one of Sidecar and EnvoyFilter), policy target references,
// exportTo, oneof. Wording follows Istio's pkg/config/validation/validation.go.

import { at, error, warning, type Issue } from '../lib/issue.js';
import { isIstioDns1123Label } from './validation/istio-labels.js';
import { obj, stringMap, z } from './schema.js';

/** istio.type.v1beta1.WorkloadSelector */
export const WorkloadSelectorSchema = obj({ matchLabels: stringMap.optional() });
export type WorkloadSelector = z.infer<typeof WorkloadSelectorSchema>;

/** istio.type.v1beta1.PolicyTargetReference */
export const PolicyTargetReferenceSchema = obj({
  group: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
});
export type PolicyTargetReference = z.infer<typeof PolicyTargetReferenceSchema>;

/** istio.networking.v1alpha3.WorkloadSelector (Sidecar, EnvoyFilter): note `labels`, not `matchLabels`. */
export const AlphaWorkloadSelectorSchema = obj({ labels: stringMap.optional() });
export type AlphaWorkloadSelector = z.infer<typeof AlphaWorkloadSelectorSchema>;

/** The label checks of ValidateWorkloadSelector and ValidateAlphaWorkloadSelector; `field` names the label map. */
function selectorLabelsIssues(path: string, field: string, labels: Readonly<Record<string, string>>, emptyWarning: string): Issue[] {
  const out: Issue[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (k === '') out.push(error(at(path, field), `empty key is not supported in selector: ${JSON.stringify(`${k}=${v}`)}`));
    if (k.includes('*') || v.includes('*'))
      out.push(error(at(at(path, field), k), `wildcard is not supported in selector: ${JSON.stringify(`${k}=${v}`)}`));
  }
  if (Object.keys(labels).length === 0) out.push(warning(path, emptyWarning));
  return out;
}

/** Istio's ValidateWorkloadSelector (`matchLabels`). */
export function workloadSelectorIssues(path: string, selector: WorkloadSelector | undefined): Issue[] {
  if (selector === undefined) return [];
  return selectorLabelsIssues(path, 'matchLabels', selector.matchLabels ?? {}, 'workload selector specified without labels');
}

/** Istio's ValidateAlphaWorkloadSelector (`labels`); the empty-selector warning differs by kind. */
export function alphaWorkloadSelectorIssues(path: string, selector: AlphaWorkloadSelector | undefined, emptyWarning: string): Issue[] {
  if (selector === undefined) return [];
  return selectorLabelsIssues(path, 'labels', selector.labels ?? {}, emptyWarning);
}

/** Kinds a policy's targetRef(s) may point at (Istio's allowedTargetRefs). */
const ALLOWED_TARGET_REFS: readonly { group: string; kind: string }[] = [
  { group: 'core', kind: 'Service' },
  { group: 'networking.istio.io', kind: 'ServiceEntry' },
  { group: 'gateway.networking.k8s.io', kind: 'Gateway' },
  { group: 'gateway.networking.k8s.io', kind: 'GatewayClass' },
];

export function policyTargetReferenceIssues(path: string, ref: PolicyTargetReference | undefined): Issue[] {
  if (ref === undefined) return [];
  const out: Issue[] = [];
  if ((ref.name ?? '') === '') out.push(error(at(path, 'name'), 'targetRef name must be set'));
  if ((ref.namespace ?? '') !== '')
    out.push(error(at(path, 'namespace'), 'targetRef namespace must not be set; cross namespace referencing is not supported'));
  const group = (ref.group ?? '') === '' ? 'core' : (ref.group as string);
  if (!ALLOWED_TARGET_REFS.some((a) => a.group === group && a.kind === ref.kind))
    out.push(
      error(
        path,
        `targetRef must be to one of [${ALLOWED_TARGET_REFS.map((a) => `${a.group}/${a.kind}`).join(' ')}] but was ${ref.group ?? ''}/${ref.kind ?? ''}`,
      ),
    );
  return out;
}

/** Shared by AuthorizationPolicy, RequestAuthentication, Telemetry, WasmPlugin. */
export function selectorAndTargetRefIssues(spec: {
  selector?: WorkloadSelector | undefined;
  targetRef?: PolicyTargetReference | undefined;
  targetRefs?: readonly PolicyTargetReference[] | undefined;
}): Issue[] {
  const out: Issue[] = [];
  const set = (spec.selector !== undefined ? 1 : 0) + (spec.targetRef !== undefined ? 1 : 0) + ((spec.targetRefs?.length ?? 0) > 0 ? 1 : 0);
  if (set > 1) out.push(error('spec', 'only one of targetRefs or workloadSelector can be set'));
  out.push(...workloadSelectorIssues('spec.selector', spec.selector));
  out.push(...policyTargetReferenceIssues('spec.targetRef', spec.targetRef));
  (spec.targetRefs ?? []).forEach((r, i) => out.push(...policyTargetReferenceIssues(`spec.targetRefs[${i}]`, r)));
  return out;
}

/** Istio's validateExportTo. */
export function exportToIssues(
  path: string,
  namespace: string,
  exportTo: readonly string[] | undefined,
  opts: { isServiceEntry?: boolean; isDestinationRuleWithSelector?: boolean } = {},
): Issue[] {
  if (exportTo === undefined || exportTo.length === 0) return [];
  const out: Issue[] = [];
  const seen = new Set<string>();
  for (const e of exportTo) {
    const key = e === '.' ? namespace : e;
    if (seen.has(key)) {
      out.push(
        error(path, key !== e ? `duplicate entries in exportTo: . and current namespace ${namespace}` : `duplicate entries in exportTo for entry ${e}`),
      );
      continue;
    }
    if (opts.isServiceEntry === true && e === '~') {
      seen.add(key);
    } else if (key === '~') {
      out.push(error(path, 'exportTo ~ (none) is not allowed for Istio configuration objects'));
    } else if (key !== '*' && key !== '.' && !isIstioDns1123Label(key)) {
      out.push(error(path, 'only .,*, or a valid DNS 1123 label is allowed as exportTo entry'));
    } else {
      seen.add(key);
    }
  }
  if (opts.isDestinationRuleWithSelector === true && seen.size > 0) {
    if (seen.has(namespace)) {
      if (seen.size > 1) out.push(error(path, 'destination rule with workload selector cannot have multiple entries in exportTo'));
    } else out.push(error(path, 'destination rule with workload selector cannot have exportTo beyond current namespace'));
  }
  if (seen.has('*') && exportTo.length > 1) out.push(error(path, 'cannot have both public (*) and non-public exportTo values for a resource'));
  if (seen.has('~') && exportTo.length > 1) out.push(error(path, 'cannot export service entry to no one (~) and someone'));
  return out;
}

/** Protobuf oneof: at most one of `fields` may be set on `value`. */
export function onlyOneOf(path: string, value: Record<string, unknown>, fields: readonly string[], what = fields.join(', ')): Issue[] {
  const set = fields.filter((f) => value[f] !== undefined);
  return set.length > 1 ? [error(path, `only one of ${what} may be set (got ${set.join(' and ')})`)] : [];
}
