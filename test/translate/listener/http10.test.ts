// HTTP/1.0 on the connection managers, as Istio sets it (listener_builder.go: accept_http_10 when the node
// metadata's HTTP10 is "1" or "true"): off by default, on for every connection manager of a proxy that asks,
// sidecar and gateway alike, with the gateway's other http_protocol_options kept.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { translate } from '../../../src/translate/translate.js';
import { HttpConnectionManagerSchema, type HttpConnectionManager } from '../../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { meshFromYaml, testProxy, type TestProxyOptions } from '../../support/mesh.js';
import { REVIEWS_AND_RATINGS } from './harness.js';

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
`;

/** Every HTTP connection manager of the proxy's listeners, with its listener's name. */
function hcms(proxy: TestProxyOptions): { listener: string; hcm: HttpConnectionManager }[] {
  const { snapshot } = meshFromYaml(`${REVIEWS_AND_RATINGS}\n---\n${GATEWAY}`);
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
