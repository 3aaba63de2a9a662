// Listener filters' filter_disabled (ListenerFilterChainMatchPredicate over the destination port), as Istio
// writes them for the inbound listener's inspectors: an or_match of the ports that need no inspection, or a
// not_match of those that do. https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#config-listener-v3-listenerfilterchainmatchpredicate

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { compileListener } from './compile-listener.js';

function compile(tlsDisabled: JsonObject | undefined, httpDisabled?: JsonObject) {
  const f = (name: string, type: string, disabled: JsonObject | undefined): JsonObject => ({ name: `envoy.filters.listener.${name}`, typedConfig: { '@type': `type.googleapis.com/${type}` }, ...(disabled !== undefined ? { filterDisabled: disabled } : {}) });
  return compileListener(
    fromJson(
      ListenerSchema,
      {
        name: 'virtualInbound',
        address: { socketAddress: { address: '0.0.0.0', portValue: 15006 } },
        listenerFilters: [f('tls_inspector', 'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector', tlsDisabled), f('http_inspector', 'envoy.extensions.filters.listener.http_inspector.v3.HttpInspector', httpDisabled)],
      },
      { registry: XDS_REGISTRY },
    ),
  );
}

const range = (p: number): JsonObject => ({ destinationPortRange: { start: p, end: p + 1 } });

test('or_match of port ranges disables an inspector on exactly those ports; not_match on all but those', () => {
  const r = compile({ orMatch: { rules: [range(3306), range(25)] } }, { notMatch: range(8080) });
  assert.ok(r.ok);
  const d = r.value.inspectorDisabled;
  assert.deepEqual([3306, 25, 26, 8080].map((p) => d.tls(p)), [true, true, false, false]);
  assert.deepEqual([3306, 8080].map((p) => d.http(p)), [true, false]);
});

test('any_match disables everywhere; without filter_disabled an inspector is never disabled', () => {
  const r = compile({ anyMatch: true });
  assert.ok(r.ok);
  assert.deepEqual([r.value.inspectorDisabled.tls(1), r.value.inspectorDisabled.http(1)], [true, false]);
});

test('an and_match or or_match with fewer than two rules is refused, as Envoy validates it', () => {
  const r = compile({ andMatch: { rules: [range(1)] } });
  assert.ok(!r.ok);
  assert.deepEqual(r.problems, ['listener_filters[0](envoy.filters.listener.tls_inspector).filter_disabled.and_match.rules: value must contain at least 2 item(s)']);
});
