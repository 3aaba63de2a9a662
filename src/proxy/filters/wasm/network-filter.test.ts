// envoy.filters.network.wasm through real listeners on 127.0.0.1: a listener compiled from LDS JSON with
// a network Wasm filter before tcp_proxy (or the HTTP connection manager), a static cluster to an echo
// server, and the proxy's plugin registry. Plugins: the gcore SDK's tcp-count (built by
// scripts/build-wasm-plugins.mjs) and small WAT modules that rewrite, hold or trap on the bytes.

import { staticClusterManager } from '../../../../test/support/xds-fixtures.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { request } from 'node:http';
import { pathToFileURL } from 'node:url';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { ListenerSchema } from '../../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { XDS_REGISTRY } from '../../../xds/codec.js';
import { systemClock } from '../../../lib/clock.js';
import { createLogger } from '../../../lib/logger.js';
import { seededRandom } from '../../lib/random.js';
import { compileListener, type CompiledListener } from '../../runtime/compile-listener.js';
import { ListenerManager } from '../../network/listener-manager.js';
import type { TcpSession } from '../../network/tcp-proxy.js';
import { ClusterManager } from '../../upstream/cluster-manager.js';
import { NO_SECRETS } from '../../upstream/connection-pools.js';
import { StatsStore } from '../../stats/stats-store.js';
import { buildModule } from '../../wasm/wat-harness.test.js';
import { WasmPluginRegistry } from './plugin-registry.js';

const WASM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm';
const TCP_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** Logs each downstream chunk as the plugin sees it; holds it (pause) while fewer than 4 bytes are held, else upper-cases all. */
const UPPER_BODY = `
  (func (export "proxy_on_downstream_data") (param $ctx i32) (param $size i32) (param $end i32) (result i32)
    (local $p i32) (local $n i32) (local $i i32) (local $c i32)
    (drop (call $proxy_get_buffer_bytes (i32.const 2) (i32.const 0) (local.get $size) (i32.const 256) (i32.const 260)))
    (local.set $p (i32.load (i32.const 256)))
    (local.set $n (i32.load (i32.const 260)))
    (drop (call $proxy_log (i32.const 2) (local.get $p) (local.get $n)))
    (if (i32.and (i32.lt_u (local.get $n) (i32.const 4)) (i32.eqz (local.get $end))) (then (return (i32.const 1))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
      (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
        (then (i32.store8 (i32.add (local.get $p) (local.get $i)) (i32.sub (local.get $c) (i32.const 32)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (drop (call $proxy_set_buffer_bytes (i32.const 2) (i32.const 0) (local.get $n) (local.get $p) (local.get $n)))
    (i32.const 0))`;

/** Traps on the first downstream byte. */
const TRAP_BODY = `
  (func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32) unreachable)`;

interface Builder {
  buildWasmPlugins(o: { quiet: boolean }): Promise<unknown>;
  wasmPluginPath(sdk: string, name: string): string;
}

let tcpCountPath = '';
let upperWasm = '';
let trapWasm = '';
const lines: string[] = [];
const sessions: TcpSession[] = [];
/** Every chunk the echo server received, in order. */
const received: Buffer[] = [];
let echo: Server;
let echoPort = 0;
let clusters: ClusterManager;
let registry: WasmPluginRegistry;
let manager: ListenerManager;

before(async () => {
  const url = pathToFileURL(new URL('../../../../scripts/build-wasm-plugins.mjs', import.meta.url).pathname).href;
  const builder = (await import(url)) as Builder;
  await builder.buildWasmPlugins({ quiet: true });
  tcpCountPath = builder.wasmPluginPath('gcore', 'tcp-count');
  const hostcalls = ['proxy_log', 'proxy_get_buffer_bytes', 'proxy_set_buffer_bytes'];
  upperWasm = Buffer.from(await buildModule({ hostcalls, body: UPPER_BODY })).toString('base64');
  trapWasm = Buffer.from(await buildModule({ hostcalls, body: TRAP_BODY })).toString('base64');
  echo = createServer((s) => s.on('data', (d: Buffer) => {
    received.push(d);
    s.write(d);
  }).on('end', () => s.end()));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as AddressInfo).port;
  const logger = createLogger('debug', (l) => lines.push(l));
  const stats = new StatsStore();
  clusters = staticClusterManager('echo', echoPort);
  registry = new WasmPluginRegistry({ logger, stats, clock: systemClock, cluster: (n) => clusters.get(n), node: { id: 'n', cluster: 'c', metadata: {} }, hostEnv: () => undefined, fetcher: undefined });
  manager = new ListenerManager({
    env: { routeTable: () => undefined, cluster: (n) => clusters.get(n), random: seededRandom(2), secrets: NO_SECRETS, wasm: registry, onStreamComplete: () => undefined, onSession: (s) => sessions.push(s) },
    secrets: NO_SECRETS,
    logger,
  });
}, { timeout: 300_000 });

