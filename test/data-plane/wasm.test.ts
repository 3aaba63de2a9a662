// WasmPlugin end to end: the control plane turns WasmPlugin resources into Envoy wasm filters, a real
// sidecar loads the module and runs plugins built from source with two proxy-wasm SDKs for Envoy
// (@solo-io/proxy-runtime, ABI 0.2.0; @gcoredev/proxy-wasm-sdk-as, ABI 0.2.1; test/wasm-plugins). A change
// of pluginConfig takes effect live; plugins that trap or loop forever are contained and their
// failStrategy decides what their traffic gets (Envoy: 503 with details wasm_fail_stream when closed).
// https://istio.io/latest/docs/reference/config/proxy_extensions/wasm-plugin/

import { before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createServer as createH2Server, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, send, startMesh, startTestProxy, startUpstream, type Seen, type TestMesh, type UpstreamHandler } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { testPlugins, type TestPlugins } from '../support/wasm-plugins.js';

let plugins: TestPlugins;

before(async () => {
  plugins = await testPlugins();
});

function wasmPlugin(name: string, file: string, extra: string): string {
  return `apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: ${name}, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  url: file://${file}
${extra}`;
}

const SERVICE = (target: number): string => `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: ${target}}]
`;

/** A sidecar for reviews at `ip` with the given plugins; requests go to its inbound port. */
interface Sidecar {
  readonly mesh: TestMesh;
  get(path: string, headers?: Record<string, string>, body?: string): ReturnType<typeof send>;
  readonly seen: readonly Seen[];
  /** The proxy's /stats as name -> value. */
  stats(): Promise<Map<string, string>>;
  prometheus(): Promise<string>;
}

async function sidecar(t: TestContext, ip: string, files: Record<string, string>, handler?: UpstreamHandler): Promise<Sidecar> {
  const target = await freePort();
  const up = await startUpstream(t, 'reviews', '127.0.0.1', target, handler);
  const mesh = await startMesh(t, { 'svc.yaml': SERVICE(target), ...files });
  mesh.cp.workloads.register({ name: 'reviews-v1', namespace: 'default', address: ip, labels: { app: 'reviews' }, ports: { http: target }, tlsMode: 'disabled' });
  const proxy = await startTestProxy(t, mesh, { node: 'reviews-v1', ip, labels: { app: 'reviews' } });
  return {
    mesh,
    seen: up.seen,
    get: (path, headers = {}, body) => send(ip, target, { path, authority: 'reviews:9080', headers, ...(body !== undefined ? { method: 'POST', body } : {}) }),
    stats: async () => {
      const text = await (await fetch(`${proxy.adminUrl}/stats`)).text();
      return new Map(text.split('\n').filter((l) => l.includes(': ')).map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]));
    },
    prometheus: async () => (await fetch(`${proxy.prometheusUrl}`)).text(),
  };
}

