import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../xds/type-urls.js';
import type { DiscoveryResponse } from '../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { waitFor } from '../../test/support/wait.js';
import { openSotw, sidecarNode, sotwRequest } from '../../test/support/xds-server/ads-client.js';
import { clusterName, fakeSnapshot, fakeTranslate, type FakeService } from '../../test/support/xds-server/fake-mesh.js';
import { clusterNames, endpointAddresses, listenerNames, loadAssignments, startHarness, type Harness } from '../../test/support/xds-server/harness.js';

const REVIEWS = 'reviews.default.svc.cluster.local';
const RATINGS = 'ratings.default.svc.cluster.local';
const DETAILS = 'details.default.svc.cluster.local';
const base: FakeService[] = [
  { host: REVIEWS, namespace: 'default', port: 9080, endpoints: ['10.1.0.1'] },
  { host: RATINGS, namespace: 'default', port: 9080, endpoints: ['10.1.0.2'] },
];

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Sends an ACK for `res` with the given names. */
function ack(res: DiscoveryResponse, names: string[] = []) {
  return sotwRequest({ typeUrl: res.typeUrl, versionInfo: res.versionInfo, responseNonce: res.nonce, resourceNames: names });
}

describe('SotW ADS', () => {
  it('serves wildcard CDS and named EDS; an ACK makes the type SYNCED', async () => {
    h = await startHarness({ snapshot: fakeSnapshot('v1', base) });
    const s = openSotw(h.client());
    s.send(sotwRequest({ node: sidecarNode('productpage-v1-x', 'default'), typeUrl: CLUSTER_TYPE }));
    const cds = await s.next('CDS');
    assert.equal(cds.typeUrl, CLUSTER_TYPE);
    assert.deepEqual(clusterNames(cds.resources), [clusterName(RATINGS, 9080), clusterName(REVIEWS, 9080)]);
    assert.notEqual(cds.versionInfo, '');
    assert.notEqual(cds.nonce, '');
    assert.equal(cds.controlPlane?.identifier, 'isthmus');
    assert.equal(h.ds.proxyStatus('productpage-v1-x.default')?.types[0]?.status, 'STALE');

    s.send(ack(cds));
    s.send(sotwRequest({ typeUrl: ENDPOINT_TYPE, resourceNames: [clusterName(REVIEWS, 9080)] }));
    const eds = await s.next('EDS');
    const [cla, ...more] = loadAssignments(eds.resources);
    assert.equal(more.length, 0);
    assert.equal(cla?.clusterName, clusterName(REVIEWS, 9080));
    assert.deepEqual(endpointAddresses(cla!), ['10.1.0.1:9080']);
    const st = h.ds.proxyStatus('productpage-v1-x.default');
    assert.equal(st?.types.find((t) => t.type === 'CDS')?.status, 'SYNCED');
    assert.deepEqual(Object.keys(st?.types.find((t) => t.type === 'CDS')?.acked ?? {}), [clusterName(RATINGS, 9080), clusterName(REVIEWS, 9080)]);
  });

  it('pushes only the load assignments that changed, with a version naming the whole set', async () => {
    h = await startHarness({ snapshot: fakeSnapshot('v1', base) });
    const s = openSotw(h.client());
    s.send(sotwRequest({ node: sidecarNode('productpage-v1-x', 'default'), typeUrl: ENDPOINT_TYPE, resourceNames: [clusterName(REVIEWS, 9080), clusterName(RATINGS, 9080)] }));
    const full = await s.next('EDS');
    assert.equal(loadAssignments(full.resources).length, 2);
    s.send(ack(full, [clusterName(REVIEWS, 9080), clusterName(RATINGS, 9080)]));
    await waitFor(() => h?.ds.proxyStatus('productpage-v1-x.default')?.types[0]?.status === 'SYNCED', 'the ACK');
    h.ds.pushSnapshot(fakeSnapshot('v2', [base[0]!, { ...base[1]!, endpoints: ['10.1.0.2', '10.1.0.3'] }]));
    const partial = await s.next('the EDS push');
    assert.deepEqual(loadAssignments(partial.resources).map((c) => [c.clusterName, endpointAddresses(c)]), [[clusterName(RATINGS, 9080), ['10.1.0.2:9080', '10.1.0.3:9080']]]);
    assert.notEqual(partial.versionInfo, full.versionInfo);
    s.send(ack(partial, [clusterName(REVIEWS, 9080), clusterName(RATINGS, 9080)]));
    // What the proxy holds is the whole set: proxy-status compares it with the whole expected set.
    await waitFor(() => {
      const t = h?.ds.proxyStatus('productpage-v1-x.default')?.types[0];
      return t?.status === 'SYNCED' && JSON.stringify(t.acked) === JSON.stringify(t.expected) ? t : undefined;
    }, 'the partial push acknowledged as the whole set');
  });

  it('answers named LDS/CDS with only the named resources, and an emptied list means none (not wildcard)', async () => {
    h = await startHarness({ snapshot: fakeSnapshot('v1', base) });
    const s = openSotw(h.client());
    s.send(sotwRequest({ node: sidecarNode('app', 'default'), typeUrl: CLUSTER_TYPE, resourceNames: [clusterName(REVIEWS, 9080), 'no-such-cluster'] }));
    const first = await s.next();
    assert.deepEqual(clusterNames(first.resources), [clusterName(REVIEWS, 9080)]);
    s.send(ack(first, []));
    const second = await s.next('response to the unsubscribe-all');
    assert.deepEqual(second.resources, []);
    assert.equal(h.ds.proxyStatus('app.default')?.types[0]?.subscribed.wildcard, false);
  });

  it('records a NACK once, keeps the last acked state and does not resend until the config changes', async () => {
    h = await startHarness({ snapshot: fakeSnapshot('v1', base) });
    const s = openSotw(h.client());
    s.send(sotwRequest({ node: sidecarNode('app', 'default'), typeUrl: CLUSTER_TYPE }));
    const r1 = await s.next();
    s.send(ack(r1));
    await waitFor(() => h!.ds.proxyStatus('app.default')?.types[0]?.status === 'SYNCED', 'the ACK');

    const v2 = [...base, { host: DETAILS, namespace: 'default', port: 9080 }];
    h.ds.pushSnapshot(fakeSnapshot('v2', v2));
    const r2 = await s.next('push of v2');
    assert.equal(r2.resources.length, 3);
    const nack = sotwRequest({ typeUrl: CLUSTER_TYPE, versionInfo: r1.versionInfo, responseNonce: r2.nonce, errorDetail: { code: 3, message: 'cluster details: bad lb_policy' } });
    s.send(nack);
    s.send(nack); // grpc-js repeats error_detail until the next response
    s.send(sotwRequest({ typeUrl: LISTENER_TYPE }));
    assert.equal((await s.next('LDS, answered after both NACKs were handled')).typeUrl, LISTENER_TYPE);
    const st = h.ds.proxyStatus('app.default')!;
    assert.equal(st.types[0]?.status, 'ERROR');
    assert.equal(st.nacks.length, 1);
    assert.equal(st.types[0]?.last_error?.message, 'cluster details: bad lb_policy');
    assert.equal(st.types[0]?.last_error?.code, 'InvalidArgument');
    assert.deepEqual(Object.keys(st.types[0]?.acked ?? {}), clusterNames(r1.resources), 'the last acked state is kept');
    assert.equal(Object.keys(st.types[0]?.expected ?? {}).length, 3);
    assert.match(await h.ds.metrics.text(), /pilot_total_xds_rejects\{type="cds"\} 1\n/);

    // The same content again (a new snapshot object) is not re-sent; a real change is.
    assert.deepEqual(h.ds.pushSnapshot(fakeSnapshot('v2b', v2)), { proxies: 0, responses: 0 });
    h.ds.pushSnapshot(fakeSnapshot('v3', base));
    const r3 = await s.next('push of v3');
    assert.deepEqual(clusterNames(r3.resources), clusterNames(r1.resources));
    s.send(ack(r3));
    await waitFor(() => h!.ds.proxyStatus('app.default')?.types[0]?.status === 'SYNCED', 'the ACK after the NACK');
    assert.equal(h.ds.proxyStatus('app.default')?.types[0]?.last_error, undefined);
  });

  it('ignores a request with a stale nonce, even one that changes the names', async () => {
    h = await startHarness({ snapshot: fakeSnapshot('v1', base) });
    const s = openSotw(h.client());
    s.send(sotwRequest({ node: sidecarNode('app', 'default'), typeUrl: CLUSTER_TYPE }));
    const r1 = await s.next();
    h.ds.pushSnapshot(fakeSnapshot('v2', [...base, { host: DETAILS, namespace: 'default', port: 1 }]));
    const r2 = await s.next('push of v2');
    // Sent before the client saw r2: carries r1's nonce and a name list the client no longer means.
    s.send(sotwRequest({ typeUrl: CLUSTER_TYPE, versionInfo: r1.versionInfo, responseNonce: r1.nonce, resourceNames: [clusterName(DETAILS, 1)] }));
    s.send(ack(r2));
    // A later request on the stream: once it is answered, the earlier ones have been handled.
    s.send(sotwRequest({ typeUrl: LISTENER_TYPE }));
    const next = await s.next('LDS');
    assert.equal(next.typeUrl, LISTENER_TYPE, 'no CDS response to the stale request came first');
    assert.deepEqual(listenerNames(next.resources), ['0.0.0.0_1', '0.0.0.0_9080']);
    const cds = h.ds.proxyStatus('app.default')?.types.find((t) => t.type === 'CDS');
    assert.equal(cds?.subscribed.wildcard, true, 'the stale names were not applied');
    assert.deepEqual(cds?.subscribed.names, []);
    assert.equal(cds?.status, 'SYNCED');
    assert.match(await h.ds.metrics.text(), /pilot_xds_expired_nonce\{type="cds"\} 1\n/);
  });

  it('pushes only to the proxies a change affects, and only the types that changed', async () => {
    const onlyA = { host: 'internal.a.svc.cluster.local', namespace: 'a', port: 8080, endpoints: ['10.2.0.1'], exportTo: ['a'] };
    h = await startHarness({ snapshot: fakeSnapshot('v1', [...base, onlyA]) });
    const a = openSotw(h.client());
    const b = openSotw(h.client());
    const subscribe = async (s: typeof a, pod: string, ns: string, clusters: string[]): Promise<DiscoveryResponse> => {
      s.send(sotwRequest({ node: sidecarNode(pod, ns), typeUrl: CLUSTER_TYPE }));
      const cds = await s.next();
      assert.deepEqual(clusterNames(cds.resources).sort(), [...clusters].sort());
      s.send(ack(cds));
      s.send(sotwRequest({ typeUrl: ENDPOINT_TYPE, resourceNames: clusters }));
      const eds = await s.next();
      s.send(ack(eds, clusters));
      return eds;
    };
    const all = [clusterName(RATINGS, 9080), clusterName(REVIEWS, 9080)];
    await subscribe(a, 'pa', 'a', [...all, clusterName(onlyA.host, 8080)]);
    await subscribe(b, 'pb', 'b', all);
    await waitFor(() => h!.ds.syncz().every((e) => Object.values(e.resources).every((r) => r.status === 'SYNCED')), 'both proxies synced');
    const translations = h.ds.translateCount;

    const result = h.ds.pushSnapshot(fakeSnapshot('v2', [...base, { ...onlyA, endpoints: ['10.2.0.1', '10.2.0.2'] }]));
    assert.deepEqual(result, { proxies: 1, responses: 1 });
    assert.equal(h.ds.translateCount, translations + 2, 'one translation per proxy for the new snapshot');
    const pushed = await a.next('EDS push to proxy a');
    assert.equal(pushed.typeUrl, ENDPOINT_TYPE);
    const cla = loadAssignments(pushed.resources).find((c) => c.clusterName === clusterName(onlyA.host, 8080));
    assert.deepEqual(endpointAddresses(cla!), ['10.2.0.1:8080', '10.2.0.2:8080']);

    b.send(sotwRequest({ typeUrl: ROUTE_TYPE, resourceNames: [`${REVIEWS}:9080`] }));
    const bNext = await b.next('RDS on proxy b');
    assert.equal(bNext.typeUrl, ROUTE_TYPE, 'proxy b received nothing from the push');
    h.ds.proxyStatus('pa.a');
    h.ds.configDump('pb.b');
    assert.equal(h.ds.translateCount, translations + 2, 'status and dumps reuse the generation');
  });

  it('answers requests that arrive before the first snapshot once it is pushed', async () => {
    h = await startHarness();
    const s = openSotw(h.client());
    s.send(sotwRequest({ node: sidecarNode('early', 'default'), typeUrl: CLUSTER_TYPE }));
    await waitFor(() => h!.ds.connections().length === 1, 'the connection');
    assert.equal(s.buffered, 0);
    assert.equal(h.ds.proxyStatus('early.default')?.types[0]?.status, 'NOT SENT');
    h.ds.pushSnapshot(fakeSnapshot('v1', base));
    assert.equal((await s.next()).resources.length, 2);
  });

  it('keeps serving the last config when translation fails, and reports why', async () => {
    h = await startHarness({
      snapshot: fakeSnapshot('v1', base),
      translate: (snap, proxy) => {
        if (snap.version === 'broken') throw new Error('no route for reviews');
        return fakeTranslate(snap, proxy);
      },
    });
    const s = openSotw(h.client());
    s.send(sotwRequest({ node: sidecarNode('app', 'default'), typeUrl: CLUSTER_TYPE }));
    const r1 = await s.next();
    s.send(ack(r1));
    assert.deepEqual(h.ds.pushSnapshot(fakeSnapshot('broken', [])), { proxies: 0, responses: 0 });
    const st = h.ds.proxyStatus('app.default');
    assert.equal(st?.generation_error, 'no route for reviews');
    assert.equal(st?.types[0]?.expected, null);
    const dump = h.ds.configDump('app.default');
    assert.equal(dump.ok, false);
    assert.match(dump.ok ? '' : dump.message, /translation failed for proxy "app\.default": no route for reviews/);
    h.ds.pushSnapshot(fakeSnapshot('v3', [base[0]!]));
    assert.deepEqual(clusterNames((await s.next('push after recovery')).resources), [clusterName(REVIEWS, 9080)]);
  });

  it('refuses a stream whose node id does not parse, naming the problem', async () => {
    h = await startHarness({ snapshot: fakeSnapshot('v1', base) });
    const s = openSotw(h.client());
    s.send(sotwRequest({ node: { id: 'just-a-name' }, typeUrl: CLUSTER_TYPE }));
    const st = await s.status();
    assert.equal(st.code, status.INVALID_ARGUMENT);
    assert.match(st.details, /node\.id: missing parts in the service node "just-a-name"/);
    assert.equal(h.ds.connections().length, 0);
  });
});
