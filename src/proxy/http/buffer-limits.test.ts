// How much request body the router keeps for retries and shadows, as Envoy's router decides it
// (source/common/router/router.cc: retry_shadow_buffer_limit_ is the stream's decoder buffer limit, the
// listener's per_connection_buffer_limit_bytes, capped by the route's or virtual host's
// per_request_buffer_limit_bytes; a body that outgrows it gives up the retries and counts
// retry_or_shadow_abandoned, and a retry waiting for its back-off ends the request with 507). Shadows stream
// the body and need no buffer (Envoy's streaming_shadow, the default since 1.31). Real listeners and a real
// upstream on 127.0.0.1; the upstream counts the attempts it sees and the bytes each carried.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { connect as http2Connect } from 'node:http2';
import type { Writable } from 'node:stream';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { RouteActionSchema, type RouteAction } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { StatsStore } from '../stats/stats-store.js';
import { clusterManagerOf, prefix, route, routeConfig, staticCluster, toCluster, vhost } from '../../../test/support/xds-fixtures.js';
import { closeAll, startHcmListener, type HcmListener } from '../../../test/support/hcm-listener.js';
import { ask } from '../../../test/support/http-ask.js';
import { waitFor } from '../../../test/support/wait.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';

const stats = new StatsStore();
/** The body length of every attempt the upstream saw, by path. */
const attempts = new Map<string, number[]>();
let upstream: Server;
let clusters: ClusterManager;
/** per_connection_buffer_limit_bytes 1,500 on the listener. */
let small: HcmListener;
/** The listener's default (1 MiB). */
let roomy: HcmListener;
/**
 * Like `small`, with the back-off's jitter pinned near its ceiling: a retry's delay is drawn from [0, base]
 * (Envoy's fully jittered back-off), so the 507 test would otherwise depend on the draw.
 */
let lateRetries: HcmListener;

/** Lets the upstream read the `/paused` request's body. */
let unpause: () => void = () => undefined;

function app(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '';
  if (path.startsWith('/paused')) {
    // Reads nothing until the test says so: the proxy's upstream write backs up.
    req.pause();
    unpause = () => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => res.writeHead(200, { 'content-length': String(String(bytes).length) }).end(String(bytes)));
      req.resume();
    };
    return;
  }
  const seen = attempts.get(path) ?? [];
  attempts.set(path, seen);
  if (path.startsWith('/held')) {
    // Holds the cluster's one connection for a while, answering only then.
    seen.push(0);
    req.resume();
    return void setTimeout(() => res.writeHead(200, { 'content-length': '4' }).end('held'), 300);
  }
  if (path.startsWith('/early')) {
    // Fails before the request body has arrived, as a server that refuses an upload does.
    seen.push(-1);
    req.resume();
    return void res.writeHead(503, { 'content-length': '4', connection: 'close' }).end('busy');
  }
  let bytes = 0;
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.on('end', () => {
    seen.push(bytes);
    res.writeHead(path.startsWith('/ok') ? 200 : 503, { 'content-length': '4' }).end(path.startsWith('/ok') ? 'done' : 'busy');
  });
}

const counter = (name: string): number => stats.counter(`cluster.upstream.${name}`).value;

before(async () => {
  upstream = createServer(app);
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  // `one` lets a single request at a time have a connection (max_connections 1): the next waits as pending.
  clusters = clusterManagerOf([staticCluster('upstream', upstreamPort), staticCluster('one', upstreamPort, { circuitBreakers: { thresholds: [{ maxConnections: 1 }] } })], stats);
  const retries = { retryOn: '5xx', numRetries: 2, retryBackOff: { baseInterval: { nanos: 10_000_000 } } };
  const action = (extra: MessageInitShape<typeof RouteActionSchema> = { retryPolicy: retries }): { case: 'route'; value: RouteAction } => ({
    case: 'route',
    value: create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: 'upstream' }, ...extra }),
  });
  const limited = route('route-limit', prefix('/fail/route-limit'), action());
  limited.perRequestBufferLimitBytes = 100;
  const roomyRoute = route('roomy', prefix('/fail/tight-vhost/roomy'), action());
  roomyRoute.perRequestBufferLimitBytes = 10_000;
  const routes = routeConfig('inline', [
    vhost('tight', ['tight.example'], [roomyRoute, route('tight', prefix('/'), action())], { perRequestBufferLimitBytes: 100 }),
    vhost('all', ['*'], [
      limited,
      // A long back-off: the request body keeps arriving while the retry waits.
      route('early', prefix('/early'), action({ retryPolicy: { retryOn: '5xx', numRetries: 2, retryBackOff: { baseInterval: { seconds: 2n } } } })),
      route('mirrored', prefix('/ok/mirrored'), action({ requestMirrorPolicies: [{ cluster: 'upstream' }] })),
      route('held', prefix('/held'), toCluster('one')),
      route('one', prefix('/ok/one'), { case: 'route', value: create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: 'one' }, retryPolicy: retries }) }),
      route('retried-mirrored', prefix('/fail/mirrored'), action({ retryPolicy: retries, requestMirrorPolicies: [{ cluster: 'upstream' }] })),
      route('all', prefix('/'), action()),
    ]),
  ]);
  small = await startHcmListener('small', { routes, clusters, stats, bufferLimit: 1500 });
  roomy = await startHcmListener('roomy', { routes, clusters, stats });
  lateRetries = await startHcmListener('late-retries', { routes, clusters, stats, bufferLimit: 1500, random: { next: () => 0.999 } });
});

