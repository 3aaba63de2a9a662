// tcp_proxy settings Istio writes from a DestinationRule on TCP services, through a real listener:
// max_downstream_connection_duration (tcp.maxConnectionDuration: the connection is closed when it is
// reached, response flag DT) and hash_policy source_ip (consistentHash.useSourceIp: a client IP always
// reaches the same endpoint of a ring-hash cluster). Both were compiled away before.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { createLogger } from '../../lib/logger.js';
import { systemClock } from '../../lib/clock.js';
import { seededRandom } from '../lib/random.js';
import { compileListener, type CompiledListener } from '../runtime/compile-listener.js';
import { compileCluster, type CompiledCluster } from '../runtime/compile-cluster.js';
import { ListenerManager } from './listener-manager.js';
import { ResponseFlag } from '../http/response-flags.js';
import type { TcpSession } from './tcp-proxy.js';
import { ClusterManager } from '../upstream/cluster-manager.js';
import { NO_SECRETS } from '../upstream/connection-pools.js';
import { freePort } from '../../../test/support/data-plane.js';

const TCP_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const sessions: TcpSession[] = [];
const servers: Server[] = [];
let clusters: ClusterManager;
let manager: ListenerManager;
const ports: Record<string, number> = {};

/** A server that says its name on connect and echoes. */
async function named(name: string): Promise<number> {
  const s = createServer((c) => {
    c.write(`${name}\n`);
    c.on('data', (d: Buffer) => c.write(d)).on('error', () => undefined);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return (s.address() as AddressInfo).port;
}

function cluster(name: string, lbPolicy: string, endpoints: number[]): CompiledCluster {
  const c = compileCluster(
    fromJson(ClusterSchema, { name, type: 'STATIC', lbPolicy, loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: endpoints.map((p) => ({ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: p } } } })) }] } }, { registry: XDS_REGISTRY }),
  );
  assert.ok(c.ok);
  return c.value;
}

