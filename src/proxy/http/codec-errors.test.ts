// Requests the HTTP/1.1 codec refuses, answered as Envoy answers them (http1/codec_impl.cc, with Envoy's
// defaults as Istio runs it): the status and body on the wire, and the response_code_details and DPE flag the
// access log shows. Then the connection manager's path normalization (normalize_path, merge_slashes,
// path_with_escaped_slashes_action) on a second listener: the route sees the normalized path, a path that
// cannot be normalized is answered 400 and escaped slashes redirected. Through real listeners on 127.0.0.1
// with HCMs compiled from LDS.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:net';
import { createLogger } from '../../lib/logger.js';
import { seededRandom } from '../lib/random.js';
import { compileListener, type CompiledListener } from '../runtime/compile-listener.js';
import { ListenerManager } from '../network/listener-manager.js';
import { NO_SECRETS } from '../upstream/connection-pools.js';
import { directResponse, filterChain, hcmFilter, listener, prefix, route, routeConfig, staticClusterManager, toCluster, vhost } from '../../../test/support/xds-fixtures.js';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { StatsStore } from '../stats/stats-store.js';
import type { CompletedStream } from './hcm-env.js';
import { ResponseFlag } from './response-flags.js';
import { waitFor } from '../../../test/support/wait.js';
import { rawExchange } from '../../../test/support/raw-http.js';

const completed: CompletedStream[] = [];
let manager: ListenerManager;
let normManager: ListenerManager;
let port = 0;
let normalizing = 0;
const stats = new StatsStore();

// A WebSocket upstream for the normalizing listener: it accepts every upgrade and answers with the path it got.
const wsUpstream = createServer();
wsUpstream.on('upgrade', (req: IncomingMessage, sock: Duplex) => sock.end(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n${req.url ?? ''}`));
let wsClusters: ClusterManager | undefined;

const manager2Env = () => ({ routeTable: () => undefined, cluster: (name: string) => wsClusters?.get(name), random: seededRandom(6), secrets: NO_SECRETS, onStreamComplete: (c: CompletedStream) => void completed.push(c), stats });

before(async () => {
  manager = new ListenerManager({
    env: { routeTable: () => undefined, cluster: () => undefined, random: seededRandom(5), secrets: NO_SECRETS, onStreamComplete: (c) => void completed.push(c), stats },
    secrets: NO_SECRETS,
    logger: createLogger('error', () => undefined),
  });
  const routes = routeConfig('inline', [vhost('all', ['*'], [route('ok', prefix('/'), directResponse(200, 'ok'))])]);
  const r = compileListener(listener({ name: 'edge', address: '127.0.0.1', port: 0, chains: [filterChain({ name: 'edge', filters: [hcmFilter({ routeConfig: routes }, { statPrefix: 'edge' })] })] }));
  if (!r.ok) throw new Error(r.problems.join('; '));
  await new Promise<void>((ok) => wsUpstream.listen(0, '127.0.0.1', ok));
  wsClusters = staticClusterManager('ws', (wsUpstream.address() as AddressInfo).port);
  const normRoutes = routeConfig('norm', [vhost('all', ['*'], [route('c', { pathSpecifier: { case: 'path', value: '/a/c' } }, directResponse(200, 'c')), route('ws', prefix('/ws'), toCluster('ws')), route('rest', prefix('/'), directResponse(200, 'rest'))])]);
  const n = compileListener(
    listener({
      name: 'norm',
      address: '127.0.0.1',
      port: 0,
      chains: [filterChain({ name: 'norm', filters: [hcmFilter({ routeConfig: normRoutes }, { statPrefix: 'norm', normalizePath: true, mergeSlashes: true, pathWithEscapedSlashesAction: 3 /* UNESCAPE_AND_REDIRECT */, upgradeConfigs: [{ upgradeType: 'websocket' }] })] })],
    }),
  );
  if (!n.ok) throw new Error(n.problems.join('; '));
  assert.deepEqual(await manager.apply(new Map<string, CompiledListener>([['edge', r.value]])), []);
  port = manager.bound().find((b) => b.name === 'edge')?.port ?? 0;
  // Its own manager: listeners are keyed by address and port, and both ask for port 0.
  normManager = new ListenerManager({ env: manager2Env(), secrets: NO_SECRETS, logger: createLogger('error', () => undefined) });
  assert.deepEqual(await normManager.apply(new Map<string, CompiledListener>([['norm', n.value]])), []);
  normalizing = normManager.bound().find((b) => b.name === 'norm')?.port ?? 0;
});

after(async () => {
  await manager.close();
  await normManager.close();
  wsClusters?.close();
  await new Promise((ok) => wsUpstream.close(ok));
});

/** Raw bytes to `to` (the first listener by default): everything the proxy sent before it closed. */
const exchange = (bytes: string, to = port): Promise<string> => rawExchange(to, bytes);

const CASES: { name: string; bytes: string; status: string; details: string }[] = [
  { name: 'a bad request line', bytes: 'GARBAGE\r\n\r\n', status: '400 Bad Request', details: 'http1.codec_error' },
  { name: 'an invalid character in a header name', bytes: 'GET / HTTP/1.1\r\nhost: a\r\nbad header: v\r\n\r\n', status: '400 Bad Request', details: 'http1.codec_error' },
  { name: 'an invalid character in a header value', bytes: 'GET / HTTP/1.1\r\nhost: a\r\nx: a\x00b\r\n\r\n', status: '400 Bad Request', details: 'http1.invalid_characters' },
  { name: 'two Content-Lengths', bytes: 'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd', status: '400 Bad Request', details: 'http1.codec_error' },
  { name: 'Content-Length with Transfer-Encoding', bytes: 'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', status: '400 Bad Request', details: 'http1.content_length_and_chunked_not_allowed' },
  { name: 'a transfer coding not ending in chunked', bytes: 'POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: gzip\r\n\r\n', status: '501 Not Implemented', details: 'http1.invalid_transfer_encoding' },
  { name: 'a transfer coding besides chunked', bytes: 'POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n', status: '501 Not Implemented', details: 'http1.invalid_transfer_encoding' },
  { name: 'headers over max_request_headers_kb', bytes: `GET / HTTP/1.1\r\nhost: a\r\nx: ${'a'.repeat(70 * 1024)}\r\n\r\n`, status: '431 Request Header Fields Too Large', details: 'http1.headers_too_large' },
  { name: 'HTTP/1.0 (accept_http_10 unset)', bytes: 'GET / HTTP/1.0\r\nhost: a\r\n\r\n', status: '426 Upgrade Required', details: 'low_version' },
];

describe('codec errors, answered as Envoy answers them', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.status}, ${c.details}`, async () => {
      const before = completed.length;
      const out = await exchange(c.bytes);
      const [, reason = ''] = /^HTTP\/1\.1 (\d{3} [^\r]*)\r\n/.exec(out) ?? [];
      assert.equal(reason, c.status, out.slice(0, 120));
      assert.ok(out.endsWith(`\r\n\r\n${c.status.slice(4)}`), 'the body is the status text, as Envoy sends it');
      assert.match(out, /\r\nconnection: close\r\n/);
      await waitFor(() => completed.length > before, 'the access log entry');
      const info = completed.at(-1)?.info;
      assert.deepEqual([info?.responseCode, info?.details, ((info?.flags ?? 0) & ResponseFlag.DPE) !== 0], [Number(c.status.slice(0, 3)), c.details, true]);
    });
  }

  it("HTTP/1.1 without Host: the connection manager's 400, no body, no response flag, and the connection stays open", async () => {
    const before = completed.length;
    const out = await new Promise<string>((ok) => {
      const s = connect(port, '127.0.0.1');
      let o = '';
      s.on('data', (d: Buffer) => {
        o += d.toString('latin1');
        if (/\r\n\r\nok$/.test(o)) s.end();
      });
      s.on('error', () => undefined);
      s.on('close', () => ok(o));
      s.write('GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nhost: a\r\n\r\n');
    });
    assert.match(out, /^HTTP\/1\.1 400 Bad Request\r\n(?:(?!\r\n\r\n)[^])*content-length: 0\r\n[^]*?\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/i);
    await waitFor(() => completed.length >= before + 2, 'both access log entries');
    const info = completed[before]?.info;
    assert.deepEqual([info?.responseCode, info?.details, info?.flags], [400, 'missing_host_header', 0]);
  });
});

