// VM lifecycle and sandbox: ABI detection, start-up and configure, callbacks and their results, traps,
// proc_exit, the CPU limit, the memory cap, ticks, HTTP callouts, and re-entrancy of local replies.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamType, WasmResult } from './abi.js';
import { compilePlugin } from './compile-plugin.js';
import { FakeHttpStream, FakePluginEnv } from '../../../test/support/wasm-fake-env.js';
import type { FakeEnvOptions } from '../../../test/support/wasm-fake-env.js';
import type { PluginVmOptions } from './plugin-vm.js';
import { PluginVm } from './plugin-vm.js';
import type { ModuleSpec } from './wat-harness.test.js';
import { buildModule, hostcall, put } from './wat-harness.test.js';

async function load(spec: ModuleSpec, envOpts: FakeEnvOptions = {}, opts: PluginVmOptions & { instrument?: boolean } = {}) {
  const env = new FakePluginEnv(envOpts);
  const compiled = await compilePlugin(await buildModule(spec), { instrument: opts.instrument ?? true, maxMemoryPages: opts.maxMemoryPages ?? 64 });
  if (!compiled.ok) return { env, result: compiled };
  const sigs = compiled.value.importSignatures;
  return { env, result: PluginVm.create(compiled.value.module, env, sigs === undefined ? opts : { ...opts, importSignatures: sigs }) };
}

async function loadOk(spec: ModuleSpec, envOpts: FakeEnvOptions = {}, opts: PluginVmOptions & { instrument?: boolean } = {}) {
  const { env, result } = await load(spec, envOpts, opts);
  if (!result.ok) throw new Error(result.error);
  return { env, vm: result.value };
}

const LOG_CONFIG = (bufferType: number) => `(drop (call $proxy_get_buffer_bytes (i32.const ${bufferType}) (i32.const 0) (i32.const -1) (i32.const 16) (i32.const 20)))
  (drop (call $proxy_log (i32.const 2) (i32.load (i32.const 16)) (i32.load (i32.const 20))))`;

describe('loading', () => {
  it('refuses modules without a known ABI marker, imported globals, and failed configuration', async () => {
    const cases: Array<{ name: string; spec: ModuleSpec; env?: FakeEnvOptions; want: RegExp }> = [
      { name: 'no ABI marker', spec: { abi: 'none' }, want: /Missing or unknown Proxy-Wasm ABI version/ },
      { name: 'imported global', spec: { extraImports: '(import "env" "table_base" (global i32))' }, want: /module imports global env\.table_base/ },
      {
        name: 'on_configure false',
        spec: { body: '(func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 0))' },
        env: { name: 'cfg' },
        want: /^plugin cfg: proxy_on_configure returned false$/,
      },
      { name: 'vm_start false', spec: { body: '(func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 0))' }, want: /proxy_on_vm_start returned false/ },
      { name: 'trap in _start', spec: { body: '(func (export "_start") unreachable)' }, want: /_start failed: trap/ },
    ];
    for (const c of cases) {
      const { result } = await load(c.spec, c.env ?? {});
      assert.equal(result.ok, false, c.name);
      if (!result.ok) assert.match(result.error, c.want, c.name);
    }
  });

  it('runs _initialize, then passes vm and plugin configuration to vm_start and configure', async () => {
    const body = `(global $init (mut i32) (i32.const 0))
      (func (export "_initialize") (global.set $init (i32.const 1)))
      (func (export "proxy_on_vm_start") (param i32 i32) (result i32) ${LOG_CONFIG(6)} (global.get $init))
      (func (export "proxy_on_configure") (param i32 i32) (result i32) ${LOG_CONFIG(7)} (i32.const 1))`;
    const { env } = await loadOk({ body }, { vmConfig: 'vm-cfg', pluginConfig: '{"deny":"/admin"}' });
    assert.deepEqual(env.messages(), ['vm-cfg', '{"deny":"/admin"}']);
    assert.equal(env.stat.get('wasm.test-plugin.vm_created'), 1);
  });
});

