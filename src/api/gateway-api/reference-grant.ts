// gateway.networking.k8s.io ReferenceGrant: schema and the CRD's validation
// (config/crd/standard/gateway.networking.k8s.io_referencegrants.yaml, apis/v1/referencegrant_types.go).
// A ReferenceGrant in namespace N lets objects of the `from` kinds in other namespaces refer to the `to`
// kinds in N; `to.name` omitted means every object of that kind.

import type { Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { obj, z } from '../schema.js';
import { GATEWAY_API_GROUP, GroupSchema, KindSchema, NamespaceSchema, ObjectNameSchema } from './common.js';

/** ReferenceGrantFrom: `group` is required but may be "" (the core group). */
export const ReferenceGrantFromSchema = obj({ group: GroupSchema, kind: KindSchema, namespace: NamespaceSchema });
export type ReferenceGrantFrom = z.infer<typeof ReferenceGrantFromSchema>;

export const ReferenceGrantToSchema = obj({ group: GroupSchema, kind: KindSchema, name: ObjectNameSchema.optional() });
export type ReferenceGrantTo = z.infer<typeof ReferenceGrantToSchema>;

export const ReferenceGrantSpecSchema = obj({
  from: z.array(ReferenceGrantFromSchema).min(1).max(16),
  to: z.array(ReferenceGrantToSchema).min(1).max(16),
});
export type ReferenceGrantSpec = z.infer<typeof ReferenceGrantSpecSchema>;

const BodySchema = obj({ spec: ReferenceGrantSpecSchema, status: z.unknown().optional() });
export type ReferenceGrantBody = z.infer<typeof BodySchema>;
export type ReferenceGrant = Resource<ReferenceGrantBody>;

/** Everything ReferenceGrant's CRD checks is structural (OpenAPI); nothing semantic remains. */
export function validateReferenceGrant(_r: ReferenceGrant): Issue[] {
  return [];
}

/** True when `grant` allows a `fromGroup/fromKind` in `fromNamespace` to refer to `toGroup/toKind` named `toName`. */
export function referenceGrantAllows(
  grant: ReferenceGrant,
  from: { group: string; kind: string; namespace: string },
  to: { group: string; kind: string; name: string },
): boolean {
  const f = grant.spec.from.some((x) => x.group === from.group && x.kind === from.kind && x.namespace === from.namespace);
  const t = grant.spec.to.some((x) => x.group === to.group && x.kind === to.kind && (x.name === undefined || x.name === to.name));
  return f && t;
}

export const REFERENCE_GRANT = defineKind<ReferenceGrantBody>({
  group: GATEWAY_API_GROUP,
  kind: 'ReferenceGrant',
  versions: ['v1', 'v1beta1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateReferenceGrant,
});