describe('path normalization (normalize_path, merge_slashes, UNESCAPE_AND_REDIRECT)', () => {
  const get = (p: string): Promise<string> => exchange(`GET ${p} HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n`, normalizing);
  it('routes on the normalized path: dot segments, encoded dots and unreserved escapes, doubled slashes', async () => {
    for (const p of ['/a/c', '/a/b/../c', '/x/..//a/./c', '/a/%2E%2E/a/%63', '//a//c']) assert.match(await get(p), /\r\n\r\nc$/, p);
    assert.match(await get('/a/c/d'), /\r\n\r\nrest$/);
  });
  it('answers 400 path_normalization_failed for a fragment or a NUL, and redirects escaped slashes (307, location unescaped)', async () => {
    const before = completed.length;
    for (const p of ['/a/c#x', '/a/%00c']) assert.match(await get(p), /^HTTP\/1\.1 400 Bad Request\r\n(?:(?!\r\n\r\n)[^])*content-length: 0\r\n/i, p);
    const redirect = await get('/a%2Fc?q=1');
    assert.match(redirect, /^HTTP\/1\.1 307 /);
    assert.match(redirect, /\r\nlocation: \/a\/c\?q=1\r\n/i);
    await waitFor(() => completed.length >= before + 3, 'the access log entries');
    assert.deepEqual(completed.slice(before).map((c) => [c.info.responseCode, c.info.details]), [[400, 'path_normalization_failed'], [400, 'path_normalization_failed'], [307, 'path_normalization_failed']]);
    assert.deepEqual([stats.counter('http.norm.downstream_rq_failed_path_normalization').value, stats.counter('http.norm.downstream_rq_redirected_with_normalized_path').value], [2, 1]);
  });
});

describe('path normalization on WebSocket upgrades', () => {
  const upgrade = (p: string): Promise<string> => exchange(`GET ${p} HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n`, normalizing);
  it('forwards the normalized path, and answers 400 or 307 on the socket as for any request', async () => {
    const ok = await upgrade('/x/../ws/%61');
    assert.match(ok, /^HTTP\/1\.1 101 /);
    assert.ok(ok.endsWith('\r\n\r\n/ws/a'), ok);
    assert.match(await upgrade('/ws/%00'), /^HTTP\/1\.1 400 Bad Request\r\n/);
    const moved = await upgrade('/ws%2Fa');
    assert.match(moved, /^HTTP\/1\.1 307 Temporary Redirect\r\nlocation: \/ws\/a\r\n/);
  });
});