after(async () => {
  await manager.close();
  registry.close();
  clusters.close();
  await new Promise<void>((r) => echo.close(() => r()));
});

type Code = { filename: string } | { inlineBytes: string };

function wasmFilter(name: string, code: Code, failOpen = false): JsonObject {
  return {
    name: 'envoy.filters.network.wasm',
    typedConfig: { '@type': WASM_TYPE, config: { name, rootId: name, failOpen, vmConfig: { runtime: 'envoy.wasm.runtime.v8', code: { local: code } } } },
  };
}

const TCP_PROXY: JsonObject = { name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': TCP_TYPE, statPrefix: 'echo', cluster: 'echo' } };
const HCM: JsonObject = {
  name: 'envoy.filters.network.http_connection_manager',
  typedConfig: {
    '@type': HCM_TYPE,
    statPrefix: 'http',
    routeConfig: { name: 'r', virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, directResponse: { status: 200, body: { inlineString: 'ok' } } }] }] },
    httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
  },
};

function listenerJson(name: string, filters: JsonObject[]): JsonObject {
  return { name, address: { socketAddress: { address: '127.0.0.1', portValue: 0 } }, filterChains: [{ filters }] };
}

/** Compiles and starts one listener (alone), answering its bound port once its plugins settled. */
async function serve(name: string, filters: JsonObject[]): Promise<number> {
  const r = compileListener(fromJson(ListenerSchema, listenerJson(name, filters), { registry: XDS_REGISTRY }));
  if (!r.ok) throw new Error(r.problems.join('; '));
  registry.retain(r.value.chains.flatMap((c) => c.value.wasm));
  await registry.settled();
  const errors = await manager.apply(new Map<string, CompiledListener>([[name, r.value]]));
  assert.deepEqual(errors, []);
  const b = manager.bound().find((x) => x.name === name);
  assert.ok(b);
  return b.port;
}

