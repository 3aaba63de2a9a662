// discovery.k8s.io/v1 EndpointSlice: schema (k8s.io/api discovery/v1: top-level `addressType`, `endpoints`,
// `ports`; no spec) and Kubernetes' checks (k8s.io/kubernetes pkg/apis/discovery/validation
// ValidateEndpointSlice, validateEndpoints, validatePorts, validateAddressType). This is the mesh's main
// source of service endpoints: an endpoint is ready unless `conditions.ready` is false.

import type { Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { obj, stringMap, z } from '../schema.js';
import {
  dns1123LabelIssues,
  dns1123SubdomainIssues,
  duplicate,
  invalid,
  labelsIssues,
  nonSpecialIPIssues,
  notSupported,
  ObjectReferenceSchema,
  parseIP,
  portNumErrors,
  PROTOCOLS,
  qualifiedNameIssues,
  required,
} from './k8s-common.js';

export const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'] as const; // sorted, as sets.List

export const EndpointConditionsSchema = obj({
  ready: z.boolean().optional(),
  serving: z.boolean().optional(),
  terminating: z.boolean().optional(),
});

const EndpointHintsSchema = obj({
  forZones: z.array(obj({ name: z.string() })).optional(),
  forNodes: z.array(obj({ name: z.string() })).optional(),
});

export const EndpointSchema = obj({
  addresses: z.array(z.string()),
  conditions: EndpointConditionsSchema.optional(),
  hostname: z.string().optional(),
  targetRef: ObjectReferenceSchema.optional(),
  deprecatedTopology: stringMap.optional(),
  nodeName: z.string().optional(),
  zone: z.string().optional(),
  hints: EndpointHintsSchema.optional(),
});
export type Endpoint = z.infer<typeof EndpointSchema>;

export const EndpointSlicePortSchema = obj({
  name: z.string().optional(),
  protocol: z.string().optional(),
  /** Unset means all ports. */
  port: z.number().int().optional(),
  appProtocol: z.string().optional(),
});
export type EndpointSlicePort = z.infer<typeof EndpointSlicePortSchema>;

const BodySchema = obj({
  addressType: z.string().optional(),
  endpoints: z.array(EndpointSchema).optional(),
  ports: z.array(EndpointSlicePortSchema).optional(),
});
export type EndpointSliceBody = z.infer<typeof BodySchema>;
export type EndpointSlice = Resource<EndpointSliceBody>;

/** The Service this slice belongs to (label `kubernetes.io/service-name`). */
export function endpointSliceServiceName(s: EndpointSlice): string | undefined {
  return s.metadata.labels?.['kubernetes.io/service-name'];
}

/** Ready unless `conditions.ready` is false (nil means ready, per the API's documentation). */
export function isEndpointReady(e: Endpoint): boolean {
  return e.conditions?.ready !== false;
}

const MAX_ADDRESSES = 100;
const MAX_ENDPOINTS = 1000;
const MAX_PORTS = 20000;
const MAX_ZONE_HINTS = 8;

function addressIssues(path: string, addressType: string, address: string): Issue[] {
  switch (addressType) {
    case 'IPv4': {
      const ip = parseIP(address);
      if (ip?.family !== 4) return [invalid(path, address, 'must be a valid IPv4 address')];
      return nonSpecialIPIssues(path, address);
    }
    case 'IPv6': {
      const ip = parseIP(address);
      if (ip?.family !== 6) return [invalid(path, address, 'must be a valid IPv6 address')];
      return nonSpecialIPIssues(path, address);
    }
    case 'FQDN': {
      // IsFullyQualifiedDomainName: at least two labels, a DNS-1123 subdomain once the trailing dot is dropped.
      const name = address.replace(/\.$/, '');
      if (name === '') return [required(path)];
      const out: Issue[] = [];
      if (name.split('.').length < 2) out.push(invalid(path, address, 'should be a domain with at least two segments separated by dots'));
      out.push(...dns1123SubdomainIssues(path, name).map((i) => ({ ...i, message: i.message.replace(JSON.stringify(name), JSON.stringify(address)) })));
      return out;
    }
    default:
      return [];
  }
}

export function validateEndpointSlice(s: EndpointSlice): Issue[] {
  const out: Issue[] = [];
  const addressType = s.addressType ?? '';
  const endpoints = s.endpoints ?? [];
  if (endpoints.length > MAX_ENDPOINTS) out.push(invalid('endpoints', endpoints.length, `must have at most ${MAX_ENDPOINTS} items`));
  endpoints.forEach((e, i) => {
    const p = `endpoints[${i}]`;
    if (e.addresses.length === 0) out.push(required(`${p}.addresses`, 'must contain at least 1 address'));
    else if (e.addresses.length > MAX_ADDRESSES) out.push(invalid(`${p}.addresses`, e.addresses.length, `must have at most ${MAX_ADDRESSES} items`));
    e.addresses.forEach((a, j) => out.push(...addressIssues(`${p}.addresses[${j}]`, addressType, a)));
    if (e.nodeName !== undefined) out.push(...dns1123SubdomainIssues(`${p}.nodeName`, e.nodeName));
    out.push(...labelsIssues(`${p}.deprecatedTopology`, e.deprecatedTopology));
    if (e.hostname !== undefined) out.push(...dns1123LabelIssues(`${p}.hostname`, e.hostname));
    const zones = e.hints?.forZones ?? [];
    if (zones.length > MAX_ZONE_HINTS) out.push(invalid(`${p}.hints.forZones`, zones.length, `must have at most ${MAX_ZONE_HINTS} items`));
    const seenZones = new Set<string>();
    zones.forEach((z, j) => {
      if (seenZones.has(z.name)) out.push(duplicate(`${p}.hints.forZones[${j}].name`, z.name));
      seenZones.add(z.name);
    });
  });

  const ports = s.ports ?? [];
  if (ports.length > MAX_PORTS) out.push(invalid('ports', ports.length, `must have at most ${MAX_PORTS} items`));
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = `ports[${i}]`;
    const name = port.name ?? '';
    if (name !== '') out.push(...dns1123LabelIssues(`${p}.name`, name));
    if (names.has(name)) out.push(duplicate(`${p}.name`, name));
    else names.add(name);
    const proto = port.protocol ?? 'TCP'; // defaulted
    if (!(PROTOCOLS as readonly string[]).includes(proto)) out.push(notSupported(`${p}.protocol`, proto, PROTOCOLS));
    // Not in Kubernetes' validatePorts (the proxy rejects it later); checked here so the mistake shows at load time.
    if (port.port !== undefined) for (const m of portNumErrors(port.port)) out.push(invalid(`${p}.port`, port.port, m));
    if (port.appProtocol !== undefined) out.push(...qualifiedNameIssues(`${p}.appProtocol`, port.appProtocol));
  });

  if (addressType === '') out.push(required('addressType'));
  else if (!(ADDRESS_TYPES as readonly string[]).includes(addressType)) out.push(notSupported('addressType', addressType, ADDRESS_TYPES));
  return out;
}

export const ENDPOINT_SLICE = defineKind<EndpointSliceBody>({
  group: 'discovery.k8s.io',
  kind: 'EndpointSlice',
  versions: ['v1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateEndpointSlice,
});
