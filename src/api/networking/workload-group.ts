// networking.istio.io WorkloadGroup: schema and Istio's validation (ValidateWorkloadGroup and
// validateReadinessProbe in istio/istio pkg/config/validation/validation.go), plus the CRD's own rules
// from workload_group.proto markers (probe ports 1..65535, httpGet scheme, header name pattern).
// Defaults (workload_group.proto): probe timeoutSeconds 1, periodSeconds 10, successThreshold 1,
// failureThreshold 3, httpGet scheme HTTP; an empty template serviceAccount means `default`.

import { at, error, type Issue } from '../../lib/issue.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { int32, obj, stringMap, uint32, z } from '../schema.js';
import { portErrors } from '../validation/common.js';
import { istioLabelsIssues } from '../validation/istio-labels.js';
import { workloadEntryIssues, WorkloadEntrySpecSchema } from './workload-entry.js';

const HttpHeaderSchema = obj({ name: z.string().optional(), value: z.string().optional() });

export const HttpHealthCheckConfigSchema = obj({
  path: z.string().optional(),
  port: uint32,
  host: z.string().optional(),
  scheme: z.string().optional(),
  httpHeaders: z.array(HttpHeaderSchema).optional(),
});
export const TcpHealthCheckConfigSchema = obj({ host: z.string().optional(), port: uint32 });
export const ExecHealthCheckConfigSchema = obj({ command: z.array(z.string()) });
export const GrpcHealthCheckConfigSchema = obj({ port: uint32.optional(), service: z.string().optional() });

export const ReadinessProbeSchema = obj({
  initialDelaySeconds: int32.optional(),
  timeoutSeconds: int32.optional(),
  periodSeconds: int32.optional(),
  successThreshold: int32.optional(),
  failureThreshold: int32.optional(),
  // oneof health_check_method
  httpGet: HttpHealthCheckConfigSchema.optional(),
  tcpSocket: TcpHealthCheckConfigSchema.optional(),
  exec: ExecHealthCheckConfigSchema.optional(),
  grpc: GrpcHealthCheckConfigSchema.optional(),
});
export type ReadinessProbe = z.infer<typeof ReadinessProbeSchema>;

export const WorkloadGroupSpecSchema = obj({
  /** Labels and annotations given to every WorkloadEntry of the group. */
  metadata: obj({ labels: stringMap.optional(), annotations: stringMap.optional() }).optional(),
  /** A WorkloadEntry without `address` (and preferably without `labels`). */
  template: WorkloadEntrySpecSchema,
  probe: ReadinessProbeSchema.optional(),
});
export type WorkloadGroupSpec = z.infer<typeof WorkloadGroupSpecSchema>;

const BodySchema = obj({ spec: WorkloadGroupSpecSchema, status: z.unknown().optional() });
export type WorkloadGroupBody = z.infer<typeof BodySchema>;
export type WorkloadGroup = Resource<WorkloadGroupBody>;

/** validateReadinessProbe's header names: ValidateProbeHeaderName (Kubernetes' rule). */
const PROBE_HEADER_NAME = /^[-A-Za-z0-9]+$/;

const METHODS = ['httpGet', 'tcpSocket', 'exec', 'grpc'] as const;

function probeIssues(path: string, probe: ReadinessProbe): Issue[] {
  const out: Issue[] = [];
  const nonNegative = ['periodSeconds', 'initialDelaySeconds', 'timeoutSeconds', 'successThreshold', 'failureThreshold'] as const;
  for (const f of nonNegative) if ((probe[f] ?? 0) < 0) out.push(error(at(path, f), `${f} must be non-negative`));

  const set = METHODS.filter((m) => probe[m] !== undefined);
  if (set.length > 1) out.push(error(path, `only one of ${METHODS.join(', ')} may be set (got ${set.join(' and ')})`));
  if (probe.httpGet !== undefined) {
    const h = probe.httpGet;
    for (const m of portErrors(h.port)) out.push(error(at(at(path, 'httpGet'), 'port'), m));
    const scheme = h.scheme ?? '';
    if (scheme !== '' && scheme !== 'HTTPS' && scheme !== 'HTTP') out.push(error(at(at(path, 'httpGet'), 'scheme'), 'httpGet.scheme must be one of "HTTPS", "HTTP"'));
    (h.httpHeaders ?? []).forEach((hd, i) => {
      const p = at(at(at(path, 'httpGet'), 'httpHeaders'), i);
      const name = hd.name ?? '';
      if (name === '') out.push(error(at(p, 'name'), 'header name cannot be empty'));
      else if (!PROBE_HEADER_NAME.test(name)) out.push(error(at(p, 'name'), `header name ${name} is not a valid header name`));
    });
  } else if (probe.tcpSocket !== undefined) {
    for (const m of portErrors(probe.tcpSocket.port)) out.push(error(at(at(path, 'tcpSocket'), 'port'), m));
  } else if (probe.exec !== undefined) {
    if (probe.exec.command.length === 0) out.push(error(at(at(path, 'exec'), 'command'), 'exec.command is required'));
  } else if (probe.grpc !== undefined) {
    // validateReadinessProbe has no case for gRPC probes: the webhook rejects them as an unknown method.
    out.push(error(at(path, 'grpc'), 'unknown health check method *v1alpha3.ReadinessProbe_Grpc'));
  } else {
    out.push(error(path, 'unknown health check method <nil>'));
  }
  return out;
}

export function validateWorkloadGroup(r: WorkloadGroup): Issue[] {
  const spec = r.spec;
  const out: Issue[] = [];
  // ValidateWorkloadGroup does not run validateWorkloadEntry on the template (address is auto-populated),
  // but the CRD's field rules (ports, unix sockets) do apply to it; labels are checked as Istio would for
  // the WorkloadEntries it generates.
  out.push(...workloadEntryIssues('spec.template', spec.template, { allowFqdnAddresses: true, template: true }));
  out.push(...istioLabelsIssues('spec.metadata.labels', spec.metadata?.labels).map((i) => ({ ...i, message: `invalid labels: ${i.message}` })));
  if (spec.probe !== undefined) out.push(...probeIssues('spec.probe', spec.probe));
  return out;
}

export const WORKLOAD_GROUP = defineKind<WorkloadGroupBody>({
  group: 'networking.istio.io',
  kind: 'WorkloadGroup',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateWorkloadGroup,
});
