// networking.istio.io ServiceEntry: schema, Istio's validation (ValidateServiceEntry in istio/istio
// pkg/config/validation/validation.go) and the defaults Istio applies (location MESH_EXTERNAL,
// resolution NONE: the proto enums' zero values, service_entry.proto).

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { exportToIssues } from '../istio-common.js';
import { defineKind, type ValidationContext } from '../kind.js';
import type { Resource } from '../resource.js';
import { enumOf, obj, stringMap, uint32, z } from '../schema.js';
import { fqdnErrors, ipSubnetErrors, isIPAddress, partialWildcardErrors, portErrors, portNameErrors, wildcardDomainErrors } from '../validation/common.js';
import { istioLabelsIssues } from '../validation/istio-labels.js';
import { isHttpProtocol, isTcpProtocol, isTlsProtocol, parseProtocol, protocolErrors } from './protocol.js';
import { endpointPortIssues, workloadEntryIssues, WorkloadEntrySpecSchema } from './workload-entry.js';

export const SERVICE_ENTRY_LOCATIONS = ['MESH_EXTERNAL', 'MESH_INTERNAL'] as const;
export type ServiceEntryLocation = (typeof SERVICE_ENTRY_LOCATIONS)[number];
export const SERVICE_ENTRY_RESOLUTIONS = ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS'] as const;
export type ServiceEntryResolution = (typeof SERVICE_ENTRY_RESOLUTIONS)[number];

/** istio.networking.v1alpha3.ServicePort: `number` and `name` are required by the API. */
export const ServicePortSchema = obj({
  number: uint32,
  /** HTTP|HTTPS|GRPC|HTTP2|MONGO|TCP|TLS (any case); empty means protocol sniffing. */
  protocol: z.string().optional(),
  name: z.string(),
  targetPort: uint32.optional(),
});
export type ServicePort = z.infer<typeof ServicePortSchema>;

/** ServiceEntry's selector is the Sidecar-style istio.networking.v1alpha3.WorkloadSelector: `labels`, not `matchLabels`. */
export const ServiceEntryWorkloadSelectorSchema = obj({ labels: stringMap.optional() });

export const ServiceEntrySpecSchema = obj({
  hosts: z.array(z.string()).optional(),
  /** VIPs or CIDRs. */
  addresses: z.array(z.string()).optional(),
  ports: z.array(ServicePortSchema).optional(),
  location: enumOf(SERVICE_ENTRY_LOCATIONS).optional(),
  resolution: enumOf(SERVICE_ENTRY_RESOLUTIONS).optional(),
  endpoints: z.array(WorkloadEntrySpecSchema).optional(),
  workloadSelector: ServiceEntryWorkloadSelectorSchema.optional(),
  exportTo: z.array(z.string()).optional(),
  subjectAltNames: z.array(z.string()).optional(),
});
export type ServiceEntrySpec = z.infer<typeof ServiceEntrySpecSchema>;

const BodySchema = obj({
  spec: ServiceEntrySpecSchema.default({}),
  /** ServiceEntryStatus (conditions, validationMessages, observedGeneration, auto-allocated addresses): written by Istio. */
  status: z.unknown().optional(),
});
export type ServiceEntryBody = z.infer<typeof BodySchema>;
export type ServiceEntry = Resource<ServiceEntryBody>;

/** `location` as Istio reads it: unset is MESH_EXTERNAL (enum zero value). */
export function effectiveLocation(spec: ServiceEntrySpec): ServiceEntryLocation {
  return spec.location ?? 'MESH_EXTERNAL';
}

/** `resolution` as Istio reads it: unset is NONE (enum zero value). */
export function effectiveResolution(spec: ServiceEntrySpec): ServiceEntryResolution {
  return spec.resolution ?? 'NONE';
}

/** Label that opts a ServiceEntry out of automatic VIP allocation (istio/api label NetworkingEnableAutoallocateIp). */
export const ENABLE_AUTOALLOCATE_IP_LABEL = 'networking.istio.io/enable-autoallocate-ip';

/**
 * Whether Istio allocates a VIP for this ServiceEntry (pilot/pkg/networking/serviceentry/ip_autoallocation.go,
 * shouldV2AutoAllocateIPFromPieces, with PILOT_ENABLE_IP_AUTOALLOCATE at its default, true).
 */
