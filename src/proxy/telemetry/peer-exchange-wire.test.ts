// The TCP metadata exchange's wire format: a frame read back whole or a byte at a time, the bytes after it kept
// for the application, Istio's own encoding read (fields written by another encoder), and every malformed
// input (garbage, truncated, oversized, not an Any, not a Struct) giving an unknown peer without a throw.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromJson, toBinary } from '@bufbuild/protobuf';
import { AnySchema, StructSchema } from '@bufbuild/protobuf/wkt';
import { ownWorkload } from './istio-metrics.js';
import { encodePeerExchangeFrame, MAX_PEER_EXCHANGE_BYTES, PEER_EXCHANGE_MAGIC, peerExchangeFrameOf, PeerExchangeReader, type PeerExchangeRead } from './peer-exchange-wire.js';

const OWN = ownWorkload('sidecar~10.1.0.5~reviews-v2-abc.default~default.svc.cluster.local', {
  NAME: 'reviews-v2-abc',
  NAMESPACE: 'default',
  WORKLOAD_NAME: 'reviews-v2',
  CLUSTER_ID: 'Kubernetes',
  LABELS: { app: 'reviews', version: 'v2' },
});

/** A frame around arbitrary Any bytes. */
function frameOf(payload: Uint8Array, declared = payload.length): Buffer {
  const b = Buffer.alloc(8 + payload.length);
  b.writeUInt32BE(PEER_EXCHANGE_MAGIC, 0);
  b.writeUInt32BE(declared, 4);
  b.set(payload, 8);
  return b;
}

/** Feeds chunks until the reader decides; `rest` then includes the chunks it was not fed (the connection's next reads). */
function readAll(chunks: readonly Buffer[]): PeerExchangeRead {
  const r = new PeerExchangeReader();
  let last: PeerExchangeRead = { kind: 'more' };
  for (let i = 0; i < chunks.length; i++) {
    last = r.push(chunks[i] as Buffer);
    if (last.kind !== 'more') return { ...last, rest: Buffer.concat([last.rest, ...chunks.slice(i + 1)]) };
  }
  return last;
}

function bytes(b: Buffer): Buffer[] {
  return [...b].map((x) => Buffer.from([x]));
}

