// codec_type and server_header_transformation through real listeners on 127.0.0.1 (HttpConnectionManager
// proto docs): HTTP1 takes every connection as HTTP/1.1 (an HTTP/2 client gets no HTTP/2 session), HTTP2 every
// connection as HTTP/2 (an HTTP/1.1 request gets no HTTP/1.1 answer), AUTO serves both; APPEND_IF_ABSENT sets
// `server` only on responses without one, where OVERWRITE replaces the upstream's.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { prefix, route, routeConfig, staticClusterManager, toCluster, vhost } from '../../../test/support/xds-fixtures.js';
import { startHcmListeners, type HcmListeners } from '../../../test/support/hcm-listener.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { rawExchange } from '../../../test/support/raw-http.js';

let upstream: Server;
let clusters: ClusterManager;
let listeners: HcmListeners;
let ports: Readonly<Record<string, number>> = {};

before(async () => {
  upstream = createServer((req, res) => {
    if (req.url === '/with-server') res.setHeader('server', 'app');
    res.end('ok');
  });
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  clusters = staticClusterManager('upstream', (upstream.address() as AddressInfo).port);
  const routes = routeConfig('inline', [vhost('all', ['*'], [route('up', prefix('/'), toCluster('upstream'))])]);
  const variants = {
    http1: { codecType: 1 },
    http2: { codecType: 2 },
    auto: { codecType: 0 },
    ifAbsent: { serverHeaderTransformation: 1, serverName: 'edge' },
    overwrite: { serverName: 'edge' },
  } as const;
  listeners = await startHcmListeners(variants, { routes, clusters });
  ports = listeners.ports;
});

after(async () => {
  listeners.close();
  clusters.close();
  await new Promise((ok) => upstream.close(ok));
});

function h1(port: number, path = '/'): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: 'a' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** An h2c (prior knowledge) GET: its status, or the error that ended the session. */
function h2(port: number): Promise<number | string> {
  return new Promise((ok) => {
    const session = connectHttp2(`http://127.0.0.1:${port}`);
    const done = (v: number | string): void => {
      session.destroy();
      ok(v);
    };
    session.on('error', (e: Error & { code?: string }) => done(e.code ?? e.message));
    session.on('close', () => done('closed'));
    const req = session.request({ ':path': '/', ':authority': 'a' });
    req.on('response', (h) => done(Number(h[':status'])));
    req.on('error', (e: Error & { code?: string }) => done(e.code ?? e.message));
    req.end();
  });
}

describe('codec_type', () => {
  it('AUTO serves HTTP/1.1 and HTTP/2 on one listener', async () => {
    assert.equal((await h1(ports['auto'] as number)).status, 200);
    assert.equal(await h2(ports['auto'] as number), 200);
  });

  it('HTTP1 answers HTTP/1.1 and gives an HTTP/2 client no session', async () => {
    assert.equal((await h1(ports['http1'] as number)).status, 200);
    assert.notEqual(await h2(ports['http1'] as number), 200);
  });

  it('HTTP2 serves HTTP/2 and gives an HTTP/1.1 request no HTTP/1.1 answer', async () => {
    assert.equal(await h2(ports['http2'] as number), 200);
    const out = await rawExchange(ports['http2'] as number, 'GET / HTTP/1.1\r\nhost: a\r\n\r\n');
    assert.doesNotMatch(out, /^HTTP\/1\.1 /);
  });
});

describe('server_header_transformation', () => {
  it("APPEND_IF_ABSENT keeps the upstream's server header and sets its own on responses without one", async () => {
    assert.equal((await h1(ports['ifAbsent'] as number, '/with-server')).headers['server'], 'app');
    assert.equal((await h1(ports['ifAbsent'] as number, '/')).headers['server'], 'edge');
  });

  it("OVERWRITE (the default) replaces the upstream's", async () => {
    assert.equal((await h1(ports['overwrite'] as number, '/with-server')).headers['server'], 'edge');
  });
});
