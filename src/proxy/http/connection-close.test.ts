// How the connection manager ends connections, as Envoy's does: the delayed close (delayed_close_timeout, 1 s
// by default) of a connection it ends, and the HTTP/2 drain sequence (a shutdown notice, then the final
// GOAWAY drain_timeout later). Sources: the HttpConnectionManager proto's comments on both fields and
// ConnectionManagerImpl::startDrainSequence. Real listeners, a real upstream and real clients on 127.0.0.1.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:http';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect, type AddressInfo } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { DurationSchema } from '@bufbuild/protobuf/wkt';
import { StatsStore } from '../stats/stats-store.js';
import { clusterManagerOf, directResponse, prefix, route, routeConfig, staticCluster, toCluster, vhost } from '../../../test/support/xds-fixtures.js';
import { closeAll, startHcmListener, type HcmListener } from '../../../test/support/hcm-listener.js';
import { waitFor } from '../../../test/support/wait.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';

const ms = (n: number): ReturnType<typeof create<typeof DurationSchema>> => create(DurationSchema, { seconds: BigInt(Math.floor(n / 1000)), nanos: (n % 1000) * 1e6 });

let upstream: Server;
let clusters: ClusterManager;
/** delayed_close_timeout 200 ms. */
let shortClose: HcmListener;
/** delayed_close_timeout 0: no delayed close. */
let noDelay: HcmListener;
/** drain_timeout 300 ms. */
let shortDrain: HcmListener;
/** Lets the `/slow` request answer. */
let release: () => void = () => undefined;
let slowArrived = false;
let releaseHeld: () => void = () => undefined;
let heldArrived = false;
/** idle_timeout 1 s, drain_timeout 100 ms. */
let shortIdle: HcmListener;
/** max_requests_per_connection 2. */
let twoRequests: HcmListener;
/** max_connection_duration 1 s, drain_timeout 100 ms. */
let oneSecond: HcmListener;
const limitStats = new StatsStore();

before(async () => {
  upstream = createServer((req, res) => {
    if (req.url === '/held') {
      heldArrived = true;
      releaseHeld = () => res.writeHead(200, { 'content-length': '4' }).end('held');
    } else if (req.url === '/slow') {
      slowArrived = true;
      release = () => res.writeHead(200, { 'content-length': '4' }).end('slow');
    }
    else res.writeHead(200, { 'content-length': '2' }).end('ok');
  });
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  const stats = new StatsStore();
  clusters = clusterManagerOf([staticCluster('upstream', (upstream.address() as AddressInfo).port)], stats);
  const routes = routeConfig('inline', [vhost('all', ['*'], [route('direct', prefix('/direct'), directResponse(200, 'hi')), route('all', prefix('/'), toCluster('upstream'))])]);
  shortClose = await startHcmListener('short-close', { routes, clusters, stats, hcm: { delayedCloseTimeout: ms(200) } });
  noDelay = await startHcmListener('no-delay', { routes, clusters, stats, hcm: { delayedCloseTimeout: ms(0) } });
  shortDrain = await startHcmListener('short-drain', { routes, clusters, stats, hcm: { drainTimeout: ms(300) } });
  twoRequests = await startHcmListener('two-requests', { routes, clusters, stats: limitStats, hcm: { commonHttpProtocolOptions: { maxRequestsPerConnection: 2 } } });
  oneSecond = await startHcmListener('one-second', { routes, clusters, stats: limitStats, hcm: { drainTimeout: ms(100), commonHttpProtocolOptions: { maxConnectionDuration: ms(1000) } } });
  shortIdle = await startHcmListener('short-idle', { routes, clusters, stats: idleStats, hcm: { drainTimeout: ms(100), commonHttpProtocolOptions: { idleTimeout: ms(1000) } } });
});

after(() => closeAll([noDelay.manager, shortClose.manager, shortDrain.manager, shortIdle.manager, twoRequests.manager, oneSecond.manager, clusters], upstream));

const idleStats = new StatsStore();

