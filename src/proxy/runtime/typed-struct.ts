// TypedStruct (udpa.type.v1 and xds.type.v3): a config given as JSON for an extension whose proto is not
// compiled in, `{type_url, value: Struct}`. istiod wraps Istio's own filters' configs in it
// (pilot/pkg/util/protoconv TypedStructWithFields). Decoded once per Any (resources are immutable).

import type { JsonObject } from '@bufbuild/protobuf';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { TypedStructSchema as UdpaTypedStructSchema } from '../../xds/gen/udpa/type/v1/typed_struct_pb.js';
import { TypedStructSchema as XdsTypedStructSchema } from '../../xds/gen/xds/type/v3/typed_struct_pb.js';

export interface TypedStructValue {
  /** The wrapped config's type name (after the last '/' of type_url). */
  readonly type: string;
  readonly value: JsonObject;
}

const memo = new WeakMap<Any, TypedStructValue | null>();

/** The TypedStruct in `a`, or undefined when `a` holds something else. */
export function typedStructOf(a: Any): TypedStructValue | undefined {
  let v = memo.get(a);
  if (v === undefined) {
    v = null;
    const name = a.typeUrl.slice(a.typeUrl.lastIndexOf('/') + 1);
    const m = name === UdpaTypedStructSchema.typeName ? anyUnpack(a, UdpaTypedStructSchema) : name === XdsTypedStructSchema.typeName ? anyUnpack(a, XdsTypedStructSchema) : undefined;
    if (m !== undefined) {
      // protobuf-es gives a google.protobuf.Struct field as plain JSON.
      v = { type: m.typeUrl.slice(m.typeUrl.lastIndexOf('/') + 1), value: m.value ?? {} };
    }
    memo.set(a, v);
  }
  return v ?? undefined;
}
