import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid, validateYaml } from '../../../test/support/kinds.js';
import { effectiveFailStrategy, effectivePhase, effectivePluginType, effectivePriority, WASM_PLUGIN, wasmPluginScheme, wasmPluginUrlError, type WasmPlugin } from './wasm-plugin.js';

const K = [WASM_PLUGIN];
const head = (spec: string, meta = ''): string =>
  `apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: {name: wp, namespace: foo${meta}}\nspec:\n${spec}`;
const SHA = '01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b';

describe('WasmPlugin', () => {
  it('accepts the Istio docs examples', () => {
    // openid-connect example from the WasmPlugin reference
    expectValid(
      head(`  selector:
    matchLabels: {istio: ingressgateway}
  url: file:///opt/filters/openid.wasm
  sha256: ${SHA}
  phase: AUTHN
  pluginConfig:
    openid_server: authn
    openid_realm: ingress
`),
      K,
    );
    expectValid(
      head(`  targetRefs:
  - {kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}
  url: oci://private-registry:5000/openid-connect/openid:latest
  imagePullPolicy: IfNotPresent
  imagePullSecret: private-registry-pull-secret
  phase: AUTHN
  priority: 1000
  failStrategy: FAIL_OPEN
  pluginConfig:
    openid_server: authn
    nested: {list: [1, 2], flag: true}
  vmConfig:
    env:
    - name: POD_NAME
      valueFrom: HOST
    - name: TRUST_DOMAIN
      value: cluster.local
  match:
  - mode: SERVER
    ports: [{number: 80}, {number: 8080}]
  type: HTTP
`),
      K,
    );
    // no scheme means oci; an http url with a port
    expectValid(head('  url: ghcr.io/istio-ecosystem/wasm-extensions/basic_auth:1.12.0\n'), K);
    expectValid(head('  url: https://storage.example.com:8443/filters/basic_auth.wasm\n  verificationKey: key\n  pluginName: basic_auth\n'), K);
  });

  it('requires a spec (the CRD marks it required)', () => {
    expectInvalid('apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: {name: wp}\n', K, [{ path: 'spec', message: 'required field is missing' }]);
  });

  it('is served only as v1alpha1', () => {
    expectInvalid('apiVersion: extensions.istio.io/v1\nkind: WasmPlugin\nmetadata: {name: wp}\nspec: {url: oci://x/y}\n', K, [
      { path: 'apiVersion', message: 'use one of extensions.istio.io/v1alpha1' },
    ]);
  });

  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'missing url', spec: '  phase: AUTHN\n', path: 'spec.url', message: 'url field needs to be set' },
    { name: 'ftp url', spec: '  url: ftp://test.com/test\n', path: 'spec.url', message: 'url contains unsupported scheme: ftp' },
    { name: 'host:port url without scheme', spec: '  url: "localhost:5000/filter"\n', path: 'spec.url', message: 'url contains unsupported scheme: localhost' },
    {
      name: 'unparsable url',
      spec: '  url: "foo bar:x"\n',
      path: 'spec.url',
      message: 'failed to parse url: parse "foo bar:x": invalid URI for request',
    },
    { name: 'short sha', spec: '  url: http://test.com/test\n  sha256: 01ba47\n', path: 'spec.sha256', message: 'sha256 field must be 64 characters long' },
    { name: 'upper-case sha', spec: `  url: http://test.com/test\n  sha256: ${SHA.replace('b', 'B')}\n`, path: 'spec.sha256', message: 'sha256 field must match [a-f0-9]{64} pattern' },
    { name: 'long pull secret', spec: `  url: oci://x/y\n  imagePullSecret: ${'a'.repeat(254)}\n`, path: 'spec.imagePullSecret', message: 'imagePullSecret field must be less than 253 characters long' },
    { name: 'long plugin name', spec: `  url: oci://x/y\n  pluginName: ${'a'.repeat(257)}\n`, path: 'spec.pluginName', message: 'pluginName field must be less than 255 characters long' },
    { name: 'env without name', spec: '  url: oci://x/y\n  vmConfig: {env: [{value: a}]}\n', path: 'spec.vmConfig.env[0].name', message: 'spec.vmConfig.env invalid' },
    { name: 'duplicate env', spec: '  url: oci://x/y\n  vmConfig: {env: [{name: A}, {name: A}]}\n', path: 'spec.vmConfig.env[1].name', message: 'duplicate env' },
    {
      name: 'value with HOST',
      spec: '  url: oci://x/y\n  vmConfig: {env: [{name: A, valueFrom: HOST, value: b}]}\n',
      path: 'spec.vmConfig.env[0].value',
      message: 'value may only be set when valueFrom is INLINE',
    },
    { name: 'port 0', spec: '  url: oci://x/y\n  match: [{ports: [{number: 80}, {}]}]\n', path: 'spec.match[0].ports[1].number', message: 'spec.Match[0].Ports[1] is out of range: 0' },
    { name: 'port too big', spec: '  url: oci://x/y\n  match: [{ports: [{number: 65536}]}]\n', path: 'spec.match[0].ports[0].number', message: 'spec.Match[0].Ports[0] is out of range: 65536' },
    { name: 'unknown phase', spec: '  url: oci://x/y\n  phase: ROUTER\n', path: 'spec.phase', message: 'must be one of UNSPECIFIED_PHASE, AUTHN, AUTHZ, STATS' },
    { name: 'unknown fail strategy', spec: '  url: oci://x/y\n  failStrategy: FAIL_SOMETIMES\n', path: 'spec.failStrategy', message: 'must be one of FAIL_CLOSE, FAIL_OPEN, FAIL_RELOAD' },
    {
      name: 'selector and targetRefs',
      spec: '  url: oci://x/y\n  selector: {matchLabels: {app: a}}\n  targetRefs: [{kind: Service, name: s}]\n',
      path: 'spec',
      message: 'only one of targetRefs or workloadSelector can be set',
    },
    { name: 'unknown field', spec: '  url: oci://x/y\n  config: {}\n', path: 'spec.config', message: 'unknown field "config"' },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      expectInvalid(head(c.spec), K, [{ path: c.path, message: c.message }]);
    });

  it('rejects the dry-run annotation', () => {
    expectInvalid(head('  url: oci://x/y\n', ', annotations: {"istio.io/dry-run": "false"}'), K, [
      { path: 'metadata.annotations["istio.io/dry-run"]', message: 'foo/wp has unsupported annotation istio.io/dry-run' },
    ]);
  });

  it('resolves the effective scheme and defaults', () => {
    assert.equal(wasmPluginScheme('ghcr.io/x/y:1.0'), 'oci');
    assert.equal(wasmPluginScheme('OCI://ghcr.io/x/y'), 'oci');
    assert.equal(wasmPluginScheme('https://x/y.wasm'), 'https');
    assert.equal(wasmPluginScheme('file:///opt/x.wasm'), 'file');
    assert.equal(wasmPluginUrlError('test.com/test'), undefined);
    assert.equal(wasmPluginUrlError('oci://test.com/test'), undefined);
    const out = validateYaml(head('  url: oci://x/y\n'), K);
    assert.ok(out.ok);
    const wp = out.resource as WasmPlugin;
    assert.equal(effectivePhase(wp), 'UNSPECIFIED_PHASE');
    assert.equal(effectivePriority(wp), 0);
    assert.equal(effectiveFailStrategy(wp), 'FAIL_CLOSE');
    assert.equal(effectivePluginType(wp), 'HTTP');
    const out2 = validateYaml(head('  url: oci://x/y\n  phase: STATS\n  priority: -5\n  type: NETWORK\n'), K);
    assert.ok(out2.ok);
    const wp2 = out2.resource as WasmPlugin;
    assert.equal(effectivePhase(wp2), 'STATS');
    assert.equal(effectivePriority(wp2), -5);
    assert.equal(effectivePluginType(wp2), 'NETWORK');
  });
});
