// core/v1 Pod: the PodSpec schema (every field of k8s.io/api core/v1 PodSpec; the fields the mesh reads --
// containers, serviceAccountName, nodeName, hostNetwork, initContainers, volumes, securityContext,
// status.podIP(s)/phase/conditions -- typed precisely, rarely used deep objects typed loosely) and
// Kubernetes' checks of it (k8s.io/kubernetes pkg/apis/core/validation ValidatePodSpec, validateContainers,
// validateInitContainers, checkHostPortConflicts). One container's schema and checks are in container.ts.
// Deployment reuses `PodSpecSchema` and `podSpecIssues` for its template.

import type { Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import { ObjectMetaSchema, type Resource } from '../resource.js';
import { obj, stringMap, z } from '../schema.js';
import {
  dns1123LabelIssues,
  dns1123SubdomainIssues,
  duplicate,
  forbidden,
  invalid,
  LabelSelectorSchema,
  LocalObjectReferenceSchema,
  nonNegativeIssues,
  notSupported,
  qualifiedNameIssues,
  QuantitySchema,
  required,
} from './k8s-common.js';
import {
  AppArmorProfileSchema,
  containerCommonIssues,
  containerPortProtocol,
  ContainerSchema,
  EphemeralContainerSchema,
  handlerIssues,
  probeIssues,
  ResourceRequirementsSchema,
  SeccompProfileSchema,
  SELinuxOptionsSchema,
  WindowsOptionsSchema,
} from './container.js';

const loose = z.unknown().optional();
const bool = z.boolean().optional();
const int = z.number().int().optional();
const str = z.string().optional();
const strList = z.array(z.string()).optional();

// ---- pod-level ----------------------------------------------------------------------------------------

/** core/v1 Volume: a name plus exactly one volume source (sources typed loosely). */
export const VolumeSchema = obj({
  name: z.string(),
  hostPath: obj({ path: z.string(), type: str }).optional(),
  emptyDir: obj({ medium: str, sizeLimit: QuantitySchema.optional() }).optional(),
  gcePersistentDisk: loose,
  awsElasticBlockStore: loose,
  gitRepo: loose,
  secret: obj({ secretName: str, items: z.array(loose).optional(), defaultMode: int, optional: bool }).optional(),
  nfs: loose,
  iscsi: loose,
  glusterfs: loose,
  persistentVolumeClaim: obj({ claimName: z.string(), readOnly: bool }).optional(),
  rbd: loose,
  flexVolume: loose,
  cinder: loose,
  cephfs: loose,
  flocker: loose,
  downwardAPI: loose,
  fc: loose,
  azureFile: loose,
  configMap: obj({ name: str, items: z.array(loose).optional(), defaultMode: int, optional: bool }).optional(),
  vsphereVolume: loose,
  quobyte: loose,
  azureDisk: loose,
  photonPersistentDisk: loose,
  projected: loose,
  portworxVolume: loose,
  scaleIO: loose,
  storageos: loose,
  csi: loose,
  ephemeral: loose,
  image: loose,
});
export type Volume = z.infer<typeof VolumeSchema>;
const VOLUME_SOURCES = Object.keys(VolumeSchema.shape).filter((k) => k !== 'name');

export const PodSecurityContextSchema = obj({
  seLinuxOptions: SELinuxOptionsSchema.optional(),
  windowsOptions: WindowsOptionsSchema.optional(),
  runAsUser: int,
  runAsGroup: int,
  runAsNonRoot: bool,
  supplementalGroups: z.array(z.number().int()).optional(),
  supplementalGroupsPolicy: str,
  fsGroup: int,
  sysctls: z.array(obj({ name: z.string(), value: z.string() })).optional(),
  fsGroupChangePolicy: str,
  seccompProfile: SeccompProfileSchema.optional(),
  appArmorProfile: AppArmorProfileSchema.optional(),
  seLinuxChangePolicy: str,
});

const TolerationSchema = obj({ key: str, operator: str, value: str, effect: str, tolerationSeconds: int });
const AffinitySchema = obj({ nodeAffinity: loose, podAffinity: loose, podAntiAffinity: loose });
const TopologySpreadConstraintSchema = obj({
  maxSkew: z.number().int(),
  topologyKey: z.string(),
  whenUnsatisfiable: z.string(),
  labelSelector: LabelSelectorSchema.optional(),
  minDomains: int,
  nodeAffinityPolicy: str,
  nodeTaintsPolicy: str,
  matchLabelKeys: strList,
});
const PodDNSConfigSchema = obj({
  nameservers: strList,
  searches: strList,
  options: z.array(obj({ name: str, value: str })).optional(),
});

export const PodSpecSchema = obj({
  volumes: z.array(VolumeSchema).optional(),
  initContainers: z.array(ContainerSchema).optional(),
  containers: z.array(ContainerSchema).optional(),
  ephemeralContainers: z.array(EphemeralContainerSchema).optional(),
  restartPolicy: str,
  terminationGracePeriodSeconds: int,
  activeDeadlineSeconds: int,
  dnsPolicy: str,
  nodeSelector: stringMap.optional(),
  serviceAccountName: str,
  /** Deprecated alias of serviceAccountName. */
  serviceAccount: str,
  automountServiceAccountToken: bool,
  nodeName: str,
  hostNetwork: bool,
  hostPID: bool,
  hostIPC: bool,
  shareProcessNamespace: bool,
  securityContext: PodSecurityContextSchema.optional(),
  imagePullSecrets: z.array(LocalObjectReferenceSchema).optional(),
  hostname: str,
  subdomain: str,
  affinity: AffinitySchema.optional(),
  schedulerName: str,
  tolerations: z.array(TolerationSchema).optional(),
  hostAliases: z.array(obj({ ip: z.string(), hostnames: strList })).optional(),
  priorityClassName: str,
  priority: int,
  dnsConfig: PodDNSConfigSchema.optional(),
  readinessGates: z.array(obj({ conditionType: z.string() })).optional(),
  runtimeClassName: str,
  enableServiceLinks: bool,
  preemptionPolicy: str,
  overhead: z.record(z.string(), QuantitySchema).optional(),
  topologySpreadConstraints: z.array(TopologySpreadConstraintSchema).optional(),
  setHostnameAsFQDN: bool,
  os: obj({ name: z.string() }).optional(),
  hostUsers: bool,
  schedulingGates: z.array(obj({ name: z.string() })).optional(),
  resourceClaims: z.array(obj({ name: z.string(), resourceClaimName: str, resourceClaimTemplateName: str })).optional(),
  resources: ResourceRequirementsSchema.optional(),
  hostnameOverride: str,
  schedulingGroup: loose,
  evictionResponders: z.array(loose).optional(),
});
export type PodSpec = z.infer<typeof PodSpecSchema>;

/** core/v1 PodTemplateSpec (Deployment `spec.template`). */
export const PodTemplateSpecSchema = obj({ metadata: ObjectMetaSchema.optional(), spec: PodSpecSchema.default({}) });
export type PodTemplateSpec = z.infer<typeof PodTemplateSpecSchema>;

// ---- status ------------------------------------------------------------------------------------------

export const PodConditionSchema = obj({
  type: z.string(),
  observedGeneration: int,
  status: z.string(),
  lastProbeTime: z.union([z.string(), z.null()]).optional(),
  lastTransitionTime: z.union([z.string(), z.null()]).optional(),
  reason: str,
  message: str,
});
const ContainerStatusSchema = obj({
  name: z.string(),
  state: loose,
  lastState: loose,
  ready: z.boolean(),
  restartCount: z.number().int(),
  image: z.string(),
  imageID: z.string(),
  containerID: str,
  started: bool,
  allocatedResources: loose,
  resources: loose,
  volumeMounts: z.array(loose).optional(),
  user: loose,
  allocatedResourcesStatus: z.array(loose).optional(),
  stopSignal: str,
});

export const PodStatusSchema = obj({
  observedGeneration: int,
  /** Pending, Running, Succeeded, Failed, Unknown. */
  phase: str,
  conditions: z.array(PodConditionSchema).optional(),
  message: str,
  reason: str,
  nominatedNodeName: str,
  hostIP: str,
  hostIPs: z.array(obj({ ip: z.string() })).optional(),
  podIP: str,
  podIPs: z.array(obj({ ip: z.string() })).optional(),
  startTime: str,
  initContainerStatuses: z.array(ContainerStatusSchema).optional(),
  containerStatuses: z.array(ContainerStatusSchema).optional(),
  qosClass: str,
  ephemeralContainerStatuses: z.array(ContainerStatusSchema).optional(),
  resize: str,
  resourceClaimStatuses: z.array(loose).optional(),
  extendedResourceClaimStatus: loose,
  allocatedResources: loose,
  resources: loose,
  nodeAllocatableResourceClaimStatuses: z.array(loose).optional(),
  volumeHealth: z.array(loose).optional(),
});
export type PodStatus = z.infer<typeof PodStatusSchema>;

const BodySchema = obj({ spec: PodSpecSchema.default({}), status: PodStatusSchema.optional() });
export type PodBody = z.infer<typeof BodySchema>;
export type Pod = Resource<PodBody>;

// ---- helpers the mesh uses -----------------------------------------------------------------------------

/** The pod's IPs: `status.podIPs`, else `status.podIP`. */
export function podIPs(pod: Pod): readonly string[] {
  const s = pod.status;
  if (s === undefined) return [];
  if (s.podIPs !== undefined && s.podIPs.length > 0) return s.podIPs.map((p) => p.ip);
  return s.podIP !== undefined && s.podIP !== '' ? [s.podIP] : [];
}

/** True when the pod's Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The service account the pod runs as (`serviceAccountName`, its deprecated alias, else `default`). */
export function podServiceAccount(spec: PodSpec): string {
  return spec.serviceAccountName ?? spec.serviceAccount ?? 'default';
}

// ---- validation ----------------------------------------------------------------------------------------
const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];

