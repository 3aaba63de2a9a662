// The wire format of Istio's TCP metadata exchange (the `istio-peer-exchange` ALPN protocol; istio/proxy
// source/extensions/filters/network/metadata_exchange, metadata_exchange_initial_header.h): once TLS has
// negotiated the protocol, each proxy writes one frame before any application byte, and reads the peer's:
//   magic 0x3D230467 (uint32, big endian) | length (uint32, big endian) | google.protobuf.Any of `length` bytes
// The Any holds a google.protobuf.Struct (type.googleapis.com/google.protobuf.Struct), serialized
// deterministically: `x-envoy-peer-metadata` -> the workload's metadata Struct (the same one the HTTP exchange
// base64-encodes), `x-envoy-peer-metadata-id` -> the node id.
// Pure: frames are encoded once per workload, and decoded by an incremental reader fed with the connection's
// chunks. The reader never throws and never buffers more than one frame: what is not a frame (wrong magic,
// too long, not an Any) is handed back, as Istio's filter then leaves those bytes to the application.

import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AnySchema, StructSchema, ValueSchema, type Struct } from '@bufbuild/protobuf/wkt';
import type { OwnWorkload } from './istio-metrics.js';
import { PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER, sortedStruct, workloadFromStruct, workloadToStruct, type WorkloadMetadata } from './workload-metadata.js';

/** MetadataExchangeInitialHeader::magic_number. */
export const PEER_EXCHANGE_MAGIC = 0x3d230467;
export const PEER_EXCHANGE_HEADER_BYTES = 8;
/**
 * The longest metadata accepted. Istio sets no limit of its own, but Envoy stops reading a connection whose
 * buffer passes per_connection_buffer_limit_bytes (1 MiB by default), so a larger frame never completes there.
 */
export const MAX_PEER_EXCHANGE_BYTES = 1024 * 1024;
const STRUCT_TYPE_URL = 'type.googleapis.com/google.protobuf.Struct';
const MAGIC_BYTES = Buffer.from([0x3d, 0x23, 0x04, 0x67]);

/** This side's frame: header and Any. Without a workload (no node metadata), the id alone. */
export function encodePeerExchangeFrame(own: OwnWorkload | undefined): Buffer {
  const fields: Struct['fields'] = {};
  if (own !== undefined) {
    fields[PEER_METADATA_HEADER] = create(ValueSchema, { kind: { case: 'structValue', value: workloadToStruct(own.metadata) } });
    if (own.nodeId !== '') fields[PEER_METADATA_ID_HEADER] = create(ValueSchema, { kind: { case: 'stringValue', value: own.nodeId } });
  }
  const value = toBinary(StructSchema, sortedStruct(create(StructSchema, { fields })));
  const any = toBinary(AnySchema, create(AnySchema, { typeUrl: STRUCT_TYPE_URL, value }));
  const frame = Buffer.allocUnsafe(PEER_EXCHANGE_HEADER_BYTES + any.length);
  frame.writeUInt32BE(PEER_EXCHANGE_MAGIC, 0);
  frame.writeUInt32BE(any.length, 4);
  frame.set(any, PEER_EXCHANGE_HEADER_BYTES);
  return frame;
}

const frames = new WeakMap<OwnWorkload, Buffer>();
let anonymous: Buffer | undefined;

/** The frame of `own`, encoded once (workloads are fixed for a proxy's life). Never mutate the result. */
export function peerExchangeFrameOf(own: OwnWorkload | undefined): Buffer {
  if (own === undefined) return (anonymous ??= encodePeerExchangeFrame(undefined));
  let f = frames.get(own);
  if (f === undefined) {
    f = encodePeerExchangeFrame(own);
    frames.set(own, f);
  }
  return f;
}

/**
 * What the reader has made of the bytes so far:
 * - `more`: a frame has started (or nothing came yet); feed more bytes;
 * - `done`: the frame was read; `peer` is undefined when it named no workload; `rest` is what followed it;
 * - `invalid`: not a usable frame (Istio's header_not_found / initial_header_not_found); `rest` are the bytes
 *   to pass on: everything for a wrong magic, the bytes after the header otherwise (as Istio drains the header).
 */
export type PeerExchangeRead =
  | { readonly kind: 'more' }
  | { readonly kind: 'done'; readonly peer: WorkloadMetadata | undefined; readonly peerId: string; readonly rest: Buffer }
  | { readonly kind: 'invalid'; readonly reason: string; readonly rest: Buffer };

const MORE: PeerExchangeRead = { kind: 'more' };
const EMPTY = Buffer.alloc(0);

/** Decodes the Any of a frame; undefined when the bytes are not an Any at all. */
function decodePayload(payload: Buffer): { peer: WorkloadMetadata | undefined; peerId: string } | undefined {
  let value: Uint8Array;
  try {
    const any = fromBinary(AnySchema, payload);
    if (any.typeUrl !== STRUCT_TYPE_URL) return { peer: undefined, peerId: '' };
    value = any.value;
  } catch {
    return undefined;
  }
  let st: Struct;
  try {
    st = fromBinary(StructSchema, value);
  } catch {
    return { peer: undefined, peerId: '' };
  }
  const md = st.fields[PEER_METADATA_HEADER];
  const id = st.fields[PEER_METADATA_ID_HEADER];
  return {
    peer: md?.kind.case === 'structValue' ? workloadFromStruct(md.kind.value) : undefined,
    peerId: id?.kind.case === 'stringValue' ? id.kind.value : '',
  };
}

/** Reads one peer frame from a connection's first bytes. One reader per connection and direction. */
export class PeerExchangeReader {
  #buf: Buffer = EMPTY;
  #length = -1;

  /** Adds a chunk; once the result is not `more`, the reader is finished and must not be fed again. */
  push(chunk: Buffer): PeerExchangeRead {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    if (this.#length < 0) {
      if (this.#buf.length < PEER_EXCHANGE_HEADER_BYTES) {
        // A wrong magic is wrong from its first byte: no need to wait for the whole header.
        const n = Math.min(this.#buf.length, MAGIC_BYTES.length);
        return this.#buf.compare(MAGIC_BYTES, 0, n, 0, n) === 0 ? MORE : this.#invalid('incorrect magic: the peer has no metadata exchange filter', this.#buf);
      }
      if (this.#buf.readUInt32BE(0) !== PEER_EXCHANGE_MAGIC) return this.#invalid('incorrect magic: the peer has no metadata exchange filter', this.#buf);
      const length = this.#buf.readUInt32BE(4);
      const after = this.#buf.subarray(PEER_EXCHANGE_HEADER_BYTES);
      if (length > MAX_PEER_EXCHANGE_BYTES) return this.#invalid(`peer metadata of ${length} bytes is over the ${MAX_PEER_EXCHANGE_BYTES}-byte limit`, after);
      this.#length = length;
      this.#buf = after;
    }
    if (this.#buf.length < this.#length) return MORE;
    const payload = this.#buf.subarray(0, this.#length);
    const decoded = decodePayload(payload);
    if (decoded === undefined) return this.#invalid('the peer metadata is not a protobuf Any', this.#buf);
    const rest = this.#buf.subarray(this.#length);
    this.#buf = EMPTY;
    return { kind: 'done', peer: decoded.peer, peerId: decoded.peerId, rest };
  }

  /** The connection ended before a whole frame came: what was read is handed back. */
  end(): PeerExchangeRead {
    return this.#invalid('the connection ended inside the peer metadata', this.#buf);
  }

  #invalid(reason: string, rest: Buffer): PeerExchangeRead {
    this.#buf = EMPTY;
    return { kind: 'invalid', reason, rest };
  }
}
