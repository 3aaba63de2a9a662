// core/v1 Endpoints: schema (k8s.io/api core/v1 Endpoints: top-level `subsets`, no spec) and Kubernetes'
// checks (k8s.io/kubernetes pkg/apis/core/validation ValidateEndpoints, validateEndpointSubsets,
// validateEndpointAddress, validateEndpointPort, ValidateNonSpecialIP). The mesh reads it for Services
// without EndpointSlices (and for hand-written endpoints of selector-less Services).

import type { Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { obj, z } from '../schema.js';
import {
  dns1123LabelIssues,
  dns1123SubdomainIssues,
  ipIssues,
  nonSpecialIPIssues,
  notSupported,
  ObjectReferenceSchema,
  portNumErrors,
  invalid,
  PROTOCOLS,
  qualifiedNameIssues,
  required,
} from './k8s-common.js';

export const EndpointAddressSchema = obj({
  ip: z.string(),
  hostname: z.string().optional(),
  nodeName: z.string().optional(),
  targetRef: ObjectReferenceSchema.optional(),
});
export type EndpointAddress = z.infer<typeof EndpointAddressSchema>;

export const EndpointPortSchema = obj({
  name: z.string().optional(),
  port: z.number().int(),
  /** TCP (default), UDP or SCTP. */
  protocol: z.string().optional(),
  appProtocol: z.string().optional(),
});
export type EndpointPort = z.infer<typeof EndpointPortSchema>;

export const EndpointSubsetSchema = obj({
  addresses: z.array(EndpointAddressSchema).optional(),
  notReadyAddresses: z.array(EndpointAddressSchema).optional(),
  ports: z.array(EndpointPortSchema).optional(),
});
export type EndpointSubset = z.infer<typeof EndpointSubsetSchema>;

const BodySchema = obj({ subsets: z.array(EndpointSubsetSchema).optional() });
export type EndpointsBody = z.infer<typeof BodySchema>;
export type Endpoints = Resource<EndpointsBody>;

function addressIssues(a: EndpointAddress, path: string): Issue[] {
  // Kubernetes runs ValidateNonSpecialIP even on an unparsable IP; report that once.
  const ipErrs = ipIssues(`${path}.ip`, a.ip);
  const out = ipErrs.length > 0 ? ipErrs : nonSpecialIPIssues(`${path}.ip`, a.ip);
  if (a.hostname !== undefined && a.hostname !== '') out.push(...dns1123LabelIssues(`${path}.hostname`, a.hostname));
  if (a.nodeName !== undefined) out.push(...dns1123SubdomainIssues(`${path}.nodeName`, a.nodeName));
  return out;
}

function portIssues(p: EndpointPort, path: string, requireName: boolean): Issue[] {
  const out: Issue[] = [];
  const name = p.name ?? '';
  if (requireName && name === '') out.push(required(`${path}.name`));
  else if (name !== '') out.push(...dns1123LabelIssues(`${path}.name`, name));
  for (const m of portNumErrors(p.port)) out.push(invalid(`${path}.port`, p.port, m));
  const proto = p.protocol ?? 'TCP';
  if (!(PROTOCOLS as readonly string[]).includes(proto)) out.push(notSupported(`${path}.protocol`, proto, PROTOCOLS));
  if (p.appProtocol !== undefined) out.push(...qualifiedNameIssues(`${path}.appProtocol`, p.appProtocol));
  return out;
}

export function validateEndpoints(ep: Endpoints): Issue[] {
  const out: Issue[] = [];
  (ep.subsets ?? []).forEach((ss, i) => {
    const p = `subsets[${i}]`;
    // For headless services endpoints may have no ports, but they always need an address.
    if ((ss.addresses?.length ?? 0) === 0 && (ss.notReadyAddresses?.length ?? 0) === 0)
      out.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    (ss.addresses ?? []).forEach((a, j) => out.push(...addressIssues(a, `${p}.addresses[${j}]`)));
    (ss.notReadyAddresses ?? []).forEach((a, j) => out.push(...addressIssues(a, `${p}.notReadyAddresses[${j}]`)));
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => out.push(...portIssues(port, `${p}.ports[${j}]`, ports.length > 1)));
  });
  return out;
}

export const ENDPOINTS = defineKind<EndpointsBody>({
  group: '',
  kind: 'Endpoints',
  versions: ['v1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateEndpoints,
});