/** ValidatePodSpec (the parts that concern the mesh and the commonest mistakes), under `path` (`spec` or `spec.template.spec`). */
export function podSpecIssues(spec: PodSpec, path: string): Issue[] {
  const out: Issue[] = [];
  const hostNetwork = spec.hostNetwork === true;

  // Volumes: names are DNS labels, unique, and each has exactly one source.
  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((v, i) => {
    const p = `${path}.volumes[${i}]`;
    if (v.name === '') out.push(required(`${p}.name`));
    else {
      out.push(...dns1123LabelIssues(`${p}.name`, v.name));
      if (volumes.has(v.name)) out.push(duplicate(`${p}.name`, v.name));
      volumes.add(v.name);
    }
    const sources = VOLUME_SOURCES.filter((k) => (v as Record<string, unknown>)[k] !== undefined);
    if (sources.length === 0) out.push(required(p, 'must specify a volume type'));
    else if (sources.length > 1) for (const s of sources.slice(1)) out.push(forbidden(`${p}.${s}`, 'may not specify more than 1 volume type'));
  });

  // Regular containers (validateContainers).
  const containers = spec.containers ?? [];
  if (containers.length === 0) out.push(required(`${path}.containers`));
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const p = `${path}.containers[${i}]`;
    out.push(...containerCommonIssues(c, p, volumes, hostNetwork));
    if (names.has(c.name)) out.push(duplicate(`${p}.name`, c.name));
    else names.add(c.name);
    out.push(...probeIssues(c.livenessProbe, `${p}.livenessProbe`, 'liveness'));
    out.push(...probeIssues(c.readinessProbe, `${p}.readinessProbe`, 'readiness'));
    out.push(...probeIssues(c.startupProbe, `${p}.startupProbe`, 'startup'));
    if (c.lifecycle?.postStart !== undefined) out.push(...handlerIssues(c.lifecycle.postStart, `${p}.lifecycle.postStart`));
    if (c.lifecycle?.preStop !== undefined) out.push(...handlerIssues(c.lifecycle.preStop, `${p}.lifecycle.preStop`));
    if (c.restartPolicy !== undefined) out.push(forbidden(`${p}.restartPolicy`, 'may not be set for non-init containers'));
  });

  // Init containers (validateInitContainers): names unique across both lists; probes only for sidecars.
  (spec.initContainers ?? []).forEach((c, i) => {
    const p = `${path}.initContainers[${i}]`;
    out.push(...containerCommonIssues(c, p, volumes, hostNetwork));
    if (c.restartPolicy !== undefined && c.restartPolicy !== 'Always') out.push(notSupported(`${p}.restartPolicy`, c.restartPolicy, ['Always']));
    if (names.has(c.name)) out.push(duplicate(`${p}.name`, c.name));
    else if (c.name !== '') names.add(c.name);
    if (c.restartPolicy === 'Always') {
      out.push(...probeIssues(c.livenessProbe, `${p}.livenessProbe`, 'liveness'));
      out.push(...probeIssues(c.readinessProbe, `${p}.readinessProbe`, 'readiness'));
      out.push(...probeIssues(c.startupProbe, `${p}.startupProbe`, 'startup'));
    } else {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'] as const)
        if (c[f] !== undefined) out.push(forbidden(`${p}.${f}`, 'may not be set for init containers without restartPolicy=Always'));
    }
  });

  // Host ports may not collide across containers (checkHostPortConflicts).
  const hostPorts = new Set<string>();
  containers.forEach((c, ci) =>
    (c.ports ?? []).forEach((port, pi) => {
      if ((port.hostPort ?? 0) === 0) return;
      const key = `${containerPortProtocol(port)}/${port.hostIP ?? ''}/${port.hostPort ?? 0}`;
      if (hostPorts.has(key)) out.push(duplicate(`${path}.containers[${ci}].ports[${pi}].hostPort`, key));
      hostPorts.add(key);
    }),
  );

  if (spec.restartPolicy !== undefined && !RESTART_POLICIES.includes(spec.restartPolicy))
    out.push(notSupported(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  if (spec.dnsPolicy !== undefined && !DNS_POLICIES.includes(spec.dnsPolicy)) out.push(notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  if (spec.dnsPolicy === 'None' && (spec.dnsConfig?.nameservers?.length ?? 0) === 0)
    out.push(
      spec.dnsConfig === undefined
        ? required(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None')
        : required(`${path}.dnsConfig.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None'),
    );
  if (spec.serviceAccountName !== undefined && spec.serviceAccountName !== '')
    out.push(...dns1123SubdomainIssues(`${path}.serviceAccountName`, spec.serviceAccountName));
  if (spec.nodeName !== undefined && spec.nodeName !== '') out.push(...dns1123SubdomainIssues(`${path}.nodeName`, spec.nodeName));
  if (spec.hostname !== undefined && spec.hostname !== '') out.push(...dns1123LabelIssues(`${path}.hostname`, spec.hostname));
  if (spec.subdomain !== undefined && spec.subdomain !== '') out.push(...dns1123LabelIssues(`${path}.subdomain`, spec.subdomain));
  out.push(...nonNegativeIssues(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds));
  if (spec.activeDeadlineSeconds !== undefined && (spec.activeDeadlineSeconds < 1 || spec.activeDeadlineSeconds > 2147483647))
    out.push(invalid(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  (spec.readinessGates ?? []).forEach((g, i) => out.push(...qualifiedNameIssues(`${path}.readinessGates[${i}].conditionType`, g.conditionType)));
  if (spec.os !== undefined && spec.os.name !== 'linux' && spec.os.name !== 'windows')
    out.push(spec.os.name === '' ? required(`${path}.os.name`, 'cannot be empty') : notSupported(`${path}.os`, spec.os.name, ['linux', 'windows']));
  return out;
}

/** ValidatePod on create: the spec (status is written by the kubelet and not checked here). */
export function validatePod(pod: Pod): Issue[] {
  return podSpecIssues(pod.spec, 'spec');
}

export const POD = defineKind<PodBody>({
  group: '',
  kind: 'Pod',
  versions: ['v1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validatePod,
});