describe('WasmPlugin through a real sidecar', () => {
  for (const sdk of ['gcore', 'solo-io'] as const) {
    it(`${sdk}: add-header changes the request and the response, and a new pluginConfig applies live`, async (t) => {
      const file = plugins.path(sdk, 'add-header');
      const { mesh, get, seen } = await sidecar(t, sdk === 'gcore' ? '127.0.9.1' : '127.0.9.2', {
        'wp.yaml': wasmPlugin('add-header', file, '  pluginConfig: {value: first}\n'),
      });
      await waitFor(async () => (await get('/')).headers['x-wasm-response'] !== undefined, 'the plugin to run', 10_000);
      const r = await get('/reviews/1', { 'x-remove-me': 'yes' });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'reviews');
      const last = seen[seen.length - 1];
      assert.ok(last !== undefined);
      assert.equal(last.headers['x-remove-me'], undefined, 'the plugin removed the request header');
      // pluginConfig arrives as JSON text, as Istio sends it; the plugin echoes what it was given.
      assert.equal(String(last.headers['x-wasm-request']), '{"value":"first"}');
      assert.equal(String(r.headers['x-wasm-response']), '{"value":"first"}');

      // A new pluginConfig: a new plugin instance replaces the old one, no request fails meanwhile.
      await mesh.write('wp.yaml', wasmPlugin('add-header', file, '  pluginConfig: {value: second}\n'));
      const statuses = new Set<number>();
      await waitFor(
        async () => {
          const x = await get('/');
          statuses.add(x.status);
          return /second/.test(String(x.headers['x-wasm-response']));
        },
        'the new pluginConfig',
        10_000,
      );
      assert.deepEqual([...statuses], [200]);
    });
  }

  it('deny answers locally; bad plugins are contained and failStrategy decides', async (t) => {
    const { get, stats } = await sidecar(t, '127.0.9.3', {
      'deny.yaml': wasmPlugin('deny', plugins.path('gcore', 'deny'), '  pluginConfig: {deny_path: /admin}\n  priority: 10\n'),
      'trap.yaml': wasmPlugin('trap', plugins.path('gcore', 'bad-trap'), '  failStrategy: FAIL_CLOSE\n'),
      'loop.yaml': wasmPlugin('loop', plugins.path('gcore', 'bad-loop'), '  failStrategy: FAIL_OPEN\n'),
    });
    await waitFor(async () => (await get('/admin')).status === 403, 'the deny plugin', 10_000);
    const denied = await get('/admin/x');
    assert.deepEqual([denied.status, denied.body, denied.headers['x-wasm-denied']], [403, 'denied by wasm\n', 'true']);
    assert.equal((await get('/ok')).status, 200);

    // A runaway loop is stopped by the CPU limit; FAIL_OPEN lets the request through without the plugin.
    const looped = await get('/ok', { 'x-loop': '1' });
    assert.deepEqual([looped.status, looped.body], [200, 'reviews']);

    // A trap under FAIL_CLOSE: 503, and the poisoned VM is never used again (every later request fails).
    const trapped = await get('/ok', { 'x-trap': '1' });
    assert.deepEqual([trapped.status, trapped.body], [503, '']);
    assert.equal((await get('/ok')).status, 503);

    // The failures are counted per plugin, with their kind; the proxy serves on (its admin answers).
    const st = await stats();
    assert.equal(st.get('wasm.default.loop.failures.cpu_limit'), '1');
    assert.equal(st.get('wasm.default.trap.failures.trap'), '1');
  });

  it('FAIL_RELOAD starts a fresh VM after a trap; shared data survives the reload', async (t) => {
    const { get } = await sidecar(t, '127.0.9.4', {
      'trap.yaml': wasmPlugin('trap', plugins.path('gcore', 'bad-trap'), '  failStrategy: FAIL_RELOAD\n'),
    });
    await waitFor(async () => (await get('/')).headers['x-trap-survived'] !== undefined, 'the plugin to run', 10_000);
    assert.equal((await get('/ok', { 'x-trap': '1' })).status, 503);
    // Within the reload backoff (1 s) the plugin's traffic fails closed; then a new VM serves it.
    await waitFor(async () => (await get('/')).headers['x-trap-survived'] === '1', 'a reloaded VM (its own count starts again)', 10_000);
  });

  it('an HTTP callout to a mesh service decides; metrics, shared data and a body rewrite', async (t) => {
    const authPort = await freePort();
    await startUpstream(t, 'auth', '127.0.0.1', authPort, (req, res) => {
      const user = req.headers['x-original-path'] === '/secret' ? undefined : 'alice';
      res.writeHead(user === undefined ? 401 : 200, user === undefined ? {} : { 'x-auth-user': user });
      res.end();
    });
    const cluster = 'outbound|8080||auth.default.svc.cluster.local';
    const { get, seen, prometheus } = await sidecar(
      t,
      '127.0.9.5',
      {
        'auth.yaml': `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: auth, namespace: default}
spec:
  hosts: [auth.default.svc.cluster.local]
  ports: [{number: 8080, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 127.0.0.1, ports: {http: ${authPort}}}]
`,
        'callout.yaml': wasmPlugin('callout', plugins.path('gcore', 'http-callout'), `  pluginConfig: {cluster: "${cluster}", path: /check}\n  phase: AUTHN\n`),
        'metrics.yaml': wasmPlugin('metrics', plugins.path('solo-io', 'metrics'), ''),
        'queue.yaml': wasmPlugin('queue', plugins.path('gcore', 'shared-queue'), ''),
        'rewrite.yaml': wasmPlugin('rewrite', plugins.path('gcore', 'body-rewrite'), '  pluginConfig: {from: reviews, to: rewritten, request: true, response: true}\n'),
      },
    );
    await waitFor(async () => (await get('/')).status === 200, 'the plugins to run', 10_000);
    const ok = await get('/hello', {}, 'send reviews please');
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'rewritten', 'the response body rewritten by the plugin');
    const last = seen[seen.length - 1];
    assert.equal(last?.headers['x-auth-user'], 'alice', 'the callout answer copied into the request');
    assert.equal(last?.body, 'send rewritten please', 'the request body rewritten by the plugin');
    assert.match(String(ok.headers['x-request-count']), /^\d+$/);
    const before = Number(ok.headers['x-request-count']);
    assert.equal(Number((await get('/again')).headers['x-request-count']), before + 1, 'shared data counts across requests');

    const denied = await get('/secret');
    assert.deepEqual([denied.status, denied.body, denied.headers['x-wasm-auth-status']], [403, 'denied by auth\n', '401']);

    // Plugin-defined metrics appear in Prometheus under their own names (Envoy's custom stat namespace).
    const prom = await prometheus();
    const m = /^wasm_requests_total(?:\{[^}]*\})? (\d+)$/m.exec(prom);
    assert.ok(m !== null, `wasm_requests_total exported: ${prom.split('\n').filter((l) => l.includes('wasm')).join('\n')}`);
    // /, /hello and /again reached it; /secret was denied by the AUTHN-phase callout before it.
    assert.ok(Number(m[1]) >= 3, `wasm_requests_total ${m[1]}`);
  });
});

