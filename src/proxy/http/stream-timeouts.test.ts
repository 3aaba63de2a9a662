// The connection manager's stream idle timeout and maximum stream duration, through real listeners to a real
// upstream on 127.0.0.1 (Envoy's conn_manager_impl.cc onIdleTimeout, refreshDurationTimeout and
// onStreamMaxDurationReached; HttpConnectionManager.stream_idle_timeout, RouteAction.idle_timeout and
// max_stream_duration, HttpProtocolOptions.max_stream_duration). The waits are bounded (a few times the
// configured timeout); nothing here measures speed.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as connectHttp2 } from 'node:http2';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { DurationSchema } from '@bufbuild/protobuf/wkt';
import { RouteActionSchema, type RouteAction } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { StatsStore } from '../stats/stats-store.js';
import { prefix, route, routeConfig, staticClusterManager, vhost } from '../../../test/support/xds-fixtures.js';
import { closeAll, startHcmListeners, type HcmListeners } from '../../../test/support/hcm-listener.js';
import { ask, type HttpAnswer } from '../../../test/support/http-ask.js';
import { waitFor } from '../../../test/support/wait.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { CompletedStream } from './hcm-env.js';
import { ResponseFlag } from './response-flags.js';

const stats = new StatsStore();
const completed: CompletedStream[] = [];
const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
let upstream: Server;
let clusters: ClusterManager;
let listeners: HcmListeners;

function app(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '';
  seen.push({ path, headers: req.headers });
  req.resume();
  if (path.startsWith('/hang')) return; // never answers
  if (path.startsWith('/slow')) return void setTimeout(() => res.writeHead(200, { 'content-length': '4' }).end('slow'), 600);
  if (path.startsWith('/trickle')) {
    // A chunk every 100 ms for 900 ms: never idle for long.
    res.writeHead(200, { 'content-type': 'text/plain' });
    let n = 0;
    const t = setInterval(() => {
      res.write(`${n}`);
      if (++n === 9) {
        clearInterval(t);
        res.end();
      }
    }, 100);
    return;
  }
  if (path.startsWith('/stall')) return void res.writeHead(200, { 'content-type': 'text/plain' }).write('first'); // then nothing
  req.on('end', () => res.writeHead(200, { 'content-length': '2' }).end('ok'));
}

const ms = (n: number): ReturnType<typeof create<typeof DurationSchema>> => create(DurationSchema, { seconds: BigInt(Math.floor(n / 1000)), nanos: (n % 1000) * 1_000_000 });

before(async () => {
  upstream = createServer(app);
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  clusters = staticClusterManager('upstream', (upstream.address() as AddressInfo).port, stats);
  const action = (extra: MessageInitShape<typeof RouteActionSchema> = {}): { case: 'route'; value: RouteAction } => ({
    case: 'route',
    value: create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: 'upstream' }, ...extra }),
  });
  const routes = routeConfig('inline', [
    vhost('all', ['*'], [
      route('route-idle', prefix('/slow/route-idle'), action({ idleTimeout: ms(2000) })),
      route('duration', prefix('/hang/duration'), action({ maxStreamDuration: { maxStreamDuration: ms(300) } })),
      route('no-duration', prefix('/slow/no-duration'), action({ maxStreamDuration: { maxStreamDuration: ms(0) } })),
      // Istio's inbound routes: no timeouts, a gRPC client's deadline honoured (grpc_timeout_header_max 0).
      route('grpc', prefix('/hang/grpc'), action({ timeout: ms(0), maxStreamDuration: { maxStreamDuration: ms(0), grpcTimeoutHeaderMax: ms(0) } })),
      route('grpc-capped', prefix('/hang/capped'), action({ maxStreamDuration: { grpcTimeoutHeaderMax: ms(250), grpcTimeoutHeaderOffset: ms(50) } })),
      route('all', prefix('/'), action()),
    ]),
  ]);
  listeners = await startHcmListeners(
    { idle: { streamIdleTimeout: ms(300) }, duration: { streamIdleTimeout: ms(0), commonHttpProtocolOptions: { maxStreamDuration: ms(300) } } },
    { routes, clusters, stats, onStreamComplete: (s) => completed.push(s) },
  );
});

after(() => closeAll([listeners, clusters], upstream));

/** One request to the listener `listener`; `partialBody` sends part of a declared body and never the rest. */
function send(listener: string, path: string, headers: Record<string, string> = {}, partialBody?: string): Promise<HttpAnswer> {
  return ask(listeners.ports[listener] ?? 0, { path, headers, ...(partialBody !== undefined ? { partialBody } : {}) });
}