describe('callbacks', () => {
  it('maps callback results: 0 continue, other values pause, missing exports continue', async () => {
    const body = `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
      (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32) (i32.const 3))`;
    const { vm } = await loadOk({ body });
    const ctx = vm.createHttpContext(new FakeHttpStream());
    assert.ok(ctx);
    assert.equal(ctx.onRequestHeaders(3, false), 'continue');
    assert.equal(ctx.onRequestBody(10, true), 'pause');
    assert.equal(ctx.onResponseHeaders(1, false), 'continue');
    ctx.end();
  });

  it('ABI 0.1.0 header callbacks take two parameters', async () => {
    const body = `(func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.ne (local.get 1) (i32.const 4)))`;
    const { vm } = await loadOk({ abi: '0.1.0', body });
    assert.equal(vm.abi, '0.1.0');
    const ctx = vm.createHttpContext(new FakeHttpStream());
    assert.equal(ctx?.onRequestHeaders(4, true), 'continue');
    assert.equal(ctx?.onRequestHeaders(5, true), 'pause');
  });

  it('a continue_stream for the running callback turns its pause into continue', async () => {
    const body = `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $proxy_continue_stream (i32.const 0))) (i32.const 1))`;
    const { vm } = await loadOk({ body });
    const stream = new FakeHttpStream();
    assert.equal(vm.createHttpContext(stream)?.onRequestHeaders(1, true), 'continue');
    assert.deepEqual(stream.continued, []);
  });

  it('a local reply that synchronously runs response callbacks does not re-enter the guest', async () => {
    const body = `(data (i32.const 100) "denied")
      (data (i32.const 200) "x-wasm")
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $proxy_send_local_response (i32.const 403) (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 6) (i32.const 0) (i32.const 0) (i32.const -1)))
        (i32.const 1))
      (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
        (drop (call $proxy_add_header_map_value (i32.const 2) (i32.const 200) (i32.const 6) (i32.const 100) (i32.const 6)))
        (i32.const 0))`;
    const { vm } = await loadOk({ body });
    const stream = new FakeHttpStream();
    const ctx = vm.createHttpContext(stream);
    assert.ok(ctx);
    const responseResults: string[] = [];
    stream.onLocalReply = () => responseResults.push(ctx.onResponseHeaders(1, false));
    assert.equal(ctx.onRequestHeaders(2, true), 'pause');
    assert.equal(stream.localReplies[0]?.status, 403);
    assert.equal(new TextDecoder().decode(stream.localReplies[0]?.body), 'denied');
    assert.equal(stream.localReplies[0]?.grpcStatus, undefined);
    assert.deepEqual(responseResults, ['continue']);
    assert.deepEqual(stream.responseHeaders.entries(), [[':status', '200'], ['x-wasm', 'denied']]);
    assert.equal(vm.failed, false);
  });
});

describe('sandbox', () => {
  it('a trap fails the VM for good, counted and logged with the plugin name', async () => {
    const body = `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) unreachable)`;
    const { vm, env } = await loadOk({ body }, { name: 'crashy' });
    const ctx = vm.createHttpContext(new FakeHttpStream());
    assert.equal(ctx?.onRequestHeaders(1, true), 'failed');
    assert.equal(vm.failed, true);
    assert.equal(vm.failureReason?.kind, 'trap');
    assert.equal(vm.failureReason?.during, 'proxy_on_request_headers');
    assert.equal(ctx?.onResponseHeaders(1, true), 'failed', 'never called again');
    assert.equal(vm.createHttpContext(new FakeHttpStream()), undefined);
    assert.equal(env.stat.get('wasm.crashy.failures'), 1);
    assert.equal(env.stat.get('wasm.crashy.failures.trap'), 1);
    assert.match(env.messages().join('\n'), /wasm plugin crashy failed: trap in proxy_on_request_headers/);
  });

  it('proc_exit fails the VM', async () => {
    const body = `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (call $exit (i32.const 255)) (i32.const 0))`;
    const { vm } = await loadOk({ body, extraImports: '(import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))' });
    assert.equal(vm.createHttpContext(new FakeHttpStream())?.onRequestHeaders(1, true), 'failed');
    assert.equal(vm.failureReason?.kind, 'proc_exit');
  });

  it('an infinite loop is stopped by the CPU limit', async () => {
    const body = `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (loop $l (br $l)) (i32.const 0))`;
    const { vm } = await loadOk({ body }, {}, { cpuLimitMs: 20 });
    assert.equal(vm.createHttpContext(new FakeHttpStream())?.onRequestHeaders(1, true), 'failed');
    assert.equal(vm.failureReason?.kind, 'cpu_limit');
  });

  it('memory growth beyond the cap fails the VM (capped maximum, and the host backstop)', async () => {
    const body = `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (if (i32.eq (memory.grow (i32.const 10)) (i32.const -1)) (then unreachable)) (i32.const 0))`;
    for (const instrument of [true, false]) {
      const { vm } = await loadOk({ body }, {}, { maxMemoryPages: 4, instrument });
      assert.equal(vm.createHttpContext(new FakeHttpStream())?.onRequestHeaders(1, true), 'failed', `instrument=${instrument}`);
      assert.equal(vm.failureReason?.kind, instrument ? 'trap' : 'memory_limit');
    }
  });
});

