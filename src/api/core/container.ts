// core/v1 Container (k8s.io/api core/v1 Container, also used by init and ephemeral containers): its schema
// (ports, env, probes, lifecycle, resources, security context; rarely used deep objects typed loosely) and
// Kubernetes' checks of one container (k8s.io/kubernetes pkg/apis/core/validation validateContainerCommon,
// validateContainerPorts, ValidateEnv, validateProbe, validateHandler). pod.ts checks the containers
// together (unique names, host ports) within ValidatePodSpec.

import type { Issue } from '../../lib/issue.js';
import { obj, z } from '../schema.js';
import {
  dns1123LabelIssues,
  duplicate,
  forbidden,
  IntOrStringSchema,
  invalid,
  nonNegativeIssues,
  notFound,
  notSupported,
  portNameErrors,
  portNumErrors,
  portNumOrNameIssues,
  PROTOCOLS,
  QuantitySchema,
  required,
} from './k8s-common.js';

const loose = z.unknown().optional();
const bool = z.boolean().optional();
const int = z.number().int().optional();
const str = z.string().optional();
const strList = z.array(z.string()).optional();

// ---- schemas ------------------------------------------------------------------------------------------

export const ContainerPortSchema = obj({
  name: str,
  hostPort: int,
  containerPort: z.number().int(),
  protocol: str,
  hostIP: str,
});
export type ContainerPort = z.infer<typeof ContainerPortSchema>;

const KeySelectorSchema = obj({ name: str, key: z.string(), optional: bool });
const EnvVarSourceSchema = obj({
  fieldRef: obj({ apiVersion: str, fieldPath: z.string() }).optional(),
  resourceFieldRef: obj({ containerName: str, resource: z.string(), divisor: QuantitySchema.optional() }).optional(),
  configMapKeyRef: KeySelectorSchema.optional(),
  secretKeyRef: KeySelectorSchema.optional(),
  fileKeyRef: loose,
});
export const EnvVarSchema = obj({ name: z.string(), value: str, valueFrom: EnvVarSourceSchema.optional() });
export type EnvVar = z.infer<typeof EnvVarSchema>;

const EnvFromSourceSchema = obj({
  prefix: str,
  configMapRef: obj({ name: str, optional: bool }).optional(),
  secretRef: obj({ name: str, optional: bool }).optional(),
});

const HTTPHeaderSchema = obj({ name: z.string(), value: z.string() });
export const HTTPGetActionSchema = obj({
  path: str,
  port: IntOrStringSchema,
  host: str,
  scheme: str,
  httpHeaders: z.array(HTTPHeaderSchema).optional(),
  protocol: str,
});
const ExecActionSchema = obj({ command: strList });
const TCPSocketActionSchema = obj({ port: IntOrStringSchema, host: str });
const GRPCActionSchema = obj({ port: z.number().int(), service: str, mode: str });

export const ProbeSchema = obj({
  exec: ExecActionSchema.optional(),
  httpGet: HTTPGetActionSchema.optional(),
  tcpSocket: TCPSocketActionSchema.optional(),
  grpc: GRPCActionSchema.optional(),
  initialDelaySeconds: int,
  timeoutSeconds: int,
  periodSeconds: int,
  successThreshold: int,
  failureThreshold: int,
  terminationGracePeriodSeconds: int,
});
export type Probe = z.infer<typeof ProbeSchema>;

const LifecycleHandlerSchema = obj({
  exec: ExecActionSchema.optional(),
  httpGet: HTTPGetActionSchema.optional(),
  tcpSocket: TCPSocketActionSchema.optional(),
  sleep: obj({ seconds: z.number().int() }).optional(),
});
const LifecycleSchema = obj({ postStart: LifecycleHandlerSchema.optional(), preStop: LifecycleHandlerSchema.optional(), stopSignal: str });

export const ResourceRequirementsSchema = obj({
  limits: z.record(z.string(), QuantitySchema).optional(),
  requests: z.record(z.string(), QuantitySchema).optional(),
  claims: z.array(obj({ name: z.string(), request: str })).optional(),
});

const VolumeMountSchema = obj({
  name: z.string(),
  readOnly: bool,
  recursiveReadOnly: str,
  mountPath: z.string(),
  subPath: str,
  mountPropagation: str,
  subPathExpr: str,
  bindMountOptions: strList,
});
const VolumeDeviceSchema = obj({ name: z.string(), devicePath: z.string() });

