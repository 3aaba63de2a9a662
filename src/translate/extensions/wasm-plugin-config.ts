// One WasmPlugin as the Envoy wasm filter config the proxy receives (Istio's WasmPluginWrapper.buildPluginConfig,
// buildDataSource and buildVMConfig in pilot/pkg/model/extensions.go; the pull secret as the ECDS generator and
// extension.updatePluginConfig fill it in). Istio ships this config through ECDS and its agent rewrites remote
// code to a local file; Isthmus puts it inline in the listener and its proxy fetches the module itself, playing
// the agent's part. So, as Istio's agent expects it (pkg/wasm/convert.go rewriteVMConfig):
//  - filter name and PluginConfig.name `<namespace>.<name>`, root_id = pluginName, vm_id unset (VMs with the same
//    code and config are shared by Envoy), runtime `envoy.wasm.runtime.v8`;
//  - `file://` code as local.filename; anything else as remote.http_uri with the URL (`oci://` put in front of a
//    URL without a scheme), cluster `_` (never used: the fetcher resolves the URL itself), timeout 30s, and sha256;
//  - environment_variables.key_values carry the agent's inputs, which the proxy must strip before the VM sees
//    them (every `ISTIO_META_*` key): ISTIO_META_WASM_IMAGE_PULL_SECRET (the docker config JSON of the pull
//    secret, '' when it cannot be resolved, which makes the fetch fail as Istio's agent does),
//    ISTIO_META_WASM_IMAGE_PULL_POLICY (`IfNotPresent`/`Always`, absent when unspecified) and
//    ISTIO_META_WASM_PLUGIN_RESOURCE_VERSION (always present); then INLINE env entries, and HOST ones as
//    host_env_keys;
//  - configuration: pluginConfig as compact JSON in a google.protobuf.StringValue, left unset when empty
//    (Istio sends an empty Any; Envoy hands the plugin an empty configuration either way);
//  - failStrategy as fail_open (FAIL_OPEN) and as Envoy 1.33's failure_policy (src/xds/wasm-failure-policy.ts).
// Pure: secrets are looked up through the snapshot accessor it is given.

import { create } from '@bufbuild/protobuf';
import { StringValueSchema, type Any } from '@bufbuild/protobuf/wkt';
import { effectiveFailStrategy, wasmPluginScheme, type FailStrategy, type WasmPlugin } from '../../api/extensions/wasm-plugin.js';
import type { SecretView } from '../../model/snapshot.js';
import { pack } from '../../xds/codec.js';
import { AsyncDataSourceSchema, type AsyncDataSource } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { FilterSchema, type Filter } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { WasmSchema as HttpWasmSchema } from '../../xds/gen/envoy/extensions/filters/http/wasm/v3/wasm_pb.js';
import { HttpFilterSchema, type HttpFilter } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { WasmSchema as NetworkWasmSchema } from '../../xds/gen/envoy/extensions/filters/network/wasm/v3/wasm_pb.js';
import { EnvironmentVariablesSchema, PluginConfigSchema, VmConfigSchema, type EnvironmentVariables, type PluginConfig } from '../../xds/gen/envoy/extensions/wasm/v3/wasm_pb.js';
import { withFailurePolicy, type WasmFailurePolicy } from '../../xds/wasm-failure-policy.js';
import { durationFromSeconds } from '../proto-values.js';

/** pkg/model/wasm.go: the agent's inputs, carried as VM environment variables. */
export const WASM_SECRET_ENV = 'ISTIO_META_WASM_IMAGE_PULL_SECRET';
export const WASM_POLICY_ENV = 'ISTIO_META_WASM_IMAGE_PULL_POLICY';
export const WASM_RESOURCE_VERSION_ENV = 'ISTIO_META_WASM_PLUGIN_RESOURCE_VERSION';
/** The prefix of every key the proxy must remove before the VM sees the environment (bootstrap.IstioMetaPrefix). */
export const ISTIO_META_ENV_PREFIX = 'ISTIO_META_';
export const WASM_RUNTIME_V8 = 'envoy.wasm.runtime.v8';
/** buildDataSource's remote cluster: "the agent will fetch this anyway, so no need for a cluster". */
export const WASM_REMOTE_FETCH_CLUSTER = '_';
export const WASM_REMOTE_FETCH_TIMEOUT_SECONDS = 30;

