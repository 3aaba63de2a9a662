// telemetry.istio.io Telemetry: schema (istio/api telemetry/v1alpha1/telemetry.proto) and Istio's validation
// (ValidateTelemetry, validateTelemetryTracing/Metrics/AccessLogging/Providers in
// pkg/config/validation/validation.go; the access-log filter is parsed as CEL, validation_istiod.go).
// Defaults as the proto documents them: match.mode CLIENT_AND_SERVER; a tag override's operation UPSERT;
// an override without match applies to ALL_METRICS. Inheritance (root namespace, namespace, workload) is
// resolved where policies are combined, not here.

import { at, error, warning, type Issue } from '../../lib/issue.js';
import { onlyOneOf, PolicyTargetReferenceSchema, selectorAndTargetRefIssues, WorkloadSelectorSchema } from '../istio-common.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { durationString, enumOf, obj, z } from '../schema.js';
import { unsupportedDryRunIssues } from '../security/authorization-policy.js';
import { celSyntaxError } from '../validation/cel.js';
import { plainDurationErrors } from '../validation/common.js';

/** istio.telemetry.v1alpha1.WorkloadMode (note: a different enum from istio.type.v1beta1.WorkloadMode). */
export const TELEMETRY_WORKLOAD_MODES = ['CLIENT_AND_SERVER', 'CLIENT', 'SERVER'] as const;
export type TelemetryWorkloadMode = (typeof TELEMETRY_WORKLOAD_MODES)[number];
export const ISTIO_METRICS = [
  'ALL_METRICS', 'REQUEST_COUNT', 'REQUEST_DURATION', 'REQUEST_SIZE', 'RESPONSE_SIZE', 'TCP_OPENED_CONNECTIONS', 'TCP_CLOSED_CONNECTIONS',
  'TCP_SENT_BYTES', 'TCP_RECEIVED_BYTES', 'GRPC_REQUEST_MESSAGES', 'GRPC_RESPONSE_MESSAGES',
] as const;
export type IstioMetric = (typeof ISTIO_METRICS)[number];
export const TAG_OPERATIONS = ['UPSERT', 'REMOVE'] as const;

const ModeSelectorSchema = obj({ mode: enumOf(TELEMETRY_WORKLOAD_MODES).optional() });

/** REQUIRED `name`, left optional so that Istio's "providers.name may not be empty" reports it. */
export const ProviderRefSchema = obj({ name: z.string().optional() });
export type ProviderRef = z.infer<typeof ProviderRefSchema>;

export const CustomTagSchema = obj({
  literal: obj({ value: z.string().optional() }).optional(),
  environment: obj({ name: z.string().optional(), defaultValue: z.string().optional() }).optional(),
  header: obj({ name: z.string().optional(), defaultValue: z.string().optional() }).optional(),
  formatter: obj({ value: z.string().optional() }).optional(),
});
export type CustomTag = z.infer<typeof CustomTagSchema>;

export const TracingSchema = obj({
  match: ModeSelectorSchema.optional(),
  providers: z.array(ProviderRefSchema).optional(),
  /** google.protobuf.DoubleValue */
  randomSamplingPercentage: z.number().optional(),
  disableSpanReporting: z.boolean().optional(),
  customTags: z.record(z.string(), CustomTagSchema).optional(),
  useRequestIdForTraceSampling: z.boolean().optional(),
  enableIstioTags: z.boolean().optional(),
  disableContextPropagation: z.boolean().optional(),
});
export type Tracing = z.infer<typeof TracingSchema>;

export const MetricSelectorSchema = obj({
  metric: enumOf(ISTIO_METRICS).optional(),
  customMetric: z.string().optional(),
  mode: enumOf(TELEMETRY_WORKLOAD_MODES).optional(),
});
export type MetricSelector = z.infer<typeof MetricSelectorSchema>;

export const TagOverrideSchema = obj({ operation: enumOf(TAG_OPERATIONS).optional(), value: z.string().optional() });
export type TagOverride = z.infer<typeof TagOverrideSchema>;

export const MetricsOverridesSchema = obj({
  match: MetricSelectorSchema.optional(),
  disabled: z.boolean().optional(),
  tagOverrides: z.record(z.string(), TagOverrideSchema).optional(),
});
export type MetricsOverrides = z.infer<typeof MetricsOverridesSchema>;

export const MetricsSchema = obj({
  providers: z.array(ProviderRefSchema).optional(),
  overrides: z.array(MetricsOverridesSchema).optional(),
  reportingInterval: durationString.optional(),
});
export type Metrics = z.infer<typeof MetricsSchema>;

export const AccessLoggingSchema = obj({
  match: ModeSelectorSchema.optional(),
  providers: z.array(ProviderRefSchema).optional(),
  disabled: z.boolean().optional(),
  filter: obj({ expression: z.string().optional() }).optional(),
});
export type AccessLogging = z.infer<typeof AccessLoggingSchema>;

export const TelemetrySpecSchema = obj({
  selector: WorkloadSelectorSchema.optional(),
  targetRef: PolicyTargetReferenceSchema.optional(),
  targetRefs: z.array(PolicyTargetReferenceSchema).max(16).optional(),
  tracing: z.array(TracingSchema).optional(),
  metrics: z.array(MetricsSchema).optional(),
  accessLogging: z.array(AccessLoggingSchema).optional(),
});
export type TelemetrySpec = z.infer<typeof TelemetrySpecSchema>;