export function shouldAutoAllocateIp(se: Pick<ServiceEntry, 'metadata' | 'spec'>): boolean {
  if (effectiveResolution(se.spec) === 'NONE') return false;
  if ((se.metadata.labels?.[ENABLE_AUTOALLOCATE_IP_LABEL] ?? '').toLowerCase() === 'false') return false;
  return (se.spec.addresses ?? []).length === 0;
}

function selectorIssues(spec: ServiceEntrySpec): { errors: Issue[]; warnings: Issue[] } {
  // ValidateAlphaWorkloadSelector; its errors make ValidateServiceEntry return at once.
  const sel = spec.workloadSelector;
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  if (sel === undefined) return { errors, warnings };
  const labels = sel.labels ?? {};
  const path = 'spec.workloadSelector.labels';
  for (const [k, v] of Object.entries(labels)) {
    if (k === '') errors.push(error(path, `empty key is not supported in selector: ${JSON.stringify(`${k}=${v}`)}`));
    if (k.includes('*') || v.includes('*')) errors.push(error(at(path, k), `wildcard is not supported in selector: ${JSON.stringify(`${k}=${v}`)}`));
  }
  if (Object.keys(labels).length === 0)
    warnings.push(
      warning('spec.workloadSelector', 'service entry: workload selector specified without labels, will be applied to all services in namespace'),
    );
  return { errors, warnings };
}

