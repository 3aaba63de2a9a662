// tcp_proxy's idle_timeout through a real listener on 127.0.0.1: a listener compiled from LDS JSON whose
// tcp_proxy forwards to an echo server. Envoy: the idle timeout is "the period in which there are no bytes
// sent or received on either the upstream or downstream connection"; when it passes the connection closes
// (https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto).
// And the relay itself: the upstream's reads go straight to the client through one reused buffer, so a
// client slower than the upstream must still get every byte, in order, none overwritten.

import { staticClusterManager } from '../../../test/support/xds-fixtures.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { createLogger } from '../../lib/logger.js';
import { seededRandom } from '../lib/random.js';
import { compileListener, type CompiledListener } from '../runtime/compile-listener.js';
import { ListenerManager } from './listener-manager.js';
import { relayReads, type TcpSession } from './tcp-proxy.js';
import { ClusterManager } from '../upstream/cluster-manager.js';
import { NO_SECRETS } from '../upstream/connection-pools.js';
import { StatsStore } from '../stats/stats-store.js';

const TCP_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const IDLE_MS = 400;

const sessions: TcpSession[] = [];
const stats = new StatsStore();
let echo: Server;
let clusters: ClusterManager;
let manager: ListenerManager;
let port = 0;

before(async () => {
  echo = createServer((s) => s.on('data', (d: Buffer) => s.write(d)).on('end', () => s.end()).on('error', () => undefined));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const echoPort = (echo.address() as AddressInfo).port;
  clusters = staticClusterManager('echo', echoPort, stats);
  manager = new ListenerManager({
    env: { routeTable: () => undefined, cluster: (n) => clusters.get(n), random: seededRandom(2), secrets: NO_SECRETS, onStreamComplete: () => undefined, onSession: (s) => sessions.push(s) },
    secrets: NO_SECRETS,
    logger: createLogger('error', () => undefined),
  });
  const tcpProxy: JsonObject = { name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': TCP_TYPE, statPrefix: 'echo', cluster: 'echo', idleTimeout: `${IDLE_MS / 1000}s` } };
  const listener: JsonObject = { name: 'tcp', address: { socketAddress: { address: '127.0.0.1', portValue: 0 } }, filterChains: [{ filters: [tcpProxy] }] };
  const r = compileListener(fromJson(ListenerSchema, listener, { registry: XDS_REGISTRY }));
  if (!r.ok) throw new Error(r.problems.join('; '));
  assert.deepEqual(await manager.apply(new Map<string, CompiledListener>([['tcp', r.value]])), []);
  port = manager.bound().find((b) => b.name === 'tcp')?.port ?? 0;
});

after(async () => {
  await manager.close();
  clusters.close();
  await new Promise<void>((r) => echo.close(() => r()));
});

/** A client that records what came back and when the proxy closed it. */
function client(): { write(t: string): void; got: () => string; closedAt: () => number | undefined; openedAt: number } {
  const s = connect(port, '127.0.0.1');
  let data = '';
  let closedAt: number | undefined;
  s.on('data', (d: Buffer) => (data += d.toString('latin1')));
  s.on('error', () => undefined);
  s.on('close', () => (closedAt = Date.now()));
  return { write: (t) => s.write(t), got: () => data, closedAt: () => closedAt, openedAt: Date.now() };
}

async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('tcp_proxy idle_timeout', () => {
  it('closes a connection that carries no bytes for the timeout, with idle_timeout as the reason', async () => {
    const c = client();
    c.write('hello');
    await waitFor('the echo', () => c.got() === 'hello');
    const quietFrom = Date.now();
    await waitFor('the proxy to close the idle connection', () => c.closedAt() !== undefined);
    assert.ok((c.closedAt() ?? 0) - quietFrom >= IDLE_MS - 50, 'not closed before the idle timeout');
    await waitFor('the session report', () => sessions.some((s) => s.bytesReceived === 5));
    const s = sessions.find((x) => x.bytesReceived === 5);
    assert.equal(s?.details, 'idle_timeout');
    assert.equal(s?.bytesSent, 5);
  });

  it('keeps a connection open while bytes flow more often than the timeout, and closes it once they stop', async () => {
    const c = client();
    let sent = '';
    // Three timeouts' worth of traffic, a chunk every quarter of the timeout.
    for (let i = 0; i < 12; i++) {
      const chunk = `c${i};`;
      sent += chunk;
      c.write(chunk);
      await sleep(IDLE_MS / 4);
      assert.equal(c.closedAt(), undefined, `closed after ${i + 1} chunks while traffic was flowing`);
    }
    await waitFor('every chunk echoed', () => c.got() === sent);
    await waitFor('the proxy to close the connection once idle', () => c.closedAt() !== undefined);
    assert.ok((c.closedAt() ?? 0) - c.openedAt >= 3 * IDLE_MS, 'the connection lasted through the traffic');
  });
});

describe('tcp_proxy upstream connection stats', () => {
  it("counts each upstream connection in the cluster's upstream_cx_total, upstream_cx_active and upstream_cx_destroy", async () => {
    const cx = (n: string): number => (n === 'active' ? stats.gauge('cluster.echo.upstream_cx_active').value : stats.counter(`cluster.echo.upstream_cx_${n}`).value);
    await waitFor('earlier connections to close', () => cx('active') === 0);
    const before = cx('total');
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.write('ping');
    await waitFor('the echo', () => got === 'ping');
    assert.deepEqual([cx('total') - before, cx('active')], [1, 1]);
    s.end();
    await waitFor('the upstream connection to close', () => cx('active') === 0);
    assert.equal(cx('destroy'), cx('total'), 'every connection opened was closed');
    assert.equal(stats.counter('cluster.echo.upstream_cx_http1_total').value, 0, 'a TCP connection is not an HTTP one');
  });
});

describe('tcp_proxy relay', () => {
  it('echoes 32 MB byte for byte to a client that stalls (the upstream outruns it)', async () => {
    const payload = randomBytes(32 * 1024 * 1024);
    const s = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let gotBytes = 0;
    let nextStall = 0;
    s.on('data', (d: Buffer) => {
      got.push(d);
      gotBytes += d.length;
      // Stop reading for a while every 8 MB (more than loopback's socket buffers hold): the buffers toward
      // this client fill, and the proxy's writes are taken only in part while the echo keeps sending.
      if (gotBytes >= nextStall) {
        nextStall += 8 * 1024 * 1024;
        s.pause();
        setTimeout(() => s.resume(), 300);
      }
    });
    s.write(payload);
    await waitFor('the whole echo', () => gotBytes >= payload.length, 60_000);
    s.destroy();
    assert.equal(gotBytes, payload.length);
    const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    assert.equal(digest(Buffer.concat(got)), digest(payload), 'the echoed bytes are the bytes sent');
  });

  it('never reads into bytes still waiting to be sent: a write the kernel did not take whole moves reads to a new buffer', async () => {
    // A client that does not read yet: the proxy's writes to it queue once the kernel's buffers are full.
    let accepted: Socket | undefined;
    const sink = createServer((s) => {
      s.pause();
      accepted = s;
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const down = connect((sink.address() as AddressInfo).port, '127.0.0.1');
    await new Promise<void>((r) => down.once('connect', () => r()));
    const relay = relayReads(down);
    const sent: Buffer[] = [];
    const first = relay.buffer();
    let reads = 0;
    // Reads of distinct bytes, as the upstream's would be, until one write stays queued.
    while (down.writableLength === 0 && reads < 10_000) {
      const b = relay.buffer();
      b.fill(reads % 251);
      sent.push(Buffer.from(b));
      relay.callback(b.length, b);
      reads++;
    }
    assert.ok(down.writableLength > 0, 'a write was queued');
    const pending = relay.buffer();
    assert.notEqual(pending, first, 'the next read goes to another buffer');
    // The next read's bytes must not change what is queued.
    pending.fill(0xff);
    sent.push(Buffer.from(pending.subarray(0, 100)));
    relay.callback(100, pending);
    down.end();
    await waitFor('the sink to accept', () => accepted !== undefined);
    const got: Buffer[] = [];
    accepted?.on('data', (d: Buffer) => got.push(d));
    accepted?.resume();
    await new Promise<void>((r) => accepted?.once('end', () => r()));
    await new Promise<void>((r) => sink.close(() => r()));
    assert.ok(Buffer.concat(got).equals(Buffer.concat(sent)), 'the client got every read, in order, as read');
  });
});
