import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { WireType } from '@bufbuild/protobuf/wire';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { PluginConfigSchema } from './gen/envoy/extensions/wasm/v3/wasm_pb.js';
import { WasmSchema } from './gen/envoy/extensions/filters/http/wasm/v3/wasm_pb.js';
import { WasmSchema as NetworkWasmSchema } from './gen/envoy/extensions/filters/network/wasm/v3/wasm_pb.js';
import { XDS_REGISTRY } from './codec.js';
import { FAILURE_POLICY_FIELD, failurePolicyOf, withFailurePolicy, type WasmFailurePolicy } from './wasm-failure-policy.js';

const POLICIES: readonly [WasmFailurePolicy, number][] = [
  ['FAIL_RELOAD', 1],
  ['FAIL_CLOSED', 2],
  ['FAIL_OPEN', 3],
];

describe('wasm failure_policy (PluginConfig field 9)', () => {
  for (const [policy, code] of POLICIES) {
    it(`${policy} is written as field 9 varint ${code} and read back`, () => {
      const pc = withFailurePolicy(create(PluginConfigSchema, { name: 'default.p' }), policy);
      assert.equal(failurePolicyOf(pc), policy);
      const bytes = toBinary(PluginConfigSchema, pc);
      // tag (9 << 3 | varint) = 0x48, then the enum value; nothing else on the wire but the name.
      const tail = bytes.slice(bytes.length - 2);
      assert.deepEqual([...tail], [0x48, code]);
      assert.equal(failurePolicyOf(fromBinary(PluginConfigSchema, bytes)), policy);
    });
  }

  it('survives packing the filter config into an Any and unpacking it again', () => {
    const wasm = create(WasmSchema, { config: withFailurePolicy(create(PluginConfigSchema, { name: 'ns.p', rootId: 'r', failOpen: false }), 'FAIL_RELOAD') });
    const back = anyUnpack(anyPack(WasmSchema, wasm), XDS_REGISTRY);
    assert.ok(back !== undefined && back.$typeName === 'envoy.extensions.filters.http.wasm.v3.Wasm');
    const config = (back as typeof wasm).config;
    assert.ok(config !== undefined);
    assert.equal(config.name, 'ns.p');
    assert.equal(failurePolicyOf(config), 'FAIL_RELOAD');
    const net = create(NetworkWasmSchema, { config: withFailurePolicy(create(PluginConfigSchema), 'FAIL_CLOSED') });
    const netBack = anyUnpack(anyPack(NetworkWasmSchema, net), NetworkWasmSchema);
    assert.equal(failurePolicyOf(netBack?.config ?? create(PluginConfigSchema)), 'FAIL_CLOSED');
  });

  it('replaces an earlier value and keeps other unknown fields', () => {
    const pc = create(PluginConfigSchema);
    pc.$unknown = [{ no: 42, wireType: WireType.Varint, data: Uint8Array.of(1) }];
    withFailurePolicy(pc, 'FAIL_OPEN');
    withFailurePolicy(pc, 'FAIL_RELOAD');
    assert.equal(pc.$unknown?.filter((f) => f.no === FAILURE_POLICY_FIELD).length, 1);
    assert.ok(pc.$unknown?.some((f) => f.no === 42));
    assert.equal(failurePolicyOf(fromBinary(PluginConfigSchema, toBinary(PluginConfigSchema, pc))), 'FAIL_RELOAD');
  });

  const unreadable: readonly [string, Uint8Array, WireType][] = [
    ['UNSPECIFIED (0)', Uint8Array.of(0), WireType.Varint],
    ['an enum value from a newer Envoy (7)', Uint8Array.of(7), WireType.Varint],
    ['a truncated varint', Uint8Array.of(0x80), WireType.Varint],
    ['a field 9 of another wire type', Uint8Array.of(1), WireType.Bit32],
  ];
  for (const [name, data, wireType] of unreadable) {
    it(`reads ${name} as no policy`, () => {
      const pc = create(PluginConfigSchema);
      pc.$unknown = [{ no: FAILURE_POLICY_FIELD, wireType, data }];
      assert.equal(failurePolicyOf(pc), undefined);
    });
  }

  it('reads a config without the field as no policy', () => {
    assert.equal(failurePolicyOf(create(PluginConfigSchema, { failOpen: true })), undefined);
  });
});
