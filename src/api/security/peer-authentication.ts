// security.istio.io PeerAuthentication: schema and Istio's validation (ValidatePeerAuthentication).
// Defaults as Istio applies them: `mtls.mode` UNSET inherits from the parent (namespace, then mesh),
// and is PERMISSIVE when nothing sets it; that resolution happens where policies are combined, not here.

import { at, error, type Issue } from '../../lib/issue.js';
import { workloadSelectorIssues, WorkloadSelectorSchema } from '../istio-common.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { enumOf, obj, z } from '../schema.js';

export const MTLS_MODES = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const;
export type MtlsMode = (typeof MTLS_MODES)[number];

const MutualTlsSchema = obj({ mode: enumOf(MTLS_MODES).optional() });

export const PeerAuthenticationSpecSchema = obj({
  selector: WorkloadSelectorSchema.optional(),
  mtls: MutualTlsSchema.optional(),
  /** Keyed by workload (container) port, not service port. */
  portLevelMtls: z.record(z.string(), MutualTlsSchema).optional(),
});
export type PeerAuthenticationSpec = z.infer<typeof PeerAuthenticationSpecSchema>;

const BodySchema = obj({ spec: PeerAuthenticationSpecSchema.default({}), status: z.unknown().optional() });
export type PeerAuthenticationBody = z.infer<typeof BodySchema>;
export type PeerAuthentication = Resource<PeerAuthenticationBody>;

export function validatePeerAuthentication(r: PeerAuthentication): Issue[] {
  const spec = r.spec;
  const out: Issue[] = [];
  const emptySelector = spec.selector === undefined || Object.keys(spec.selector.matchLabels ?? {}).length === 0;
  if (spec.portLevelMtls !== undefined) {
    if (emptySelector && Object.keys(spec.portLevelMtls).length > 0)
      out.push(error('spec.portLevelMtls', 'mesh/namespace peer authentication cannot have port level mTLS'));
    if (Object.keys(spec.portLevelMtls).length === 0)
      out.push(error('spec.portLevelMtls', 'port level mTLS, if defined, must have at least one element'));
    for (const port of Object.keys(spec.portLevelMtls)) {
      const n = Number(port);
      if (!/^\d+$/.test(port) || n <= 0 || n > 65535) out.push(error(at('spec.portLevelMtls', port), 'port must be in range 1..65535'));
    }
  }
  out.push(...workloadSelectorIssues('spec.selector', spec.selector));
  return out;
}

export const PEER_AUTHENTICATION = defineKind<PeerAuthenticationBody>({
  group: 'security.istio.io',
  kind: 'PeerAuthentication',
  versions: ['v1', 'v1beta1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validatePeerAuthentication,
});
