import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE } from '../xds/type-urls.js';
import type { DeltaDiscoveryResponse } from '../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { waitFor } from '../../test/support/wait.js';
import { deltaRequest, openDelta, sidecarNode } from '../../test/support/xds-server/ads-client.js';
import { clusterName, fakeSnapshot, type FakeService } from '../../test/support/xds-server/fake-mesh.js';
import { endpointAddresses, loadAssignments, startHarness, type Harness } from '../../test/support/xds-server/harness.js';

const REVIEWS = 'reviews.default.svc.cluster.local';
const RATINGS = 'ratings.default.svc.cluster.local';
const DETAILS = 'details.default.svc.cluster.local';
const reviews: FakeService = { host: REVIEWS, namespace: 'default', port: 9080, endpoints: ['10.1.0.1'] };
const ratings: FakeService = { host: RATINGS, namespace: 'default', port: 9080, endpoints: ['10.1.0.2'] };
const details: FakeService = { host: DETAILS, namespace: 'default', port: 9080, endpoints: ['10.1.0.3'] };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const names = (r: DeltaDiscoveryResponse): string[] => r.resources.map((x) => x.name);
const ack = (r: DeltaDiscoveryResponse) => deltaRequest({ typeUrl: r.typeUrl, responseNonce: r.nonce });