after(() => closeAll([small.manager, roomy.manager, lateRetries.manager, clusters], upstream));

const body = (n: number): { body: string; gapMs: number } => ({ body: 'x'.repeat(n), gapMs: 0 });

describe('request body buffer limits for retries and shadows', () => {
  it('retries a body within the listener limit, replaying all of it each time', async () => {
    const r = await ask(small.port, { path: '/fail/within', slowBody: body(1000) });
    assert.equal(r.status, 503);
    assert.deepEqual(attempts.get('/fail/within'), [1000, 1000, 1000], 'the first attempt and two retries, each with the whole body');
  });

  it('gives up the retries of a body past the listener limit, and counts retry_or_shadow_abandoned', async () => {
    const abandoned = counter('retry_or_shadow_abandoned');
    const retries = counter('upstream_rq_retry');
    const r = await ask(small.port, { path: '/fail/past', slowBody: body(5000) });
    assert.equal(r.status, 503, "the first attempt's answer");
    assert.equal(r.body, 'busy');
    assert.deepEqual(attempts.get('/fail/past'), [5000], 'one attempt, carrying the whole body');
    assert.equal(counter('retry_or_shadow_abandoned'), abandoned + 1);
    assert.equal(counter('upstream_rq_retry'), retries);
  });

  it('keeps 1 MiB by default: the same body is retried on a listener without a limit of its own', async () => {
    await ask(roomy.port, { path: '/fail/default', slowBody: body(5000) });
    assert.deepEqual(attempts.get('/fail/default'), [5000, 5000, 5000]);
  });

  it("caps the listener's limit with the route's per_request_buffer_limit_bytes", async () => {
    const abandoned = counter('retry_or_shadow_abandoned');
    await ask(roomy.port, { path: '/fail/route-limit', slowBody: body(500) });
    assert.deepEqual(attempts.get('/fail/route-limit'), [500]);
    assert.equal(counter('retry_or_shadow_abandoned'), abandoned + 1);
  });

  it("applies the virtual host's per_request_buffer_limit_bytes, unless the route sets its own", async () => {
    await ask(roomy.port, { path: '/fail/tight-vhost/plain', authority: 'tight.example', slowBody: body(500) });
    await ask(roomy.port, { path: '/fail/tight-vhost/roomy', authority: 'tight.example', slowBody: body(500) });
    assert.deepEqual(attempts.get('/fail/tight-vhost/plain'), [500]);
    assert.deepEqual(attempts.get('/fail/tight-vhost/roomy'), [500, 500, 500]);
  });

  it('answers 507 when the body outgrows the limit while a retry waits for its back-off', async () => {
    const abandoned = counter('retry_or_shadow_abandoned');
    // 1,000 bytes, the upstream's 503 and a retry scheduled about 2 s out, then 1,000 more: past the 1,500 limit.
    const r = await ask(lateRetries.port, { path: '/early', slowBody: { body: 'y'.repeat(2000), gapMs: 300 } });
    assert.equal(r.status, 507);
    assert.equal(r.body, 'exceeded request buffer limit while retrying upstream');
    assert.deepEqual(attempts.get('/early'), [-1], 'the waiting retry never went out');
    assert.equal(counter('retry_or_shadow_abandoned'), abandoned + 1);
  });

  it('streams a shadow the whole body past the limit, as Envoy streams shadows (streaming_shadow), counting nothing', async () => {
    const abandoned = counter('retry_or_shadow_abandoned');
    const r = await ask(small.port, { path: '/ok/mirrored', slowBody: { body: 'z'.repeat(5000), gapMs: 100 } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'done');
    await waitFor(() => (attempts.get('/ok/mirrored') ?? []).length === 2, 'the shadow copy', 3000);
    assert.deepEqual(attempts.get('/ok/mirrored'), [5000, 5000], 'the request and its shadow, each with the whole body');
    assert.equal(counter('retry_or_shadow_abandoned'), abandoned, 'a shadow needs no buffered body');
  });

  it('retries within the limit while a shadow streams alongside', async () => {
    const r = await ask(small.port, { path: '/fail/mirrored', slowBody: body(1000) });
    assert.equal(r.status, 503);
    await waitFor(() => (attempts.get('/fail/mirrored') ?? []).length === 4, 'the shadow copy', 3000);
    assert.deepEqual(attempts.get('/fail/mirrored'), [1000, 1000, 1000, 1000], 'three attempts and one shadow');
  });

  it('sends the whole body of a request that waited for a connection while the body outgrew the limit', async () => {
    // The first request holds the one connection; the second's 5,000 bytes (limit 1,500) arrive while it waits.
    const held = ask(small.port, { path: '/held' });
    await waitFor(() => attempts.get('/held')?.length === 1, 'the first request on the connection', 3000);
    const r = await ask(small.port, { path: '/ok/one', slowBody: body(5000) });
    assert.equal((await held).status, 200);
    assert.equal(r.status, 200);
    assert.deepEqual(attempts.get('/ok/one'), [5000], 'every byte, though no retry could replay it');
  });
});

/**
 * Writes up to `total` bytes to `out` as fast as it takes them (an HTTP/2 stream is ended after the last) and
 * returns how many it had taken once it stalled: nothing more accepted for half a second.
 */
async function offerUntilStalled(out: Writable, total: number, endAfter: boolean): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let accepted = 0;
  let offered = 0;
  const send = (): void => {
    while (offered < total) {
      offered += chunk.length;
      if (!out.write(chunk, () => (accepted += chunk.length))) return void out.once('drain', send);
    }
    if (endAfter) out.end();
  };
  send();
  let last = -1;
  await waitFor(
    () => {
      const still = accepted > 0 && accepted === last;
      last = accepted;
      return still;
    },
    'the client to stall',
    20_000,
    500,
  );
  return accepted;
}

