import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StringValueSchema, anyUnpack } from '@bufbuild/protobuf/wkt';
import type { WasmPlugin, WasmPluginSpec } from '../../api/extensions/wasm-plugin.js';
import type { SecretView } from '../../model/snapshot.js';
import { WasmSchema as HttpWasmSchema } from '../../xds/gen/envoy/extensions/filters/http/wasm/v3/wasm_pb.js';
import { WasmSchema as NetworkWasmSchema } from '../../xds/gen/envoy/extensions/filters/network/wasm/v3/wasm_pb.js';
import type { PluginConfig } from '../../xds/gen/envoy/extensions/wasm/v3/wasm_pb.js';
import { failurePolicyOf } from '../../xds/wasm-failure-policy.js';
import {
  buildWasmPluginConfig,
  canonicalJson,
  httpWasmFilter,
  networkWasmFilter,
  WASM_POLICY_ENV,
  WASM_RESOURCE_VERSION_ENV,
  WASM_SECRET_ENV,
  type SecretLookup,
} from './wasm-plugin-config.js';

function plugin(spec: WasmPluginSpec, meta: { name?: string; namespace?: string; resourceVersion?: string } = {}): WasmPlugin {
  return {
    apiVersion: 'extensions.istio.io/v1alpha1',
    kind: 'WasmPlugin',
    metadata: { name: meta.name ?? 'auth', namespace: meta.namespace ?? 'shop', ...(meta.resourceVersion !== undefined ? { resourceVersion: meta.resourceVersion } : {}) },
    spec,
  } as WasmPlugin;
}

const DOCKER_CONFIG = '{"auths":{"ghcr.io":{"auth":"dXNlcjpwYXNz"}}}';

function secretsOf(list: readonly { ns: string; name: string; type: string; data: Record<string, string> }[]): SecretLookup {
  return (namespace, name) => {
    const s = list.find((x) => x.ns === namespace && x.name === name);
    if (s === undefined) return undefined;
    const view: SecretView = { ref: { kind: 'Secret', namespace, name }, namespace, name, type: s.type, data: s.data };
    return view;
  };
}

const SECRETS = secretsOf([
  { ns: 'shop', name: 'ghcr', type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(DOCKER_CONFIG).toString('base64') } },
  { ns: 'shop', name: 'opaque', type: 'Opaque', data: { '.dockerconfigjson': Buffer.from(DOCKER_CONFIG).toString('base64') } },
  { ns: 'other', name: 'theirs', type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(DOCKER_CONFIG).toString('base64') } },
]);

function config(spec: WasmPluginSpec, meta: Parameters<typeof plugin>[1] = {}, secrets: SecretLookup = SECRETS): PluginConfig {
  const pc = buildWasmPluginConfig(plugin(spec, meta), secrets);
  assert.ok(pc !== undefined);
  return pc;
}

function vm(pc: PluginConfig): NonNullable<PluginConfig['vm']['value']> {
  assert.equal(pc.vm.case, 'vmConfig');
  return pc.vm.value as NonNullable<PluginConfig['vm']['value']>;
}

describe('WasmPlugin -> PluginConfig: names, runtime, VM id', () => {
  it('names the config <namespace>.<name>, roots it at pluginName, leaves vm_id unset and runs on v8', () => {
    const pc = config({ url: 'oci://ghcr.io/acme/auth:v1', pluginName: 'auth_root' });
    assert.equal(pc.name, 'shop.auth');
    assert.equal(pc.rootId, 'auth_root');
    assert.equal(vm(pc).vmId, '');
    assert.equal(vm(pc).runtime, 'envoy.wasm.runtime.v8');
  });
});