/** A client that never closes its side: after the proxy's FIN it keeps the connection half open. */
async function halfOpenClient(port: number, request: string): Promise<{ reply: () => string; ended: () => boolean; reset: () => boolean; poke: () => void }> {
  const sock = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise<void>((ok) => sock.once('connect', ok));
  let reply = '';
  let ended = false;
  let reset = false;
  sock.on('data', (d: Buffer) => (reply += d.toString()));
  sock.on('end', () => (ended = true));
  sock.on('error', () => (reset = true));
  sock.write(request);
  return { reply: () => reply, ended: () => ended, reset: () => reset || sock.destroyed, poke: () => void (sock.destroyed || sock.write('x')) };
}

/** An HTTP/2 client session, with the last-stream IDs of the GOAWAY frames it receives, in order. */
function h2Client(port: number): { session: ClientHttp2Session; goaways: number[] } {
  const session = http2Connect(`http://127.0.0.1:${port}`);
  const goaways: number[] = [];
  session.on('goaway', (_code: number, lastStreamID: number) => goaways.push(lastStreamID));
  session.on('error', () => undefined);
  return { session, goaways };
}

/**
 * Waits until the proxy has closed the socket of a half-open client: until then, bytes the client sends are
 * read and dropped; once it is closed, the client's kernel gets a reset for them.
 */
async function proxyClosed(c: { poke: () => void; reset: () => boolean }, what: string): Promise<void> {
  await waitFor(
    () => {
      c.poke();
      return c.reset();
    },
    what,
    5000,
    100,
  );
}

describe('delayed close (delayed_close_timeout)', () => {
  it('closes a connection it ended once the client has not closed within the timeout', async () => {
    const c = await halfOpenClient(shortClose.port, 'GET /direct HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n');
    await waitFor(() => c.ended(), "the proxy's FIN after the response");
    assert.match(c.reply(), /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n\r\nhi$/);
    // Without the delayed close the socket stayed open for good.
    await proxyClosed(c, 'the proxy to close the socket the client left half open');
  });

  it('with delayed_close_timeout 0 (no delay, not "never"), closes the socket once the response has been written', async () => {
    const c = await halfOpenClient(noDelay.port, 'GET /direct HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n');
    await waitFor(() => c.ended(), "the proxy's FIN after the response");
    assert.match(c.reply(), /\r\n\r\nhi$/);
    await proxyClosed(c, 'the proxy to close the socket');
  });

  it('closes the connection after a codec error the same way', async () => {
    const c = await halfOpenClient(shortClose.port, 'GET /direct HTTP/1.1\r\nhost: a\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n');
    await waitFor(() => c.ended(), "the proxy's FIN after the 400");
    assert.match(c.reply(), /^HTTP\/1\.1 400 Bad Request\r\n/);
    await proxyClosed(c, 'the proxy to close the socket');
  });
});

describe('HTTP/2 drain sequence (drain_timeout)', () => {
  it('sends a shutdown notice, the final GOAWAY naming the last stream drain_timeout later, and finishes the stream in flight', async () => {
    const { session, goaways } = h2Client(shortDrain.port);
    const req = session.request({ ':path': '/slow' });
    let status = 0;
    let body = '';
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d: Buffer) => (body += d.toString()));
    const ended = new Promise<void>((ok) => req.on('end', ok));
    // The request is at the upstream before the listener drains.
    await waitFor(() => slowArrived, 'the slow request at the upstream');
    shortDrain.manager.drain();
    await waitFor(() => goaways.length === 2, 'the final GOAWAY', 5000);
    assert.deepEqual(goaways, [2 ** 31 - 1, 1], 'first the shutdown notice (largest stream ID), then the last stream processed');
    release();
    await ended;
    assert.equal(status, 200);
    assert.equal(body, 'slow');
    await waitFor(() => session.closed || session.destroyed, 'the connection to close after its last stream');
  });
});

