// Connection manager settings from the node metadata and the mesh config, as Istio sets them
// (listener_builder.go buildHTTPConnectionManager), on sidecar and gateway connection managers alike:
// accept_http_10 when the node metadata's HTTP10 is "1" or "true", and path normalization per
// meshConfig.pathNormalization.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { translate } from '../../../src/translate/translate.js';
import { HttpConnectionManagerSchema, type HttpConnectionManager } from '../../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { meshFromYaml, testProxy, type TestProxyOptions } from '../../support/mesh.js';
import { parseMeshConfig, type MeshConfig } from '../../../src/model/mesh-config.js';
import { HttpConnectionManager_PathWithEscapedSlashesAction as EscapedSlashes } from '../../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { REVIEWS_AND_RATINGS } from './harness.js';

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
`;

/** Every HTTP connection manager of the proxy's listeners, with its listener's name. */
function hcms(proxy: TestProxyOptions, mesh?: MeshConfig): { listener: string; hcm: HttpConnectionManager }[] {
  const { snapshot } = meshFromYaml(`${REVIEWS_AND_RATINGS}\n---\n${GATEWAY}`, mesh !== undefined ? { mesh } : {});
  const out: { listener: string; hcm: HttpConnectionManager }[] = [];
  for (const l of translate(snapshot, testProxy(proxy)).listeners) {
    for (const c of [...l.filterChains, ...(l.defaultFilterChain !== undefined ? [l.defaultFilterChain] : [])]) {
      for (const f of c.filters) {
        if (f.configType.case !== 'typedConfig' || !f.configType.value.typeUrl.endsWith(HttpConnectionManagerSchema.typeName)) continue;
        const h = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
        if (h !== undefined) out.push({ listener: l.name, hcm: h });
      }
    }
  }
  return out;
}

const SIDECAR: TestProxyOptions = { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, ip: '10.1.0.5' };
const ROUTER: TestProxyOptions = { type: 'router', name: 'ingress', namespace: 'istio-system', labels: { istio: 'ingressgateway' } };

describe('accept_http_10 from the node metadata HTTP10', () => {
  for (const [name, proxy] of [
    ['a sidecar (inbound and outbound)', SIDECAR],
    ['a gateway', ROUTER],
  ] as const) {
    it(`${name}: off by default; "1" or "TRUE" turns it on for every connection manager; anything else does not`, () => {
      const off = hcms(proxy);
      assert.ok(off.length >= (proxy === SIDECAR ? 2 : 1), `connection managers: ${off.map((x) => x.listener).join(', ')}`);
      assert.deepEqual(off.filter((x) => x.hcm.httpProtocolOptions?.acceptHttp10 === true), []);
      for (const v of ['1', 'TRUE']) {
        const on = hcms({ ...proxy, metadata: { HTTP10: v } });
        assert.equal(on.length, off.length);
        assert.deepEqual(on.filter((x) => x.hcm.httpProtocolOptions?.acceptHttp10 !== true).map((x) => x.listener), [], `HTTP10=${v}`);
        // Nothing else in them changes.
        on.forEach((x, i) => assert.equal(x.hcm.statPrefix, off[i]?.hcm.statPrefix));
      }
      assert.deepEqual(hcms({ ...proxy, metadata: { HTTP10: 'yes' } }).filter((x) => x.hcm.httpProtocolOptions?.acceptHttp10 === true), []);
    });
  }
});

describe('path normalization from meshConfig.pathNormalization', () => {
  const mesh = (normalization?: string): MeshConfig => {
    const r = parseMeshConfig(normalization === undefined ? {} : { pathNormalization: { normalization } });
    if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    return r.value;
  };
  const settings = (m: MeshConfig): string[] => [
    ...new Set([...hcms(SIDECAR, m), ...hcms(ROUTER, m)].map(({ hcm }) => `${String(hcm.normalizePath)} ${String(hcm.mergeSlashes)} ${EscapedSlashes[hcm.pathWithEscapedSlashesAction]}`)),
  ];
  it('DEFAULT and BASE normalize with escaped slashes kept; NONE, MERGE_SLASHES and DECODE_AND_MERGE_SLASHES as Istio sets them', () => {
    assert.deepEqual(settings(mesh()), ['true false KEEP_UNCHANGED']);
    assert.deepEqual(settings(mesh('BASE')), ['true false KEEP_UNCHANGED']);
    assert.deepEqual(settings(mesh('NONE')), ['false false KEEP_UNCHANGED']);
    assert.deepEqual(settings(mesh('MERGE_SLASHES')), ['true true KEEP_UNCHANGED']);
    assert.deepEqual(settings(mesh('DECODE_AND_MERGE_SLASHES')), ['true true UNESCAPE_AND_FORWARD']);
  });
  it('an unknown mode is refused, naming the field', () => {
    const r = parseMeshConfig({ pathNormalization: { normalization: 'AGGRESSIVE' } });
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.issues.map((i) => `${i.path}: ${i.message}`).join(), /pathNormalization\.normalization: must be one of DEFAULT, NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES, found "AGGRESSIVE"/);
  });
});
