// parseMeshConfig: access-log extension providers and defaultProviders.accessLogging.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_ENVOY_ACCESS_LOG, DEFAULT_MESH_CONFIG, parseMeshConfig, type AccessLogProvider } from './mesh-config.js';

function providers(input: unknown): readonly AccessLogProvider[] | undefined {
  const r = parseMeshConfig(input);
  assert.ok(r.ok, r.ok ? '' : r.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  return r.value.accessLogProviders;
}

describe('mesh config: access-log providers', () => {
  it('the default mesh config has the built-in `envoy` file provider writing to /dev/stdout, and no default providers', () => {
    assert.deepEqual(DEFAULT_MESH_CONFIG.accessLogProviders, [BUILTIN_ENVOY_ACCESS_LOG]);
    assert.deepEqual(BUILTIN_ENVOY_ACCESS_LOG, { name: 'envoy', kind: 'envoyFileAccessLog', envoyFileAccessLog: { path: '/dev/stdout', omitEmptyValues: false } });
    assert.equal(DEFAULT_MESH_CONFIG.defaultProviders?.accessLogging, undefined);
  });

  const cases: { name: string; input: unknown; want: readonly AccessLogProvider[] }[] = [
    { name: 'user providers of other kinds keep the built-in', input: { extensionProviders: [{ name: 'prom2', prometheus: {} }] }, want: [BUILTIN_ENVOY_ACCESS_LOG] },
    {
      name: 'a text format',
      input: { extensionProviders: [{ name: 'text', envoyFileAccessLog: { path: '/var/log/a.log', logFormat: { text: '%RESPONSE_CODE%' } } }] },
      want: [BUILTIN_ENVOY_ACCESS_LOG, { name: 'text', kind: 'envoyFileAccessLog', envoyFileAccessLog: { path: '/var/log/a.log', omitEmptyValues: false, logFormat: { kind: 'text', text: '%RESPONSE_CODE%' } } }],
    },
    {
      name: 'JSON labels and omitEmptyValues',
      input: { extensionProviders: [{ name: 'json', envoyFileAccessLog: { omitEmptyValues: true, logFormat: { labels: { code: '%RESPONSE_CODE%', n: 1 } } } }] },
      want: [BUILTIN_ENVOY_ACCESS_LOG, { name: 'json', kind: 'envoyFileAccessLog', envoyFileAccessLog: { path: '', omitEmptyValues: true, logFormat: { kind: 'labels', labels: { code: '%RESPONSE_CODE%', n: 1 } } } }],
    },
    {
      name: 'a user provider named `envoy` replaces the built-in',
      input: { extensionProviders: [{ name: 'envoy', envoyFileAccessLog: { path: '/tmp/envoy.log' } }] },
      want: [{ name: 'envoy', kind: 'envoyFileAccessLog', envoyFileAccessLog: { path: '/tmp/envoy.log', omitEmptyValues: false } }],
    },
    { name: '`envoy` redefined as another kind is no longer an access-log provider', input: { extensionProviders: [{ name: 'envoy', prometheus: {} }] }, want: [] },
    {
      name: 'ALS kinds are kept by name (translation reports them as unsupported)',
      input: { extensionProviders: [{ name: 'otel', envoyOtelAls: { service: 'otel.x', port: 4317 } }, { name: 'http-als', envoyHttpAls: { service: 'a', port: 1 } }, { name: 'tcp-als', envoyTcpAls: { service: 'a', port: 1 } }] },
      want: [BUILTIN_ENVOY_ACCESS_LOG, { name: 'otel', kind: 'envoyOtelAls' }, { name: 'http-als', kind: 'envoyHttpAls' }, { name: 'tcp-als', kind: 'envoyTcpAls' }],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(providers(c.input), c.want));

  it('defaultProviders.accessLogging is read', () => {
    const r = parseMeshConfig({ defaultProviders: { accessLogging: ['envoy'], metrics: ['prometheus'] } });
    assert.ok(r.ok);
    assert.deepEqual(r.value.defaultProviders?.accessLogging, ['envoy']);
    assert.deepEqual(r.value.defaultProviders?.metrics, ['prometheus']);
  });
});

describe('mesh config: access-log provider problems name the field', () => {
  const cases: { name: string; input: unknown; issues: string[] }[] = [
    { name: 'provider not an object', input: { extensionProviders: [{ name: 'f', envoyFileAccessLog: 'x' }] }, issues: ['extensionProviders[0].envoyFileAccessLog: must be an object'] },
    { name: 'path not a string', input: { extensionProviders: [{ name: 'f', envoyFileAccessLog: { path: 3 } }] }, issues: ['extensionProviders[0].envoyFileAccessLog.path: must be a string'] },
    {
      name: 'both text and labels',
      input: { extensionProviders: [{ name: 'f', envoyFileAccessLog: { logFormat: { text: 'a', labels: { a: 'b' } } } }] },
      issues: ['extensionProviders[0].envoyFileAccessLog.logFormat: only one of text or labels may be set'],
    },
    {
      name: 'labels not a map',
      input: { extensionProviders: [{ name: 'f', envoyFileAccessLog: { logFormat: { labels: ['a'] } } }] },
      issues: ['extensionProviders[0].envoyFileAccessLog.logFormat.labels: must be a map of JSON keys to Envoy command operators'],
    },
    { name: 'text not a string', input: { extensionProviders: [{ name: 'f', envoyFileAccessLog: { logFormat: { text: 1 } } }] }, issues: ['extensionProviders[0].envoyFileAccessLog.logFormat.text: must be a string'] },
    { name: 'omitEmptyValues not a boolean', input: { extensionProviders: [{ name: 'f', envoyFileAccessLog: { omitEmptyValues: 'yes' } }] }, issues: ['extensionProviders[0].envoyFileAccessLog.omitEmptyValues: must be true or false'] },
    { name: 'an ALS provider not an object', input: { extensionProviders: [{ name: 'o', envoyOtelAls: 1 }] }, issues: ['extensionProviders[0].envoyOtelAls: must be an object'] },
    { name: 'defaultProviders.accessLogging not a list of strings', input: { defaultProviders: { accessLogging: 'envoy' } }, issues: ['defaultProviders.accessLogging: must be a list of strings'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseMeshConfig(c.input);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.deepEqual(r.issues.map((i) => `${i.path}: ${i.message}`), c.issues);
    });
  }
});