const DOCKER_CONFIG_JSON_TYPE = 'kubernetes.io/dockerconfigjson';
const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';
const KUBERNETES_SECRET_URI = 'kubernetes://';

/** How translation reads a Secret: `snapshot.secret`. */
export type SecretLookup = (namespace: string, name: string) => SecretView | undefined;

export function wasmPluginNamespace(wp: WasmPlugin): string {
  return wp.metadata.namespace ?? 'default';
}

/** `<namespace>.<name>`: the filter's name and PluginConfig.name. */
export function wasmPluginFilterName(wp: WasmPlugin): string {
  return `${wasmPluginNamespace(wp)}.${wp.metadata.name}`;
}

const FAILURE_POLICIES: Readonly<Record<FailStrategy, WasmFailurePolicy>> = { FAIL_OPEN: 'FAIL_OPEN', FAIL_CLOSE: 'FAIL_CLOSED', FAIL_RELOAD: 'FAIL_RELOAD' };

/** JSON with object keys sorted at every level, compact (protojson of a Struct, as Istio's protomarshal.ToJSON). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/** buildDataSource; undefined for a URL Istio cannot parse (the plugin is then discarded, as Istio does). */
export function wasmCodeSource(wp: WasmPlugin): AsyncDataSource | undefined {
  const url = wp.spec.url ?? '';
  const scheme = wasmPluginScheme(url);
  if (url === '' || scheme === undefined) return undefined;
  if (scheme === 'file') {
    const filename = url.startsWith('file://') ? url.slice('file://'.length) : url;
    return create(AsyncDataSourceSchema, { specifier: { case: 'local', value: { specifier: { case: 'filename', value: filename } } } });
  }
  // Go's url.Parse scheme rule: a letter, then letters, digits, `+`, `-` or `.`, up to the first `:`.
  const uri = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(url) ? url : `oci://${url}`;
  return create(AsyncDataSourceSchema, {
    specifier: {
      case: 'remote',
      value: {
        httpUri: { uri, httpUpstreamType: { case: 'cluster', value: WASM_REMOTE_FETCH_CLUSTER }, timeout: durationFromSeconds(WASM_REMOTE_FETCH_TIMEOUT_SECONDS) },
        sha256: wp.spec.sha256 ?? '',
      },
    },
  });
}

/**
 * The value of ISTIO_META_WASM_IMAGE_PULL_SECRET, undefined when there is none. The secret must live in the
 * plugin's namespace (toSecretResourceName forces it, whatever namespace `kubernetes://ns/name` names), be of type
 * kubernetes.io/dockerconfigjson and hold `.dockerconfigjson` (GetDockerCredential); otherwise ''.
 */
