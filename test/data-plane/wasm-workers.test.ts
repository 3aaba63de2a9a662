// Wasm plugins under `isthmus proxy --concurrency 2`, run as a user runs it (the CLI: a primary and two
// worker processes) as an ingress gateway of the real control plane. Envoy's worker threads share one
// shared-data store and one set of shared queues per vm_id; so do our worker processes (the primary owns
// them): a request counter kept by a plugin with CAS in shared data counts every request whichever worker
// served it, a path one worker's VM enqueues is dequeued by the VM that registered the queue (in the other
// worker for some), and a plugin in a worker reads host_env_keys from the proxy's environment.

import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envoyBootstrap } from '../../src/cli/bootstrap.js';
import { freePort, send, startMesh, startUpstream } from '../support/data-plane.js';
import { startIsthmus } from '../support/cli.js';
import { waitFor } from '../support/wait.js';
import { testPlugins, type TestPlugins } from '../support/wasm-plugins.js';
import { adminStats, gatewayToUpstream } from '../support/gateway-mesh.js';
import { alive, childPids } from '../support/processes.js';

let plugins: TestPlugins;

before(async () => {
  plugins = await testPlugins();
});

/** On response headers: `x-host-env: <K=V>`, its WASI environment (one variable here: its one host_env_key). */
const HOST_ENV_WAT = `(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ (param i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "x-host-env")
  (global $heap (mut i32) (i32.const 4096))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $n) (i32.const 1))))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    ;; count and total size at 64 and 68; the pointer array at 128, the strings ("K=V\\0" each) at 1024
    (drop (call $sizes (i32.const 64) (i32.const 68)))
    (if (i32.gt_u (i32.load (i32.const 68)) (i32.const 1))
      (then
        (drop (call $environ (i32.const 128) (i32.const 1024)))
        ;; map 2 = HTTP_RESPONSE_HEADERS; the one string without its NUL
        (drop (call $add (i32.const 2) (i32.const 16) (i32.const 10) (i32.const 1024) (i32.sub (i32.load (i32.const 68)) (i32.const 1))))))
    (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32)))`;

const ENV_KEY = 'ISTHMUS_WASM_WORKERS_TEST_ENV';

function config(port: number, upstreamPort: number, queuePlugin: string, envPlugin: string): Record<string, string> {
  return {
    ...gatewayToUpstream(port, upstreamPort),
    'wasm.yaml': `apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: queue, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  url: file://${queuePlugin}
---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: hostenv, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  url: file://${envPlugin}
  vmConfig:
    env:
    - {name: ${ENV_KEY}, valueFrom: HOST}
`,
  };
}




