// Envoy 1.33's `envoy.extensions.wasm.v3.PluginConfig.failure_policy` (field 9, enum FailurePolicy), which our
// generated PluginConfig predates. It travels as a real wire field through protobuf-es unknown fields
// (`$unknown`, written by toBinary and kept by fromBinary), so Envoy and our proxy read the same bytes.
// Envoy: api/envoy/extensions/wasm/v3/wasm.proto (FailurePolicy: UNSPECIFIED = 0, FAIL_RELOAD = 1,
// FAIL_CLOSED = 2, FAIL_OPEN = 3). When set to anything but UNSPECIFIED it overrides the deprecated
// `fail_open`. This file owns only the encoding; what a failure does is the proxy's business.

import type { UnknownField } from '@bufbuild/protobuf';
import { WireType } from '@bufbuild/protobuf/wire';
import type { PluginConfig } from './gen/envoy/extensions/wasm/v3/wasm_pb.js';

/** PluginConfig.failure_policy's field number. */
export const FAILURE_POLICY_FIELD = 9;

export type WasmFailurePolicy = 'FAIL_RELOAD' | 'FAIL_CLOSED' | 'FAIL_OPEN';

const CODES: Readonly<Record<WasmFailurePolicy, number>> = { FAIL_RELOAD: 1, FAIL_CLOSED: 2, FAIL_OPEN: 3 };
const NAMES: readonly (WasmFailurePolicy | undefined)[] = [undefined, 'FAIL_RELOAD', 'FAIL_CLOSED', 'FAIL_OPEN'];

function varint(n: number): Uint8Array {
  const out: number[] = [];
  let v = n >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** The value of a varint; undefined when it is malformed or longer than 32 bits of payload. */
function readVarint(data: Uint8Array): number | undefined {
  let v = 0;
  for (let i = 0; i < data.length && i < 5; i++) {
    const b = data[i] as number;
    v += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return v;
  }
  return undefined;
}

/**
 * `pc` with failure_policy set to `policy`: the message is changed in place (any earlier field 9 is replaced)
 * and returned, so it can be used while building a message.
 */
export function withFailurePolicy(pc: PluginConfig, policy: WasmFailurePolicy): PluginConfig {
  const others: UnknownField[] = (pc.$unknown ?? []).filter((f) => f.no !== FAILURE_POLICY_FIELD);
  pc.$unknown = [...others, { no: FAILURE_POLICY_FIELD, wireType: WireType.Varint, data: varint(CODES[policy]) }];
  return pc;
}

/**
 * The failure_policy `pc` carries, undefined when it is unset, UNSPECIFIED or a value this code does not know
 * (as for any proto3 enum field, the last occurrence on the wire wins).
 */
export function failurePolicyOf(pc: PluginConfig): WasmFailurePolicy | undefined {
  let found: WasmFailurePolicy | undefined;
  for (const f of pc.$unknown ?? []) {
    if (f.no !== FAILURE_POLICY_FIELD || f.wireType !== WireType.Varint) continue;
    const v = readVarint(f.data);
    found = v !== undefined ? NAMES[v] : undefined;
  }
  return found;
}