describe('Delta ADS', () => {
  it('sends wildcard CDS, then only changed resources and removed_resources on deletion', async () => {
    h = await startHarness({ snapshot: fakeSnapshot('v1', [reviews, ratings]) });
    const s = openDelta(h.client());
    s.send(deltaRequest({ node: sidecarNode('app', 'default'), typeUrl: CLUSTER_TYPE }));
    const r1 = await s.next();
    assert.deepEqual(names(r1), [clusterName(RATINGS, 9080), clusterName(REVIEWS, 9080)]);
    assert.ok(r1.resources.every((r) => r.version !== '' && r.resource !== undefined));
    assert.equal(r1.systemVersionInfo, 'v1');
    s.send(ack(r1));
    await waitFor(() => h!.ds.proxyStatus('app.default')?.types[0]?.status === 'SYNCED', 'the ACK');

    h.ds.pushSnapshot(fakeSnapshot('v2', [reviews, details]));
    const r2 = await s.next('push of v2');
    assert.deepEqual(names(r2), [clusterName(DETAILS, 9080)], 'unchanged reviews is not re-sent');
    assert.deepEqual(r2.removedResources, [clusterName(RATINGS, 9080)]);
    s.send(ack(r2));
    await waitFor(() => h!.ds.proxyStatus('app.default')?.types[0]?.status === 'SYNCED', 'the second ACK');
    assert.deepEqual(Object.keys(h.ds.proxyStatus('app.default')?.types[0]?.acked ?? {}), [clusterName(DETAILS, 9080), clusterName(REVIEWS, 9080)]);
  });

  it('subscribes and unsubscribes EDS by name, telling once that a name does not exist', async () => {
    h = await startHarness({ snapshot: fakeSnapshot('v1', [reviews, ratings]) });
    const s = openDelta(h.client());
    s.send(deltaRequest({ node: sidecarNode('app', 'default'), typeUrl: ENDPOINT_TYPE, resourceNamesSubscribe: [clusterName(REVIEWS, 9080)] }));
    const r1 = await s.next();
    assert.deepEqual(names(r1), [clusterName(REVIEWS, 9080)]);
    assert.deepEqual(endpointAddresses(loadAssignments(r1.resources.map((r) => r.resource!))[0]!), ['10.1.0.1:9080']);
    s.send(ack(r1));

    s.send(deltaRequest({ typeUrl: ENDPOINT_TYPE, resourceNamesSubscribe: ['outbound|1||missing'] }));
    const r2 = await s.next('does-not-exist');
    assert.deepEqual(names(r2), []);
    assert.deepEqual(r2.removedResources, ['outbound|1||missing']);
    s.send(ack(r2));

    s.send(deltaRequest({ typeUrl: ENDPOINT_TYPE, resourceNamesUnsubscribe: [clusterName(REVIEWS, 9080)] }));
    // Endpoints of the unsubscribed cluster change, the missing one still does not exist: nothing to send.
    s.send(deltaRequest({ typeUrl: LISTENER_TYPE }));
    assert.equal((await s.next('LDS')).typeUrl, LISTENER_TYPE);
    const result = h.ds.pushSnapshot(fakeSnapshot('v2', [{ ...reviews, endpoints: ['10.9.9.9'] }, ratings]));
    assert.deepEqual(result, { proxies: 0, responses: 0 });

    s.send(deltaRequest({ typeUrl: ENDPOINT_TYPE, resourceNamesSubscribe: [clusterName(RATINGS, 9080)] }));
    const r3 = await s.next('ratings');
    assert.deepEqual(names(r3), [clusterName(RATINGS, 9080)]);
    assert.deepEqual(r3.removedResources, [], 'the missing name is not reported twice');
    const eds = h.ds.proxyStatus('app.default')?.types.find((t) => t.type === 'EDS');
    assert.deepEqual(eds?.subscribed.names, ['outbound|1||missing', clusterName(RATINGS, 9080)].sort());
  });

  it('on reconnect sends only what differs from initial_resource_versions', async () => {
    h = await startHarness({ snapshot: fakeSnapshot('v1', [reviews, ratings]) });
    const first = openDelta(h.client());
    first.send(deltaRequest({ node: sidecarNode('app', 'default'), typeUrl: CLUSTER_TYPE }));
    const r1 = await first.next();
    const versions = Object.fromEntries(r1.resources.map((r) => [r.name, r.version]));
    first.send(ack(r1));
    first.close();
    await waitFor(() => h!.ds.connections().length === 0, 'the first stream to close');

    h.ds.pushSnapshot(fakeSnapshot('v2', [reviews, details]));
    const second = openDelta(h.client());
    second.send(
      deltaRequest({
        node: sidecarNode('app', 'default'),
        typeUrl: CLUSTER_TYPE,
        initialResourceVersions: { ...versions, [clusterName(DETAILS, 9080)]: 'an-old-version' },
      }),
    );
    const r2 = await second.next();
    assert.deepEqual(names(r2), [clusterName(DETAILS, 9080)], 'reviews is up to date; details differs');
    assert.deepEqual(r2.removedResources, [clusterName(RATINGS, 9080)]);
  });

  it('records a NACK by nonce and keeps the acknowledged versions', async () => {
    h = await startHarness({ snapshot: fakeSnapshot('v1', [reviews]) });
    const s = openDelta(h.client());
    s.send(deltaRequest({ node: sidecarNode('app', 'default'), typeUrl: CLUSTER_TYPE }));
    const r1 = await s.next();
    s.send(ack(r1));
    h.ds.pushSnapshot(fakeSnapshot('v2', [reviews, details]));
    const r2 = await s.next();
    s.send(deltaRequest({ typeUrl: CLUSTER_TYPE, responseNonce: r2.nonce, errorDetail: { code: 3, message: 'details: unknown lb policy' } }));
    s.send(deltaRequest({ typeUrl: CLUSTER_TYPE, responseNonce: r2.nonce, errorDetail: { code: 3, message: 'details: unknown lb policy' } }));
    s.send(deltaRequest({ typeUrl: LISTENER_TYPE }));
    await s.next('LDS after the NACKs');
    const cds = h.ds.proxyStatus('app.default')!;
    assert.equal(cds.types[0]?.status, 'ERROR');
    assert.equal(cds.nacks.length, 1);
    assert.equal(cds.nacks[0]?.nonce, r2.nonce);
    assert.deepEqual(Object.keys(cds.types[0]?.acked ?? {}), [clusterName(REVIEWS, 9080)]);
    assert.deepEqual(Object.keys(cds.types[0]?.expected ?? {}), [clusterName(DETAILS, 9080), clusterName(REVIEWS, 9080)]);
    assert.deepEqual(h.ds.pushSnapshot(fakeSnapshot('v2b', [reviews, details])), { proxies: 0, responses: 0 }, 'not re-sent until the config changes');
    const text = await h.ds.metrics.text();
    assert.match(text, /pilot_xds_cds_reject\{node="sidecar~10\.0\.0\.1~app\.default~default\.svc\.cluster\.local",err="InvalidArgument"\} 1\n/);
  });
});
