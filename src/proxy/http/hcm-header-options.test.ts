// The connection manager's own header options (Envoy's ConnectionManagerUtility::mutateRequestHeaders and
// mutateResponseHeaders), through a real listener and a real upstream on 127.0.0.1: `via` appended to the
// request and the response `via`, always_set_request_id_in_response (the response carries the request's
// x-request-id) and append_x_forwarded_port (the port the client connected to, unless a proxy in front set it).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenerManager } from '../network/listener-manager.js';
import { prefix, route, routeConfig, staticClusterManager, toCluster, vhost } from '../../../test/support/xds-fixtures.js';
import { startHcmListener } from '../../../test/support/hcm-listener.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';

let upstream: Server;
let clusters: ClusterManager;
let manager: ListenerManager;
let port = 0;
const seen: IncomingHttpHeaders[] = [];

before(async () => {
  upstream = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { via: '1.1 upstream-app' }).end('ok');
  });
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  clusters = staticClusterManager('upstream', (upstream.address() as AddressInfo).port);
  const routes = routeConfig('inline', [vhost('all', ['*'], [route('up', prefix('/'), toCluster('upstream'))])]);
  const l = await startHcmListener('opts', { routes, clusters, hcm: { via: 'isthmus-edge', alwaysSetRequestIdInResponse: true, appendXForwardedPort: true } });
  manager = l.manager;
  port = l.port;
});

after(async () => {
  manager.close();
  clusters.close();
  await new Promise((ok) => upstream.close(ok));
});

function get(headers: Record<string, string>): Promise<IncomingHttpHeaders> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: 'a', ...headers }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => ok(res.headers));
    });
    req.on('error', fail);
    req.end();
  });
}

describe("the connection manager's header options", () => {
  it('appends its via both ways, puts the request id on the response, and says which port the client used', async () => {
    const res = await get({});
    const up = seen.at(-1);
    assert.equal(up?.['via'], 'isthmus-edge');
    assert.equal(up?.['x-forwarded-port'], String(port));
    assert.equal(res['via'], '1.1 upstream-app, isthmus-edge');
    assert.match(String(up?.['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(res['x-request-id'], up?.['x-request-id']);
  });

  it("joins a via the client sent, and keeps an x-forwarded-port a proxy in front set", async () => {
    await get({ via: '1.0 corporate-proxy', 'x-forwarded-port': '8443' });
    const up = seen.at(-1);
    assert.deepEqual([up?.['via'], up?.['x-forwarded-port']], ['1.0 corporate-proxy, isthmus-edge', '8443']);
  });
});