describe('peer exchange frames', () => {
  it('starts with the magic and the Any length, big endian, and names google.protobuf.Struct', () => {
    const f = encodePeerExchangeFrame(OWN);
    assert.equal(f.readUInt32BE(0), 0x3d230467);
    assert.equal(f.readUInt32BE(4), f.length - 8);
    assert.ok(f.subarray(8).toString('latin1').includes('type.googleapis.com/google.protobuf.Struct'));
    assert.ok(f.includes('x-envoy-peer-metadata-id') && f.includes('reviews-v2'));
    assert.equal(peerExchangeFrameOf(OWN), peerExchangeFrameOf(OWN), 'encoded once per workload');
  });

  const app = Buffer.from('GET / HTTP/1.1\r\n\r\n');
  const cases: readonly { name: string; chunks: (f: Buffer) => Buffer[] }[] = [
    { name: 'in one chunk with the first application bytes', chunks: (f) => [Buffer.concat([f, app])] },
    { name: 'a byte at a time', chunks: (f) => bytes(Buffer.concat([f, app])) },
    { name: 'split inside the header and inside the Any', chunks: (f) => [f.subarray(0, 3), f.subarray(3, 20), Buffer.concat([f.subarray(20), app])] },
  ];
  for (const c of cases) {
    it(`is read back ${c.name}; what follows it is left for the application`, () => {
      const r = readAll(c.chunks(encodePeerExchangeFrame(OWN)));
      assert.equal(r.kind, 'done');
      if (r.kind !== 'done') return;
      assert.deepEqual(r.peer, OWN.metadata);
      assert.equal(r.peerId, OWN.nodeId);
      assert.equal(r.rest.toString(), app.toString());
    });
  }

  it('reads what Istio writes (a Struct with the metadata and the id, serialized by another encoder)', () => {
    const st = fromJson(StructSchema, {
      'x-envoy-peer-metadata': {
        NAME: 'productpage-v1-123',
        NAMESPACE: 'bookinfo',
        WORKLOAD_NAME: 'productpage-v1',
        CLUSTER_ID: 'east',
        LABELS: { 'service.istio.io/canonical-name': 'productpage', 'service.istio.io/canonical-revision': 'v1', app: 'productpage', version: 'v1' },
        OWNER: 'kubernetes://apis/apps/v1/namespaces/bookinfo/deployments/productpage-v1',
      },
      'x-envoy-peer-metadata-id': 'sidecar~10.0.0.9~productpage-v1-123.bookinfo~bookinfo.svc.cluster.local',
    });
    const any = toBinary(AnySchema, create(AnySchema, { typeUrl: 'type.googleapis.com/google.protobuf.Struct', value: toBinary(StructSchema, st) }));
    const r = readAll([frameOf(any)]);
    assert.equal(r.kind, 'done');
    if (r.kind !== 'done') return;
    assert.deepEqual(
      { workload: r.peer?.workloadName, namespace: r.peer?.namespace, cluster: r.peer?.clusterId, app: r.peer?.appName, version: r.peer?.appVersion, service: r.peer?.canonicalName },
      { workload: 'productpage-v1', namespace: 'bookinfo', cluster: 'east', app: 'productpage', version: 'v1', service: 'productpage' },
    );
    assert.equal(r.rest.length, 0);
  });

  const struct = (json: Parameters<typeof fromJson<typeof StructSchema>>[1]): Uint8Array =>
    toBinary(AnySchema, create(AnySchema, { typeUrl: 'type.googleapis.com/google.protobuf.Struct', value: toBinary(StructSchema, fromJson(StructSchema, json)) }));
  const garbage = Buffer.from('\x16\x03\x01 hello, not a frame');
  const bad: readonly { name: string; chunks: Buffer[]; kind: 'done' | 'invalid'; rest: Buffer }[] = [
    { name: 'garbage (no magic): every byte is handed back', chunks: [garbage], kind: 'invalid', rest: garbage },
    { name: 'garbage fed a byte at a time', chunks: bytes(garbage), kind: 'invalid', rest: garbage },
    { name: 'a declared length over the limit: refused from the header alone', chunks: [frameOf(Buffer.from('x'), MAX_PEER_EXCHANGE_BYTES + 1)], kind: 'invalid', rest: Buffer.from('x') },
    { name: 'a payload that is not an Any', chunks: [frameOf(Buffer.from([0xff, 0xff, 0xff, 0xff]))], kind: 'invalid', rest: Buffer.from([0xff, 0xff, 0xff, 0xff]) },
    {
      name: 'an Any of another type: the frame is consumed, the peer unknown',
      chunks: [frameOf(toBinary(AnySchema, create(AnySchema, { typeUrl: 'type.googleapis.com/google.protobuf.StringValue', value: new Uint8Array([10, 1, 120]) })))],
      kind: 'done',
      rest: Buffer.alloc(0),
    },
    {
      name: 'a Struct Any whose value is not a Struct',
      chunks: [frameOf(toBinary(AnySchema, create(AnySchema, { typeUrl: 'type.googleapis.com/google.protobuf.Struct', value: new Uint8Array([0xff, 0xff]) })))],
      kind: 'done',
      rest: Buffer.alloc(0),
    },
    { name: 'a Struct without the metadata key', chunks: [frameOf(struct({ other: 'x' }))], kind: 'done', rest: Buffer.alloc(0) },
    { name: 'metadata naming no workload', chunks: [frameOf(struct({ 'x-envoy-peer-metadata': { CLUSTER_ID: 'c' } }))], kind: 'done', rest: Buffer.alloc(0) },
  ];
  for (const c of bad) {
    it(`gives an unknown peer for ${c.name}`, () => {
      const r = readAll(c.chunks);
      assert.equal(r.kind, c.kind);
      if (r.kind === 'done') assert.equal(r.peer, undefined);
      assert.deepEqual(Buffer.from(r.rest), c.rest);
    });
  }

  it('hands back what it read when the connection ends inside a frame', () => {
    const f = encodePeerExchangeFrame(OWN);
    for (const cut of [2, 8, f.length - 1]) {
      const r = new PeerExchangeReader();
      assert.equal(r.push(f.subarray(0, cut)).kind, 'more');
      const end = r.end();
      assert.equal(end.kind, 'invalid');
      // Past the header, the header is consumed (as Istio drains it) and the partial payload handed back.
      if (end.kind === 'invalid') assert.equal(end.rest.length, cut < 8 ? cut : cut - 8);
    }
  });

  it('encodes a frame without a workload (no node metadata) that the reader takes as an unknown peer', () => {
    const r = readAll([encodePeerExchangeFrame(undefined)]);
    assert.equal(r.kind, 'done');
    if (r.kind === 'done') assert.equal(r.peer, undefined);
  });
});