/** A plugin written against the ABI: on response trailers it reads `x-up` and adds `x-wasm-trailer: <x-up>!`. */
const TRAILERS_WAT = `(module
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "x-up")
  (data (i32.const 32) "x-wasm-trailer")
  (global $heap (mut i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $n) (i32.const 1))))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_response_trailers") (param i32 i32) (result i32)
    (local $ptr i32) (local $len i32)
    ;; map 3 = HTTP_RESPONSE_TRAILERS; the value pointer and size land at 64 and 68
    (if (i32.eqz (call $get (i32.const 3) (i32.const 16) (i32.const 4) (i32.const 64) (i32.const 68)))
      (then
        (local.set $ptr (i32.load (i32.const 64)))
        (local.set $len (i32.load (i32.const 68)))
        (i32.store8 (i32.add (local.get $ptr) (local.get $len)) (i32.const 33))
        (drop (call $add (i32.const 3) (i32.const 32) (i32.const 14) (local.get $ptr) (i32.add (local.get $len) (i32.const 1))))))
    (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32)))`;

describe('WasmPlugin on response trailers', () => {
  it('a plugin reads and adds trailers of an HTTP/2 upstream response', async (t) => {
    const wabt = await (await import('wabt')).default();
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-wasm-trailers-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'trailers.wasm');
    await writeFile(file, wabt.parseWat('trailers.wat', TRAILERS_WAT).toBinary({}).buffer);
    // An h2c app (the Service port is http2, so the sidecar's inbound cluster speaks HTTP/2 to it): undici
    // passes HTTP/2 trailers on, as Envoy does for any upstream.
    const app = createH2Server((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.addTrailers({ 'x-up': 'upstream' });
      res.end('body');
    });
    const sessions = new Set<Http2Session>();
    app.on('session', (ss: Http2Session) => {
      sessions.add(ss);
      ss.on('close', () => sessions.delete(ss));
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
    t.after(
      () =>
        new Promise<void>((r) => {
          app.close(() => r());
          for (const ss of sessions) ss.destroy(); // the proxy keeps its HTTP/2 connection open
        }),
    );
    const target = (app.address() as AddressInfo).port;
    const mesh = await startMesh(t, {
      'svc.yaml': `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: grpc-web, port: 9080, targetPort: ${target}}]
`,
      'wp.yaml': wasmPlugin('trailers', file, ''),
    });
    mesh.cp.workloads.register({ name: 'reviews-v1', namespace: 'default', address: '127.0.9.6', labels: { app: 'reviews' }, ports: { 'grpc-web': target }, tlsMode: 'disabled' });
    await startTestProxy(t, mesh, { node: 'reviews-v1', ip: '127.0.9.6', labels: { app: 'reviews' } });
    const trailers = await waitFor(
      () =>
        new Promise<Record<string, string | undefined> | undefined>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.9.6', port: target, path: '/', headers: { host: 'reviews:9080' }, timeout: 2_000 }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.trailers['x-wasm-trailer'] !== undefined ? res.trailers : undefined));
          });
          req.on('error', reject);
          req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
          req.end();
        }),
      'the trailer added by the plugin',
      10_000,
    );
    assert.equal(trailers['x-up'], 'upstream');
    assert.equal(trailers['x-wasm-trailer'], 'upstream!');
  });
});

