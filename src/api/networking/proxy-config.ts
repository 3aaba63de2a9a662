// networking.istio.io ProxyConfig (v1beta1 only): schema and Istio's validation (ValidateProxyConfig and
// validateConcurrency in istio/istio pkg/config/validation/validation.go). Istio does not check
// `environmentVariables` or `image.imageType` (any published image type such as `default`, `debug`,
// `distroless` or a custom one is allowed), so neither do we.
// Defaults as Istio applies them: `concurrency` unset is decided from the CPU limit; 0 means all cores.
// Precedence (workload selector > namespace > root namespace) is resolved where configs are merged.

import { error, type Issue } from '../../lib/issue.js';
import { workloadSelectorIssues, WorkloadSelectorSchema } from '../istio-common.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { int32, obj, stringMap, z } from '../schema.js';

export const ProxyImageSchema = obj({ imageType: z.string().optional() });
export type ProxyImage = z.infer<typeof ProxyImageSchema>;

export const ProxyConfigSpecSchema = obj({
  selector: WorkloadSelectorSchema.optional(),
  /** google.protobuf.Int32Value (nullable in the CRD). */
  concurrency: int32.nullable().optional(),
  environmentVariables: stringMap.optional(),
  image: ProxyImageSchema.optional(),
});
export type ProxyConfigSpec = z.infer<typeof ProxyConfigSpecSchema>;

const BodySchema = obj({ spec: ProxyConfigSpecSchema.default({}), status: z.unknown().optional() });
export type ProxyConfigBody = z.infer<typeof BodySchema>;
export type ProxyConfig = Resource<ProxyConfigBody>;

export function validateProxyConfig(r: ProxyConfig): Issue[] {
  const spec = r.spec;
  const out: Issue[] = [...workloadSelectorIssues('spec.selector', spec.selector)];
  if ((spec.concurrency ?? 0) < 0) out.push(error('spec.concurrency', 'concurrency must be greater than or equal to 0'));
  return out;
}

/** The concurrency the proxy runs with: undefined when unset (derived from CPU limits), 0 for all cores. */
export function effectiveConcurrency(pc: ProxyConfigSpec): number | undefined {
  return pc.concurrency ?? undefined;
}

export const PROXY_CONFIG = defineKind<ProxyConfigBody>({
  group: 'networking.istio.io',
  kind: 'ProxyConfig',
  versions: ['v1beta1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateProxyConfig,
});
