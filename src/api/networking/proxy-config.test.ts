import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid, validateYaml } from '../../../test/support/kinds.js';
import { effectiveConcurrency, PROXY_CONFIG, type ProxyConfig } from './proxy-config.js';

const K = [PROXY_CONFIG];
const head = (spec: string, v = 'v1beta1'): string =>
  `apiVersion: networking.istio.io/${v}\nkind: ProxyConfig\nmetadata: {name: pc, namespace: istio-system}\nspec:\n${spec}`;

describe('ProxyConfig', () => {
  it('is served as v1beta1 only', () => {
    expectValid(head('  concurrency: 2\n'), K);
    const out = validateYaml(head('  concurrency: 2\n', 'v1'), K);
    assert.ok(!out.ok);
    assert.match(out.issues[0]?.message ?? '', /version "v1" of ProxyConfig is not served; use one of networking.istio.io\/v1beta1/);
  });

  it('accepts the full example from Istio testdata and the docs', () => {
    // istio/istio pkg/config/validation/testdata/crds/proxyconfig-valid.yaml
    const w = expectValid(
      head('  concurrency: 1\n  selector:\n    matchLabels: {foo: bar}\n  image:\n    imageType: foo\n  environmentVariables:\n    foo: baz\n'),
      K,
    );
    assert.deepEqual(w, []);
    // https://istio.io/latest/docs/reference/config/networking/proxy-config/
    expectValid(head('  concurrency: 0\n  image: {imageType: distroless}\n  environmentVariables: {ISTIO_META_DNS_CAPTURE: "true"}\n'), K);
  });

  it('accepts an empty selector with a warning, a null concurrency and no spec', () => {
    const w = expectValid(head('  selector:\n    matchLabels: {}\n  concurrency: null\n'), K);
    assert.deepEqual(
      w.map((i) => `${i.path}: ${i.message}`),
      ['spec.selector: workload selector specified without labels'],
    );
    expectValid('apiVersion: networking.istio.io/v1beta1\nkind: ProxyConfig\nmetadata: {name: pc}\n', K);
  });

  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'negative concurrency', spec: '  concurrency: -1\n', path: 'spec.concurrency', message: 'concurrency must be greater than or equal to 0' },
    { name: 'fractional concurrency', spec: '  concurrency: 1.5\n', path: 'spec.concurrency', message: 'must be an integer' },
    { name: 'an empty selector key', spec: '  selector:\n    matchLabels: {"": bar}\n', path: 'spec.selector.matchLabels', message: 'empty key is not supported in selector: "=bar"' },
    { name: 'a wildcard selector', spec: '  selector:\n    matchLabels: {app: "*"}\n', path: 'spec.selector.matchLabels.app', message: 'wildcard is not supported in selector: "app=*"' },
    { name: 'a non-string env var', spec: '  environmentVariables: {FOO: 1}\n', path: 'spec.environmentVariables.FOO', message: 'must be a string, got number 1' },
    { name: 'an unknown image field', spec: '  image: {type: debug}\n', path: 'spec.image.type', message: 'unknown field "type"' },
    { name: 'labels instead of matchLabels', spec: '  selector: {labels: {app: a}}\n', path: 'spec.selector.labels', message: 'unknown field "labels"' },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      expectInvalid(head(c.spec), K, [{ path: c.path, message: c.message }]);
    });

  it('exposes the effective concurrency', () => {
    const out = validateYaml(head('  concurrency: 0\n'), K);
    assert.ok(out.ok);
    assert.equal(effectiveConcurrency((out.resource as ProxyConfig).spec), 0);
    assert.equal(effectiveConcurrency({}), undefined);
    assert.equal(effectiveConcurrency({ concurrency: null }), undefined);
  });
});
