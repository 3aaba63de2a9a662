// `Expect: 100-continue` through a real listener to a real upstream on 127.0.0.1, with and without the
// connection manager's proxy_100_continue (which Istio sets on every connection manager it builds,
// ENABLE_100_CONTINUE_HEADERS). Envoy's semantics (HttpConnectionManager.proxy_100_continue; conn_manager_impl.cc
// decodeHeaders; router.cc onUpstream1xxHeaders):
// - proxied: the expectation reaches the upstream and the upstream's 100 Continue reaches the client, so an
//   upstream that refuses the body (413) answers before the client sends it; no retry follows a 100;
// - not proxied (Envoy's default): the proxy answers 100 Continue at once and removes the expectation; a 100
//   the upstream sends anyway is dropped, so the client sees one.
// Over HTTP/2 downstream the 100 is a 1xx HEADERS frame, which node's client reports as 'continue'.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { create } from '@bufbuild/protobuf';
import { StatsStore } from '../stats/stats-store.js';
import { RouteActionSchema } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { prefix, route, routeConfig, staticClusterManager, vhost } from '../../../test/support/xds-fixtures.js';
import { startHcmListeners, type HcmListeners } from '../../../test/support/hcm-listener.js';
import { rawExchange } from '../../../test/support/raw-http.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { CompletedStream } from './hcm-env.js';

const stats = new StatsStore();
const completed: CompletedStream[] = [];
/** What the upstream saw: path and expect header per request, and whether it read a body. */
const seen: { path: string; expect: string | undefined; body: string | undefined }[] = [];
let upstream: Server;
let clusters: ClusterManager;
let listeners: HcmListeners;
const ports = { proxied: 0, local: 0 };

function app(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '';
  const entry: (typeof seen)[number] = { path, expect: req.headers.expect, body: undefined };
  seen.push(entry);
  // 413 before the body: the client must not have sent it (it waits for a 100 that never comes).
  if (path === '/too-large') return void res.writeHead(413, { 'content-length': '9', connection: 'close' }).end('too large');
  if (path === '/continue' || path === '/unsolicited' || path === '/fails-after-continue') res.writeContinue();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    entry.body = Buffer.concat(chunks).toString();
    if (path === '/fails-after-continue') return void res.writeHead(503, { 'content-length': '4' }).end('busy');
    res.writeHead(200, { 'content-length': String(entry.body.length) }).end(entry.body.toUpperCase());
  });
}

before(async () => {
  upstream = createServer(app);
  upstream.on('checkContinue', app); // node answers nothing itself: the app decides
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  clusters = staticClusterManager('upstream', (upstream.address() as AddressInfo).port, stats);
  // Retries on 5xx: a 503 after a 100 Continue is not retried.
  const action = { case: 'route' as const, value: create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: 'upstream' }, retryPolicy: { retryOn: '5xx', numRetries: 2 } }) };
  const routes = routeConfig('inline', [vhost('all', ['*'], [route('up', prefix('/'), action)])]);
  listeners = await startHcmListeners({ proxied: { proxy100Continue: true }, local: { proxy100Continue: false, httpProtocolOptions: { acceptHttp10: true } } }, { routes, clusters, stats, onStreamComplete: (s) => completed.push(s) });
  ports.proxied = listeners.ports['proxied'] ?? 0;
  ports.local = listeners.ports['local'] ?? 0;
});

after(async () => {
  listeners.close();
  clusters.close();
  await new Promise((ok) => upstream.close(ok));
});

interface Exchange {
  /** Everything the proxy sent, in order. */
  readonly text: string;
  /** The body was sent (only after a 100 Continue arrived). */
  readonly bodySent: boolean;
}

/** A POST with `Expect: 100-continue`, as curl sends one: the body goes only once a 100 Continue arrives. */
function expectContinue(port: number, path: string, body: string, keepAlive = false): Promise<Exchange> {
  return new Promise((ok, fail) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let bodySent = false;
    const timer = setTimeout(() => {
      s.destroy();
      fail(new Error(`no answer to ${path} within 5 s; got ${JSON.stringify(text)}`));
    }, 5000);
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (!bodySent && text.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
        bodySent = true;
        s.write(body);
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      ok({ text, bodySent });
    });
    s.write(`POST ${path} HTTP/1.1\r\nhost: app.example\r\nexpect: 100-continue\r\ncontent-length: ${body.length}\r\n${keepAlive ? '' : 'connection: close\r\n'}\r\n`);
  });
}