describe('Wasm plugins in worker processes (isthmus proxy --concurrency 2)', () => {
  it("share one shared-data store and one set of queues across workers, and see the proxy's host env", async (t) => {
    const upstream = await startUpstream(t, 'a');
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-wasm-workers-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const wabt = await (await import('wabt')).default();
    const envPlugin = join(dir, 'host-env.wasm');
    await writeFile(envPlugin, wabt.parseWat('host-env.wat', HOST_ENV_WAT).toBinary({}).buffer);
    const mesh = await startMesh(t, config(port, upstream.port, plugins.path('gcore', 'shared-queue'), envPlugin));
    const bootFile = join(dir, 'bootstrap.json');
    await writeFile(
      bootFile,
      JSON.stringify(
        envoyBootstrap({ node: 'ingressgateway', proxyless: false, xdsAddress: mesh.cp.xdsAddress, namespace: 'istio-system', type: 'router', ip: '127.0.0.1', labels: { istio: 'ingressgateway' }, serviceAccount: 'default', locality: { region: '', zone: '', subZone: '' } }),
      ),
    );
    // The CLI child inherits this process's environment: the proxy's own environment.
    process.env[ENV_KEY] = 'from-the-proxy';
    t.after(() => delete process.env[ENV_KEY]);
    const child = startIsthmus(['proxy', '--bootstrap', bootFile, '--concurrency', '2', '--bind-address', '127.0.0.1', '--admin-port', '0', '--readiness-port', '0', '--prometheus-port', '0', '--log-level', 'info', '--wasm-cache-dir', join(dir, 'cache')]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    t.after(() => {
      for (const pid of [...childPids(child.pid ?? 0), child.pid ?? 0]) if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
    });
    await waitFor(() => /workers +2 \(pids \d+ \d+\)/.test(out), 'the proxy to start', 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\nstdout: ${out}\nstderr: ${err}`);
    });
    const admin = /admin +(\S+)/.exec(out)?.[1] ?? '';
    const readiness = /readiness +(\S+)/.exec(out)?.[1] ?? '';
    await waitFor(async () => (await fetch(readiness)).status === 200, 'readiness 200', 60_000);
    // Both workers load the plugins on their own; wait until each says so.
    await waitFor(() => [0, 1].every((w) => new RegExp(`wasm plugin \\S*queue started.*worker=${w}`).test(err)), 'both workers to start the plugins', 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\nstderr: ${err}`);
    });

    // Requests on new connections, a few at a time, until both workers have served some. Each response says
    // what the shared counter was after its own increment.
    const cx = (s: Map<string, number>, w: number): number => s.get(`listener.0.0.0.0_${port}.worker_${w}.downstream_cx_total`) ?? 0;
    const counts: number[] = [];
    const envs = new Set<string>();
    const paths: string[] = [];
    const batch = async (n: number): Promise<void> => {
      await Promise.all(
        Array.from({ length: n }, async () => {
          const path = `/req-${paths.length}`;
          paths.push(path);
          const r = await send('127.0.0.1', port, { path });
          assert.equal(r.status, 200);
          counts.push(Number(r.headers['x-request-count']));
          envs.add(String(r.headers['x-host-env']));
        }),
      );
    };
    // The plugin creates the key with cas 0 (an unconditional write, as in Envoy): one request creates it
    // before two workers can race on creating it; from then on every write is a CAS.
    await batch(1);
    await batch(20);
    await waitFor(
      async () => {
        const s = await adminStats(admin);
        if (cx(s, 0) > 0 && cx(s, 1) > 0) return true;
        await batch(10);
        return false;
      },
      'both workers to serve requests',
      60_000,
    );
    await batch(5); // the last batch: every increment before it is visible

    // Every increment, from either worker, landed once in the one store: the counts are exactly 1..N.
    assert.deepEqual(
      [...counts].sort((a, b) => a - b),
      Array.from({ length: paths.length }, (_, i) => i + 1),
      'each request saw a distinct count, and the highest is the number of requests',
    );
    assert.deepEqual([...envs], [`${ENV_KEY}=from-the-proxy`], 'host_env_keys answered from the proxy environment in every worker');

    // Each worker's VM registered "paths" in proxy_on_vm_start; the last one owns it (Envoy's rule) and
    // dequeues what both workers enqueued: every path is logged once, all by the same worker.
    const dequeued = (): [string, string][] => [...err.matchAll(/dequeued (\/req-\d+).*worker=(\d)/g)].map((m) => [m[1] as string, m[2] as string]);
    await waitFor(() => dequeued().length >= paths.length, 'every enqueued path to be dequeued', 20_000).catch((e: Error) => {
      throw new Error(`${e.message}\ndequeued: ${dequeued().length} of ${paths.length}\nstderr: ${err.slice(-3000)}`);
    });
    const d = dequeued();
    assert.deepEqual(d.map(([p]) => p).sort(), [...paths].sort(), 'each path dequeued exactly once');
    assert.equal(new Set(d.map(([, w]) => w)).size, 1, `one worker (the registrant) dequeued for both: ${[...new Set(d.map(([, w]) => w))].join(',')}`);
  });
});
