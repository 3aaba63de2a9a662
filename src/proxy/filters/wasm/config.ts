// envoy.filters.http.wasm / envoy.filters.network.wasm configuration (envoy.extensions.wasm.v3.PluginConfig)
// compiled once into an immutable WasmFilterConfig: the plugin's name, root id and VM id, where its code
// comes from, its configuration bytes, the VM's environment and what happens when the plugin fails.
// The proxy plays istio-agent's part for remote code: `oci://` and `http(s)://` modules are fetched by the
// proxy itself, with the pull policy and pull secret Istio passes in the VM's environment
// (ISTIO_META_WASM_IMAGE_PULL_POLICY / _SECRET, pkg/wasm/convert.go rewriteVMConfig), which never reach the
// plugin. What cannot be honoured is a NACK: another runtime than V8 (the one Istio uses), code from an
// environment variable, capability restrictions. Envoy: api envoy/extensions/wasm/v3/wasm.proto;
// source/extensions/common/wasm/plugin.cc (anyToBytes for `configuration`).

import { createHash } from 'node:crypto';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { BytesValueSchema, StringValueSchema } from '@bufbuild/protobuf/wkt';
import type { PluginConfig } from '../../../xds/gen/envoy/extensions/wasm/v3/wasm_pb.js';
import { failurePolicyOf } from '../../../xds/wasm-failure-policy.js';
import type { Compiled } from '../../runtime/compile-cluster.js';
import { durationMs } from '../../runtime/duration.js';

export const HTTP_WASM_FILTER_TYPE = 'envoy.extensions.filters.http.wasm.v3.Wasm';
export const NETWORK_WASM_FILTER_TYPE = 'envoy.extensions.filters.network.wasm.v3.Wasm';

/** Istio's agent-only keys in vm_config.environment_variables (pkg/model/wasm.go). */
export const WASM_PULL_SECRET_ENV = 'ISTIO_META_WASM_IMAGE_PULL_SECRET';
export const WASM_PULL_POLICY_ENV = 'ISTIO_META_WASM_IMAGE_PULL_POLICY';
const ISTIO_META_PREFIX = 'ISTIO_META_';

const RUNTIMES = new Set(['', 'envoy.wasm.runtime.v8']);

export type WasmCode =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'inline'; readonly bytes: Uint8Array }
  | {
      readonly kind: 'remote';
      readonly url: string;
      /** Lower-case hex; '' = not checked. */
      readonly sha256: string;
      readonly timeoutMs: number;
      readonly pullPolicy: 'IfNotPresent' | 'Always' | undefined;
      /** The docker config JSON Istio resolved from imagePullSecret. */
      readonly pullSecret: Uint8Array | undefined;
    };

/** What the proxy does with the plugin's traffic after the plugin failed (Envoy 1.33 failure_policy, Istio failStrategy). */
export type WasmFailurePolicy = 'FAIL_CLOSED' | 'FAIL_OPEN' | 'FAIL_RELOAD';

export interface WasmFilterConfig {
  /** PluginConfig.name (Istio: `<namespace>.<name>`). */
  readonly name: string;
  readonly rootId: string;
  readonly vmId: string;
  readonly code: WasmCode;
  readonly pluginConfiguration: Uint8Array;
  readonly vmConfiguration: Uint8Array;
  /** The plugin's environment: key_values plus the proxy's own values of host_env_keys (resolved when loading). */
  readonly env: ReadonlyMap<string, string>;
  readonly hostEnvKeys: readonly string[];
  readonly failurePolicy: WasmFailurePolicy;
  /** Identifies a plugin instance: same key, same VM (a config change makes a new one). */
  readonly key: string;
}

