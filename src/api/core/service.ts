// core/v1 Service: schema (k8s.io/api core/v1 ServiceSpec, ServicePort, ServiceStatus) and Kubernetes' own
// checks (k8s.io/kubernetes pkg/apis/core/validation ValidateService, validateServicePort,
// ValidateServiceClusterIPsRelatedFields, validateServiceExternalTrafficPolicy...) with Kubernetes' wording.
// Kubernetes validates after defaulting (pkg/apis/core/v1/defaults.go SetDefaults_Service); the typed model
// keeps what the user wrote and the helpers below return the defaulted values.

import { at, type Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { obj, stringMap, z } from '../schema.js';
import {
  cidrIssues,
  dns1123LabelIssues,
  dns1123SubdomainIssues,
  duplicate,
  forbidden,
  IntOrStringSchema,
  invalid,
  ipIssues,
  labelsIssues,
  nonSpecialIPIssues,
  notSupported,
  parseIP,
  portNumErrors,
  portNumOrNameIssues,
  PROTOCOLS,
  qualifiedNameIssues,
  required,
} from './k8s-common.js';

export const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] as const; // sorted, as sets.List
export type ServiceType = (typeof SERVICE_TYPES)[number];

export const ServicePortSchema = obj({
  name: z.string().optional(),
  /** TCP (default), UDP or SCTP. */
  protocol: z.string().optional(),
  appProtocol: z.string().optional(),
  port: z.number().int(),
  /** Number or named container port; defaults to `port`. */
  targetPort: IntOrStringSchema.optional(),
  nodePort: z.number().int().optional(),
});
export type ServicePort = z.infer<typeof ServicePortSchema>;

const ClientIPConfigSchema = obj({ timeoutSeconds: z.number().int().optional() });
const SessionAffinityConfigSchema = obj({ clientIP: ClientIPConfigSchema.optional() });

export const ServiceSpecSchema = obj({
  ports: z.array(ServicePortSchema).optional(),
  selector: stringMap.optional(),
  clusterIP: z.string().optional(),
  clusterIPs: z.array(z.string()).optional(),
  type: z.string().optional(),
  externalIPs: z.array(z.string()).optional(),
  sessionAffinity: z.string().optional(),
  loadBalancerIP: z.string().optional(),
  loadBalancerSourceRanges: z.array(z.string()).optional(),
  externalName: z.string().optional(),
  externalTrafficPolicy: z.string().optional(),
  healthCheckNodePort: z.number().int().optional(),
  publishNotReadyAddresses: z.boolean().optional(),
  sessionAffinityConfig: SessionAffinityConfigSchema.optional(),
  ipFamilies: z.array(z.string()).optional(),
  ipFamilyPolicy: z.string().optional(),
  allocateLoadBalancerNodePorts: z.boolean().optional(),
  loadBalancerClass: z.string().optional(),
  internalTrafficPolicy: z.string().optional(),
  trafficDistribution: z.string().optional(),
});
export type ServiceSpec = z.infer<typeof ServiceSpecSchema>;

const PortStatusSchema = obj({ port: z.number().int(), protocol: z.string(), error: z.string().optional() });
const LoadBalancerIngressSchema = obj({
  ip: z.string().optional(),
  hostname: z.string().optional(),
  ipMode: z.string().optional(),
  ports: z.array(PortStatusSchema).optional(),
});
export const ServiceStatusSchema = obj({
  loadBalancer: obj({ ingress: z.array(LoadBalancerIngressSchema).optional() }).optional(),
  conditions: z.array(z.unknown()).optional(),
});

const BodySchema = obj({ spec: ServiceSpecSchema.default({}), status: ServiceStatusSchema.optional() });
export type ServiceBody = z.infer<typeof BodySchema>;
export type Service = Resource<ServiceBody>;

// ---- defaults (SetDefaults_Service / SetDefaults_ServicePort) -----------------------------------------