export function validateServiceEntry(r: ServiceEntry, ctx: ValidationContext): Issue[] {
  const spec = r.spec;
  const sel = selectorIssues(spec);
  if (sel.errors.length > 0) return sel.errors;
  const out: Issue[] = [...sel.warnings];
  const resolution = effectiveResolution(spec);
  const hosts = spec.hosts ?? [];
  const ports = spec.ports ?? [];
  const addresses = spec.addresses ?? [];
  const endpoints = spec.endpoints;

  if (spec.workloadSelector !== undefined && endpoints !== undefined)
    out.push(error('spec', 'only one of WorkloadSelector or Endpoints is allowed in Service Entry'));

  if (hosts.length === 0) out.push(error('spec.hosts', 'service entry must have at least one host'));
  hosts.forEach((h, i) => {
    const p = at('spec.hosts', i);
    if (h === '*') {
      out.push(error(p, `invalid host ${h}`));
      return;
    }
    for (const m of wildcardDomainErrors(h)) out.push(error(p, m));
    // Partial wildcards are only a warning, and not even that for DYNAMIC_DNS.
    if (resolution !== 'DYNAMIC_DNS') for (const m of partialWildcardErrors(h)) out.push(warning(p, m));
  });

  let cidrFound = false;
  addresses.forEach((a, i) => {
    cidrFound = cidrFound || a.includes('/');
    for (const m of ipSubnetErrors(a)) out.push(error(at('spec.addresses', i), m));
  });
  if (cidrFound && resolution !== 'NONE' && resolution !== 'STATIC')
    out.push(error('spec.addresses', 'CIDR addresses are allowed only for NONE/STATIC resolution types'));

  const autoAllocation = shouldAutoAllocateIp(r);
  const portNames = new Set<string>();
  const portNumbers = new Set<number>();
  ports.forEach((port, i) => {
    const p = at('spec.ports', i);
    if (portNames.has(port.name)) out.push(error(at(p, 'name'), `service entry port name ${JSON.stringify(port.name)} already defined`));
    portNames.add(port.name);
    if (portNumbers.has(port.number)) out.push(error(at(p, 'number'), `service entry port ${port.number} already defined`));
    portNumbers.add(port.number);
    if ((port.targetPort ?? 0) !== 0) for (const m of portErrors(port.targetPort ?? 0)) out.push(error(at(p, 'targetPort'), m));
    const protocol = port.protocol ?? '';
    if (addresses.length === 0 && !autoAllocation && (protocol === '' || protocol === 'TCP'))
      out.push(
        warning(p, 'addresses are required for ports serving TCP (or unset) protocol when IP Autoallocation is not enabled'),
      );
    for (const m of portNameErrors(port.name)) out.push(error(at(p, 'name'), m));
    for (const m of protocolErrors(protocol)) out.push(error(at(p, 'protocol'), m));
    for (const m of portErrors(port.number)) out.push(error(at(p, 'number'), m));
  });

  switch (resolution) {
    case 'NONE':
      if ((endpoints ?? []).length !== 0) out.push(error('spec.endpoints', 'no endpoints should be provided for resolution type none'));
      if (spec.workloadSelector !== undefined) out.push(warning('spec.workloadSelector', 'workloadSelector should not be set when resolution mode is NONE'));
      break;
    case 'STATIC':
      // Endpoints must be IPs (or unix sockets); a STATIC entry without endpoints or selector is allowed.
      (endpoints ?? []).forEach((ep, i) =>
        out.push(...workloadEntryIssues(at('spec.endpoints', i), ep, { servicePorts: portNames, allowFqdnAddresses: false })),
      );
      break;
    case 'DNS':
    case 'DNS_ROUND_ROBIN': {
      if ((endpoints ?? []).length === 0) {
        for (let i = 0; i < hosts.length; i++) {
          const errs = fqdnErrors(hosts[i] ?? '');
          if (errs.length > 0) {
            out.push(
              error(
                at('spec.hosts', i),
                `hosts must be FQDN or contain only prefix wildcards if no endpoints are provided for resolution mode ${resolution}, ${errs[0] ?? ''}`,
              ),
            );
            break;
          }
        }
      }
      if (resolution === 'DNS_ROUND_ROBIN' && (endpoints ?? []).length > 1)
        out.push(error('spec.endpoints', `there must only be 0 or 1 endpoint for resolution mode ${resolution}`));
      (endpoints ?? []).forEach((ep, i) => {
        const p = at('spec.endpoints', i);
        const addr = ep.address ?? '';
        if (!isIPAddress(addr) && fqdnErrors(addr).length > 0)
          out.push(error(at(p, 'address'), `endpoint address ${JSON.stringify(addr)} is not a valid FQDN or an IP address`));
        out.push(...istioLabelsIssues(at(p, 'labels'), ep.labels));
        out.push(...endpointPortIssues(at(p, 'ports'), ep.ports ?? {}, portNames));
      });
      if (addresses.length > 0 && hosts.length > 1 && ports.some((port) => isTcpProtocol(parseProtocol(port.protocol ?? ''))))
        out.push(warning('spec.hosts', 'service entry can not have more than one host specified simultaneously with address and tcp port'));
      break;
    }
    case 'DYNAMIC_DNS': {
      if (hosts.length === 0) out.push(error('spec.hosts', `at least one wildcard host must be provided for resolution type ${resolution}`));
      hosts.forEach((h, i) => {
        if (!h.startsWith('*')) out.push(error(at('spec.hosts', i), `host must be wildcarded for resolution mode ${resolution}`));
      });
      if (addresses.length !== 0)
        out.push(
          error(
            'spec.addresses',
            `addresses cannot be set for resolution type ${resolution}. HTTP route domains will only be generatedfrom the hosts field values`,
          ),
        );
      if ((endpoints ?? []).length !== 0)
        out.push(
          error(
            'spec.endpoints',
            `endpoints cannot be set for resolution type ${resolution}. Destination IP address determined from hostsfield values`,
          ),
        );
      ports.forEach((port, i) => {
        const proto = parseProtocol(port.protocol ?? '');
        if (proto !== 'HTTP' && proto !== 'TLS' && proto !== 'GRPC' && proto !== 'HTTP2')
          out.push(error(at(at('spec.ports', i), 'protocol'), `only HTTP, TLS, GRPC, and HTTP2 protocols are supported for resolution type ${resolution}`));
      });
      const wp = r.metadata.labels?.['istio.io/use-waypoint'] ?? '';
      if (effectiveLocation(spec) === 'MESH_INTERNAL' && wp !== '' && wp.toLowerCase() !== 'none')
        out.push(error('spec.location', `location MESH_INTERNAL with resolution type ${resolution} is not supported when using waypoints`));
      break;
    }
  }

  // Several hosts on plain TCP cannot be told apart (no Host header, no SNI), unless resolution is NONE.
  if (resolution !== 'NONE' && hosts.length > 1) {
    const i = ports.findIndex((port) => {
      const p = parseProtocol(port.protocol ?? '');
      return !isHttpProtocol(p) && !isTlsProtocol(p);
    });
    if (i >= 0) out.push(error(at(at('spec.ports', i), 'protocol'), 'multiple hosts provided with non-HTTP, non-TLS ports'));
  }

  out.push(...exportToIssues('spec.exportTo', ctx.namespace ?? 'default', spec.exportTo, { isServiceEntry: true }));
  return out;
}

export const SERVICE_ENTRY = defineKind<ServiceEntryBody>({
  group: 'networking.istio.io',
  kind: 'ServiceEntry',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateServiceEntry,
});