const last = (): CompletedStream => completed.at(-1) as CompletedStream;

/** The proxy's end of a reset connection closes on a later turn of the loop than the client sees it. */
const completedFor = (path: string): Promise<CompletedStream> => waitFor(() => completed.find((c) => c.request.path === path), `the stream of ${path} completed`, 2000);
const counter = (name: string): number => stats.counter(name).value;

describe('stream_idle_timeout', () => {
  it('an upstream that never answers: 504 `stream timeout` with flag SI, counted in downstream_rq_idle_timeout', async () => {
    const before = counter('http.idle.downstream_rq_idle_timeout');
    const r = await send('idle', '/hang/1');
    assert.equal(r.status, 504);
    assert.equal(r.body, 'stream timeout');
    assert.equal(last().info.details, 'stream_idle_timeout');
    assert.equal(last().info.flags & ResponseFlag.SI, ResponseFlag.SI);
    assert.equal(counter('http.idle.downstream_rq_idle_timeout'), before + 1);
  });

  it('a request whose body stops arriving: 408', async () => {
    const r = await send('idle', '/upload', {}, 'half of it');
    assert.equal(r.status, 408);
    assert.equal(r.body, 'stream timeout');
  });

  it('a response that keeps arriving is never idle, however long it takes', async () => {
    const r = await send('idle', '/trickle');
    assert.equal(r.status, 200);
    assert.equal(r.body, '012345678');
    assert.equal(r.complete, true);
  });

  it('a response that stops after its head is reset', async () => {
    const r = await send('idle', '/stall');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'first');
    assert.equal(r.complete, false);
    const s = await completedFor('/stall');
    assert.equal(s.info.flags & ResponseFlag.SI, ResponseFlag.SI);
    assert.equal(s.info.connectionTerminationDetails, 'stream_idle_timeout');
  });

  it('over HTTP/2 too: the stream is answered and the connection stays open for the next one', async () => {
    const session = connectHttp2(`http://127.0.0.1:${listeners.ports['idle'] ?? 0}`);
    const ask = (path: string): Promise<{ status: number; body: string }> =>
      new Promise((ok, fail) => {
        const req = session.request({ ':path': path, ':authority': 'app.example' });
        let status = 0;
        let body = '';
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => ok({ status, body }));
        req.on('error', fail);
      });
    try {
      assert.deepEqual(await ask('/hang/h2'), { status: 504, body: 'stream timeout' });
      assert.deepEqual(await ask('/h2-after'), { status: 200, body: 'ok' });
    } finally {
      session.close();
    }
  });

  it("a route's idle_timeout replaces the connection manager's", async () => {
    assert.equal((await send('idle', '/slow/1')).status, 504, "600 ms of silence is past the connection manager's 300 ms");
    const r = await send('idle', '/slow/route-idle');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'slow');
  });
});

describe('max_stream_duration', () => {
  it("the route's: 504 `downstream duration timeout`, counted in downstream_rq_max_duration_reached", async () => {
    const before = counter('http.idle.downstream_rq_max_duration_reached');
    const r = await send('idle', '/hang/duration');
    assert.equal(r.status, 504);
    assert.equal(r.body, 'downstream duration timeout');
    assert.equal(last().info.details, 'max_duration_timeout');
    assert.equal(counter('http.idle.downstream_rq_max_duration_reached'), before + 1);
  });

  it("the connection manager's applies where the route sets none, and a route's 0 turns it off", async () => {
    const r = await send('duration', '/hang/hcm');
    assert.equal(r.status, 504);
    assert.equal(r.body, 'downstream duration timeout');
    const off = await send('duration', '/slow/no-duration');
    assert.equal(off.status, 200);
  });

  it("a gRPC client's deadline under grpc_timeout_header_max: DEADLINE_EXCEEDED when it passes, and the upstream is told it", async () => {
    const grpc = { 'content-type': 'application/grpc', te: 'trailers' };
    const r = await send('idle', '/hang/grpc', { ...grpc, 'grpc-timeout': '200m' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['grpc-status'], '4');
    assert.equal(r.headers['grpc-message'], 'downstream duration timeout');
    assert.equal(seen.find((s) => s.path === '/hang/grpc')?.headers['grpc-timeout'], '200m');
    // Capped at 250 ms and less the 50 ms offset: the upstream is told 200 ms.
    const capped = await send('idle', '/hang/capped', { ...grpc, 'grpc-timeout': '10S' });
    assert.equal(capped.headers['grpc-status'], '4');
    assert.equal(seen.find((s) => s.path === '/hang/capped')?.headers['grpc-timeout'], '200m');
  });
});