/** The port traffic is forwarded to: `targetPort`, defaulting to `port`. */
export function servicePortTargetPort(port: ServicePort): number | string {
  const t = port.targetPort;
  return t === undefined || t === 0 || t === '' ? port.port : t;
}

/** The port's protocol: TCP unless given. */
export function servicePortProtocol(port: ServicePort): string {
  return port.protocol === undefined || port.protocol === '' ? 'TCP' : port.protocol;
}

/** `spec.type`, defaulting to ClusterIP. */
export function serviceType(svc: { spec: ServiceSpec }): string {
  return svc.spec.type === undefined || svc.spec.type === '' ? 'ClusterIP' : svc.spec.type;
}

/** The cluster IPs as the API server normalises them: `clusterIPs`, else `[clusterIP]`. */
export function serviceClusterIPs(svc: { spec: ServiceSpec }): readonly string[] {
  const s = svc.spec;
  if (s.clusterIPs !== undefined && s.clusterIPs.length > 0) return s.clusterIPs;
  return s.clusterIP !== undefined && s.clusterIP !== '' ? [s.clusterIP] : [];
}

/** A headless Service (`clusterIP: None`): DNS returns the endpoints directly. */
export function isHeadlessService(svc: { spec: ServiceSpec }): boolean {
  const ips = serviceClusterIPs(svc);
  return ips.length === 1 && ips[0] === 'None';
}

function externallyAccessible(type: string, spec: ServiceSpec): boolean {
  return type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && (spec.externalIPs?.length ?? 0) > 0);
}

// ---- validation ---------------------------------------------------------------------------------------

const LB_SOURCE_RANGES_ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';
const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;

function servicePortIssues(sp: ServicePort, path: string, requireName: boolean, names: Set<string>): Issue[] {
  const out: Issue[] = [];
  const name = sp.name ?? '';
  if (requireName && name === '') out.push(required(`${path}.name`));
  else if (name !== '') {
    out.push(...dns1123LabelIssues(`${path}.name`, name));
    if (names.has(name)) out.push(duplicate(`${path}.name`, name));
    else names.add(name);
  }
  for (const m of portNumErrors(sp.port)) out.push(invalid(`${path}.port`, sp.port, m));
  const protocol = servicePortProtocol(sp);
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) out.push(notSupported(`${path}.protocol`, protocol, PROTOCOLS));
  out.push(...portNumOrNameIssues(`${path}.targetPort`, servicePortTargetPort(sp)));
  if (sp.appProtocol !== undefined) out.push(...qualifiedNameIssues(`${path}.appProtocol`, sp.appProtocol));
  return out;
}