describe('WasmPlugin -> PluginConfig: code source (buildDataSource)', () => {
  const cases: readonly { name: string; url: string; sha256?: string; want: { local: string } | { remote: string } }[] = [
    { name: 'file:// is a local file', url: 'file:///opt/plugins/auth.wasm', want: { local: '/opt/plugins/auth.wasm' } },
    { name: 'oci:// is kept', url: 'oci://ghcr.io/acme/auth:v1', want: { remote: 'oci://ghcr.io/acme/auth:v1' } },
    { name: 'a URL without a scheme is fetched as oci://', url: 'ghcr.io/acme/auth@sha256:0123', want: { remote: 'oci://ghcr.io/acme/auth@sha256:0123' } },
    { name: 'https:// is kept, with the sha256 to verify', url: 'https://plugins.example/auth.wasm', sha256: 'ab'.repeat(32), want: { remote: 'https://plugins.example/auth.wasm' } },
    { name: 'http:// is kept', url: 'http://127.0.0.1:8000/auth.wasm', want: { remote: 'http://127.0.0.1:8000/auth.wasm' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const code = vm(config({ url: c.url, ...(c.sha256 !== undefined ? { sha256: c.sha256 } : {}) })).code;
      if ('local' in c.want) {
        assert.equal(code?.specifier.case, 'local');
        assert.deepEqual(code?.specifier.value?.specifier, { case: 'filename', value: c.want.local });
        return;
      }
      assert.equal(code?.specifier.case, 'remote');
      const remote = code.specifier.value;
      assert.equal(remote.httpUri?.uri, c.want.remote);
      assert.deepEqual(remote.httpUri?.httpUpstreamType, { case: 'cluster', value: '_' });
      assert.equal(remote.httpUri?.timeout?.seconds, 30n);
      assert.equal(remote.sha256, c.sha256 ?? '');
    });
  }

  it('a URL Istio cannot parse gives no config (the plugin is discarded)', () => {
    assert.equal(buildWasmPluginConfig(plugin({ url: '' }), SECRETS), undefined);
    assert.equal(buildWasmPluginConfig(plugin({ url: ':nope' }), SECRETS), undefined);
  });
});

describe('WasmPlugin -> PluginConfig: VM environment (buildVMConfig and the pull secret)', () => {
  it('carries the resource version always, the pull policy when set, INLINE values and HOST keys', () => {
    const env = vm(
      config(
        {
          url: 'oci://ghcr.io/acme/auth:v1',
          imagePullPolicy: 'Always',
          vmConfig: { env: [{ name: 'MODE', value: 'strict' }, { name: 'POD_NAME', valueFrom: 'HOST' }, { name: 'EMPTY', valueFrom: 'INLINE' }] },
        },
        { resourceVersion: '4711' },
      ),
    ).environmentVariables;
    assert.deepEqual(env?.keyValues, { EMPTY: '', [WASM_POLICY_ENV]: 'Always', [WASM_RESOURCE_VERSION_ENV]: '4711', MODE: 'strict' });
    assert.deepEqual(env?.hostEnvKeys, ['POD_NAME']);
  });

  it('leaves the pull policy out when UNSPECIFIED_POLICY, and the resource version empty when unknown', () => {
    const env = vm(config({ url: 'oci://x/y:z', imagePullPolicy: 'UNSPECIFIED_POLICY' })).environmentVariables;
    assert.deepEqual(env?.keyValues, { [WASM_RESOURCE_VERSION_ENV]: '' });
  });

  const secretCases: readonly { name: string; ref: string; want: string | undefined }[] = [
    { name: 'a dockerconfigjson Secret in the plugin namespace gives its docker config', ref: 'ghcr', want: DOCKER_CONFIG },
    { name: 'kubernetes://name is the same Secret', ref: 'kubernetes://ghcr', want: DOCKER_CONFIG },
    { name: 'another namespace is replaced by the plugin namespace', ref: 'other/ghcr', want: DOCKER_CONFIG },
    { name: 'a Secret of another namespace is never read', ref: 'kubernetes://other/theirs', want: '' },
    { name: 'a Secret of another type gives an empty value (the fetch then fails, as with Istio)', ref: 'opaque', want: '' },
    { name: 'a missing Secret gives an empty value', ref: 'nope', want: '' },
    { name: 'builtin:// means no pull secret', ref: 'builtin://', want: undefined },
    { name: 'a configmap:// reference never resolves', ref: 'configmap://shop/ghcr', want: '' },
  ];
  for (const c of secretCases) {
    it(c.name, () => {
      const kv = vm(config({ url: 'oci://ghcr.io/acme/auth:v1', imagePullSecret: c.ref })).environmentVariables?.keyValues ?? {};
      assert.equal(kv[WASM_SECRET_ENV], c.want);
    });
  }
});

