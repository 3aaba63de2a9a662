// Encodes each SotW DiscoveryResponse body once for every stream it is sent to. Proxies that see the same
// config are sent the same resources with the same version_info; only the nonce differs. Protobuf writes
// fields in field-number order, so a response is its shared part (version_info = 1, resources = 2,
// type_url = 4) followed by its own (nonce = 5, control_plane = 6): the bytes are exactly what encoding
// the whole message gives (tested), built by copying instead of re-encoding every resource per stream.
// The shared parts are kept in a cache bounded by size; a miss only costs an encoding.

import { create, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { DiscoveryResponseSchema, type DiscoveryResponse } from '../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import type { GeneratedResource } from './generation.js';

/** version_info, resources and type_url of a response, encoded. */
export function encodeResponseBody(typeUrl: string, versionInfo: string, resources: Iterable<GeneratedResource>): Uint8Array {
  const w = new BinaryWriter();
  if (versionInfo !== '') w.tag(1, WireType.LengthDelimited).string(versionInfo);
  for (const r of resources) w.tag(2, WireType.LengthDelimited).bytes(r.wire());
  if (typeUrl !== '') w.tag(4, WireType.LengthDelimited).string(typeUrl);
  return w.finish();
}

/** The whole response: a body from encodeResponseBody, then nonce and control_plane. */
export function encodeResponse(body: Uint8Array, nonce: string, controlPlaneId: string): Buffer {
  const tail = toBinary(DiscoveryResponseSchema, create(DiscoveryResponseSchema, { nonce, controlPlane: { identifier: controlPlaneId } }));
  return Buffer.concat([body, tail]);
}

/** Encoded bodies by type URL and version_info (a hash of every (name, version) sent), least recently used dropped first. */
export class ResponseBodies {
  private readonly bodies = new Map<string, Uint8Array>();
  private size = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  body(typeUrl: string, versionInfo: string, resources: () => Iterable<GeneratedResource>): Uint8Array {
    const key = `${typeUrl}\n${versionInfo}`;
    let b = this.bodies.get(key);
    if (b !== undefined) {
      this.bodies.delete(key);
      this.bodies.set(key, b);
      return b;
    }
    b = encodeResponseBody(typeUrl, versionInfo, resources());
    this.bodies.set(key, b);
    this.size += b.length;
    for (const [k, v] of this.bodies) {
      if (this.size <= this.maxBytes || k === key) break;
      this.bodies.delete(k);
      this.size -= v.length;
    }
    return b;
  }
}

/** Responses whose encoding was made ahead (by the stream that sends them); the serializer uses it. */
const preEncoded = new WeakMap<DiscoveryResponse, Buffer>();

export function setEncoding(res: DiscoveryResponse, bytes: Buffer): void {
  preEncoded.set(res, bytes);
}

/** ADS SotW response serializer: the encoding made ahead if there is one, else protobuf's. */
export function serializeResponse(res: DiscoveryResponse): Buffer {
  return preEncoded.get(res) ?? Buffer.from(toBinary(DiscoveryResponseSchema, res));
}
