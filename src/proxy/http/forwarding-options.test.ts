// Route and virtual host options of Envoy's router that used to be compiled and then ignored, through a real
// listener to a real upstream on 127.0.0.1: auto_host_rewrite and append_x_forwarded_host (RouteAction),
// include_attempt_count_in_response and include_is_timeout_retry_header (VirtualHost), per_try_idle_timeout
// (RetryPolicy), and the details a last per-try timeout leaves (upstream_per_try_timeout).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { BoolValueSchema } from '@bufbuild/protobuf/wkt';
import { RouteActionSchema, type RouteAction } from '../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { StatsStore } from '../stats/stats-store.js';
import { clusterManagerOf, prefix, route, routeConfig, staticCluster, vhost } from '../../../test/support/xds-fixtures.js';
import { closeAll, startHcmListener } from '../../../test/support/hcm-listener.js';
import { ask, type HttpAnswer } from '../../../test/support/http-ask.js';
import { waitFor } from '../../../test/support/wait.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { ListenerManager } from '../network/listener-manager.js';
import type { CompletedStream } from './hcm-env.js';
import { ResponseFlag } from './response-flags.js';

const stats = new StatsStore();
const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
const completed: CompletedStream[] = [];
let upstream: Server;
let clusters: ClusterManager;
let manager: ListenerManager;
let port = 0;

function app(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '';
  seen.push({ path, headers: req.headers });
  const n = seen.filter((s) => s.path === path).length;
  if (path.startsWith('/hang')) return; // never answers
  if ((path.startsWith('/stall-once') || path.startsWith('/quiet-once')) && n === 1) return; // the first attempt gets nothing
  if (path.startsWith('/trickle')) {
    // A head, then a chunk every 100 ms for 600 ms: never idle for 300 ms.
    res.writeHead(200, { 'content-type': 'text/plain' });
    let i = 0;
    const t = setInterval(() => {
      res.write(String(i));
      if (++i === 6) {
        clearInterval(t);
        res.end();
      }
    }, 100);
    return;
  }
  if (path.startsWith('/head-then-stall')) return void res.writeHead(200, { 'content-type': 'text/plain' }).write('first');
  res.writeHead(200, { 'content-length': '2' }).end('ok');
}

before(async () => {
  upstream = createServer(app);
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  // One endpoint, with a hostname (as EDS or a DNS cluster gives it).
  const named = staticCluster('named', upstreamPort, {
    loadAssignment: { clusterName: 'named', endpoints: [{ lbEndpoints: [{ endpoint: { hostname: 'backend.internal', address: { socketAddress: { address: '127.0.0.1', portValue: upstreamPort } } } }] }] },
  });
  clusters = clusterManagerOf([named], stats);
  const to = (extra: MessageInitShape<typeof RouteActionSchema> = {}): { case: 'route'; value: RouteAction } => ({
    case: 'route',
    value: create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: 'named' }, ...extra }),
  });
  const routes = routeConfig('inline', [
    vhost(
      'all',
      ['*'],
      [
        route('auto', prefix('/auto'), to({ hostRewriteSpecifier: { case: 'autoHostRewrite', value: create(BoolValueSchema, { value: true }) }, appendXForwardedHost: true })),
        route('literal', prefix('/literal'), to({ hostRewriteSpecifier: { case: 'hostRewriteLiteral', value: 'rewritten.example' }, appendXForwardedHost: true })),
        route('per-try', prefix('/stall-once'), to({ retryPolicy: { retryOn: '5xx', numRetries: 1, perTryTimeout: { nanos: 200_000_000 } } })),
        route('hang', prefix('/hang'), to({ retryPolicy: { retryOn: 'reset', numRetries: 1, perTryTimeout: { nanos: 150_000_000 } } })),
        route('idle', prefix('/'), to({ retryPolicy: { retryOn: '5xx', numRetries: 1, perTryIdleTimeout: { nanos: 300_000_000 } } })),
      ],
      { includeAttemptCountInResponse: true, includeIsTimeoutRetryHeader: true },
    ),
  ]);
  const l = await startHcmListener('options', { routes, clusters, stats, onStreamComplete: (s) => completed.push(s) });
  manager = l.manager;
  port = l.port;
});

