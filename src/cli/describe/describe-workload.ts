// `x describe`'s whole answer for one workload, from what the command gathered (types.ts DescribeInput):
// the pod (ports, sidecar or not, istioctl's telemetry-label suggestions), each Service that selects it
// with its ports, DestinationRule, VirtualServices and what the workload's own sidecar has for it, the
// effective PeerAuthentication, the AuthorizationPolicies that select it and the ingress gateways that
// expose it. Pure: no I/O; the text form is render-text.ts.

import { destinationRuleFinder } from './destination-rule.js';
import { kname } from './hosts.js';
import { ingressExposures } from './ingress.js';
import { appliedAuthorizationPolicies, effectivePeerAuthentication } from './security.js';
import { servicePorts, servicesSelecting } from './services.js';
import { sidecarChecks, sidecarWarnings } from './sidecar.js';
import { gatewayVirtualServices, meshVirtualServices, type SubsetView } from './virtual-service.js';
import type { DescribeInput, IngressExposure, PodSummary, ServiceSummary, WorkloadDescription } from './types.js';

export const DEFAULT_ROOT_NAMESPACE = 'istio-system';
export const DEFAULT_DOMAIN_SUFFIX = 'cluster.local';
export const DEFAULT_GATEWAY_HOST = '127.0.0.1';

/** istioctl's pkg/url DeploymentRequirements, for the label suggestions. */
const REQUIREMENTS_URL = 'https://istio.io/latest/docs/ops/deployment/application-requirements/';
/** Labels Istio reads a workload's canonical service name and revision from (pkg/kube/labels). */
const NAME_LABELS = ['service.istio.io/canonical-name', 'app.kubernetes.io/name', 'app'];
const REVISION_LABELS = ['service.istio.io/canonical-revision', 'app.kubernetes.io/version', 'version'];

export function describeWorkload(input: DescribeInput): WorkloadDescription {
  const w = input.workload;
  const rootNamespace = input.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const suffix = input.domainSuffix ?? DEFAULT_DOMAIN_SUFFIX;
  const podName = kname(w.name, w.namespace, w.namespace);

  const pod: PodSummary = {
    name: w.name,
    namespace: w.namespace,
    // Local workloads carry no istio.io/rev; one control plane serves them all.
    revision: w.labels['istio.io/rev'] ?? 'default',
    address: w.address,
    serviceAccount: w.serviceAccount,
    labels: w.labels,
    ports: Object.entries(w.ports)
      .map(([name, port]) => ({ name, port }))
      .sort((a, b) => a.port - b.port || (a.name < b.name ? -1 : 1)),
    ...(w.source !== undefined ? { source: w.source } : {}),
    ...(input.proxy !== undefined ? { proxy: input.proxy } : {}),
  };

  const warnings: string[] = [];
  if (input.proxy === undefined) warnings.push(`WARNING: ${podName} is not part of mesh; no Istio sidecar`);
  else {
    if (!NAME_LABELS.some((l) => l in w.labels)) warnings.push(`Suggestion: add required service name label for Istio telemetry. See ${REQUIREMENTS_URL}.`);
    if (!REVISION_LABELS.some((l) => l in w.labels)) warnings.push(`Suggestion: add required service revision label for Istio telemetry. See ${REQUIREMENTS_URL}.`);
  }

  const selected = servicesSelecting(w, input.config, suffix);
  if (selected.length === 0)
    warnings.push(`Warning: No Kubernetes Services select pod ${podName} (see https://istio.io/docs/setup/kubernetes/additional-setup/requirements/ )`);

  const drs = destinationRuleFinder(input.config, w, rootNamespace, suffix);
  const services: ServiceSummary[] = [];
  const ingress: IngressExposure[] = [];
  const ingressNotes: string[] = [];
  let skipped: string | undefined;
  for (const s of selected) {
    const fqdn = s.service.hostname;
    const ports = servicePorts(s, w);
    const dr = drs.find(fqdn, s.ref.namespace);
    const subsets: SubsetView = { matching: dr?.matchingSubsets ?? [], nonMatching: dr?.nonMatchingSubsets ?? [] };
    const vss = meshVirtualServices(input.config, fqdn, subsets, suffix).map((m) => m.summary);
    const serviceWarnings: string[] = [];
    let sidecar: ServiceSummary['sidecar'];
    if (input.sidecar !== undefined) {
      sidecar = sidecarChecks(input.sidecar, fqdn, ports.map((p) => p.port), dr, vss);
      serviceWarnings.push(...sidecarWarnings(fqdn, sidecar));
    }
    services.push({
      ...s.ref,
      host: fqdn,
      ports,
      ...(dr !== undefined ? { destinationRule: dr } : {}),
      virtualServices: vss,
      ...(sidecar !== undefined ? { sidecar } : {}),
      warnings: serviceWarnings,
    });
    const gw = ingressExposures(s.ref, gatewayVirtualServices(input.config, fqdn, subsets, suffix), input.config, input.workloads, input.gatewayHost ?? DEFAULT_GATEWAY_HOST);
    ingress.push(...gw.exposures);
    for (const n of gw.warnings) if (!ingressNotes.includes(n)) ingressNotes.push(n);
    skipped ??= gw.skipped;
  }

  return {
    pod,
    warnings,
    services,
    peerAuthentication: effectivePeerAuthentication(input.config, w, rootNamespace),
    authorizationPolicies: appliedAuthorizationPolicies(input.config, w, rootNamespace),
    ingress,
    ingressNotes: skipped !== undefined && ingress.length === 0 ? [skipped, ...ingressNotes] : ingressNotes,
  };
}