const CapabilitiesSchema = obj({ add: strList, drop: strList });
export const SeccompProfileSchema = obj({ type: z.string(), localhostProfile: str });
export const AppArmorProfileSchema = obj({ type: z.string(), localhostProfile: str });
export const SELinuxOptionsSchema = obj({ user: str, role: str, type: str, level: str });
export const WindowsOptionsSchema = obj({ gmsaCredentialSpecName: str, gmsaCredentialSpec: str, runAsUserName: str, hostProcess: bool });

export const SecurityContextSchema = obj({
  capabilities: CapabilitiesSchema.optional(),
  privileged: bool,
  seLinuxOptions: SELinuxOptionsSchema.optional(),
  windowsOptions: WindowsOptionsSchema.optional(),
  runAsUser: int,
  runAsGroup: int,
  runAsNonRoot: bool,
  readOnlyRootFilesystem: bool,
  allowPrivilegeEscalation: bool,
  procMount: str,
  seccompProfile: SeccompProfileSchema.optional(),
  appArmorProfile: AppArmorProfileSchema.optional(),
});
export type SecurityContext = z.infer<typeof SecurityContextSchema>;

export const ContainerSchema = obj({
  name: z.string(),
  image: str,
  command: strList,
  args: strList,
  workingDir: str,
  ports: z.array(ContainerPortSchema).optional(),
  envFrom: z.array(EnvFromSourceSchema).optional(),
  env: z.array(EnvVarSchema).optional(),
  resources: ResourceRequirementsSchema.optional(),
  resizePolicy: z.array(obj({ resourceName: z.string(), restartPolicy: z.string() })).optional(),
  /** Init containers only: `Always` makes a native sidecar. */
  restartPolicy: str,
  restartPolicyRules: z.array(loose).optional(),
  volumeMounts: z.array(VolumeMountSchema).optional(),
  volumeDevices: z.array(VolumeDeviceSchema).optional(),
  livenessProbe: ProbeSchema.optional(),
  readinessProbe: ProbeSchema.optional(),
  startupProbe: ProbeSchema.optional(),
  lifecycle: LifecycleSchema.optional(),
  terminationMessagePath: str,
  terminationMessagePolicy: str,
  imagePullPolicy: str,
  securityContext: SecurityContextSchema.optional(),
  stdin: bool,
  stdinOnce: bool,
  tty: bool,
});
export type Container = z.infer<typeof ContainerSchema>;

export const EphemeralContainerSchema = ContainerSchema.extend({ targetContainerName: str });

/** The container port's protocol: TCP unless given. */
export function containerPortProtocol(port: ContainerPort): string {
  return port.protocol === undefined || port.protocol === '' ? 'TCP' : port.protocol;
}

// ---- validation ----------------------------------------------------------------------------------------

function containerPortsIssues(ports: readonly ContainerPort[], path: string, hostNetwork: boolean): Issue[] {
  const out: Issue[] = [];
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const ip = `${path}[${i}]`;
    if (p.name !== undefined && p.name !== '') {
      const msgs = portNameErrors(p.name);
      if (msgs.length > 0) out.push(...msgs.map((m) => invalid(`${ip}.name`, p.name, m)));
      else if (names.has(p.name)) out.push(duplicate(`${ip}.name`, p.name));
      else names.add(p.name);
    }
    if (p.containerPort === 0) out.push(required(`${ip}.containerPort`));
    else for (const m of portNumErrors(p.containerPort)) out.push(invalid(`${ip}.containerPort`, p.containerPort, m));
    if ((p.hostPort ?? 0) !== 0) for (const m of portNumErrors(p.hostPort ?? 0)) out.push(invalid(`${ip}.hostPort`, p.hostPort, m));
    const proto = containerPortProtocol(p);
    if (!(PROTOCOLS as readonly string[]).includes(proto)) out.push(notSupported(`${ip}.protocol`, proto, PROTOCOLS));
    // validateHostNetwork: with hostNetwork the host port is the container port (hostPort defaults to it).
    if (hostNetwork && p.hostPort !== undefined && p.hostPort !== 0 && p.hostPort !== p.containerPort)
      out.push(invalid(`${ip}.containerPort`, p.containerPort, 'must match `hostPort` when `hostNetwork` is true'));
  });
  return out;
}