describe('timers and callouts', () => {
  it('ticks through the injected clock until the VM closes', async () => {
    const body = `(data (i32.const 100) "tick")
      (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (drop (call $proxy_set_tick_period_milliseconds (i32.const 100))) (i32.const 1))
      (func (export "proxy_on_tick") (param i32) (drop (call $proxy_log (i32.const 2) (i32.const 100) (i32.const 4))))`;
    const { vm, env } = await loadOk({ body });
    env.clock.advance(250);
    assert.deepEqual(env.messages(), ['tick', 'tick']);
    vm.close();
    env.clock.advance(1000);
    assert.equal(env.messages().length, 2);
  });

  const CALLOUT = `(data (i32.const 200) "\\01\\00\\00\\00\\05\\00\\00\\00\\05\\00\\00\\00:path\\00/auth\\00")
    (data (i32.const 300) "upstream")
    (data (i32.const 400) "failed")
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $proxy_http_call (i32.const 300) (i32.const 8) (i32.const 200) (i32.const 24) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 16)))
      (i32.const 1))
    (func (export "proxy_on_http_call_response") (param $root i32) (param $token i32) (param $nh i32) (param $body i32) (param $nt i32)
      (if (i32.eqz (local.get $nh))
        (then (drop (call $proxy_send_local_response (i32.const 503) (i32.const 0) (i32.const 0) (i32.const 400) (i32.const 6) (i32.const 0) (i32.const 0) (i32.const -1))))
        (else
          (drop (call $proxy_get_buffer_bytes (i32.const 4) (i32.const 0) (i32.const -1) (i32.const 16) (i32.const 20)))
          (drop (call $proxy_send_local_response (i32.const 403) (i32.const 0) (i32.const 0) (i32.load (i32.const 16)) (i32.load (i32.const 20)) (i32.const 0) (i32.const 0) (i32.const -1))))))`;

  it('an answered http_call reaches the root context, and its local reply reaches the calling stream', async () => {
    const { vm, env } = await loadOk({ body: CALLOUT });
    const stream = new FakeHttpStream();
    const ctx = vm.createHttpContext(stream);
    assert.equal(ctx?.onRequestHeaders(2, true), 'pause');
    const call = env.calls[0];
    assert.ok(call);
    assert.equal(call.request.cluster, 'upstream');
    assert.deepEqual(call.request.headers.map(([n, v]) => [n, new TextDecoder().decode(v)]), [[':path', '/auth']]);
    call.respond({ headers: [[':status', new TextEncoder().encode('200')]], body: new TextEncoder().encode('nope'), trailers: [] });
    assert.equal(stream.localReplies.length, 1);
    assert.equal(stream.localReplies[0]?.status, 403);
    assert.equal(new TextDecoder().decode(stream.localReplies[0]?.body), 'nope');
  });

  it('a failed http_call is delivered with num_headers 0; an ended stream drops its callout', async () => {
    const { vm, env } = await loadOk({ body: CALLOUT });
    const stream = new FakeHttpStream();
    vm.createHttpContext(stream)?.onRequestHeaders(2, true);
    env.calls[0]?.respond(undefined);
    assert.equal(stream.localReplies[0]?.status, 503);

    const ended = new FakeHttpStream();
    const ctx2 = vm.createHttpContext(ended);
    ctx2?.onRequestHeaders(2, true);
    ctx2?.end();
    assert.equal(env.calls[1]?.cancelled, true);
    env.calls[1]?.respond(undefined);
    assert.equal(ended.localReplies.length, 0);
    assert.equal(vm.failed, false);
  });

  it('host calls that synchronously call back into the running guest are queued until it returns', async () => {
    const body = CALLOUT + `(func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))`;
    const { vm, env } = await loadOk({ body });
    const stream = new FakeHttpStream();
    const ctx = vm.createHttpContext(stream);
    assert.ok(ctx);
    const inner: string[] = [];
    const original = env.httpCall.bind(env);
    env.httpCall = (req, onResponse) => {
      const r = original(req, onResponse);
      inner.push(ctx.onResponseHeaders(1, false)); // re-entrant: must be deferred
      onResponse(undefined); // answered before http_call even returned
      return r;
    };
    assert.equal(ctx.onRequestHeaders(1, true), 'pause');
    assert.deepEqual(inner, ['pause']);
    assert.deepEqual(stream.continued, [StreamType.HTTP_RESPONSE], 'the deferred callback continued, so the host resumes');
    assert.equal(stream.localReplies[0]?.status, 503, 'the early call answer was delivered after the guest returned');
    assert.equal(vm.failed, false);
  });

  it('http_call to an unknown cluster is BAD_ARGUMENT', async () => {
    const { vm } = await loadOk({});
    const ctx = vm.createHttpContext(new FakeHttpStream());
    assert.ok(ctx);
    const r = hostcall(vm, ctx.id, 'proxy_http_call', ...put(vm, 1024, 'nowhere'), 0, 0, 0, 0, 0, 0, 1000, 16);
    assert.equal(r, WasmResult.BAD_ARGUMENT);
    assert.equal(StreamType.HTTP_REQUEST, 0);
  });
});