/** ValidateServiceClusterIPsRelatedFields, on the normalised clusterIP/clusterIPs pair. */
function clusterIPIssues(spec: ServiceSpec, type: string): Issue[] {
  if (type === 'ExternalName') return [];
  const out: Issue[] = [];
  const given = spec.clusterIPs !== undefined && spec.clusterIPs.length > 0;
  const ips = serviceClusterIPs({ spec });
  const ipsPath = given ? 'spec.clusterIPs' : 'spec.clusterIP';
  const ipPath = (i: number): string => (given ? `spec.clusterIPs[${i}]` : 'spec.clusterIP');
  if (given && spec.clusterIP !== undefined && spec.clusterIP !== '' && spec.clusterIPs?.[0] !== spec.clusterIP)
    out.push(invalid('spec.clusterIPs', spec.clusterIPs, 'first value must match `clusterIP`'));

  const seen = new Set<string>();
  (spec.ipFamilies ?? []).forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6') out.push(notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
    if (seen.has(f)) out.push(duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });
  if (spec.ipFamilyPolicy !== undefined && !['PreferDualStack', 'RequireDualStack', 'SingleStack'].includes(spec.ipFamilyPolicy))
    out.push(notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, ['PreferDualStack', 'RequireDualStack', 'SingleStack']));

  let hasInvalid = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        hasInvalid = true;
        out.push(invalid(ipsPath, ips, "'None' must be the first and only value"));
      }
      return;
    }
    const errs = ipIssues(ipPath(i), ip);
    if (errs.length > 0) hasInvalid = true;
    out.push(...errs);
  });
  if (ips.length > 2) out.push(invalid(ipsPath, ips, 'may only hold up to 2 values'));
  if (hasInvalid) return out;
  if (ips.length > 1) {
    const families = ips.map((ip) => parseIP(ip)?.family);
    if (ips.length !== 2 || families[0] === families[1]) out.push(invalid(ipsPath, ips, 'may specify no more than one IP for each IP family'));
  }
  if (!isHeadlessService({ spec })) {
    ips.forEach((ip, i) => {
      const fam = spec.ipFamilies?.[i];
      const isV6 = parseIP(ip)?.family === 6;
      if (fam === 'IPv4' && isV6) out.push(invalid(ipPath(i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (fam === 'IPv6' && !isV6) out.push(invalid(ipPath(i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return out;
}

export function validateService(svc: Service): Issue[] {
  const spec = svc.spec;
  const out: Issue[] = [];
  const type = serviceType(svc);
  const ports = spec.ports ?? [];
  const headless = isHeadlessService(svc);
  const noneAt = spec.clusterIPs !== undefined && spec.clusterIPs.length > 0 ? 'spec.clusterIPs[0]' : 'spec.clusterIP';

  if (ports.length === 0 && !headless && type !== 'ExternalName') out.push(required('spec.ports'));
  switch (type) {
    case 'LoadBalancer':
      if (headless) out.push(invalid(noneAt, 'None', "may not be set to 'None' for LoadBalancer services"));
      break;
    case 'NodePort':
      if (headless) out.push(invalid(noneAt, 'None', "may not be set to 'None' for NodePort services"));
      break;
    case 'ExternalName': {
      if (serviceClusterIPs(svc).length > 0) out.push(forbidden(spec.clusterIPs !== undefined ? 'spec.clusterIPs' : 'spec.clusterIP', 'may not be set for ExternalName services'));
      if ((spec.ipFamilies?.length ?? 0) > 0) out.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy !== undefined) out.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      // The value (a CNAME) may have a trailing dot to denote it as fully qualified.
      const cname = (spec.externalName ?? '').replace(/\.$/, '');
      if (cname !== '') out.push(...dns1123SubdomainIssues('spec.externalName', cname));
      else out.push(required('spec.externalName'));
      break;
    }
  }

  const names = new Set<string>();
  ports.forEach((p, i) => out.push(...servicePortIssues(p, `spec.ports[${i}]`, ports.length > 1, names)));
  out.push(...labelsIssues('spec.selector', spec.selector));

  const affinity = spec.sessionAffinity ?? 'None';
  if (affinity !== 'ClientIP' && affinity !== 'None') out.push(notSupported('spec.sessionAffinity', affinity, ['ClientIP', 'None']));
  if (affinity === 'ClientIP') {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds; // defaults to 10800
    if (t !== undefined && (t <= 0 || t > MAX_CLIENT_IP_AFFINITY_SECONDS))
      out.push(invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`));
  } else if (affinity === 'None' && spec.sessionAffinityConfig !== undefined) {
    out.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }

  out.push(...clusterIPIssues(spec, type));

  (spec.externalIPs ?? []).forEach((ip, i) => {
    const errs = ipIssues(`spec.externalIPs[${i}]`, ip);
    out.push(...(errs.length > 0 ? errs : nonSpecialIPIssues(`spec.externalIPs[${i}]`, ip)));
  });

  if (!(SERVICE_TYPES as readonly string[]).includes(type)) out.push(notSupported('spec.type', type, SERVICE_TYPES));
  if (type === 'ClusterIP')
    ports.forEach((p, i) => {
      if ((p.nodePort ?? 0) !== 0) out.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });

  // Duplicate (protocol, nodePort) and (protocol, port) pairs.
  const nodePorts = new Set<string>();
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const proto = servicePortProtocol(p);
    if ((p.nodePort ?? 0) !== 0) {
      const k = `${proto}/${p.nodePort ?? 0}`;
      if (nodePorts.has(k)) out.push(duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
      nodePorts.add(k);
    }
    const k = `${proto}/${p.port}`;
    if (portKeys.has(k)) out.push(duplicate(`spec.ports[${i}]`, `${p.port}/${proto}`));
    portKeys.add(k);
  });

  // Source ranges: the field, else the legacy annotation. Values may be space-padded (historical accident).
  const ranges = spec.loadBalancerSourceRanges ?? [];
  const annotation = svc.metadata.annotations?.[LB_SOURCE_RANGES_ANNOTATION];
  if (ranges.length > 0) {
    if (type !== 'LoadBalancer') out.push(forbidden('spec.loadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => out.push(...cidrIssues(`spec.loadBalancerSourceRanges[${i}]`, r.trim())));
  } else if (annotation !== undefined) {
    const path = at('metadata.annotations', LB_SOURCE_RANGES_ANNOTATION);
    if (type !== 'LoadBalancer') out.push(forbidden(path, "may only be used when `type` is 'LoadBalancer'"));
    const val = annotation.trim();
    if (val !== '') for (const r of val.split(',')) out.push(...cidrIssues(path, r.trim()));
  }

  if (spec.allocateLoadBalancerNodePorts !== undefined && type !== 'LoadBalancer')
    out.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));

  if (spec.loadBalancerClass !== undefined) {
    if (type === 'LoadBalancer') out.push(...qualifiedNameIssues('spec.loadBalancerClass', spec.loadBalancerClass));
    else out.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }

  // External traffic policy (validateServiceExternalTrafficPolicy); defaults to Cluster when externally accessible.
  const external = externallyAccessible(type, spec);
  const etp = spec.externalTrafficPolicy;
  if (!external) {
    if (etp !== undefined && etp !== '') out.push(invalid('spec.externalTrafficPolicy', etp, 'may only be set for externally-accessible services'));
  } else if (etp !== undefined && etp !== 'Cluster' && etp !== 'Local') {
    out.push(notSupported('spec.externalTrafficPolicy', etp, ['Cluster', 'Local']));
  }
  const needsHealthCheck = type === 'LoadBalancer' && etp === 'Local';
  const hc = spec.healthCheckNodePort ?? 0;
  if (!needsHealthCheck && hc !== 0)
    out.push(invalid('spec.healthCheckNodePort', hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  else if (needsHealthCheck && hc !== 0) for (const m of portNumErrors(hc)) out.push(invalid('spec.healthCheckNodePort', hc, m));

  if (spec.internalTrafficPolicy !== undefined && spec.internalTrafficPolicy !== 'Cluster' && spec.internalTrafficPolicy !== 'Local')
    out.push(notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, ['Cluster', 'Local']));

  // PreferSameZone/PreferSameNode joined PreferClose in Kubernetes 1.33 (PreferSameTrafficDistribution).
  const TRAFFIC_DISTRIBUTIONS = ['PreferClose', 'PreferSameZone', 'PreferSameNode'];
  if (spec.trafficDistribution !== undefined && !TRAFFIC_DISTRIBUTIONS.includes(spec.trafficDistribution))
    out.push(notSupported('spec.trafficDistribution', spec.trafficDistribution, TRAFFIC_DISTRIBUTIONS));
  return out;
}

export const SERVICE = defineKind<ServiceBody>({
  group: '',
  kind: 'Service',
  versions: ['v1'],
  namespaced: true,
  nameRule: 'dns1035-label',
  body: BodySchema,
  validate: validateService,
});