/** ValidateEnv with relaxed names (RelaxedEnvironmentVariableValidation, on by default since Kubernetes 1.32). */
function envIssues(env: readonly EnvVar[], path: string): Issue[] {
  const out: Issue[] = [];
  env.forEach((e, i) => {
    const p = `${path}[${i}]`;
    if (e.name === '') out.push(required(`${p}.name`));
    else if (!/^[\x20-\x3c\x3e-\x7e]+$/.test(e.name))
      out.push(invalid(`${p}.name`, e.name, "a valid environment variable name must consist only of printable ASCII characters other than '='"));
    if (e.valueFrom !== undefined) {
      const set = Object.entries(e.valueFrom).filter(([, v]) => v !== undefined).length;
      if (set === 0) out.push(invalid(`${p}.valueFrom`, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
      else if (e.value !== undefined && e.value !== '') out.push(invalid(`${p}.valueFrom`, '', 'may not be specified when `value` is not empty'));
      else if (set > 1) out.push(invalid(`${p}.valueFrom`, '', 'may not have more than one field specified at a time'));
    }
  });
  return out;
}

type Handler = {
  exec?: { command?: readonly string[] | undefined } | undefined;
  httpGet?: z.infer<typeof HTTPGetActionSchema> | undefined;
  tcpSocket?: { port: number | string } | undefined;
  grpc?: { port: number } | undefined;
  sleep?: { seconds: number } | undefined;
};

/** validateHandler: exactly one handler type. */
export function handlerIssues(h: Handler, path: string): Issue[] {
  const out: Issue[] = [];
  let n = 0;
  const one = (key: keyof Handler, check: () => Issue[]): void => {
    if (h[key] === undefined) return;
    if (n > 0) out.push(forbidden(`${path}.${key}`, 'may not specify more than 1 handler type'));
    else {
      n++;
      out.push(...check());
    }
  };
  one('exec', () => ((h.exec?.command?.length ?? 0) === 0 ? [required(`${path}.exec.command`)] : []));
  one('httpGet', () => {
    const g = h.httpGet;
    if (g === undefined) return [];
    const r = portNumOrNameIssues(`${path}.httpGet.port`, g.port);
    const scheme = g.scheme ?? 'HTTP'; // defaulted
    if (scheme !== 'HTTP' && scheme !== 'HTTPS') r.push(notSupported(`${path}.httpGet.scheme`, scheme, ['HTTP', 'HTTPS']));
    return r;
  });
  one('tcpSocket', () => (h.tcpSocket === undefined ? [] : portNumOrNameIssues(`${path}.tcpSocket.port`, h.tcpSocket.port)));
  one('grpc', () => (h.grpc === undefined ? [] : portNumOrNameIssues(`${path}.grpc.port`, h.grpc.port)));
  one('sleep', () => []);
  if (n === 0) out.push(required(path, 'must specify a handler type'));
  return out;
}

export function probeIssues(probe: Probe | undefined, path: string, kind: 'liveness' | 'readiness' | 'startup'): Issue[] {
  if (probe === undefined) return [];
  const out = handlerIssues(probe, path);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const)
    out.push(...nonNegativeIssues(`${path}.${f}`, probe[f]));
  if (probe.terminationGracePeriodSeconds !== undefined) {
    if (kind === 'readiness')
      out.push(invalid(`${path}.terminationGracePeriodSeconds`, probe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
    else if (probe.terminationGracePeriodSeconds <= 0)
      out.push(invalid(`${path}.terminationGracePeriodSeconds`, probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  if (kind !== 'readiness' && probe.successThreshold !== undefined && probe.successThreshold !== 1)
    out.push(invalid(`${path}.successThreshold`, probe.successThreshold, 'must be 1'));
  return out;
}

/** validateContainerCommon. */
export function containerCommonIssues(c: Container, path: string, volumes: ReadonlySet<string>, hostNetwork: boolean): Issue[] {
  const out: Issue[] = [];
  if (c.name === '') out.push(required(`${path}.name`));
  else out.push(...dns1123LabelIssues(`${path}.name`, c.name));
  if ((c.image ?? '') === '') out.push(required(`${path}.image`));
  const tmp = c.terminationMessagePolicy ?? 'File';
  if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError')
    out.push(notSupported(`${path}.terminationMessagePolicy`, tmp, ['File', 'FallbackToLogsOnError']));
  out.push(...containerPortsIssues(c.ports ?? [], `${path}.ports`, hostNetwork));
  out.push(...envIssues(c.env ?? [], `${path}.env`));
  (c.volumeMounts ?? []).forEach((m, i) => {
    const p = `${path}.volumeMounts[${i}]`;
    if (m.name === '') out.push(required(`${p}.name`));
    else if (!volumes.has(m.name)) out.push(notFound(`${p}.name`, m.name));
    if (m.mountPath === '') out.push(required(`${p}.mountPath`));
  });
  if (c.imagePullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy))
    out.push(notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']));
  return out;
}
