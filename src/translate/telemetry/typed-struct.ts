// Istio's protoconv.TypedStructWithFields: a filter config carried as `udpa.type.v1.TypedStruct` (the config's
// own type URL plus its fields as a Struct) packed into an Any, for filters whose proto is Istio's own
// (istio.metadata_exchange, istio.stats). Field names are the proto's snake_case JSON names.

import { create, type JsonObject } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { pack } from '../../xds/codec.js';
import { TypedStructSchema } from '../../xds/gen/udpa/type/v1/typed_struct_pb.js';

/** Any{type.googleapis.com/udpa.type.v1.TypedStruct}{type_url: `typeUrl`, value: `fields`}. */
export function typedStructAny(typeUrl: string, fields: JsonObject): Any {
  return pack(TypedStructSchema, create(TypedStructSchema, { typeUrl, value: fields }));
}
