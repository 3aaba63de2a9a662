// The request headers Envoy's router acts on, through real listeners to a real upstream on 127.0.0.1
// (router_filter docs, "HTTP headers consumed"; router.cc finalTimeout; retry_state_impl.cc). The headers steer
// the router only on internal requests (here: internal_address_config with 127.0.0.1/32 and use_remote_address);
// an external request loses them at the connection manager. The router's own options: strict_check_headers,
// suppress_envoy_headers and respect_expected_rq_timeout.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { pack } from '../../xds/codec.js';
import { DurationSchema } from '@bufbuild/protobuf/wkt';
import { RouteActionSchema, type RouteAction } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { RouterSchema } from '../../xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { HttpFilterSchema, type HttpFilter } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { StatsStore } from '../stats/stats-store.js';
import { clusterManagerOf, prefix, route, routeConfig, staticCluster, vhost } from '../../../test/support/xds-fixtures.js';
import { closeAll, startHcmListeners, type HcmListeners } from '../../../test/support/hcm-listener.js';
import { ask, type HttpAnswer } from '../../../test/support/http-ask.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { CompletedStream } from './hcm-env.js';
import { ResponseFlag } from './response-flags.js';

const stats = new StatsStore();
const completed: CompletedStream[] = [];
/** Each request the upstream saw: its path and headers. */
const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
let upstream: Server;
let clusters: ClusterManager;
let listeners: HcmListeners;

function app(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '';
  seen.push({ path, headers: req.headers });
  req.resume();
  req.on('end', () => {
    if (path.startsWith('/hang')) return; // never answers
    if (path.startsWith('/fail')) return void res.writeHead(503, { 'content-length': '4' }).end('busy');
    if (path.startsWith('/conflict')) return void res.writeHead(409, { 'content-length': '8' }).end('conflict');
    if (path.startsWith('/try-again')) return void res.writeHead(200, { 'x-try-again': '1', 'content-length': '5' }).end('later');
    if (path.startsWith('/streaming')) return void res.writeHead(200, { 'content-type': 'text/plain' }).write('first'); // and no more
    res.writeHead(200, { 'content-length': '2' }).end('ok');
  });
}

const router = (r: MessageInitShape<typeof RouterSchema>): HttpFilter[] => [
  create(HttpFilterSchema, { name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: pack(RouterSchema, create(RouterSchema, r)) } }),
];

before(async () => {
  upstream = createServer(app);
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  const port = (upstream.address() as AddressInfo).port;
  // `limited` resets any attempt still going after 250 ms (common_http_protocol_options.max_stream_duration).
  clusters = clusterManagerOf([staticCluster('upstream', port), staticCluster('limited', port, { commonHttpProtocolOptions: { maxStreamDuration: '0.250s' } })], stats);
  const action = (extra: MessageInitShape<typeof RouteActionSchema>): { case: 'route'; value: RouteAction } => {
    const a = create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: 'upstream' }, ...extra });
    a.timeout ??= create(DurationSchema, { seconds: 5n });
    return { case: 'route', value: a };
  };
  const routes = routeConfig('inline', [
    vhost('all', ['*'], [
      // Retries only for requests that carry x-retry (retriable_request_headers).
      route('gated', prefix('/fail/gated'), action({ retryPolicy: { retryOn: '5xx', numRetries: 2, retriableRequestHeaders: [{ name: 'x-retry', headerMatchSpecifier: { case: 'presentMatch', value: true } }] } })),
      route('short', prefix('/slow-upload'), action({ timeout: { nanos: 300_000_000 } })),
      route('limited', prefix('/hang/limited'), action({ clusterSpecifier: { case: 'cluster', value: 'limited' }, retryPolicy: { retryOn: 'reset', numRetries: 1 } })),
      route('all', prefix('/'), action({})),
    ]),
  ]);
  const internal = { useRemoteAddress: true, internalAddressConfig: { cidrRanges: [{ addressPrefix: '127.0.0.1', prefixLen: 32 }] } };
  listeners = await startHcmListeners(
    {
      internal,
      external: { useRemoteAddress: true },
      strict: { ...internal, httpFilters: router({ strictCheckHeaders: ['x-envoy-max-retries', 'x-envoy-retry-on'] }) },
      suppress: { ...internal, httpFilters: router({ suppressEnvoyHeaders: true }) },
      respect: { ...internal, httpFilters: router({ respectExpectedRqTimeout: true }) },
    },
    { routes, clusters, stats, onStreamComplete: (s) => completed.push(s) },
  );
});

after(() => closeAll([listeners, clusters], upstream));

/** One request to the listener `listener`; `slowBody` sends the body in two halves that long apart. */
function send(listener: string, path: string, headers: Record<string, string> = {}, slowBody?: { body: string; gapMs: number }): Promise<HttpAnswer> {
  return ask(listeners.ports[listener] ?? 0, { path, headers, ...(slowBody !== undefined ? { slowBody } : {}) });
}