describe('gRPC and network contexts', () => {
  it('delivers gRPC call events to the root context and exposes the close status', async () => {
    const body = `(data (i32.const 300) "grpc-up") (data (i32.const 320) "svc") (data (i32.const 340) "M") (data (i32.const 360) "hi")
      (import "env" "proxy_grpc_call" (func $grpc (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_get_status" (func $status (param i32 i32 i32) (result i32)))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $grpc (i32.const 300) (i32.const 7) (i32.const 320) (i32.const 3) (i32.const 340) (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 360) (i32.const 2) (i32.const 500) (i32.const 16)))
        (i32.const 1))
      (func (export "proxy_on_grpc_receive") (param i32 i32 i32)
        (drop (call $proxy_get_buffer_bytes (i32.const 5) (i32.const 0) (i32.const -1) (i32.const 16) (i32.const 20)))
        (drop (call $proxy_log (i32.const 2) (i32.load (i32.const 16)) (i32.load (i32.const 20)))))
      (func (export "proxy_on_grpc_close") (param i32 i32 i32)
        (drop (call $status (i32.const 24) (i32.const 28) (i32.const 32)))
        (drop (call $proxy_log (i32.const 2) (i32.load (i32.const 28)) (i32.load (i32.const 32)))))`;
    // grpc imports must precede other fields: put them in extraImports.
    const [imports, rest] = [body.match(/\(import[^\n]*\n/g)?.join('') ?? '', body.replace(/\(import[^\n]*\n/g, '')];
    const { vm, env } = await loadOk({ body: rest, extraImports: imports });
    vm.createHttpContext(new FakeHttpStream())?.onRequestHeaders(1, true);
    const call = env.grpcCalls[0];
    assert.ok(call);
    assert.equal(new TextDecoder().decode(call.request.upstream), 'grpc-up');
    assert.deepEqual([call.request.service, call.request.method, call.request.timeoutMs], ['svc', 'M', 500]);
    call.handlers.onMessage(new TextEncoder().encode('reply'));
    call.handlers.onClose(14, 'unavailable');
    call.handlers.onMessage(new TextEncoder().encode('late'));
    assert.deepEqual(env.messages(), ['reply', 'unavailable']);
  });

  it('adapts the proxy-runtime 0.1.8 gRPC declaration without metadata, and stubs unknown i64 imports', async () => {
    const extraImports = `(import "env" "proxy_grpc_call" (func $grpc (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_future_i64" (func $future (param i32) (result i64)))`;
    const body = `(data (i32.const 300) "up") (data (i32.const 320) "svc") (data (i32.const 340) "M") (data (i32.const 360) "hi")
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $grpc (i32.const 300) (i32.const 2) (i32.const 320) (i32.const 3) (i32.const 340) (i32.const 1) (i32.const 360) (i32.const 2) (i32.const 500) (i32.const 16)))
        (i32.wrap_i64 (call $future (i32.const 0))))`;
    const { vm, env } = await loadOk({ body, extraImports });
    assert.equal(vm.createHttpContext(new FakeHttpStream())?.onRequestHeaders(1, true), 'pause', 'the stub answered 12 as an i64');
    assert.equal(env.grpcCalls[0]?.request.service, 'svc');
    assert.equal(new TextDecoder().decode(env.grpcCalls[0]?.message), 'hi');
    assert.deepEqual(env.grpcCalls[0]?.request.initialMetadata, []);
    assert.equal(vm.failed, false);
  });

  it('drives a network context through connection callbacks', async () => {
    const body = `(data (i32.const 100) "closed")
      (func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32) (i32.lt_u (local.get 1) (i32.const 10)))
      (func (export "proxy_on_downstream_connection_close") (param i32 i32) (drop (call $proxy_log (i32.const 2) (i32.const 100) (i32.const 6))))`;
    const { vm, env } = await loadOk({ body });
    const host = new FakeHttpStream();
    const ctx = vm.createNetworkContext(host);
    assert.ok(ctx);
    assert.equal(ctx.onNewConnection(), 'continue');
    assert.equal(ctx.onDownstreamData(4, false), 'pause');
    assert.equal(ctx.onDownstreamData(12, false), 'continue');
    ctx.onDownstreamClose();
    ctx.end();
    assert.deepEqual(env.messages(), ['closed']);
  });
});
