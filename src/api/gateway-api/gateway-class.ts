// gateway.networking.k8s.io GatewayClass (cluster-scoped): schema and the CRD's validation
// (config/crd/standard/gateway.networking.k8s.io_gatewayclasses.yaml, apis/v1/gatewayclass_types.go).
// `controllerName` is immutable once created; that is an update rule and is not checked here.

import type { Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { obj, z } from '../schema.js';
import { GATEWAY_API_GROUP, GroupSchema, KindSchema, NamespaceSchema, ObjectNameSchema, PATTERNS, patterned } from './common.js';

/** GatewayController: a domain-prefixed path such as `istio.io/gateway-controller`. */
export const GatewayControllerSchema = patterned(PATTERNS.controllerName).min(1).max(253);

/** ParametersReference (gatewayclass_types.go). */
export const ParametersReferenceSchema = obj({
  group: GroupSchema,
  kind: KindSchema,
  name: ObjectNameSchema,
  namespace: NamespaceSchema.optional(),
});
export type ParametersReference = z.infer<typeof ParametersReferenceSchema>;

export const GatewayClassSpecSchema = obj({
  controllerName: GatewayControllerSchema,
  parametersRef: ParametersReferenceSchema.optional(),
  description: z.string().max(64).optional(),
});
export type GatewayClassSpec = z.infer<typeof GatewayClassSpecSchema>;

const BodySchema = obj({ spec: GatewayClassSpecSchema, status: z.unknown().optional() });
export type GatewayClassBody = z.infer<typeof BodySchema>;
export type GatewayClass = Resource<GatewayClassBody>;

/** Everything GatewayClass's CRD checks is structural (OpenAPI); nothing semantic remains. */
export function validateGatewayClass(_r: GatewayClass): Issue[] {
  return [];
}

export const GATEWAY_CLASS = defineKind<GatewayClassBody>({
  group: GATEWAY_API_GROUP,
  kind: 'GatewayClass',
  versions: ['v1', 'v1beta1'],
  namespaced: false,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateGatewayClass,
});