const attempts = (path: string): { path: string; headers: IncomingHttpHeaders }[] => seen.filter((s) => s.path === path);
const last = (): CompletedStream => completed.at(-1) as CompletedStream;

describe('timeouts from request headers', () => {
  it('x-envoy-upstream-rq-timeout-ms replaces the route timeout, is consumed, and the upstream is told the timeout in x-envoy-expected-rq-timeout-ms', async () => {
    const r = await send('internal', '/hang/1', { 'x-envoy-upstream-rq-timeout-ms': '200' });
    assert.equal(r.status, 504);
    assert.equal(r.body, 'upstream request timeout');
    const [seenBy] = attempts('/hang/1');
    assert.equal(seenBy?.headers['x-envoy-expected-rq-timeout-ms'], '200');
    assert.equal(seenBy?.headers['x-envoy-upstream-rq-timeout-ms'], undefined);
    assert.equal(last().info.flags & ResponseFlag.UT, ResponseFlag.UT);
  });

  it('without the header the route timeout is what the upstream is told', async () => {
    await send('internal', '/ok/1');
    assert.equal(attempts('/ok/1')[0]?.headers['x-envoy-expected-rq-timeout-ms'], '5000');
  });

  it('x-envoy-upstream-rq-timeout-alt-response turns the timeout into an empty 204', async () => {
    const r = await send('internal', '/hang/2', { 'x-envoy-upstream-rq-timeout-ms': '100', 'x-envoy-upstream-rq-timeout-alt-response': '' });
    assert.equal(r.status, 204);
    assert.equal(r.body, '');
    assert.equal(attempts('/hang/2')[0]?.headers['x-envoy-upstream-rq-timeout-alt-response'], undefined);
  });

  it('x-envoy-upstream-rq-per-try-timeout-ms times each attempt and is what the upstream is told; a retry follows under x-envoy-retry-on', async () => {
    const r = await send('internal', '/hang/3', { 'x-envoy-upstream-rq-per-try-timeout-ms': '100', 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '1' });
    assert.equal(r.status, 504);
    const seenBy = attempts('/hang/3');
    assert.equal(seenBy.length, 2);
    assert.deepEqual(seenBy.map((s) => s.headers['x-envoy-upstream-rq-per-try-timeout-ms']), [undefined, undefined]);
    assert.equal(seenBy[0]?.headers['x-envoy-expected-rq-timeout-ms'], '100');
  });

  it('a malformed timeout is dropped: the route timeout applies', async () => {
    await send('internal', '/ok/2', { 'x-envoy-upstream-rq-timeout-ms': '12abc' });
    assert.equal(attempts('/ok/2')[0]?.headers['x-envoy-expected-rq-timeout-ms'], '5000');
  });

  it('an external request loses the headers at the connection manager: the route timeout applies', async () => {
    await send('external', '/ok/3', { 'x-envoy-upstream-rq-timeout-ms': '200' });
    const [seenBy] = attempts('/ok/3');
    assert.equal(seenBy?.headers['x-envoy-expected-rq-timeout-ms'], '5000');
    assert.equal(seenBy?.headers['x-envoy-upstream-rq-timeout-ms'], undefined);
  });

  it('the route timeout starts once the whole request has arrived, not when it started (Envoy onRequestComplete)', async () => {
    // A 300 ms route timeout, and a body whose second half comes 500 ms after the first.
    const r = await send('internal', '/slow-upload', {}, { body: 'a'.repeat(64), gapMs: 500 });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok');
  });
});

describe('retries from request headers', () => {
  it('x-envoy-retry-on and x-envoy-max-retries retry a route that has no retry policy; the upstream never sees them', async () => {
    const r = await send('internal', '/fail/1', { 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '2' });
    assert.equal(r.status, 503);
    const seenBy = attempts('/fail/1');
    assert.equal(seenBy.length, 3);
    for (const s of seenBy) {
      assert.equal(s.headers['x-envoy-retry-on'], undefined);
      assert.equal(s.headers['x-envoy-max-retries'], undefined);
    }
  });

  it('without x-envoy-max-retries the default policy retries once', async () => {
    await send('internal', '/fail/2', { 'x-envoy-retry-on': 'gateway-error' });
    assert.equal(attempts('/fail/2').length, 2);
  });

  it('an external request is not retried on its own say-so', async () => {
    const r = await send('external', '/fail/3', { 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '2' });
    assert.equal(r.status, 503);
    assert.equal(attempts('/fail/3').length, 1);
  });

  it('x-envoy-retriable-status-codes adds codes for retriable-status-codes', async () => {
    await send('internal', '/conflict/1', { 'x-envoy-retry-on': 'retriable-status-codes', 'x-envoy-retriable-status-codes': '418,409', 'x-envoy-max-retries': '1' });
    assert.equal(attempts('/conflict/1').length, 2);
    await send('internal', '/conflict/2', { 'x-envoy-retry-on': 'retriable-status-codes', 'x-envoy-retriable-status-codes': '418' });
    assert.equal(attempts('/conflict/2').length, 1);
  });

  it('x-envoy-retriable-header-names retries responses carrying one of the named headers under retriable-headers', async () => {
    const r = await send('internal', '/try-again/1', { 'x-envoy-retry-on': 'retriable-headers', 'x-envoy-retriable-header-names': 'X-Other, X-Try-Again', 'x-envoy-max-retries': '2' });
    assert.equal(r.status, 200, 'the last attempt goes downstream');
    assert.equal(attempts('/try-again/1').length, 3);
  });

  it("a route's retriable_request_headers limit its retries to the requests that match", async () => {
    await send('internal', '/fail/gated/1');
    assert.equal(attempts('/fail/gated/1').length, 1);
    await send('internal', '/fail/gated/2', { 'x-retry': 'yes' });
    assert.equal(attempts('/fail/gated/2').length, 3);
  });
});