before(async () => {
  const one = await named('one');
  const ring = [await named('a'), await named('b'), await named('c')];
  clusters = new ClusterManager({ random: seededRandom(3), clock: systemClock, secrets: NO_SECRETS });
  clusters.apply(new Map([['one', cluster('one', 'ROUND_ROBIN', [one])], ['ring', cluster('ring', 'RING_HASH', ring)]]), new Map());
  manager = new ListenerManager({
    env: { routeTable: () => undefined, cluster: (n) => clusters.get(n), random: seededRandom(2), secrets: NO_SECRETS, onStreamComplete: () => undefined, onSession: (s) => sessions.push(s) },
    secrets: NO_SECRETS,
    logger: createLogger('error', () => undefined),
  });
  const listeners: [string, JsonObject][] = [
    ['dur', { statPrefix: 'dur', cluster: 'one', maxDownstreamConnectionDuration: '0.3s' }],
    ['hash', { statPrefix: 'hash', cluster: 'ring', hashPolicy: [{ sourceIp: {} }] }],
  ];
  const compiled = new Map<string, CompiledListener>();
  for (const [name, tcp] of listeners) {
    const r = compileListener(fromJson(ListenerSchema, { name, address: { socketAddress: { address: '127.0.0.1', portValue: await freePort() } }, filterChains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': TCP_TYPE, ...tcp } }] }] }, { registry: XDS_REGISTRY }));
    if (!r.ok) throw new Error(r.problems.join('; '));
    compiled.set(name, r.value);
  }
  assert.deepEqual(await manager.apply(compiled), []);
  for (const b of manager.bound()) ports[b.name] = b.port;
});

after(async () => {
  await manager.close();
  clusters.close();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** Connects (from `from`), returns the first line the upstream said and when the proxy closed the connection. */
function dialOnce(port: number, from = '127.0.0.1'): Promise<{ name: string; closedAfterMs: number | undefined }> {
  return new Promise((resolve) => {
    const start = Date.now();
    const s = connect({ port, host: '127.0.0.1', localAddress: from });
    let text = '';
    let name = '';
    s.on('data', (d: Buffer) => {
      text += d.toString();
      if (name === '' && text.includes('\n')) {
        name = text.slice(0, text.indexOf('\n'));
        if (port !== ports['dur']) {
          s.destroy();
          resolve({ name, closedAfterMs: undefined });
        }
      }
    });
    s.on('error', () => undefined);
    // Bounded: a connection the proxy never closes is given up on after 3 s.
    const giveUp = setTimeout(() => {
      s.destroy();
      resolve({ name, closedAfterMs: undefined });
    }, 3000);
    s.on('close', () => {
      clearTimeout(giveUp);
      resolve({ name, closedAfterMs: Date.now() - start });
    });
  });
}

describe('tcp_proxy connection options', () => {
  it('max_downstream_connection_duration: the proxy closes the connection when it is reached, with response flag DT', async () => {
    const r = await dialOnce(ports['dur'] ?? 0);
    assert.equal(r.name, 'one');
    // Closed by the proxy (undefined: still open when the client gave up after 3 s), and not before the duration.
    assert.ok(r.closedAfterMs !== undefined && r.closedAfterMs >= 280, `closed after ${r.closedAfterMs} ms`);
    const deadline = Date.now() + 2000;
    while (!sessions.some((s) => s.proxy.statPrefix === 'dur') && Date.now() < deadline) await new Promise((x) => setTimeout(x, 10));
    const s = sessions.find((x) => x.proxy.statPrefix === 'dur');
    assert.ok(s !== undefined && (s.flags & ResponseFlag.DT) !== 0, 'DT in the session');
  });

  it('hash_policy source_ip: each client IP always reaches the same endpoint of a ring-hash cluster, and the IPs spread', async () => {
    const byIp = new Map<string, Set<string>>();
    for (let i = 1; i <= 12; i++) {
      const ip = `127.0.15.${i}`;
      for (let k = 0; k < 4; k++) {
        const r = await dialOnce(ports['hash'] ?? 0, ip);
        const seen = byIp.get(ip) ?? new Set<string>();
        seen.add(r.name);
        byIp.set(ip, seen);
      }
    }
    for (const [ip, seen] of byIp) assert.equal(seen.size, 1, `${ip} reached ${[...seen].join(', ')}`);
    const used = new Set([...byIp.values()].flatMap((s) => [...s]));
    assert.ok(used.size >= 2, `all IPs hashed to ${[...used].join(', ')}`);
  });
});

describe('tcp_proxy config Envoy acts on and this relay does not, refused', () => {
  const problemsOf = (tcp: JsonObject): readonly string[] => {
    const r = compileListener(fromJson(ListenerSchema, { name: 'x', address: { socketAddress: { address: '127.0.0.1', portValue: 1 } }, filterChains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': TCP_TYPE, statPrefix: 'x', ...tcp } }] }] }, { registry: XDS_REGISTRY }));
    return r.ok ? [] : r.problems;
  };
  const at = 'filter_chains[0].filters[0](envoy.filters.network.tcp_proxy).typed_config';

  it('periodic and on-connect access log entries, metadata_match and on_demand', () => {
    assert.deepEqual(problemsOf({ cluster: 'a', accessLogOptions: { accessLogFlushInterval: '5s' } }), [`${at}.access_log_options: periodic and on-connect access log entries are not supported (one entry when the connection closes)`]);
    assert.deepEqual(problemsOf({ cluster: 'a', accessLogOptions: { flushAccessLogOnConnected: true } }).length, 1);
    assert.deepEqual(problemsOf({ cluster: 'a', metadataMatch: { filterMetadata: { 'envoy.lb': { version: 'v1' } } } }), [`${at}.metadata_match: endpoint subsets by metadata are not supported (use a cluster per subset, as Istio does)`]);
    assert.deepEqual(problemsOf({ weightedClusters: { clusters: [{ name: 'a', weight: 1, metadataMatch: { filterMetadata: { 'envoy.lb': { v: '1' } } } }] } }).length, 1);
    assert.deepEqual(problemsOf({ cluster: 'a', onDemand: {} }), [`${at}.on_demand: on-demand cluster discovery is not supported`]);
  });

  it('accepts what Istio sends (idle timeout, access log, max connect attempts)', () => {
    assert.deepEqual(problemsOf({ cluster: 'a', idleTimeout: '3600s', maxConnectAttempts: 2, accessLog: [] }), []);
  });
});