describe('HTTP/2 idle timeout (common_http_protocol_options.idle_timeout)', () => {
  it('drains a connection that has had no stream for the idle timeout, never one with a stream in progress', async () => {
    const { session, goaways } = h2Client(shortIdle.port);
    const closed = new Promise<void>((ok) => session.once('close', ok));
    // A stream held open past the idle timeout (1 s; the check runs once a second) keeps the connection.
    const req = session.request({ ':path': '/held' });
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.resume();
    await waitFor(() => heldArrived, 'the held request at the upstream');
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(goaways, [], 'no GOAWAY while a stream is in progress');
    releaseHeld();
    await new Promise<void>((ok) => req.on('end', ok));
    assert.equal(status, 200);
    // Idle from now: the shutdown notice (node's client, with no stream left, closes on it at once).
    await waitFor(() => goaways.length > 0, 'the drain sequence of an idle connection', 5000);
    assert.equal(goaways[0], 2 ** 31 - 1);
    await closed;
    assert.equal(idleStats.counter('http.short-idle.downstream_cx_idle_timeout').value, 1);
  });
});

/** An HTTP/1.1 client on one connection: sends raw requests, collects what comes back and whether the proxy closed. */
async function keepAliveClient(port: number): Promise<{ send: (r: string) => void; reply: () => string; ended: () => boolean }> {
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((ok) => sock.once('connect', ok));
  let reply = '';
  let ended = false;
  sock.on('data', (d: Buffer) => (reply += d.toString()));
  sock.on('end', () => (ended = true));
  sock.on('error', () => (ended = true));
  return { send: (r) => void sock.write(r), reply: () => reply, ended: () => ended };
}

const counter = (name: string): number => limitStats.counter(name).value;

describe('connection limits (common_http_protocol_options max_requests_per_connection, max_connection_duration)', () => {
  it('HTTP/1.1: the request that reaches max_requests_per_connection is answered with connection: close, then the connection closes', async () => {
    const before = counter('http.two-requests.downstream_cx_max_requests_reached');
    const c = await keepAliveClient(twoRequests.port);
    c.send('GET /direct HTTP/1.1\r\nhost: a\r\n\r\n');
    await waitFor(() => c.reply().endsWith('hi'), 'the first response');
    assert.doesNotMatch(c.reply(), /connection: close/);
    c.send('GET /direct HTTP/1.1\r\nhost: a\r\n\r\n');
    await waitFor(() => c.ended(), 'the close after the second response');
    assert.equal(c.reply().match(/HTTP\/1\.1 200/g)?.length, 2);
    assert.match(c.reply().slice(c.reply().lastIndexOf('HTTP/1.1')), /connection: close\r\n/);
    assert.equal(counter('http.two-requests.downstream_cx_max_requests_reached'), before + 1);
  });

  it('HTTP/2: the stream that reaches max_requests_per_connection is served and starts the drain sequence', async () => {
    const { session, goaways } = h2Client(twoRequests.port);
    const get = (): Promise<string> =>
      new Promise((ok, fail) => {
        const r = session.request({ ':path': '/direct' });
        let b = '';
        r.on('data', (d: Buffer) => (b += d.toString()));
        r.on('end', () => ok(b));
        r.on('error', fail);
      });
    assert.equal(await get(), 'hi');
    assert.deepEqual(goaways, []);
    assert.equal(await get(), 'hi');
    await waitFor(() => goaways.length > 0, 'the shutdown notice');
    assert.equal(goaways[0], 2 ** 31 - 1);
    await waitFor(() => session.closed || session.destroyed, 'the connection to close');
  });

  it('HTTP/1.1: an idle connection older than max_connection_duration is closed after the drain timeout', async () => {
    const before = counter('http.one-second.downstream_cx_max_duration_reached');
    const c = await keepAliveClient(oneSecond.port);
    c.send('GET /direct HTTP/1.1\r\nhost: a\r\n\r\n');
    await waitFor(() => c.reply().endsWith('hi'), 'the response');
    assert.doesNotMatch(c.reply(), /connection: close/, 'a young connection is kept');
    await waitFor(() => c.ended(), 'the close of the aged connection', 6000);
    assert.equal(counter('http.one-second.downstream_cx_max_duration_reached'), before + 1);
  });

  it('HTTP/2: a connection older than max_connection_duration gets the drain sequence', async () => {
    const { session, goaways } = h2Client(oneSecond.port);
    await new Promise<void>((ok) => session.once('connect', () => ok()));
    await waitFor(() => goaways.length > 0, 'the shutdown notice of an aged connection', 6000);
    assert.equal(goaways[0], 2 ** 31 - 1);
    await waitFor(() => session.closed || session.destroyed, 'the connection to close');
  });
});