describe("the router filter's options", () => {
  it('strict_check_headers: a value that does not parse is answered 400 with flag IH and never reaches the upstream', async () => {
    const r = await send('strict', '/ok/4', { 'x-envoy-max-retries': 'two' });
    assert.equal(r.status, 400);
    assert.equal(r.body, "invalid header 'x-envoy-max-retries' with value 'two'");
    assert.equal(last().info.details, 'request_headers_failed_strict_check{x-envoy-max-retries}');
    assert.equal(last().info.flags & ResponseFlag.IH, ResponseFlag.IH);
    assert.equal(attempts('/ok/4').length, 0);
    const bad = await send('strict', '/ok/5', { 'x-envoy-retry-on': '5xx,sometimes' });
    assert.equal(bad.status, 400);
    const good = await send('strict', '/ok/6', { 'x-envoy-max-retries': ' 2 ', 'x-envoy-retry-on': '5xx,reset' });
    assert.equal(good.status, 200);
  });

  it('suppress_envoy_headers: no x-envoy-expected-rq-timeout-ms upstream and no x-envoy-upstream-service-time downstream', async () => {
    const plain = await send('internal', '/ok/7');
    assert.notEqual(plain.headers['x-envoy-upstream-service-time'], undefined);
    const r = await send('suppress', '/ok/8');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-envoy-upstream-service-time'], undefined);
    assert.equal(attempts('/ok/8')[0]?.headers['x-envoy-expected-rq-timeout-ms'], undefined);
  });

  it('respect_expected_rq_timeout: an egress proxy\'s x-envoy-expected-rq-timeout-ms is the timeout, and it goes on upstream', async () => {
    const r = await send('respect', '/hang/4', { 'x-envoy-expected-rq-timeout-ms': '150', 'x-envoy-upstream-rq-timeout-ms': '4000' });
    assert.equal(r.status, 504);
    assert.equal(attempts('/hang/4')[0]?.headers['x-envoy-expected-rq-timeout-ms'], '150');
    // Without the option the header is only information: the route's 5 s applies and replaces it.
    await send('internal', '/ok/9', { 'x-envoy-expected-rq-timeout-ms': '150' });
    assert.equal(attempts('/ok/9')[0]?.headers['x-envoy-expected-rq-timeout-ms'], '5000');
  });
});

describe('the maximum duration of an upstream attempt', () => {
  it("the cluster's max_stream_duration resets the attempt, which is retried as a reset; then 504 `upstream max stream duration reached`, flag UMSDR", async () => {
    const before = stats.counter('cluster.limited.upstream_rq_max_duration_reached').value;
    const r = await send('internal', '/hang/limited/1');
    assert.equal(r.status, 504);
    assert.equal(r.body, 'upstream max stream duration reached');
    assert.equal(attempts('/hang/limited/1').length, 2, 'retried once under retry_on: reset');
    assert.equal(last().info.details, 'upstream_max_stream_duration_reached');
    assert.equal(last().info.flags & ResponseFlag.UMSDR, ResponseFlag.UMSDR);
    assert.equal(stats.counter('cluster.limited.upstream_rq_max_duration_reached').value, before + 2);
  });

  it('x-envoy-upstream-stream-duration-ms sets it per request (Envoy takes it from any request), and is consumed', async () => {
    const r = await send('external', '/hang/5', { 'x-envoy-upstream-stream-duration-ms': '150' });
    assert.equal(r.status, 504);
    assert.equal(r.body, 'upstream max stream duration reached');
    assert.equal(attempts('/hang/5')[0]?.headers['x-envoy-upstream-stream-duration-ms'], undefined);
  });

  it('a response already streaming when it passes is cut off', async () => {
    const r = await send('internal', '/streaming/1', { 'x-envoy-upstream-stream-duration-ms': '200' });
    const outcome = { status: r.status, body: r.body, complete: r.complete };
    assert.deepEqual(outcome, { status: 200, body: 'first', complete: false });
  });
});
