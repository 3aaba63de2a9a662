// WebSocket upgrades go through the connection manager as every request does (Envoy runs the HTTP filter
// chain on an upgrade request before the router opens the tunnel): through a real listener to a real
// WebSocket-speaking upstream on 127.0.0.1, an RBAC DENY on /admin refuses the upgrade with 403 and the
// upstream never sees it, the request headers the connection manager sets (x-forwarded-proto, x-request-id)
// reach the upstream, a client's steering x-envoy-* headers do not, and an allowed path still upgrades.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { create, fromJson } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import type { ListenerManager } from '../network/listener-manager.js';
import { RBACSchema } from '../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RouterSchema } from '../../xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { HttpFilterSchema } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouteAction_UpgradeConfigSchema } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { prefix, route, routeConfig, staticClusterManager, toCluster, vhost } from '../../../test/support/xds-fixtures.js';
import { closeAll, startHcmListener } from '../../../test/support/hcm-listener.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { CompletedStream } from './hcm-env.js';
import { waitFor } from '../../../test/support/wait.js';
import { ResponseFlag } from './response-flags.js';

let upstream: Server;
let clusters: ClusterManager;
let manager: ListenerManager;
let port = 0;
const upgrades: { url: string; headers: IncomingHttpHeaders }[] = [];
const completed: CompletedStream[] = [];

before(async () => {
  upstream = createServer((_req, res) => res.writeHead(426).end());
  // Answers the upgrade, then echoes what arrives on the tunnel upper-cased.
  upstream.on('upgrade', (req, socket: Socket) => {
    upgrades.push({ url: req.url ?? '', headers: req.headers });
    if (req.url === '/drop') return void socket.destroy(); // closes without answering
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
    socket.on('data', (d: Buffer) => socket.write(d.toString().toUpperCase()));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  clusters = staticClusterManager('upstream', (upstream.address() as AddressInfo).port);
  const rbac = fromJson(RBACSchema, {
    rules: { action: 'DENY', policies: { 'no-admin': { permissions: [{ urlPath: { path: { prefix: '/admin' } } }], principals: [{ any: true }] } } },
  });
  // A route's upgrade_configs decide for its streams: WebSocket off on /no-ws, spdy/3 on for /spdy.
  const withUpgrades = (upgradeConfigs: { upgradeType: string; enabled: boolean }[]): ReturnType<typeof toCluster> => {
    const a = toCluster('upstream');
    if (a.case === 'route') a.value.upgradeConfigs = upgradeConfigs.map((u) => create(RouteAction_UpgradeConfigSchema, { upgradeType: u.upgradeType, enabled: u.enabled }));
    return a;
  };
  const routes = routeConfig('inline', [
    vhost('all', ['*'], [
      route('no-ws', prefix('/no-ws'), withUpgrades([{ upgradeType: 'WebSocket', enabled: false }])),
      route('spdy', prefix('/spdy'), withUpgrades([{ upgradeType: 'spdy/3', enabled: true }])),
      route('up', prefix('/'), toCluster('upstream')),
    ]),
  ]);
  const l = await startHcmListener('ws', {
    routes,
    clusters,
    onStreamComplete: (s) => completed.push(s),
    hcm: {
      upgradeConfigs: [{ upgradeType: 'websocket' }],
      httpFilters: [
        create(HttpFilterSchema, { name: 'envoy.filters.http.rbac', configType: { case: 'typedConfig', value: anyPack(RBACSchema, rbac) } }),
        create(HttpFilterSchema, { name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema)) } }),
      ],
    },
  });
  manager = l.manager;
  port = l.port;
});

after(() => closeAll([manager, clusters], upstream));

