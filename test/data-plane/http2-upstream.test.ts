// The gateway's HTTP/2 upstream connections (src/proxy/upstream/http2-upstream.ts), driven through the control
// plane's xDS: an h2c upstream that closes a connection it finds idle, as nginx does after keepalive_timeout
// (GOAWAY, then the TCP close) or by closing the socket alone, is connected to again for the next request
// instead of the request waiting on a dead connection. The cluster's upstream_cx_* stats count each of them.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createH2Server, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { freePort, send, startMesh, startTestProxy } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { gatewayToUpstream } from '../support/gateway-mesh.js';

describe('HTTP/2 upstream connections', () => {
  it('connects again after the upstream closed an idle connection, with or without GOAWAY', async (t) => {
    const sessions: ServerHttp2Session[] = [];
    const upstream = createH2Server((req, res) => res.end(`answer ${sessions.indexOf(req.stream.session as ServerHttp2Session)}`));
    upstream.on('session', (s: ServerHttp2Session) => sessions.push(s));
    const sockets: Socket[] = [];
    upstream.on('connection', (s: Socket) => sockets.push(s));
    const upstreamPort = await new Promise<number>((r) => upstream.listen(0, '127.0.0.1', () => r((upstream.address() as AddressInfo).port)));
    t.after(() => {
      for (const s of sessions) s.destroy();
      return new Promise<void>((r) => upstream.close(() => r()));
    });
    const port = await freePort();
    const mesh = await startMesh(t, gatewayToUpstream(port, upstreamPort, 'HTTP2'));
    const proxy = await startTestProxy(t, mesh, { node: 'ingressgateway', namespace: 'istio-system', type: 'router', labels: { istio: 'ingressgateway' } });
    /** The cluster's upstream_cx_* stats, by the name after `upstream_cx_`, from the admin's /stats. */
    const cxStats = async (): Promise<Record<string, number>> => {
      const text = await (await fetch(`${proxy.adminUrl}/stats?filter=${encodeURIComponent('a\\.example\\.internal;\\.upstream_cx_')}`)).text();
      return Object.fromEntries([...text.matchAll(/\.upstream_cx_(\w+): (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    };
    await waitFor(async () => (await send('127.0.0.1', port, { path: '/' }).catch(() => undefined))?.status === 200, 'the gateway to serve', 10_000);

    const before = sessions.length;
    // nginx's way: GOAWAY on the idle connection, then close it.
    const idle = sessions.at(-1) as ServerHttp2Session;
    await new Promise<void>((r) => {
      idle.goaway();
      idle.close(() => r());
    });
    const afterGoaway = await send('127.0.0.1', port, { path: '/' });
    assert.deepEqual([afterGoaway.status, afterGoaway.body], [200, `answer ${before}`], 'a new connection after GOAWAY');

    // The socket closed under the session, no GOAWAY (a crashed or restarted upstream, a middlebox).
    (sockets.at(-1) as Socket).destroy();
    await new Promise((r) => setTimeout(r, 100));
    const afterClose = await send('127.0.0.1', port, { path: '/' });
    assert.deepEqual([afterClose.status, afterClose.body], [200, `answer ${before + 1}`], 'a new connection after the socket closed');
    // Every connection the gateway made is an HTTP/2 one; the two the upstream closed are destroyed.
    const cx = await waitFor(async () => {
      const s = await cxStats();
      return s['destroy'] === before + 1 ? s : undefined;
    }, 'the closed connections to be counted');
    assert.deepEqual([cx['total'], cx['http2_total'], cx['http1_total'], cx['active']], [before + 2, before + 2, 0, 1]);
    // Each request is counted once its stream is opened on a connection, and every one of them completed.
    const rqText = await (await fetch(`${proxy.adminUrl}/stats?filter=${encodeURIComponent('a\\.example\\.internal;\\.upstream_rq_(total|completed|active)$')}`)).text();
    const rq = Object.fromEntries([...rqText.matchAll(/\.upstream_rq_(\w+): (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    assert.ok((rq['total'] ?? 0) >= 3, rqText);
    assert.deepEqual([rq['completed'], rq['active']], [rq['total'], 0], rqText);

    // The cluster replaced by a config change (CDS): requests keep flowing, on h2 connections still.
    await mesh.write(
      'dr.yaml',
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a, namespace: default}
spec:
  host: a.example.internal
  trafficPolicy: {connectionPool: {http: {maxRequestsPerConnection: 0, idleTimeout: 30s}}}
`,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const replies = await Promise.all(Array.from({ length: 20 }, () => send('127.0.0.1', port, { path: '/' })));
    assert.deepEqual(replies.map((r) => r.status), Array.from({ length: 20 }, () => 200));
  });
});