describe('WasmPlugin pausing at response headers', () => {
  it('an HTTP callout made from onResponseHeaders decorates the held response; a failed callout answers 502', async (t) => {
    // The callout answers after a short wait so that the upstream's body (larger than one chunk) arrives
    // while the head is held; what it answers is switched by the test.
    let calloutStatus = 200;
    const tagsPort = await freePort();
    await startUpstream(t, 'tags', '127.0.0.1', tagsPort, (req, res) => {
      setTimeout(() => {
        res.writeHead(calloutStatus, { 'content-type': 'text/plain' });
        res.end(calloutStatus === 200 ? `gold-for-${String(req.headers['x-upstream-status'])}` : 'broken');
      }, 50);
    });
    const BODY = Buffer.alloc(256 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789\n').toString();
    const cluster = 'outbound|8080||tags.default.svc.cluster.local';
    const { get } = await sidecar(
      t,
      '127.0.9.7',
      {
        'tags.yaml': `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: tags, namespace: default}
spec:
  hosts: [tags.default.svc.cluster.local]
  ports: [{number: 8080, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 127.0.0.1, ports: {http: ${tagsPort}}}]
`,
        'wp.yaml': wasmPlugin('response-callout', plugins.path('gcore', 'response-callout'), `  pluginConfig: {cluster: "${cluster}", path: /tag, header: x-tag}\n`),
      },
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': 'reviews' });
        // Several writes: the proxy receives the body in many chunks.
        for (let i = 0; i < BODY.length; i += 16 * 1024) res.write(BODY.slice(i, i + 16 * 1024));
        res.end();
      },
    );
    await waitFor(async () => (await get('/')).headers['x-tag'] !== undefined, 'the plugin to run', 10_000);

    const ok = await get('/big');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-tag'], 'gold-for-200', 'the header added from the callout answer while the head was held');
    assert.equal(ok.headers['x-upstream'], 'reviews', 'the upstream head is the one released');
    assert.equal(ok.body.length, BODY.length);
    assert.ok(ok.body === BODY, 'the upstream body arrives intact and in order');

    calloutStatus = 500;
    const failed = await get('/big');
    assert.deepEqual([failed.status, failed.body, failed.headers['x-wasm-callout-status']], [502, 'callout failed\n', '500']);
    assert.equal(failed.headers['x-upstream'], undefined, 'the local reply replaced the held upstream response');

    // The connection manager still serves after a replaced response.
    calloutStatus = 200;
    const again = await get('/again');
    assert.deepEqual([again.status, again.headers['x-tag'], again.body.length], [200, 'gold-for-200', BODY.length]);
  });
});