after(() => closeAll([manager, clusters], upstream));

const get = (path: string, headers: Record<string, string> = {}): Promise<HttpAnswer> => ask(port, { path, headers, timeoutMs: 5000 });

const attempts = (path: string): { path: string; headers: IncomingHttpHeaders }[] => seen.filter((s) => s.path === path);

const completedFor = (path: string): Promise<CompletedStream> => waitFor(() => completed.find((c) => c.request.path === path), `the stream of ${path} completed`, 2000);

describe('host rewrites', () => {
  it("auto_host_rewrite: the upstream gets its endpoint's hostname as the host, and append_x_forwarded_host keeps the client's", async () => {
    await get('/auto/1', { 'x-forwarded-host': 'edge.example' });
    const [s] = attempts('/auto/1');
    assert.equal(s?.headers.host, 'backend.internal');
    assert.equal(s?.headers['x-forwarded-host'], 'edge.example,app.example');
  });

  it('append_x_forwarded_host with a literal rewrite', async () => {
    await get('/literal/1');
    const [s] = attempts('/literal/1');
    assert.equal(s?.headers.host, 'rewritten.example');
    assert.equal(s?.headers['x-forwarded-host'], 'app.example');
  });
});

describe('attempt headers of the virtual host', () => {
  it('include_attempt_count_in_response: the answer says how many attempts it took', async () => {
    const r = await get('/plain/1');
    assert.equal(r.headers['x-envoy-attempt-count'], '1');
    const retried = await get('/stall-once/1');
    assert.equal(retried.status, 200);
    assert.equal(retried.headers['x-envoy-attempt-count'], '2');
  });

  it('include_is_timeout_retry_header: a retry after a per-try timeout says so; the first attempt carries no header', async () => {
    await get('/stall-once/2');
    assert.deepEqual(attempts('/stall-once/2').map((s) => s.headers['x-envoy-is-timeout-retry']), [undefined, 'true']);
  });
});

describe('per-try timeouts', () => {
  it('the last per-try timeout: 504 with details upstream_per_try_timeout (route_timeout is the route timeout only)', async () => {
    const r = await get('/hang/1');
    assert.equal(r.status, 504);
    const s = await completedFor('/hang/1');
    assert.equal(s.info.details, 'upstream_per_try_timeout');
    assert.equal(s.info.flags & ResponseFlag.UT, ResponseFlag.UT);
  });

  it('per_try_idle_timeout lets a response that keeps arriving finish', async () => {
    const r = await get('/trickle/1');
    assert.deepEqual([r.status, r.body, r.complete], [200, '012345', true]);
  });

  it('per_try_idle_timeout abandons an attempt that goes quiet: retried before a response, the client reset after one', async () => {
    const before = stats.counter('cluster.named.upstream_rq_per_try_idle_timeout').value;
    const quiet = await get('/quiet-once/1');
    assert.equal(quiet.status, 200, 'nothing at all from the first attempt within 300 ms: a retry, which answers');
    assert.equal(attempts('/quiet-once/1').length, 2);
    assert.equal(attempts('/quiet-once/1')[1]?.headers['x-envoy-is-timeout-retry'], 'true');
    const stalled = await get('/head-then-stall/1');
    assert.deepEqual([stalled.status, stalled.body, stalled.complete], [200, 'first', false]);
    const s = await completedFor('/head-then-stall/1');
    assert.equal(s.info.connectionTerminationDetails, 'upstream_per_try_idle_timeout');
    assert.equal(stats.counter('cluster.named.upstream_rq_per_try_idle_timeout').value, before + 2);
  });
});