/** An upgrade request for `path`; after a 101 sends `message` on the tunnel. Everything the proxy sent back. */
function upgrade(path: string, message: string, extra = '', protocol = 'websocket'): Promise<string> {
  return new Promise((ok) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    let sent = false;
    const timer = setTimeout(() => s.destroy(), 3000);
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (!sent && out.includes('\r\n\r\n') && out.startsWith('HTTP/1.1 101')) {
        sent = true;
        s.write(message);
      }
      if (sent && out.endsWith(message.toUpperCase())) s.destroy();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      ok(out);
    });
    s.write(`GET ${path} HTTP/1.1\r\nhost: app.example\r\nconnection: Upgrade\r\nupgrade: ${protocol}\r\n${extra}\r\n`);
  });
}

describe('WebSocket upgrades through the HTTP filters', () => {
  it('an RBAC DENY refuses the upgrade with 403 before any upstream sees it', async () => {
    const out = await upgrade('/admin/socket', 'hello');
    assert.match(out, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(out, /RBAC: access denied$/);
    assert.equal(upgrades.filter((u) => u.url.startsWith('/admin')).length, 0);
    // The stream ends (access log, stats) when the proxy's side of the connection has closed.
    const denied = await waitFor(async () => completed.find((c) => c.request.path === '/admin/socket'), 'the denied upgrade completed', 3000);
    assert.deepEqual([denied.info.responseCode, denied.info.details.startsWith('rbac_access_denied')], [403, true]);
  });

  it('an upgrade upgrade_configs does not enable is answered 403 (upgrade_failed) and logged', async () => {
    const before = upgrades.length;
    const out = await upgrade('/chat', 'hello', '', 'spdy/3');
    assert.match(out, /^HTTP\/1\.1 403 Forbidden\r\n[^]*content-length: 0\r\n/);
    assert.equal(upgrades.length, before);
    const refused = await waitFor(async () => completed.find((c) => c.info.details === 'upgrade_failed'), 'the refused upgrade completed', 3000);
    assert.equal(refused.info.responseCode, 403);
  });

  it("a route's upgrade_configs override the connection manager's: disabled there is refused, enabled there upgrades", async () => {
    const before = upgrades.length;
    assert.match(await upgrade('/no-ws/chat', 'hello'), /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.equal(upgrades.length, before);
    const out = await upgrade('/spdy/chat', 'hello', '', 'spdy/3');
    assert.match(out, /^HTTP\/1\.1 101 /);
    assert.equal(upgrades.at(-1)?.url, '/spdy/chat');
  });

  // Envoy's router when the upstream goes before answering: 503, "reset reason: connection termination", UC.
  it('an upstream that closes before answering the upgrade is a 503 connection termination (UC), not a silent close', async () => {
    const out = await upgrade('/drop', 'hello');
    assert.match(out, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.ok(out.endsWith('upstream connect error or disconnect/reset before headers. reset reason: connection termination'), out);
    const dropped = await waitFor(async () => completed.find((c) => c.request.path === '/drop'), 'the dropped upgrade completed', 3000);
    assert.deepEqual([dropped.info.responseCode, dropped.info.details, (dropped.info.flags & ResponseFlag.UC) !== 0, (dropped.info.flags & ResponseFlag.DC) !== 0], [503, 'upstream_reset_before_response_started{connection_termination}', true, false]);
  });

  it('an allowed path upgrades, with the headers the connection manager sets and without the client steering headers', async () => {
    const out = await upgrade('/chat', 'hello', 'x-envoy-retry-on: 5xx\r\n');
    assert.match(out, /^HTTP\/1\.1 101 /);
    assert.ok(out.endsWith('HELLO'), out);
    const seen = upgrades.at(-1);
    assert.equal(seen?.url, '/chat');
    assert.equal(seen?.headers['upgrade'], 'websocket');
    assert.equal(seen?.headers['x-forwarded-proto'], 'http');
    assert.match(String(seen?.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(seen?.headers['x-envoy-retry-on'], undefined);
    const tunnel = await waitFor(async () => completed.find((c) => c.request.path === '/chat' && c.info.details === 'via_upstream'), 'the tunnel completed', 3000);
    assert.deepEqual([tunnel.info.responseCode, tunnel.info.upstreamCluster, tunnel.info.flags], [101, 'upstream', 0]);
  });
});
