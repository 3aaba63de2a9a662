// The ADS cluster's connection stats (`cluster.xds-grpc.*`), through a real AdsClient and a real gRPC server
// on 127.0.0.1: the server has no ADS service, so each stream ends at once (UNIMPLEMENTED) and the client
// reconnects, but the HTTP/2 connection under them comes up, is counted, and is counted closed when the
// server goes away; with nobody listening, the client's attempts count as connect failures.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { NodeSchema } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { StatsStore } from '../stats/stats-store.js';
import { AdsClient } from './ads-client.js';
import { waitFor } from '../../../test/support/wait.js';

function bind(server: Server, address: string): Promise<number> {
  return new Promise((ok, fail) => server.bindAsync(address, ServerCredentials.createInsecure(), (e, port) => (e !== null ? fail(e) : ok(port))));
}

describe('cluster.xds-grpc stats', () => {
  it('counts the connection to the control plane, its streams, its close and failed reconnects', async (t) => {
    const server = new Server();
    const port = await bind(server, '127.0.0.1:0');
    const store = new StatsStore();
    const client = new AdsClient({ address: `127.0.0.1:${port}`, node: create(NodeSchema, { id: 'n1', cluster: 'c' }), stats: store, clusterStatName: 'xds-grpc', initialBackoffMs: 50, maxBackoffMs: 200 });
    t.after(() => client.close());
    const c = (n: string): number => store.counter(`cluster.xds-grpc.${n}`).value;
    const g = (n: string): number => store.gauge(`cluster.xds-grpc.${n}`).value;
    assert.deepEqual([g('membership_total'), g('membership_healthy'), g('upstream_cx_active')], [1, 1, 0]);

    client.start();
    await waitFor(() => (g('upstream_cx_active') === 1 && c('upstream_rq_total') >= 2 ? true : undefined), 'a connection and a reopened stream', 10_000);
    assert.deepEqual([c('upstream_cx_total'), c('upstream_cx_http2_total'), c('upstream_cx_destroy'), c('upstream_cx_connect_fail')], [1, 1, 0, 0]);

    // The control plane goes away: the connection is counted closed, and the attempts to reach it fail.
    server.forceShutdown();
    await waitFor(() => (c('upstream_cx_destroy') === 1 && c('upstream_cx_connect_fail') >= 1 ? true : undefined), 'the close and a failed reconnect', 10_000);
    assert.equal(g('upstream_cx_active'), 0);
    assert.equal(c('upstream_cx_total'), 1);
    assert.equal(store.gauge('control_plane.connected_state').value, 0);
  });
});
