import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TrafficSelector, WasmPlugin, WasmPluginSpec } from '../../api/extensions/wasm-plugin.js';
import { matchesTraffic, selectWasmPlugins, type WasmListenerInfo } from './wasm-plugins-for-listener.js';

function plugin(name: string, spec: Partial<WasmPluginSpec> = {}, namespace = 'shop'): WasmPlugin {
  return { apiVersion: 'extensions.istio.io/v1alpha1', kind: 'WasmPlugin', metadata: { name, namespace }, spec: { url: 'oci://x/y:z', ...spec } } as WasmPlugin;
}

const INBOUND_8080: WasmListenerInfo = { class: 'sidecar-inbound', port: 8080 };
const OUTBOUND_9080: WasmListenerInfo = { class: 'sidecar-outbound', port: 9080 };
const GATEWAY_443: WasmListenerInfo = { class: 'gateway', port: 443 };
const APP = { namespace: 'shop', labels: { app: 'cart' } };

describe('matchesTraffic (matchTrafficSelectors)', () => {
  const cases: readonly { name: string; match: TrafficSelector[] | undefined; info: WasmListenerInfo; want: boolean }[] = [
    { name: 'no match: everything', match: undefined, info: OUTBOUND_9080, want: true },
    { name: 'empty list: everything', match: [], info: INBOUND_8080, want: true },
    { name: 'SERVER: inbound', match: [{ mode: 'SERVER' }], info: INBOUND_8080, want: true },
    { name: 'SERVER: not outbound', match: [{ mode: 'SERVER' }], info: OUTBOUND_9080, want: false },
    { name: 'SERVER: not a gateway (gateways are CLIENT)', match: [{ mode: 'SERVER' }], info: GATEWAY_443, want: false },
    { name: 'CLIENT: outbound', match: [{ mode: 'CLIENT' }], info: OUTBOUND_9080, want: true },
    { name: 'CLIENT: gateway', match: [{ mode: 'CLIENT' }], info: GATEWAY_443, want: true },
    { name: 'CLIENT: not inbound', match: [{ mode: 'CLIENT' }], info: INBOUND_8080, want: false },
    { name: 'CLIENT_AND_SERVER: both', match: [{ mode: 'CLIENT_AND_SERVER' }], info: INBOUND_8080, want: true },
    { name: 'UNDEFINED mode with a port: that port only', match: [{ ports: [{ number: 8080 }] }], info: INBOUND_8080, want: true },
    { name: 'another port', match: [{ ports: [{ number: 8081 }] }], info: INBOUND_8080, want: false },
    { name: 'mode and port must hold in one selector', match: [{ mode: 'CLIENT', ports: [{ number: 8080 }] }], info: INBOUND_8080, want: false },
    { name: 'any selector may match', match: [{ mode: 'CLIENT' }, { mode: 'SERVER', ports: [{ number: 8080 }] }], info: INBOUND_8080, want: true },
    { name: 'a port list never matches the port-less passthrough chain', match: [{ ports: [{ number: 8080 }] }], info: { class: 'sidecar-inbound', port: 0 }, want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(matchesTraffic(c.match, c.info), c.want));
});

describe('selectWasmPlugins (WasmPluginsByListenerInfo)', () => {
  const names = (l: readonly WasmPlugin[]): string[] => l.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);

  it('groups by phase and sorts each by priority, highest first; no priority sorts last', () => {
    const got = selectWasmPlugins(
      [
        plugin('a', { phase: 'AUTHN', priority: 10 }),
        plugin('b', { phase: 'AUTHN', priority: 100 }),
        plugin('c', { phase: 'AUTHN' }),
        plugin('d', { phase: 'AUTHN', priority: -5 }),
        plugin('e', { phase: 'STATS' }),
        plugin('f'),
      ],
      APP,
      INBOUND_8080,
      'HTTP',
    );
    assert.deepEqual(names(got.AUTHN), ['shop/b', 'shop/a', 'shop/d', 'shop/c']);
    assert.deepEqual(names(got.AUTHZ), []);
    assert.deepEqual(names(got.STATS), ['shop/e']);
    assert.deepEqual(names(got.UNSPECIFIED_PHASE), ['shop/f']);
  });

  it('keeps the candidate order for equal priorities (own namespace, then root, each oldest first)', () => {
    const got = selectWasmPlugins([plugin('z', { priority: 1 }), plugin('m', { priority: 1 }), plugin('root', { priority: 1 }, 'istio-system')], APP, INBOUND_8080, 'HTTP');
    assert.deepEqual(names(got.UNSPECIFIED_PHASE), ['shop/z', 'shop/m', 'istio-system/root']);
  });

  it('takes HTTP and unspecified types for HCMs, NETWORK ones for network chains', () => {
    const list = [plugin('http', { type: 'HTTP' }), plugin('unspecified'), plugin('net', { type: 'NETWORK' })];
    assert.deepEqual(names(selectWasmPlugins(list, APP, INBOUND_8080, 'HTTP').UNSPECIFIED_PHASE), ['shop/http', 'shop/unspecified']);
    assert.deepEqual(names(selectWasmPlugins(list, APP, INBOUND_8080, 'NETWORK').UNSPECIFIED_PHASE), ['shop/net']);
  });

  it('attaches by selector, and never by targetRefs to a sidecar', () => {
    const list = [
      plugin('mine', { selector: { matchLabels: { app: 'cart' } } }),
      plugin('theirs', { selector: { matchLabels: { app: 'web' } } }),
      plugin('targeted', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }] }),
    ];
    assert.deepEqual(names(selectWasmPlugins(list, APP, INBOUND_8080, 'HTTP').UNSPECIFIED_PHASE), ['shop/mine']);
  });

  it('attaches to a Gateway API gateway by targetRefs in its namespace, or by selector without targetRefs', () => {
    const gw = { namespace: 'shop', labels: { 'gateway.networking.k8s.io/gateway-name': 'gw' } };
    const list = [
      plugin('targeted', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }] }),
      plugin('other-gw', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'other' }] }),
      plugin('by-label', { selector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'gw' } } }),
      plugin('root-targeted', { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }] }, 'istio-system'),
    ];
    assert.deepEqual(names(selectWasmPlugins(list, gw, GATEWAY_443, 'HTTP').UNSPECIFIED_PHASE), ['shop/targeted', 'shop/by-label']);
  });

  it('drops plugins whose match rules out the listener', () => {
    const list = [plugin('client', { match: [{ mode: 'CLIENT' }] }), plugin('server', { match: [{ mode: 'SERVER' }] })];
    assert.deepEqual(names(selectWasmPlugins(list, APP, OUTBOUND_9080, 'HTTP').UNSPECIFIED_PHASE), ['shop/client']);
    assert.deepEqual(names(selectWasmPlugins(list, APP, INBOUND_8080, 'HTTP').UNSPECIFIED_PHASE), ['shop/server']);
  });
});
