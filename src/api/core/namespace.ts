// core/v1 Namespace: schema (k8s.io/api core/v1 NamespaceSpec, NamespaceStatus) and Kubernetes' checks
// (k8s.io/kubernetes pkg/apis/core/validation ValidateNamespace: name a DNS-1123 label, finalizer names).
// Cluster-scoped. The mesh reads its labels (`istio-injection`, `istio.io/rev`, `istio.io/dataplane-mode`).

import type { Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { obj, z } from '../schema.js';
import { invalid, notSupported, qualifiedNameIssues } from './k8s-common.js';

export const NamespaceSpecSchema = obj({ finalizers: z.array(z.string()).optional() });

const NamespaceConditionSchema = obj({
  type: z.string(),
  status: z.string(),
  lastTransitionTime: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
export const NamespaceStatusSchema = obj({ phase: z.string().optional(), conditions: z.array(NamespaceConditionSchema).optional() });

const BodySchema = obj({ spec: NamespaceSpecSchema.optional(), status: NamespaceStatusSchema.optional() });
export type NamespaceBody = z.infer<typeof BodySchema>;
export type Namespace = Resource<NamespaceBody>;

/** Finalizers Kubernetes knows without a domain prefix (helper.IsStandardFinalizerName). */
const STANDARD_FINALIZERS = ['kubernetes'];

/** validateFinalizerName: a qualified name, and either a standard name or one with a `domain/` prefix. */
function finalizerIssues(path: string, name: string): Issue[] {
  const out = qualifiedNameIssues(path, name);
  if (!name.includes('/') && !STANDARD_FINALIZERS.includes(name))
    out.push(invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified'));
  return out;
}

export function validateNamespace(ns: Namespace): Issue[] {
  const out: Issue[] = [];
  (ns.spec?.finalizers ?? []).forEach((f, i) => out.push(...finalizerIssues(`spec.finalizers[${i}]`, f)));
  const phase = ns.status?.phase;
  if (phase !== undefined && phase !== 'Active' && phase !== 'Terminating') out.push(notSupported('status.phase', phase, ['Active', 'Terminating']));
  return out;
}

export const NAMESPACE = defineKind<NamespaceBody>({
  group: '',
  kind: 'Namespace',
  versions: ['v1'],
  namespaced: false,
  nameRule: 'dns1123-label',
  body: BodySchema,
  validate: validateNamespace,
});
