// Persistent sessions with `--concurrency 2`: each worker's cluster chooses a session's host itself (the
// stateful session filter and the cluster's override_host_status), so whichever worker takes a connection,
// a request carrying the session cookie reaches its host, a DRAINING one included, and a request without one
// starts a session naming the host that answered. A real CLI proxy fed by a real xDS server, three upstreams.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromJson } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HttpFilterSchema } from '../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouterSchema } from '../../src/xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { StatefulSessionPerRouteSchema, StatefulSessionSchema } from '../../src/xds/gen/envoy/extensions/filters/http/stateful_session/v3/stateful_session_pb.js';
import { CookieBasedSessionStateSchema } from '../../src/xds/gen/envoy/extensions/http/stateful_session/cookie/v3/cookie_pb.js';
import { pack, XDS_REGISTRY } from '../../src/xds/codec.js';
import { addressFromCookie, cookieForAddress } from '../../src/proxy/filters/stateful-session/session-state.js';
import { startUpstream } from '../support/data-plane.js';
import { startRoutingProxy } from '../support/proxy-child.js';
import { ask } from '../support/http-ask.js';

const FILTER = 'envoy.filters.http.stateful_session';

it('with two workers, a session cookie keeps every request on its host, a draining one included', async (t) => {
  const a = await startUpstream(t, 'a');
  const b = await startUpstream(t, 'b');
  const c = await startUpstream(t, 'c');
  const ep = (port: number, health?: string) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } }, ...(health !== undefined ? { health_status: health } : {}) });
  const cluster = fromJson(
    ClusterSchema,
    {
      name: 'svc',
      connect_timeout: '1s',
      type: 'STATIC',
      load_assignment: { cluster_name: 'svc', endpoints: [{ lb_endpoints: [ep(a.port), ep(b.port), ep(c.port, 'DRAINING')] }] },
      common_lb_config: { override_host_status: { statuses: ['HEALTHY', 'DRAINING', 'UNKNOWN', 'DEGRADED'] } },
    },
    { registry: XDS_REGISTRY },
  );
  const session = create(StatefulSessionSchema, {
    sessionState: { name: 'envoy.http.stateful_session.cookie', typedConfig: pack(CookieBasedSessionStateSchema, create(CookieBasedSessionStateSchema, { cookie: { name: 'sid', path: '/' } })) },
  });
  const { port } = await startRoutingProxy(t, cluster, 2, {
    httpFilters: [
      create(HttpFilterSchema, { name: FILTER, configType: { case: 'typedConfig', value: pack(StatefulSessionSchema, create(StatefulSessionSchema)) } }),
      create(HttpFilterSchema, { name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: pack(RouterSchema, create(RouterSchema)) } }),
    ],
    virtualHost: { typedPerFilterConfig: { [FILTER]: pack(StatefulSessionPerRouteSchema, create(StatefulSessionPerRouteSchema, { override: { case: 'statefulSession', value: session } })) } },
  });
  // Each ask is a connection of its own, so the requests spread over both workers.
  const first = await ask(port, { path: '/' });
  const cookie = /^sid="([^"]+)"/.exec(String(first.headers['set-cookie'] ?? ''))?.[1];
  assert.ok(cookie !== undefined, `a session starts: ${String(first.headers['set-cookie'])}`);
  assert.equal(addressFromCookie(cookie, 0), `127.0.0.1:${first.body === 'a' ? a.port : b.port}`);
  const pinned = await Promise.all(Array.from({ length: 12 }, () => ask(port, { path: '/', headers: { cookie: `sid="${cookie}"` } })));
  assert.deepEqual(new Set(pinned.map((r) => r.body)), new Set([first.body]));
  const draining = await Promise.all(Array.from({ length: 12 }, () => ask(port, { path: '/', headers: { cookie: `sid="${cookieForAddress(`127.0.0.1:${c.port}`, 0, 0)}"` } })));
  assert.deepEqual(new Set(draining.map((r) => r.body)), new Set(['c']));
  const fresh = await Promise.all(Array.from({ length: 12 }, () => ask(port, { path: '/' })));
  assert.ok(fresh.every((r) => r.body !== 'c'), 'no new session lands on the draining host');
});
