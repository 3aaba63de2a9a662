// core/v1 ServiceAccount: schema (k8s.io/api core/v1 ServiceAccount: top-level `secrets`, `imagePullSecrets`,
// `automountServiceAccountToken`; no spec) and Kubernetes' checks (k8s.io/kubernetes pkg/apis/core/validation
// ValidateServiceAccount checks only metadata: the name is a DNS-1123 subdomain). The mesh derives workload
// identities from it: spiffe://<trust-domain>/ns/<namespace>/sa/<name>.

import type { Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { obj, z } from '../schema.js';
import { dns1123SubdomainIssues, LocalObjectReferenceSchema, ObjectReferenceSchema } from './k8s-common.js';

const BodySchema = obj({
  secrets: z.array(ObjectReferenceSchema).optional(),
  imagePullSecrets: z.array(LocalObjectReferenceSchema).optional(),
  automountServiceAccountToken: z.boolean().optional(),
});
export type ServiceAccountBody = z.infer<typeof BodySchema>;
export type ServiceAccount = Resource<ServiceAccountBody>;

/**
 * Beyond metadata Kubernetes checks nothing, so the API server accepts any secret name here; a name that
 * is not a valid Secret name can never resolve, which is reported as a warning (not Kubernetes' check).
 */
export function validateServiceAccount(sa: ServiceAccount): Issue[] {
  const out: Issue[] = [];
  (sa.imagePullSecrets ?? []).forEach((s, i) => {
    if (s.name !== undefined && s.name !== '') out.push(...dns1123SubdomainIssues(`imagePullSecrets[${i}].name`, s.name));
  });
  (sa.secrets ?? []).forEach((s, i) => {
    if (s.name !== undefined && s.name !== '') out.push(...dns1123SubdomainIssues(`secrets[${i}].name`, s.name));
  });
  return out.map((i) => ({ ...i, severity: 'warning' as const }));
}

/** The SPIFFE identity of workloads running as this service account. */
export function serviceAccountSpiffeId(trustDomain: string, namespace: string, name: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${name}`;
}

export const SERVICE_ACCOUNT = defineKind<ServiceAccountBody>({
  group: '',
  kind: 'ServiceAccount',
  versions: ['v1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateServiceAccount,
});
