// Real plugins compiled from AssemblyScript with two SDKs from npm (test/wasm-plugins, built by
// scripts/build-wasm-plugins.mjs): @solo-io/proxy-runtime (ABI 0.2.0, start section, wasi_unstable) and
// @gcoredev/proxy-wasm-sdk-as (ABI 0.2.1, _start, WASI fd_write logging), run through the host with
// in-memory streams: header changes, local replies, callouts, shared data and queues, timers, metrics,
// body rewriting, and the deliberately bad plugins under the sandbox.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { MetricType, StreamType } from './abi.js';
import type { CompileOptions } from './compile-plugin.js';
import { compilePlugin } from './compile-plugin.js';
import type { FakeEnvOptions } from '../../../test/support/wasm-fake-env.js';
import { FakeHttpStream, FakePluginEnv } from '../../../test/support/wasm-fake-env.js';
import type { PluginVmOptions } from './plugin-vm.js';
import { PluginVm } from './plugin-vm.js';
import { SharedDataStore } from './shared-data.js';
import { SharedQueueRegistry } from './shared-queues.js';
import type { WasmHttpContext } from './stream-context.js';

interface Builder {
  buildWasmPlugins(o: { quiet: boolean }): Promise<unknown>;
  wasmPluginPath(sdk: string, name: string): string;
}
let builder: Builder;
const SDKS = ['solo-io', 'gcore'] as const;
type Sdk = (typeof SDKS)[number];
const enc = new TextEncoder();
const dec = new TextDecoder();

before(async () => {
  const url = pathToFileURL(new URL('../../../scripts/build-wasm-plugins.mjs', import.meta.url).pathname).href;
  builder = (await import(url)) as Builder;
  await builder.buildWasmPlugins({ quiet: true });
}, { timeout: 300_000 });

async function start(sdk: Sdk, name: string, envOpts: FakeEnvOptions = {}, opts: PluginVmOptions & CompileOptions = {}) {
  const env = new FakePluginEnv({ name, ...envOpts });
  const compiled = await compilePlugin(readFileSync(builder.wasmPluginPath(sdk, name)), opts);
  if (!compiled.ok) throw new Error(compiled.error);
  const vm = PluginVm.create(compiled.value.module, env, opts);
  if (!vm.ok) throw new Error(vm.error);
  return { env, vm: vm.value, module: compiled.value.module };
}

function stream(vm: PluginVm, request: Array<[string, string]> = [[':method', 'GET'], [':path', '/']], response: Array<[string, string]> = [[':status', '200']]) {
  const s = new FakeHttpStream(request, response);
  const ctx = vm.createHttpContext(s) as WasmHttpContext;
  assert.ok(ctx);
  return { s, ctx };
}