describe('request body backpressure (the buffer limit as the downstream watermark)', () => {
  it('stops reading a client whose body the upstream does not take, and sends all of it once the upstream reads', async () => {
    // Envoy read-disables the downstream once a stream buffers past its limit (1 MiB here) and enables it below
    // half of it. The client offers 96 MiB to an upstream that reads none: the proxy must not take it all.
    const total = 96 * 1024 * 1024;
    const sock = connect(roomy.port, '127.0.0.1');
    await new Promise<void>((ok) => sock.once('connect', ok));
    let reply = '';
    sock.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    sock.write(`POST /paused HTTP/1.1\r\nhost: up.example\r\ncontent-length: ${total}\r\n\r\n`);
    const accepted = await offerUntilStalled(sock, total, false);
    // What the sockets between client and upstream can hold (kernel buffers on loopback are a few MiB each)
    // plus the 1 MiB limit: far from the 96 MiB offered.
    assert.ok(accepted < 48 * 1024 * 1024, `the proxy took ${accepted} bytes of a body nobody read`);
    unpause();
    await waitFor(() => reply.includes('\r\n\r\n') && reply.endsWith(String(total)), 'the response', 20_000);
    assert.match(reply, /^HTTP\/1\.1 200 /);
    sock.destroy();
  });

  it('holds back an HTTP/2 client the same way (its stream window is not given back)', async () => {
    const total = 96 * 1024 * 1024;
    const session = http2Connect(`http://127.0.0.1:${roomy.port}`);
    const req = session.request({ ':method': 'POST', ':path': '/paused/h2', 'content-length': String(total) });
    let reply = '';
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d: Buffer) => (reply += d.toString()));
    const accepted = await offerUntilStalled(req, total, true);
    assert.ok(accepted < 48 * 1024 * 1024, `the proxy took ${accepted} bytes of a body nobody read`);
    unpause();
    await waitFor(() => reply === String(total), 'the response', 20_000);
    assert.equal(status, 200);
    session.close();
  });
});
