import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAX_SHARED_FRAME_BYTES,
  SharedFrameReader,
  SharedOp,
  decodeSharedRequest,
  decodeSharedResponse,
  encodeSharedRequest,
  encodeSharedResponse,
  type SharedRequest,
} from './shared-store-protocol.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The body of a whole frame (after its u32 length), checking that the length is right. */
function bodyOf(frame: Uint8Array): Uint8Array {
  const len = new DataView(frame.buffer, frame.byteOffset).getUint32(0);
  assert.equal(len, frame.byteLength - 4, 'the prefix is the body length');
  return frame.subarray(4);
}

describe('shared store protocol: requests round-trip', () => {
  const cases: [string, SharedRequest][] = [
    ['get', { op: SharedOp.GET, vmId: 'vm', key: 'requests' }],
    ['get with an empty vm_id and a non-ASCII key', { op: SharedOp.GET, vmId: '', key: 'clé✓' }],
    ['set with a cas', { op: SharedOp.SET, vmId: 'vm', key: 'k', cas: 0xfffffffe, value: bytes('42') }],
    ['set of an empty value, unconditionally', { op: SharedOp.SET, vmId: 'vm', key: 'k', cas: 0, value: new Uint8Array(0) }],
    ['register', { op: SharedOp.REGISTER, vmId: 'vm', name: 'paths' }],
    ['resolve', { op: SharedOp.RESOLVE, vmId: 'other', name: 'paths' }],
    ['enqueue binary bytes', { op: SharedOp.ENQUEUE, token: 7, value: new Uint8Array([0, 255, 10, 13]) }],
    ['dequeue', { op: SharedOp.DEQUEUE, token: 1 }],
    ['release', { op: SharedOp.RELEASE, token: 3 }],
    ['host env', { op: SharedOp.HOST_ENV, key: 'POD_NAME' }],
  ];
  for (const [name, req] of cases) {
    it(name, () => {
      assert.deepEqual(decodeSharedRequest(bodyOf(encodeSharedRequest(req))), req);
    });
  }
});

describe('shared store protocol: malformed requests are refused', () => {
  const good = bodyOf(encodeSharedRequest({ op: SharedOp.SET, vmId: 'vm', key: 'k', cas: 1, value: bytes('v') }));
  const cases: [string, Uint8Array][] = [
    ['empty body', new Uint8Array(0)],
    ['unknown op', new Uint8Array([99])],
    ['truncated', good.subarray(0, good.byteLength - 1)],
    ['trailing bytes', new Uint8Array([...good, 0])],
    ['a string longer than the body', new Uint8Array([SharedOp.GET, 0, 0, 1, 0, 65])],
    ['invalid UTF-8 in a key', new Uint8Array([SharedOp.HOST_ENV, 0, 0, 0, 1, 0xff])],
  ];
  for (const [name, body] of cases) {
    it(name, () => {
      assert.equal(decodeSharedRequest(body), undefined);
    });
  }
});

describe('shared store protocol: responses', () => {
  it('round-trip status, number and data', () => {
    const r = { status: 8, num: 0xffffffff, data: bytes('value') };
    assert.deepEqual(decodeSharedResponse(bodyOf(encodeSharedResponse(r))), r);
  });
  it('a body shorter than status and number is refused', () => {
    assert.equal(decodeSharedResponse(new Uint8Array(7)), undefined);
  });
});

describe('shared store protocol: frames cut from a byte stream', () => {
  const frames = [
    encodeSharedRequest({ op: SharedOp.GET, vmId: 'a', key: 'b' }),
    encodeSharedRequest({ op: SharedOp.ENQUEUE, token: 2, value: new Uint8Array(1000).fill(7) }),
    encodeSharedRequest({ op: SharedOp.DEQUEUE, token: 2 }),
  ];
  const stream = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0));
  let at = 0;
  for (const f of frames) {
    stream.set(f, at);
    at += f.byteLength;
  }
  const expected = frames.map((f) => decodeSharedRequest(f.subarray(4)));
  const splits: [string, number][] = [
    ['all at once', stream.byteLength],
    ['byte by byte', 1],
    ['in 3-byte chunks (prefixes split)', 3],
    ['in 100-byte chunks', 100],
  ];
  for (const [name, size] of splits) {
    it(name, () => {
      const reader = new SharedFrameReader();
      const got: unknown[] = [];
      for (let i = 0; i < stream.byteLength; i += size) {
        const bodies = reader.push(stream.slice(i, i + size));
        assert.ok(bodies !== undefined);
        for (const b of bodies) got.push(decodeSharedRequest(b));
      }
      assert.deepEqual(got, expected);
    });
  }
  it('a frame announcing more than the limit makes the stream unusable', () => {
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, MAX_SHARED_FRAME_BYTES + 1);
    assert.equal(new SharedFrameReader().push(head), undefined);
  });
});