for (const sdk of SDKS) {
  describe(`${sdk} SDK plugins`, () => {
    it('add-header changes request and response headers', async () => {
      const { vm } = await start(sdk, 'add-header', { pluginConfig: 'v1' });
      assert.equal(vm.abi, sdk === 'gcore' ? '0.2.1' : '0.2.0');
      const { s, ctx } = stream(vm, [[':method', 'GET'], [':path', '/'], ['x-remove-me', 'y']], [[':status', '200'], ['server', 'nginx']]);
      assert.equal(ctx.onRequestHeaders(3, true), 'continue');
      assert.equal(ctx.onResponseHeaders(2, true), 'continue');
      ctx.end();
      assert.deepEqual(s.requestHeaders.entries(), [[':method', 'GET'], [':path', '/'], ['x-wasm-request', 'v1']]);
      assert.deepEqual(s.responseHeaders.entries(), [[':status', '200'], ['server', 'isthmus-wasm'], ['x-wasm-response', 'v1']]);
      assert.equal(vm.failed, false);
    });

    it('deny sends a local reply and rejects bad config', async () => {
      const { vm } = await start(sdk, 'deny', { pluginConfig: '{"deny_path":"/admin"}' });
      const { s, ctx } = stream(vm, [[':method', 'GET'], [':path', '/admin/x']]);
      assert.equal(ctx.onRequestHeaders(2, true), 'pause');
      const reply = s.localReplies[0];
      assert.equal(reply?.status, 403);
      assert.equal(reply?.details, 'wasm_deny');
      assert.equal(dec.decode(reply?.body), 'denied by wasm\n');
      assert.deepEqual(reply?.headers.map(([n, v]) => [n, dec.decode(v)]), [['x-wasm-denied', 'true']]);
      const ok = stream(vm, [[':method', 'GET'], [':path', '/public']]);
      assert.equal(ok.ctx.onRequestHeaders(2, true), 'continue');
      await assert.rejects(start(sdk, 'deny', { pluginConfig: 'not json' }), /proxy_on_configure returned false/);
    });

    it('http-callout: 200 resumes the request with the callout header; a failed call answers 503', async () => {
      const { vm, env } = await start(sdk, 'http-callout', { pluginConfig: '{"cluster":"auth"}', clusters: ['auth'] });
      const { s, ctx } = stream(vm, [[':method', 'GET'], [':path', '/p']]);
      assert.equal(ctx.onRequestHeaders(2, true), 'pause');
      const call = env.calls[0];
      assert.equal(call?.request.cluster, 'auth');
      call?.respond({ headers: [[':status', enc.encode('200')], ['x-auth-user', enc.encode('alice')]], body: new Uint8Array(0), trailers: [] });
      assert.deepEqual(s.continued, [StreamType.HTTP_REQUEST]);
      assert.equal(dec.decode(s.requestHeaders.get('x-auth-user')), 'alice');

      const second = stream(vm, [[':method', 'GET'], [':path', '/q']]);
      assert.equal(second.ctx.onRequestHeaders(2, true), 'pause');
      env.calls[1]?.respond(undefined);
      assert.equal(second.s.localReplies[0]?.status, 503);
      assert.equal(dec.decode(second.s.localReplies[0]?.body), 'auth unavailable\n');
      assert.equal(vm.failed, false);
    });

    it('shared-queue: CAS counter across VMs of one vm_id and queue delivery', async () => {
      const sharedData = new SharedDataStore();
      const sharedQueues = new SharedQueueRegistry();
      const a = await start(sdk, 'shared-queue', { vmId: 'sq' }, { sharedData, sharedQueues });
      const b = await start(sdk, 'shared-queue', { vmId: 'sq' }, { sharedData, sharedQueues });
      for (const [vm, path] of [[a.vm, '/one'], [b.vm, '/two']] as const) {
        const { ctx } = stream(vm, [[':method', 'GET'], [':path', path]]);
        ctx.onRequestHeaders(2, true);
        ctx.onResponseHeaders(1, true);
      }
      const last = stream(a.vm, [[':method', 'GET'], [':path', '/three']]);
      last.ctx.onRequestHeaders(2, true);
      last.ctx.onResponseHeaders(1, true);
      assert.equal(dec.decode(last.s.responseHeaders.get('x-request-count')), '3');
      const logs = [...a.env.messages(), ...b.env.messages()].join('\n');
      for (const p of ['/one', '/two', '/three']) assert.match(logs, new RegExp(`dequeued ${p}`));
    });

    it('timer ticks through the injected clock', async () => {
      const { env, vm } = await start(sdk, 'timer', { pluginConfig: '{"tick_ms":100}' });
      env.clock.advance(350);
      assert.deepEqual(env.messages().filter((m) => /tick \d/.test(m)).length, 3);
      vm.close();
    });

    it('metrics: counter, gauge and histogram', async () => {
      const { env, vm } = await start(sdk, 'metrics');
      for (let i = 0; i < 2; i++) {
        const { ctx } = stream(vm);
        ctx.onRequestHeaders(2, true);
        ctx.end();
      }
      assert.equal(env.metricValues.get('wasm_requests_total')?.value, 2n);
      assert.equal(env.metricValues.get('wasm_requests_total')?.type, MetricType.COUNTER);
      assert.equal(env.metricValues.get('wasm_active_requests')?.value, 0n);
      assert.equal(env.metricValues.get('wasm_request_headers')?.type, MetricType.HISTOGRAM);
    });

    it('body-rewrite buffers the response and rewrites it', async () => {
      const { vm } = await start(sdk, 'body-rewrite', { pluginConfig: '{"from":"world","to":"wasm","response":true}' });
      const { s, ctx } = stream(vm, undefined, [[':status', '200'], ['content-length', '11']]);
      assert.equal(ctx.onResponseHeaders(2, false), 'continue');
      assert.equal(s.responseHeaders.get('content-length'), undefined);
      s.responseBody.append(enc.encode('hello '));
      assert.equal(ctx.onResponseBody(6, false), 'pause');
      s.responseBody.append(enc.encode('world'));
      assert.equal(ctx.onResponseBody(11, true), 'continue');
      assert.equal(dec.decode(s.responseBody.bytes()), 'hello wasm');
    });
  });
}

