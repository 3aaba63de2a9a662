// apps/v1 Deployment: schema (k8s.io/api apps/v1 DeploymentSpec, DeploymentStrategy, DeploymentStatus) and
// Kubernetes' checks (k8s.io/kubernetes pkg/apis/apps/validation ValidateDeploymentSpec,
// ValidatePodTemplateSpecForReplicaSet, ValidateDeploymentStrategy, ValidateRollingUpdateDeployment), with the
// pod template checked by pod.ts. Defaults (pkg/apis/apps/v1/defaults.go): replicas 1, strategy RollingUpdate
// with maxUnavailable and maxSurge 25%, revisionHistoryLimit 10, progressDeadlineSeconds 600.

import type { Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { obj, z } from '../schema.js';
import {
  forbidden,
  IntOrStringSchema,
  invalid,
  labelSelectorIssues,
  labelSelectorMatches,
  LabelSelectorSchema,
  labelsIssues,
  nonNegativeIssues,
  notSupported,
  required,
  type IntOrString,
} from './k8s-common.js';
import { podSpecIssues, PodTemplateSpecSchema } from './pod.js';

const RollingUpdateDeploymentSchema = obj({
  maxUnavailable: IntOrStringSchema.optional(),
  maxSurge: IntOrStringSchema.optional(),
});
export const DeploymentStrategySchema = obj({ type: z.string().optional(), rollingUpdate: RollingUpdateDeploymentSchema.optional() });

export const DeploymentSpecSchema = obj({
  replicas: z.number().int().optional(),
  selector: LabelSelectorSchema.optional(),
  template: PodTemplateSpecSchema.default({ spec: {} }),
  strategy: DeploymentStrategySchema.optional(),
  minReadySeconds: z.number().int().optional(),
  revisionHistoryLimit: z.number().int().optional(),
  paused: z.boolean().optional(),
  progressDeadlineSeconds: z.number().int().optional(),
});
export type DeploymentSpec = z.infer<typeof DeploymentSpecSchema>;

const DeploymentConditionSchema = obj({
  type: z.string(),
  status: z.string(),
  lastUpdateTime: z.string().optional(),
  lastTransitionTime: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
export const DeploymentStatusSchema = obj({
  observedGeneration: z.number().int().optional(),
  replicas: z.number().int().optional(),
  updatedReplicas: z.number().int().optional(),
  readyReplicas: z.number().int().optional(),
  availableReplicas: z.number().int().optional(),
  unavailableReplicas: z.number().int().optional(),
  terminatingReplicas: z.number().int().optional(),
  conditions: z.array(DeploymentConditionSchema).optional(),
  collisionCount: z.number().int().optional(),
});

const BodySchema = obj({ spec: DeploymentSpecSchema.default({ template: { spec: {} } }), status: DeploymentStatusSchema.optional() });
export type DeploymentBody = z.infer<typeof BodySchema>;
export type Deployment = Resource<DeploymentBody>;

/** `spec.replicas`, defaulting to 1. */
export function deploymentReplicas(d: Deployment): number {
  return d.spec.replicas ?? 1;
}

/** The pod labels the Deployment stamps on its pods (`spec.template.metadata.labels`). */
export function deploymentPodLabels(d: Deployment): Readonly<Record<string, string>> {
  return d.spec.template.metadata?.labels ?? {};
}

const PERCENT = /^[0-9]+%$/;

/** ValidatePositiveIntOrPercent. */
function intOrPercentIssues(path: string, v: IntOrString | undefined): Issue[] {
  if (v === undefined) return [];
  if (typeof v === 'number') return nonNegativeIssues(path, v);
  return PERCENT.test(v)
    ? []
    : [invalid(path, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
}

function intOrPercentValue(v: IntOrString): number {
  return typeof v === 'number' ? v : PERCENT.test(v) ? Number(v.slice(0, -1)) : NaN;
}

function strategyIssues(spec: DeploymentSpec): Issue[] {
  const s = spec.strategy ?? {};
  const type = s.type ?? 'RollingUpdate';
  const out: Issue[] = [];
  if (type === 'Recreate') {
    if (s.rollingUpdate !== undefined) out.push(forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
  } else if (type === 'RollingUpdate') {
    const maxUnavailable = s.rollingUpdate?.maxUnavailable ?? '25%';
    const maxSurge = s.rollingUpdate?.maxSurge ?? '25%';
    const p = 'spec.strategy.rollingUpdate';
    out.push(...intOrPercentIssues(`${p}.maxUnavailable`, maxUnavailable), ...intOrPercentIssues(`${p}.maxSurge`, maxSurge));
    if (intOrPercentValue(maxUnavailable) === 0 && intOrPercentValue(maxSurge) === 0)
      out.push(invalid(`${p}.maxUnavailable`, maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    if (typeof maxUnavailable === 'string' && intOrPercentValue(maxUnavailable) > 100)
      out.push(invalid(`${p}.maxUnavailable`, maxUnavailable, 'must not be greater than 100%'));
  } else {
    out.push(notSupported('spec.strategy.type', type, ['Recreate', 'RollingUpdate']));
  }
  return out;
}

export function validateDeployment(d: Deployment): Issue[] {
  const spec = d.spec;
  const out: Issue[] = [];
  out.push(...nonNegativeIssues('spec.replicas', spec.replicas));
  const sel = spec.selector;
  if (sel === undefined) out.push(required('spec.selector'));
  else {
    out.push(...labelSelectorIssues('spec.selector', sel));
    if (Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions?.length ?? 0) === 0)
      out.push(invalid('spec.selector', {}, 'empty selector is invalid for deployment'));
  }
  // ValidatePodTemplateSpecForReplicaSet: the selector must select the template's pods.
  const labels = spec.template.metadata?.labels ?? {};
  if (sel !== undefined && Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions?.length ?? 0) > 0 && !labelSelectorMatches(sel, labels))
    out.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  out.push(...labelsIssues('spec.template.metadata.labels', spec.template.metadata?.labels));
  out.push(...podSpecIssues(spec.template.spec, 'spec.template.spec'));
  const restart = spec.template.spec.restartPolicy ?? 'Always';
  if (restart !== 'Always') out.push(notSupported('spec.template.spec.restartPolicy', restart, ['Always']));
  if (spec.template.spec.activeDeadlineSeconds !== undefined)
    out.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  if ((spec.template.spec.ephemeralContainers?.length ?? 0) > 0)
    out.push(forbidden('spec.template.spec.ephemeralContainers', 'ephemeral containers not allowed in pod template'));

  out.push(...strategyIssues(spec));
  out.push(...nonNegativeIssues('spec.minReadySeconds', spec.minReadySeconds));
  out.push(...nonNegativeIssues('spec.revisionHistoryLimit', spec.revisionHistoryLimit));
  if (spec.progressDeadlineSeconds !== undefined) {
    out.push(...nonNegativeIssues('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0))
      out.push(invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
  return out;
}

export const DEPLOYMENT = defineKind<DeploymentBody>({
  group: 'apps',
  kind: 'Deployment',
  versions: ['v1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateDeployment,
});