const count = (text: string): number => text.split('100 Continue\r\n').length - 1;
const last = (): CompletedStream => completed.at(-1) as CompletedStream;

describe('proxy_100_continue', () => {
  it("proxied: the expectation reaches the upstream and the upstream's 100 Continue reaches the client", async () => {
    const before100 = stats.counter('cluster.upstream.upstream_rq_100').value;
    const x = await expectContinue(ports.proxied, '/continue', 'payload');
    assert.equal(x.bodySent, true);
    assert.equal(count(x.text), 1);
    assert.match(x.text, /\r\n\r\nPAYLOAD$/);
    assert.deepEqual(seen.at(-1), { path: '/continue', expect: '100-continue', body: 'payload' });
    assert.equal(last().info.continueSent, true);
    assert.equal(stats.counter('cluster.upstream.upstream_rq_100').value, before100 + 1);
  });

  // The client keeps its connection open and never sends the body: the proxy closes the connection after the
  // answer (Envoy closes an HTTP/1.1 connection whose response started before its request was all in).
  it('proxied: an upstream that refuses the body answers before the client sends it, and the connection closes', async () => {
    const x = await expectContinue(ports.proxied, '/too-large', 'a body the upstream does not want', true);
    assert.equal(x.bodySent, false);
    assert.match(x.text, /^HTTP\/1\.1 413 [^]*\r\nconnection: close\r\n/);
    assert.equal(stats.counter('http.proxied.downstream_rq_response_before_rq_complete').value, 1);
    assert.equal(seen.at(-1)?.body, undefined);
    assert.equal(last().info.continueSent, false);
  });

  it('proxied: a 5xx after a 100 Continue is not retried', async () => {
    const hits = seen.filter((s) => s.path === '/fails-after-continue').length;
    const x = await expectContinue(ports.proxied, '/fails-after-continue', 'once');
    assert.match(x.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 503 /);
    assert.equal(seen.filter((s) => s.path === '/fails-after-continue').length, hits + 1);
    assert.equal(last().info.attempts, 1);
  });

  it('not proxied: the proxy answers 100 Continue itself and removes the expectation', async () => {
    const x = await expectContinue(ports.local, '/plain', 'payload');
    assert.equal(x.bodySent, true);
    assert.equal(count(x.text), 1);
    assert.match(x.text, /\r\n\r\nPAYLOAD$/);
    assert.deepEqual(seen.at(-1), { path: '/plain', expect: undefined, body: 'payload' });
  });

  it('not proxied: an HTTP/1.0 client gets no 100 (it would not know one), and the expectation is still removed', async () => {
    const out = await rawExchange(ports.local, 'POST /plain HTTP/1.0\r\nhost: app.example\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\nhi');
    assert.match(out, /^HTTP\/1\.1 200 /);
    assert.equal(count(out), 0);
    assert.deepEqual(seen.at(-1), { path: '/plain', expect: undefined, body: 'hi' });
    assert.equal(last().info.continueSent, false);
  });

  it("not proxied: the upstream's own 100 Continue is dropped", async () => {
    const x = await expectContinue(ports.local, '/unsolicited', 'payload');
    assert.equal(count(x.text), 1);
    assert.match(x.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
  });

  it("HTTP/2 downstream, proxied: the upstream's 100 Continue is a 1xx head before the response", async () => {
    const session = connectHttp2(`http://127.0.0.1:${ports.proxied}`);
    try {
      const reply = await new Promise<{ continued: boolean; status: number; body: string }>((ok, fail) => {
        const req = session.request({ ':method': 'POST', ':path': '/continue', ':authority': 'app.example', expect: '100-continue' });
        let continued = false;
        let status = 0;
        const chunks: Buffer[] = [];
        req.on('continue', () => {
          continued = true;
          req.end('over h2');
        });
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => ok({ continued, status, body: Buffer.concat(chunks).toString() }));
        req.on('error', fail);
      });
      assert.deepEqual(reply, { continued: true, status: 200, body: 'OVER H2' });
      assert.equal(seen.at(-1)?.expect, '100-continue');
    } finally {
      session.close();
    }
  });
});