async function waitFor(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A client connection: what it received so far and whether the proxy closed it. */
function client(port: number): { s: Socket; got: () => string; closed: () => boolean } {
  const s = connect(port, '127.0.0.1');
  let data = '';
  let closed = false;
  s.on('data', (d: Buffer) => (data += d.toString('latin1')));
  s.on('error', () => undefined);
  s.on('close', () => (closed = true));
  return { s, got: () => data, closed: () => closed };
}

/** Sends `text`, then half-closes once `expect` came back; resolves when the connection is closed. */
async function roundTrip(port: number, text: string, expect: string): Promise<string> {
  const c = client(port);
  c.s.write(text);
  await waitFor(`echo "${expect}"`, () => c.got() === expect || c.closed());
  c.s.end();
  await waitFor('close', c.closed);
  return c.got();
}

describe('envoy.filters.network.wasm on tcp_proxy', () => {
  it('runs the gcore tcp-count plugin on every byte both ways and logs the counts at close', async () => {
    const port = await serve('tcp-count', [wasmFilter('tcp-count', { filename: tcpCountPath }), TCP_PROXY]);
    assert.equal(await roundTrip(port, 'hello wasm', 'hello wasm'), 'hello wasm');
    await waitFor('tcp-count log line', () => lines.some((l) => l.includes('tcp downstream_bytes=')));
    const line = lines.find((l) => l.includes('tcp downstream_bytes='));
    assert.match(line ?? '', /wasm log tcp-count: .*tcp downstream_bytes=10 upstream_bytes=10/);
  });

  it('passes on downstream data the plugin rewrote', async () => {
    const port = await serve('upper', [wasmFilter('upper', { inlineBytes: upperWasm }), TCP_PROXY]);
    assert.equal(await roundTrip(port, 'hello wasm', 'HELLO WASM'), 'HELLO WASM');
  });

  it('holds data while the plugin pauses; the next callback sees all of it', async () => {
    const port = await serve('upper-hold', [wasmFilter('upper-hold', { inlineBytes: upperWasm }), TCP_PROXY]);
    const before = received.length;
    const c = client(port);
    c.s.write('ab');
    await waitFor('the plugin to see "ab"', () => lines.some((l) => l.endsWith('wasm log upper-hold: ab')));
    c.s.write('cd');
    await waitFor('echo', () => c.got() === 'ABCD');
    assert.ok(lines.some((l) => l.endsWith('wasm log upper-hold: abcd')), 'data_size covers the held bytes');
    assert.equal(Buffer.concat(received.slice(before)).toString(), 'ABCD');
    assert.ok(received.slice(before).every((d) => d.toString() !== 'AB' && d.toString() !== 'ab'), 'nothing went upstream while held');
    c.s.end();
    await waitFor('close', c.closed);
  });

  const failures = [
    { name: 'a trap under FAIL_CLOSED closes the connection', plugin: 'trap-closed', code: () => ({ inlineBytes: trapWasm }), failOpen: false, want: '', details: 'wasm_fail_stream', log: 'wasm plugin trap-closed failed: trap in proxy_on_downstream_data' },
    { name: 'a trap under FAIL_OPEN skips the plugin', plugin: 'trap-open', code: () => ({ inlineBytes: trapWasm }), failOpen: true, want: 'ping', details: '', log: 'wasm plugin trap-open failed: trap in proxy_on_downstream_data' },
    { name: 'a module that cannot load denies under FAIL_CLOSED', plugin: 'missing-closed', code: () => ({ filename: '/nonexistent/plugin.wasm' }), failOpen: false, want: '', details: 'rbac_access_denied_matched_policy[none]', log: 'wasm plugin missing-closed is not running' },
    { name: 'a module that cannot load is passed over under FAIL_OPEN', plugin: 'missing-open', code: () => ({ filename: '/nonexistent/plugin.wasm' }), failOpen: true, want: 'ping', details: '', log: 'wasm plugin missing-open is not running' },
  ];
  for (const f of failures) {
    it(f.name, async () => {
      const port = await serve(f.plugin, [wasmFilter(f.plugin, f.code(), f.failOpen), TCP_PROXY]);
      const n = sessions.length;
      assert.equal(await roundTrip(port, 'ping', 'ping'), f.want);
      await waitFor('the session', () => sessions.length > n);
      assert.equal(sessions[n]?.details, f.details);
      assert.ok(lines.some((l) => l.includes(f.log)), `log line "${f.log}"`);
    });
  }
});

describe('envoy.filters.network.wasm on the HTTP connection manager', () => {
  it('gives the plugin the connection open and close, not the HTTP bytes', async () => {
    lines.length = 0;
    const port = await serve('hcm-count', [wasmFilter('hcm-count', { filename: tcpCountPath }), HCM]);
    const body = await new Promise<string>((ok, fail) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' } }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => ok(b));
      });
      req.on('error', fail);
      req.end();
    });
    assert.equal(body, 'ok');
    await waitFor('tcp-count log line', () => lines.some((l) => l.includes('tcp downstream_bytes=')));
    assert.match(lines.find((l) => l.includes('tcp downstream_bytes=')) ?? '', /tcp downstream_bytes=0 upstream_bytes=0/);
  });
});

describe('compileListener with network Wasm filters', () => {
  it('compiles them in order before the terminal filter', () => {
    const r = compileListener(fromJson(ListenerSchema, listenerJson('l', [wasmFilter('a', { filename: '/a.wasm' }), wasmFilter('b', { filename: '/b.wasm' }, true), TCP_PROXY]), { registry: XDS_REGISTRY }));
    assert.ok(r.ok);
    const chain = r.value.chains[0]?.value;
    assert.deepEqual(chain?.wasm.map((w) => [w.name, w.failurePolicy]), [['a', 'FAIL_CLOSED'], ['b', 'FAIL_OPEN']]);
    assert.equal(chain?.network.kind, 'tcp');
  });

  const bad = [
    {
      name: 'an unsupported runtime',
      filter: { name: 'envoy.filters.network.wasm', typedConfig: { '@type': WASM_TYPE, config: { name: 'x', vmConfig: { runtime: 'envoy.wasm.runtime.wamr', code: { local: { filename: '/x.wasm' } } } } } },
      problem: /^filter_chains\[0\]\.filters\[0\]\(envoy\.filters\.network\.wasm\)\.typed_config\.config\.vm_config\.runtime: unsupported runtime/,
    },
    {
      name: 'no plugin config',
      filter: { name: 'envoy.filters.network.wasm', typedConfig: { '@type': WASM_TYPE } },
      problem: /^filter_chains\[0\]\.filters\[0\]\(envoy\.filters\.network\.wasm\)\.typed_config\.config: required/,
    },
  ];
  for (const b of bad) {
    it(`NACKs ${b.name} with the field path`, () => {
      const r = compileListener(fromJson(ListenerSchema, listenerJson('l', [b.filter, TCP_PROXY]), { registry: XDS_REGISTRY }));
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.problems.some((p) => b.problem.test(p)), !r.ok ? r.problems.join('\n') : '');
    });
  }
});