/** Envoy's anyToBytes: StringValue and BytesValue by value, anything else as its serialized message. */
export function anyToBytes(a: Any | undefined): Uint8Array {
  if (a === undefined) return new Uint8Array(0);
  const s = anyUnpack(a, StringValueSchema);
  if (s !== undefined && a.typeUrl.endsWith('/google.protobuf.StringValue')) return new TextEncoder().encode(s.value);
  const b = anyUnpack(a, BytesValueSchema);
  if (b !== undefined && a.typeUrl.endsWith('/google.protobuf.BytesValue')) return b.value;
  return a.value;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function compileWasmPluginConfig(pc: PluginConfig | undefined, path: string): Compiled<WasmFilterConfig> {
  if (pc === undefined) return { ok: false, problems: [`${path}.config: required`] };
  const problems: string[] = [];
  if (pc.vm.case !== 'vmConfig') return { ok: false, problems: [`${path}.config.vm_config: required (vm references are not supported)`] };
  const vm = pc.vm.value;
  if (!RUNTIMES.has(vm.runtime)) problems.push(`${path}.config.vm_config.runtime: unsupported runtime "${vm.runtime}"; Isthmus runs envoy.wasm.runtime.v8`);
  if (pc.capabilityRestrictionConfig !== undefined) problems.push(`${path}.config.capability_restriction_config: not supported`);
  const env = new Map<string, string>();
  let pullPolicy: 'IfNotPresent' | 'Always' | undefined;
  let pullSecret: Uint8Array | undefined;
  const ev = vm.environmentVariables;
  for (const [k, v] of Object.entries(ev?.keyValues ?? {})) {
    if (k === WASM_PULL_POLICY_ENV) pullPolicy = v === 'Always' ? 'Always' : v === 'IfNotPresent' ? 'IfNotPresent' : undefined;
    else if (k === WASM_PULL_SECRET_ENV) pullSecret = new TextEncoder().encode(v);
    if (k.startsWith(ISTIO_META_PREFIX)) continue; // meant for the agent, never for the plugin (rewriteVMConfig)
    env.set(k, v);
  }
  let code: WasmCode | undefined;
  const spec = vm.code?.specifier;
  if (spec === undefined || spec.case === undefined) problems.push(`${path}.config.vm_config.code: required`);
  else if (spec.case === 'local') {
    const l = spec.value.specifier;
    if (l.case === 'filename') code = { kind: 'file', path: l.value };
    else if (l.case === 'inlineBytes') code = { kind: 'inline', bytes: l.value };
    else if (l.case === 'inlineString') code = { kind: 'inline', bytes: new TextEncoder().encode(l.value) };
    else problems.push(`${path}.config.vm_config.code.local: only filename, inline_bytes and inline_string are supported`);
  } else {
    const r = spec.value;
    const uri = r.httpUri?.uri ?? '';
    if (uri === '') problems.push(`${path}.config.vm_config.code.remote.http_uri.uri: required`);
    const sha = r.sha256 === 'nil' ? '' : r.sha256.toLowerCase(); // Istio's "nil" means unset (convert.go)
    if (sha !== '' && !/^[0-9a-f]{64}$/.test(sha)) problems.push(`${path}.config.vm_config.code.remote.sha256: not a SHA-256 hex digest`);
    code = { kind: 'remote', url: uri, sha256: sha, timeoutMs: durationMs(r.httpUri?.timeout, 30_000), pullPolicy, pullSecret };
  }
  const failurePolicy: WasmFailurePolicy = failurePolicyOf(pc) ?? (pc.failOpen ? 'FAIL_OPEN' : 'FAIL_CLOSED');
  if (problems.length > 0 || code === undefined) return { ok: false, problems };
  const pluginConfiguration = anyToBytes(pc.configuration);
  const vmConfiguration = anyToBytes(vm.configuration);
  const codeKey = code.kind === 'inline' ? `inline:${createHash('sha256').update(code.bytes).digest('hex')}` : code.kind === 'file' ? `file:${code.path}` : `remote:${code.url}@${code.sha256}`;
  const key = JSON.stringify([pc.name, pc.rootId, vm.vmId, codeKey, hex(pluginConfiguration), hex(vmConfiguration), [...env], ev?.hostEnvKeys ?? [], failurePolicy]);
  return {
    ok: true,
    value: { name: pc.name, rootId: pc.rootId, vmId: vm.vmId, code, pluginConfiguration, vmConfiguration, env, hostEnvKeys: [...(ev?.hostEnvKeys ?? [])], failurePolicy, key },
  };
}
