// extensions.istio.io WasmPlugin (v1alpha1 only): schema (istio/api extensions/v1alpha1/wasm.proto) and
// Istio's validation (ValidateWasmPlugin, validateWasmPluginURL/strictParseURL, ...SHA, ...ImagePullSecret,
// ...Name, ...VMConfig, ...Match in pkg/config/validation/validation.go).
// Defaults as Istio applies them (pilot/pkg/model/extensions.go): a url without a scheme is fetched as
// `oci://` (wasmPluginScheme); phase UNSPECIFIED_PHASE (end of the chain, before the router); priority 0;
// failStrategy FAIL_CLOSE; type UNSPECIFIED_PLUGIN_TYPE is treated as HTTP.

import { at, error, type Issue } from '../../lib/issue.js';
import { PolicyTargetReferenceSchema, selectorAndTargetRefIssues, WorkloadSelectorSchema } from '../istio-common.js';
import { defineKind } from '../kind.js';
import type { Resource } from '../resource.js';
import { enumOf, int32, obj, z } from '../schema.js';
import { unsupportedDryRunIssues } from '../security/authorization-policy.js';
import { byteLength } from '../validation/go-format.js';
import { goUrlParse, goUrlParseRequestUri } from '../validation/go-url.js';

export const PLUGIN_PHASES = ['UNSPECIFIED_PHASE', 'AUTHN', 'AUTHZ', 'STATS'] as const;
export type PluginPhase = (typeof PLUGIN_PHASES)[number];
export const FAIL_STRATEGIES = ['FAIL_CLOSE', 'FAIL_OPEN', 'FAIL_RELOAD'] as const;
export type FailStrategy = (typeof FAIL_STRATEGIES)[number];
export const PULL_POLICIES = ['UNSPECIFIED_POLICY', 'IfNotPresent', 'Always'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];
export const PLUGIN_TYPES = ['UNSPECIFIED_PLUGIN_TYPE', 'HTTP', 'NETWORK'] as const;
export type PluginType = (typeof PLUGIN_TYPES)[number];
export const ENV_VALUE_SOURCES = ['INLINE', 'HOST'] as const;
/** istio.type.v1beta1.WorkloadMode */
export const WORKLOAD_MODES = ['UNDEFINED', 'CLIENT', 'SERVER', 'CLIENT_AND_SERVER'] as const;

export const EnvVarSchema = obj({
  /** REQUIRED in the proto; optional here so Istio's message reports it. */
  name: z.string().optional(),
  valueFrom: enumOf(ENV_VALUE_SOURCES).optional(),
  value: z.string().optional(),
});
export type EnvVar = z.infer<typeof EnvVarSchema>;

export const VmConfigSchema = obj({ env: z.array(EnvVarSchema).max(256).optional() });
export type VmConfig = z.infer<typeof VmConfigSchema>;

/** istio.type.v1beta1.PortSelector; `number` is REQUIRED (0 is reported out of range by Istio). */
export const PortSelectorSchema = obj({ number: z.number().int().optional() });

export const TrafficSelectorSchema = obj({
  mode: enumOf(WORKLOAD_MODES).optional(),
  ports: z.array(PortSelectorSchema).optional(),
});
export type TrafficSelector = z.infer<typeof TrafficSelectorSchema>;

export const WasmPluginSpecSchema = obj({
  selector: WorkloadSelectorSchema.optional(),
  targetRef: PolicyTargetReferenceSchema.optional(),
  targetRefs: z.array(PolicyTargetReferenceSchema).max(16).optional(),
  /** REQUIRED; optional here so that Istio's "url field needs to be set" reports it. */
  url: z.string().optional(),
  sha256: z.string().optional(),
  imagePullPolicy: enumOf(PULL_POLICIES).optional(),
  imagePullSecret: z.string().optional(),
  verificationKey: z.string().optional(),
  /** google.protobuf.Struct, passed to the plugin as JSON. */
  pluginConfig: z.record(z.string(), z.unknown()).optional(),
  pluginName: z.string().optional(),
  phase: enumOf(PLUGIN_PHASES).optional(),
  /** google.protobuf.Int32Value */
  priority: int32.optional(),
  failStrategy: enumOf(FAIL_STRATEGIES).optional(),
  vmConfig: VmConfigSchema.optional(),
  match: z.array(TrafficSelectorSchema).optional(),
  type: enumOf(PLUGIN_TYPES).optional(),
});
export type WasmPluginSpec = z.infer<typeof WasmPluginSpecSchema>;

/** The CRD marks spec as required (+cue-gen:WasmPlugin:spec:required). */
const BodySchema = obj({ spec: WasmPluginSpecSchema, status: z.unknown().optional() });
export type WasmPluginBody = z.infer<typeof BodySchema>;
export type WasmPlugin = Resource<WasmPluginBody>;

/**
 * The scheme Istio fetches the module with: Go's url.Parse scheme, `oci` when there is none
 * (pilot/pkg/model/extensions.go "when no scheme is given, default to oci://"); undefined when unparsable.
 */
