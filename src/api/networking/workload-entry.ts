// networking.istio.io WorkloadEntry: schema and Istio's validation (ValidateWorkloadEntry and its
// validateWorkloadEntry helper in istio/istio pkg/config/validation/validation.go). The same checks are
// reused for ServiceEntry `endpoints` (inline WorkloadEntries) and for the WorkloadGroup `template`
// through `workloadEntryIssues`.

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { obj, stringMap, uint32, z } from '../schema.js';
import { fqdnErrors, isIPAddress, portErrors, portNameErrors, UNIX_ADDRESS_PREFIX, unixAddressErrors } from '../validation/common.js';
import { istioLabelsIssues } from '../validation/istio-labels.js';

/** istio.networking.v1alpha3.WorkloadEntry (MaxLength limits from the CRD markers in workload_entry.proto). */
export const WorkloadEntrySpecSchema = obj({
  /** IP, DNS name (DNS resolution ServiceEntries only) or `unix:///path`; may be empty when `network` is set. */
  address: z.string().max(256).optional(),
  /** Port name to workload port; names must be service port names when used as ServiceEntry endpoints. */
  ports: z.record(z.string(), uint32).optional(),
  labels: stringMap.optional(),
  network: z.string().max(2048).optional(),
  /** `region/zone/subzone`. */
  locality: z.string().max(2048).optional(),
  /** Load balancing weight; 0 means unset. */
  weight: uint32.optional(),
  serviceAccount: z.string().max(253).optional(),
});
export type WorkloadEntrySpec = z.infer<typeof WorkloadEntrySpecSchema>;

const BodySchema = obj({ spec: WorkloadEntrySpecSchema.default({}), status: z.unknown().optional() });
export type WorkloadEntryBody = z.infer<typeof BodySchema>;
export type WorkloadEntry = Resource<WorkloadEntryBody>;

export interface WorkloadEntryCheckOptions {
  /**
   * Port names the owning ServiceEntry defines; when given, every endpoint port must be one of them and a
   * unix endpoint requires exactly one service port.
   */
  readonly servicePorts?: ReadonlySet<string>;
  /** False for STATIC ServiceEntry endpoints: the address must then be an IP (or unix socket). */
  readonly allowFqdnAddresses: boolean;
  /**
   * A WorkloadGroup template: the address is filled in per registered workload, so it is not required
   * (the CRD ignores "Address is required" there; workload_group.proto says it "should not be set").
   */
  readonly template?: boolean;
}

/** Istio's validateWorkloadEntry, with field paths under `path`. */
export function workloadEntryIssues(path: string, we: WorkloadEntrySpec, opts: WorkloadEntryCheckOptions): Issue[] {
  const out: Issue[] = [];
  const addr = we.address ?? '';
  const network = we.network ?? '';
  const ports = we.ports ?? {};
  if (opts.template === true) {
    if (addr !== '')
      out.push(warning(at(path, 'address'), 'address should not be set in a WorkloadGroup template; it is filled in for each registered workload'));
  } else if (addr === '') {
    if (network === '') return [error(at(path, 'address'), 'address is required')];
    out.push(warning(at(path, 'address'), `address is unset with network ${JSON.stringify(network)}`));
  }

  // Without the owning ServiceEntry's resolution, decide by content: unix socket, IP, or DNS name.
  const unixEndpoint = addr.startsWith(UNIX_ADDRESS_PREFIX);
  if (unixEndpoint) {
    for (const m of unixAddressErrors(addr.slice(UNIX_ADDRESS_PREFIX.length))) out.push(error(at(path, 'address'), m));
    if (Object.keys(ports).length !== 0) out.push(error(at(path, 'ports'), `unix endpoint ${addr} must not include ports`));
  } else if (addr !== '' && !isIPAddress(addr)) {
    if (!opts.allowFqdnAddresses) out.push(error(at(path, 'address'), `endpoint address ${JSON.stringify(addr)} is not a valid IP address`));
    else if (fqdnErrors(addr).length > 0)
      out.push(error(at(path, 'address'), `endpoint address ${JSON.stringify(addr)} is not a valid FQDN or an IP address`));
  }

  out.push(...endpointPortIssues(at(path, 'ports'), ports, opts.servicePorts));
  out.push(...istioLabelsIssues(at(path, 'labels'), we.labels));
  if (unixEndpoint && opts.servicePorts !== undefined && opts.servicePorts.size !== 1)
    out.push(error(path, 'exactly 1 service port required for unix endpoints'));
  return out;
}

/** Endpoint `ports` map: names are service port names (when known), values valid port numbers. */
export function endpointPortIssues(path: string, ports: Readonly<Record<string, number>>, servicePorts: ReadonlySet<string> | undefined): Issue[] {
  const out: Issue[] = [];
  for (const [name, port] of Object.entries(ports)) {
    const p = at(path, name);
    if (servicePorts !== undefined && !servicePorts.has(name)) out.push(error(p, `endpoint port ${port} is not defined by the service entry`));
    for (const m of portNameErrors(name)) out.push(error(p, m));
    for (const m of portErrors(port)) out.push(error(p, m));
  }
  return out;
}

export function validateWorkloadEntry(r: WorkloadEntry): Issue[] {
  // ValidateWorkloadEntry: ports are not checked against any service (there is none), FQDNs allowed.
  return workloadEntryIssues('spec', r.spec, { allowFqdnAddresses: true });
}

export const WORKLOAD_ENTRY = defineKind<WorkloadEntryBody>({
  group: 'networking.istio.io',
  kind: 'WorkloadEntry',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateWorkloadEntry,
});