describe('WasmPlugin -> PluginConfig: configuration and failure strategy', () => {
  it('passes pluginConfig as JSON (keys sorted) in a StringValue', () => {
    const pc = config({ url: 'oci://x/y:z', pluginConfig: { z: 1, a: { y: [true, null, 'x'], b: 0.5 } } });
    const value = pc.configuration !== undefined ? anyUnpack(pc.configuration, StringValueSchema) : undefined;
    assert.equal(value?.value, '{"a":{"b":0.5,"y":[true,null,"x"]},"z":1}');
  });

  it('leaves configuration unset when pluginConfig is absent or empty', () => {
    assert.equal(config({ url: 'oci://x/y:z' }).configuration, undefined);
    assert.equal(config({ url: 'oci://x/y:z', pluginConfig: {} }).configuration, undefined);
  });

  const strategies: readonly { name: string; spec: WasmPluginSpec['failStrategy']; failOpen: boolean; policy: string }[] = [
    { name: 'unset is FAIL_CLOSE: failure_policy FAIL_CLOSED', spec: undefined, failOpen: false, policy: 'FAIL_CLOSED' },
    { name: 'FAIL_CLOSE: FAIL_CLOSED', spec: 'FAIL_CLOSE', failOpen: false, policy: 'FAIL_CLOSED' },
    { name: 'FAIL_OPEN: fail_open and FAIL_OPEN', spec: 'FAIL_OPEN', failOpen: true, policy: 'FAIL_OPEN' },
    { name: 'FAIL_RELOAD: FAIL_RELOAD', spec: 'FAIL_RELOAD', failOpen: false, policy: 'FAIL_RELOAD' },
  ];
  for (const s of strategies) {
    it(s.name, () => {
      const pc = config({ url: 'oci://x/y:z', ...(s.spec !== undefined ? { failStrategy: s.spec } : {}) });
      assert.equal(pc.failOpen, s.failOpen);
      assert.equal(failurePolicyOf(pc), s.policy);
    });
  }

  it('canonicalJson sorts nested keys and keeps arrays in order', () => {
    assert.equal(canonicalJson({ b: [{ d: 1, c: 2 }], a: 'x' }), '{"a":"x","b":[{"c":2,"d":1}]}');
  });
});

describe('WasmPlugin -> filters', () => {
  it('an HTTP filter named <namespace>.<name> with the http Wasm config', () => {
    const f = httpWasmFilter(plugin({ url: 'oci://x/y:z', failStrategy: 'FAIL_RELOAD' }), SECRETS);
    assert.equal(f?.name, 'shop.auth');
    assert.equal(f?.configType.case, 'typedConfig');
    const any = f?.configType.value;
    assert.equal(any?.typeUrl, 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm');
    const wasm = any !== undefined ? anyUnpack(any, HttpWasmSchema) : undefined;
    assert.equal(wasm?.config?.name, 'shop.auth');
    assert.equal(failurePolicyOf(wasm?.config ?? assert.fail('no config')), 'FAIL_RELOAD');
  });

  it('a network filter with the network Wasm config', () => {
    const f = networkWasmFilter(plugin({ url: 'oci://x/y:z', type: 'NETWORK' }, { name: 'tcp-meter' }), SECRETS);
    assert.equal(f?.name, 'shop.tcp-meter');
    const any = f?.configType.case === 'typedConfig' ? f.configType.value : undefined;
    assert.equal(any?.typeUrl, 'type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm');
    assert.equal(any !== undefined ? anyUnpack(any, NetworkWasmSchema)?.config?.name : undefined, 'shop.tcp-meter');
  });
});
