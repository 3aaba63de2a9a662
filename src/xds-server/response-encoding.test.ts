import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create, toBinary } from '@bufbuild/protobuf';
import { ClusterSchema } from '../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { DiscoveryResponseSchema } from '../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { CLUSTER_TYPE } from '../xds/type-urls.js';
import { packResources, typeVersion, versionsOf } from './generation.js';
import { encodeResponse, ResponseBodies, serializeResponse, setEncoding } from './response-encoding.js';

function clusters(names: readonly string[]) {
  const gen = packResources('1', { clusters: names.map((name) => create(ClusterSchema, { name })), endpoints: [], listeners: [], routes: [], secrets: [], issues: [] });
  return gen.byType.get(CLUSTER_TYPE) ?? new Map();
}

describe('SotW response encoding', () => {
  for (const names of [[], ['outbound|9080||reviews.default.svc.cluster.local'], ['a', 'b', 'c']]) {
    it(`gives exactly protobuf's encoding of the whole response (${names.length} resources)`, () => {
      const resources = clusters(names);
      const versionInfo = names.length > 0 ? typeVersion(versionsOf(resources)) : '';
      const res = create(DiscoveryResponseSchema, {
        versionInfo,
        resources: [...resources.values()].map((r) => r.any),
        typeUrl: CLUSTER_TYPE,
        nonce: '42',
        controlPlane: { identifier: 'isthmus' },
      });
      const bodies = new ResponseBodies();
      const bytes = encodeResponse(bodies.body(CLUSTER_TYPE, versionInfo, () => resources.values()), '42', 'isthmus');
      assert.deepEqual(new Uint8Array(bytes), toBinary(DiscoveryResponseSchema, res));
    });
  }

  it('shares a body between responses with the same version and keeps each nonce', () => {
    const resources = clusters(['a', 'b']);
    const versionInfo = typeVersion(versionsOf(resources));
    const bodies = new ResponseBodies();
    let encoded = 0;
    const body = () => bodies.body(CLUSTER_TYPE, versionInfo, () => (encoded++, resources.values()));
    const first = encodeResponse(body(), '1', 'isthmus');
    const second = encodeResponse(body(), '2', 'isthmus');
    assert.equal(encoded, 1, 'encoded once');
    const expected = (nonce: string) =>
      toBinary(DiscoveryResponseSchema, create(DiscoveryResponseSchema, { versionInfo, resources: [...resources.values()].map((r) => r.any), typeUrl: CLUSTER_TYPE, nonce, controlPlane: { identifier: 'isthmus' } }));
    assert.deepEqual(new Uint8Array(first), expected('1'));
    assert.deepEqual(new Uint8Array(second), expected('2'));
  });

  it('drops the least recently used bodies beyond its size budget', () => {
    const bodies = new ResponseBodies(1);
    let encoded = 0;
    const resources = clusters(['a']);
    const get = (v: string) => bodies.body(CLUSTER_TYPE, v, () => (encoded++, resources.values()));
    get('v1');
    get('v2');
    get('v1');
    assert.equal(encoded, 3, 'v1 was dropped when v2 came in');
  });

  it('serializes a response with the encoding made ahead, else with protobuf', () => {
    const plain = create(DiscoveryResponseSchema, { typeUrl: CLUSTER_TYPE, nonce: '7' });
    assert.deepEqual(new Uint8Array(serializeResponse(plain)), toBinary(DiscoveryResponseSchema, plain));
    const ahead = create(DiscoveryResponseSchema, { typeUrl: CLUSTER_TYPE, nonce: '8' });
    const bytes = Buffer.from(toBinary(DiscoveryResponseSchema, create(DiscoveryResponseSchema, { typeUrl: CLUSTER_TYPE, nonce: '8', versionInfo: 'x' })));
    setEncoding(ahead, bytes);
    assert.equal(serializeResponse(ahead), bytes);
  });
});