describe('network plugin (gcore tcp-count)', () => {
  it('counts downstream and upstream bytes and logs them on close', async () => {
    const { vm, env } = await start('gcore', 'tcp-count');
    const ctx = vm.createNetworkContext(new FakeHttpStream());
    assert.ok(ctx);
    assert.equal(ctx.onNewConnection(), 'continue');
    assert.equal(ctx.onDownstreamData(5, false), 'continue');
    assert.equal(ctx.onUpstreamData(7, false), 'continue');
    assert.equal(ctx.onDownstreamData(3, true), 'continue');
    ctx.onDownstreamClose();
    assert.match(env.messages().join('\n'), /tcp downstream_bytes=8 upstream_bytes=7/);
  });
});

describe('bad plugins under the sandbox (gcore)', () => {
  it('bad-trap: a trap fails the VM', async () => {
    const { vm, env } = await start('gcore', 'bad-trap');
    const ok = stream(vm);
    assert.equal(ok.ctx.onRequestHeaders(2, true), 'continue');
    const { ctx } = stream(vm, [[':method', 'GET'], [':path', '/'], ['x-trap', 'boom']]);
    assert.equal(ctx.onRequestHeaders(3, true), 'failed');
    assert.equal(vm.failureReason?.kind, 'trap');
    assert.equal(env.stat.get('wasm.bad-trap.failures'), 1);
    // AssemblyScript abort() leaves through WASI proc_exit: also a failure.
    const second = await start('gcore', 'bad-trap');
    assert.equal(stream(second.vm, [[':method', 'GET'], [':path', '/'], ['x-trap', 'abort']]).ctx.onRequestHeaders(3, true), 'failed');
    assert.ok(['trap', 'proc_exit'].includes(second.vm.failureReason?.kind ?? ''));
  });

  it('bad-loop: stopped by the CPU limit', async () => {
    const { vm } = await start('gcore', 'bad-loop', {}, { cpuLimitMs: 50 });
    const { ctx } = stream(vm, [[':method', 'GET'], [':path', '/'], ['x-loop', '1']]);
    assert.equal(ctx.onRequestHeaders(3, true), 'failed');
    assert.equal(vm.failureReason?.kind, 'cpu_limit');
  });

  it('bad-alloc: memory.grow is refused at the cap and the plugin survives; hoarding traps', async () => {
    const { vm } = await start('gcore', 'bad-alloc', {}, { maxMemoryPages: 64 });
    const grow = stream(vm, [[':method', 'GET'], [':path', '/'], ['x-alloc', 'grow']]);
    assert.equal(grow.ctx.onRequestHeaders(3, true), 'continue');
    grow.ctx.onResponseHeaders(1, true);
    const pages = Number(dec.decode(grow.s.responseHeaders.get('x-alloc-total-pages')));
    assert.ok(pages > 64 - 16 && pages <= 64, `memory stopped at ${pages} pages`);
    const hoard = stream(vm, [[':method', 'GET'], [':path', '/'], ['x-alloc', 'hoard']]);
    assert.equal(hoard.ctx.onRequestHeaders(3, true), 'failed');
    assert.equal(vm.failureReason?.kind, 'trap');
  });

  it('bad-garbage: out-of-range pointers answer INVALID_MEMORY_ACCESS and the VM lives on', async () => {
    const { vm } = await start('gcore', 'bad-garbage');
    const { s, ctx } = stream(vm);
    ctx.onRequestHeaders(2, true);
    ctx.onResponseHeaders(1, true);
    for (const h of ['x-garbage-status', 'x-garbage-key-status', 'x-garbage-out-status', 'x-garbage-overflow-status']) {
      assert.equal(dec.decode(s.responseHeaders.get(h)), '6', h);
    }
    assert.equal(vm.failed, false);
  });
});