const BodySchema = obj({ spec: TelemetrySpecSchema.default({}), status: z.unknown().optional() });
export type TelemetryBody = z.infer<typeof BodySchema>;
export type Telemetry = Resource<TelemetryBody>;

/** The workload mode a tracing/metrics/logging selector applies to; CLIENT_AND_SERVER when unset. */
export function effectiveMode(match: { readonly mode?: TelemetryWorkloadMode | undefined } | undefined): TelemetryWorkloadMode {
  return match?.mode ?? 'CLIENT_AND_SERVER';
}

/** validateTelemetryProviders: the first provider without a name. */
function providerIssues(base: string, providers: readonly ProviderRef[] | undefined): Issue[] {
  const i = (providers ?? []).findIndex((p) => (p.name ?? '') === '');
  return i < 0 ? [] : [error(`${base}.providers[${i}].name`, 'providers.name may not be empty')];
}

function tracingIssues(tracing: readonly Tracing[] | undefined): Issue[] {
  const out: Issue[] = [];
  if ((tracing?.length ?? 0) > 1) out.push(warning('spec.tracing', 'multiple tracing is not currently supported'));
  (tracing ?? []).forEach((t, i) => {
    const base = `spec.tracing[${i}]`;
    if ((t.providers?.length ?? 0) > 1) out.push(warning(`${base}.providers`, 'multiple providers is not currently supported'));
    out.push(...providerIssues(base, t.providers));
    const pct = t.randomSamplingPercentage ?? 0;
    if (pct < 0 || pct > 100) out.push(error(`${base}.randomSamplingPercentage`, 'randomSamplingPercentage must be in range [0.0, 100.0]'));
    for (const [name, tag] of Object.entries(t.customTags ?? {})) {
      const p = at(`${base}.customTags`, name);
      if (name === '') out.push(error(p, 'tag name may not be empty'));
      out.push(...onlyOneOf(p, tag, ['literal', 'environment', 'header', 'formatter']));
      if (tag.literal !== undefined && (tag.literal.value ?? '') === '') out.push(error(`${p}.literal.value`, 'literal tag value may not be empty'));
      if (tag.header !== undefined && (tag.header.name ?? '') === '') out.push(error(`${p}.header.name`, 'header tag name may not be empty'));
      if (tag.environment !== undefined && (tag.environment.name ?? '') === '')
        out.push(error(`${p}.environment.name`, 'environment tag name may not be empty'));
    }
  });
  return out;
}

function metricsIssues(metrics: readonly Metrics[] | undefined): Issue[] {
  const out: Issue[] = [];
  (metrics ?? []).forEach((m, i) => {
    const base = `spec.metrics[${i}]`;
    out.push(...providerIssues(base, m.providers));
    (m.overrides ?? []).forEach((o, j) => {
      const ob = `${base}.overrides[${j}]`;
      for (const [tagName, to] of Object.entries(o.tagOverrides ?? {})) {
        const p = at(`${ob}.tagOverrides`, tagName);
        if (tagName === '') out.push(warning(p, 'tagOverrides.name may not be empty'));
        const op = to.operation ?? 'UPSERT';
        if (op === 'UPSERT' && (to.value ?? '') === '') out.push(error(`${p}.value`, 'tagOverrides.value must be set when operation is UPSERT'));
        if (op === 'REMOVE' && (to.value ?? '') !== '') out.push(error(`${p}.value`, 'tagOverrides.value may only be set when operation is UPSERT'));
      }
      if (o.match !== undefined) {
        out.push(...onlyOneOf(`${ob}.match`, o.match, ['metric', 'customMetric']));
        if (o.match.customMetric === '') out.push(error(`${ob}.match.customMetric`, 'customMetric may not be empty'));
      }
    });
    // Istio does not range-check reportingInterval; it must still be a duration.
    if (m.reportingInterval !== undefined) for (const e of plainDurationErrors(m.reportingInterval)) out.push(error(`${base}.reportingInterval`, e));
  });
  return out;
}

function accessLoggingIssues(logging: readonly AccessLogging[] | undefined): Issue[] {
  const out: Issue[] = [];
  (logging ?? []).forEach((l, i) => {
    const base = `spec.accessLogging[${i}]`;
    if (l.filter !== undefined) {
      const e = celSyntaxError(l.filter.expression ?? '');
      if (e !== undefined) out.push(error(`${base}.filter.expression`, `must be a valid CEL expression, ${e}`));
    }
    out.push(...providerIssues(base, l.providers));
  });
  return out;
}

export function validateTelemetry(t: Telemetry): Issue[] {
  return [
    ...unsupportedDryRunIssues(t),
    ...selectorAndTargetRefIssues(t.spec),
    ...metricsIssues(t.spec.metrics),
    ...tracingIssues(t.spec.tracing),
    ...accessLoggingIssues(t.spec.accessLogging),
  ];
}

export const TELEMETRY = defineKind<TelemetryBody>({
  group: 'telemetry.istio.io',
  kind: 'Telemetry',
  versions: ['v1', 'v1alpha1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateTelemetry,
});