export function wasmPluginScheme(url: string): string | undefined {
  const p = goUrlParse(url);
  if (!p.ok) return undefined;
  return p.url.scheme === '' ? 'oci' : p.url.scheme;
}

export function effectivePhase(wp: WasmPlugin): PluginPhase {
  return wp.spec.phase ?? 'UNSPECIFIED_PHASE';
}

/** Higher runs first within a phase; 0 when unset. */
export function effectivePriority(wp: WasmPlugin): number {
  return wp.spec.priority ?? 0;
}

export function effectiveFailStrategy(wp: WasmPlugin): FailStrategy {
  return wp.spec.failStrategy ?? 'FAIL_CLOSE';
}

/** UNSPECIFIED_PLUGIN_TYPE is an HTTP filter "for backward compatibility" (filterChainTypeFromPluginType). */
export function effectivePluginType(wp: WasmPlugin): 'HTTP' | 'NETWORK' {
  return wp.spec.type === 'NETWORK' ? 'NETWORK' : 'HTTP';
}

/** strictParseURL: the scheme it settles on, or Istio's error. */
function strictParseUrl(original: string): { ok: true; scheme: string } | { ok: false; message: string } {
  const first = goUrlParseRequestUri(original);
  if (first.ok) {
    const strict = goUrlParse(original);
    if (!strict.ok) return { ok: false, message: `failed to strict parse url: ${strict.message}` };
    return { ok: true, scheme: first.url.scheme };
  }
  const withHttp = 'http://' + original;
  const second = goUrlParseRequestUri(withHttp);
  if (!second.ok) return { ok: false, message: `failed to parse url: ${first.message}` };
  const strict = goUrlParse(withHttp);
  if (!strict.ok) return { ok: false, message: `failed to strict parse url: ${strict.message}` };
  return { ok: true, scheme: second.url.scheme };
}

/** validateWasmPluginURL */
export function wasmPluginUrlError(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return 'url field needs to be set';
  const p = strictParseUrl(url);
  if (!p.ok) return p.message;
  if (!['', 'file', 'http', 'https', 'oci'].includes(p.scheme)) return `url contains unsupported scheme: ${p.scheme}`;
  return undefined;
}

function vmConfigIssue(vm: VmConfig | undefined): Issue | undefined {
  const seen = new Set<string>();
  for (const [i, env] of (vm?.env ?? []).entries()) {
    const p = `spec.vmConfig.env[${i}]`;
    const name = env.name ?? '';
    if (name === '') return error(at(p, 'name'), 'spec.vmConfig.env invalid');
    if (byteLength(name) > 256) return error(at(p, 'name'), 'env.name field must be less than 255 characters long');
    if (seen.has(name)) return error(at(p, 'name'), 'duplicate env');
    seen.add(name);
    if ((env.valueFrom ?? 'INLINE') !== 'INLINE' && (env.value ?? '') !== '') return error(at(p, 'value'), 'value may only be set when valueFrom is INLINE');
  }
  return undefined;
}

function matchIssue(match: readonly TrafficSelector[] | undefined): Issue | undefined {
  for (const [i, sel] of (match ?? []).entries())
    for (const [j, port] of (sel.ports ?? []).entries()) {
      const n = port.number ?? 0;
      if (n <= 0 || n > 65535) return error(`spec.match[${i}].ports[${j}].number`, `spec.Match[${i}].Ports[${j}] is out of range: ${n}`);
    }
  return undefined;
}

export function validateWasmPlugin(wp: WasmPlugin): Issue[] {
  const spec = wp.spec;
  const out: Issue[] = [...unsupportedDryRunIssues(wp), ...selectorAndTargetRefIssues(spec)];
  const urlErr = wasmPluginUrlError(spec.url);
  if (urlErr !== undefined) out.push(error('spec.url', urlErr));
  const sha = spec.sha256 ?? '';
  if (sha !== '') {
    if (byteLength(sha) !== 64) out.push(error('spec.sha256', 'sha256 field must be 64 characters long'));
    else if (!/^[a-f0-9]{64}$/.test(sha)) out.push(error('spec.sha256', 'sha256 field must match [a-f0-9]{64} pattern'));
  }
  if (byteLength(spec.imagePullSecret ?? '') > 253) out.push(error('spec.imagePullSecret', 'imagePullSecret field must be less than 253 characters long'));
  if (byteLength(spec.pluginName ?? '') > 256) out.push(error('spec.pluginName', 'pluginName field must be less than 255 characters long'));
  const vm = vmConfigIssue(spec.vmConfig);
  if (vm !== undefined) out.push(vm);
  const m = matchIssue(spec.match);
  if (m !== undefined) out.push(m);
  return out;
}

export const WASM_PLUGIN = defineKind<WasmPluginBody>({
  group: 'extensions.istio.io',
  kind: 'WasmPlugin',
  versions: ['v1alpha1'],
  namespaced: true,
  nameRule: 'dns1123-subdomain',
  body: BodySchema,
  validate: validateWasmPlugin,
});