export function pullSecretValue(wp: WasmPlugin, secrets: SecretLookup): string | undefined {
  const ref = wp.spec.imagePullSecret ?? '';
  if (ref === '') return undefined;
  // credentials.ToResourceName turns `builtin://` into `default`, which does not parse: no secret at all.
  if (ref.startsWith('builtin://')) return undefined;
  // Other explicit types (configmap://, kubernetes-gateway://, invalid://) never resolve to a pull secret.
  if (/^[a-z-]+:\/\//.test(ref) && !ref.startsWith(KUBERNETES_SECRET_URI)) return '';
  const parts = (ref.startsWith(KUBERNETES_SECRET_URI) ? ref.slice(KUBERNETES_SECRET_URI.length) : ref).split('/');
  const name = (parts.length > 1 ? parts[1] : parts[0]) ?? '';
  const secret = secrets(wasmPluginNamespace(wp), name);
  const data = secret?.type === DOCKER_CONFIG_JSON_TYPE ? secret.data[DOCKER_CONFIG_JSON_KEY] : undefined;
  return data !== undefined ? Buffer.from(data, 'base64').toString('utf8') : '';
}

function environmentVariables(wp: WasmPlugin, secrets: SecretLookup): EnvironmentVariables {
  const keyValues: Record<string, string> = {};
  const secret = pullSecretValue(wp, secrets);
  if (secret !== undefined) keyValues[WASM_SECRET_ENV] = secret;
  const policy = wp.spec.imagePullPolicy ?? 'UNSPECIFIED_POLICY';
  if (policy !== 'UNSPECIFIED_POLICY') keyValues[WASM_POLICY_ENV] = policy;
  keyValues[WASM_RESOURCE_VERSION_ENV] = wp.metadata.resourceVersion ?? '';
  const hostEnvKeys: string[] = [];
  for (const e of wp.spec.vmConfig?.env ?? []) {
    const name = e.name ?? '';
    if ((e.valueFrom ?? 'INLINE') === 'HOST') hostEnvKeys.push(name);
    else keyValues[name] = e.value ?? '';
  }
  // Deterministic bytes: protobuf-es writes map entries in insertion order.
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(keyValues).sort()) sorted[k] = keyValues[k] ?? '';
  return create(EnvironmentVariablesSchema, { keyValues: sorted, hostEnvKeys });
}

function configuration(wp: WasmPlugin): Any | undefined {
  const cfg = wp.spec.pluginConfig;
  if (cfg === undefined || Object.keys(cfg).length === 0) return undefined;
  return pack(StringValueSchema, create(StringValueSchema, { value: canonicalJson(cfg) }));
}

/** The PluginConfig of a WasmPlugin; undefined when its URL does not parse (Istio discards such a plugin). */
export function buildWasmPluginConfig(wp: WasmPlugin, secrets: SecretLookup): PluginConfig | undefined {
  const code = wasmCodeSource(wp);
  if (code === undefined) return undefined;
  const name = wasmPluginFilterName(wp);
  const strategy = effectiveFailStrategy(wp);
  const vm = create(VmConfigSchema, { runtime: WASM_RUNTIME_V8, code, environmentVariables: environmentVariables(wp, secrets) });
  const cfg = configuration(wp);
  const pc = create(PluginConfigSchema, {
    name,
    rootId: wp.spec.pluginName ?? '',
    vm: { case: 'vmConfig', value: vm },
    ...(cfg !== undefined ? { configuration: cfg } : {}),
    failOpen: strategy === 'FAIL_OPEN',
  });
  return withFailurePolicy(pc, FAILURE_POLICIES[strategy]);
}

/** The HTTP filter (`envoy.extensions.filters.http.wasm.v3.Wasm`) for an HTTP plugin. */
export function httpWasmFilter(wp: WasmPlugin, secrets: SecretLookup): HttpFilter | undefined {
  const config = buildWasmPluginConfig(wp, secrets);
  if (config === undefined) return undefined;
  return create(HttpFilterSchema, { name: wasmPluginFilterName(wp), configType: { case: 'typedConfig', value: pack(HttpWasmSchema, create(HttpWasmSchema, { config })) } });
}

/** The network filter (`envoy.extensions.filters.network.wasm.v3.Wasm`) for a NETWORK plugin. */
export function networkWasmFilter(wp: WasmPlugin, secrets: SecretLookup): Filter | undefined {
  const config = buildWasmPluginConfig(wp, secrets);
  if (config === undefined) return undefined;
  return create(FilterSchema, { name: wasmPluginFilterName(wp), configType: { case: 'typedConfig', value: pack(NetworkWasmSchema, create(NetworkWasmSchema, { config })) } });
}
