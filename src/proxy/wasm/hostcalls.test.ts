// Hostcall behaviour as SDKs depend on it: exact status codes, (0,0) for empty results, garbage pointers
// answered with INVALID_MEMORY_ACCESS while the VM stays usable, WASI environ from the plugin config only.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MapType, WasmResult, BufferType, StreamType } from './abi.js';
import { FakeHttpStream, FakePluginEnv } from '../../../test/support/wasm-fake-env.js';
import type { FakeEnvOptions } from '../../../test/support/wasm-fake-env.js';
import { PluginVm } from './plugin-vm.js';
import type { ModuleSpec } from './wat-harness.test.js';
import { buildModule, hostcall, outString, put, u32 } from './wat-harness.test.js';
import { SharedDataStore } from './shared-data.js';
import { SharedQueueRegistry } from './shared-queues.js';

const OUT = 16; // out-params at 16/20/24
const GARBAGE = 0xfffffff0;

async function setup(spec: ModuleSpec = {}, envOpts: FakeEnvOptions = {}) {
  const env = new FakePluginEnv(envOpts);
  const module = new WebAssembly.Module(await buildModule(spec));
  const r = PluginVm.create(module, env, { sharedData: new SharedDataStore(), sharedQueues: new SharedQueueRegistry() });
  if (!r.ok) throw new Error(r.error);
  const vm = r.value;
  const stream = new FakeHttpStream([[':method', 'GET'], [':path', '/x'], ['x-a', '1']]);
  const ctx = vm.createHttpContext(stream);
  assert.ok(ctx);
  return { env, vm, stream, ctx: ctx.id };
}

describe('header maps', () => {
  it('answers the statuses SDKs expect', async () => {
    const { vm, ctx, stream } = await setup();
    const cases: Array<{ name: string; run: () => number | undefined; want: WasmResult; check?: () => void }> = [
      { name: 'present key', run: () => hostcall(vm, ctx, 'proxy_get_header_map_value', MapType.HTTP_REQUEST_HEADERS, ...put(vm, 1024, 'X-A'), OUT, OUT + 4), want: WasmResult.OK, check: () => assert.equal(outString(vm, OUT), '1') },
      { name: 'missing key is NOT_FOUND in 0.2.x', run: () => hostcall(vm, ctx, 'proxy_get_header_map_value', MapType.HTTP_REQUEST_HEADERS, ...put(vm, 1024, 'nope'), OUT, OUT + 4), want: WasmResult.NOT_FOUND },
      { name: 'remove of a missing key is OK', run: () => hostcall(vm, ctx, 'proxy_remove_header_map_value', MapType.HTTP_REQUEST_HEADERS, ...put(vm, 1024, 'nope')), want: WasmResult.OK },
      { name: 'bad map type', run: () => hostcall(vm, ctx, 'proxy_get_header_map_pairs', 99, OUT, OUT + 4), want: WasmResult.BAD_ARGUMENT },
      { name: 'call-response map outside a callout', run: () => hostcall(vm, ctx, 'proxy_get_header_map_pairs', MapType.HTTP_CALL_RESPONSE_HEADERS, OUT, OUT + 4), want: WasmResult.BAD_ARGUMENT },
      {
        name: 'empty map is (0,0)',
        run: () => {
          vm.rt.mem.writeU32(OUT, 77);
          vm.rt.mem.writeU32(OUT + 4, 77);
          return hostcall(vm, ctx, 'proxy_get_header_map_pairs', MapType.HTTP_REQUEST_TRAILERS, OUT, OUT + 4);
        },
        want: WasmResult.OK,
        check: () => assert.deepEqual([u32(vm, OUT), u32(vm, OUT + 4)], [0, 0]),
      },
      { name: 'empty map size is 0', run: () => hostcall(vm, ctx, 'proxy_get_header_map_size', MapType.HTTP_REQUEST_TRAILERS, OUT), want: WasmResult.OK, check: () => assert.equal(u32(vm, OUT), 0) },
      {
        name: 'add then replace',
        run: () => {
          hostcall(vm, ctx, 'proxy_add_header_map_value', MapType.HTTP_RESPONSE_HEADERS, ...put(vm, 1024, 'X-B'), ...put(vm, 1100, 'v1'));
          hostcall(vm, ctx, 'proxy_add_header_map_value', MapType.HTTP_RESPONSE_HEADERS, ...put(vm, 1024, 'x-b'), ...put(vm, 1100, 'v2'));
          return hostcall(vm, ctx, 'proxy_replace_header_map_value', MapType.HTTP_RESPONSE_HEADERS, ...put(vm, 1024, 'x-b'), ...put(vm, 1100, 'v3'));
        },
        want: WasmResult.OK,
        check: () => assert.deepEqual(stream.responseHeaders.entries(), [[':status', '200'], ['x-b', 'v3']]),
      },
      { name: 'garbage key pointer', run: () => hostcall(vm, ctx, 'proxy_get_header_map_value', 0, GARBAGE, 64, OUT, OUT + 4), want: WasmResult.INVALID_MEMORY_ACCESS },
      { name: 'garbage out-param', run: () => hostcall(vm, ctx, 'proxy_get_header_map_value', 0, ...put(vm, 1024, 'x-a'), GARBAGE, OUT), want: WasmResult.INVALID_MEMORY_ACCESS },
      { name: 'garbage length', run: () => hostcall(vm, ctx, 'proxy_log', 2, 1024, -1), want: WasmResult.INVALID_MEMORY_ACCESS },
      { name: 'malformed pairs', run: () => hostcall(vm, ctx, 'proxy_set_header_map_pairs', 0, ...put(vm, 1024, new Uint8Array([5, 0, 0, 0, 1]))), want: WasmResult.BAD_ARGUMENT },
    ];
    for (const c of cases) {
      assert.equal(c.run(), c.want, c.name);
      c.check?.();
    }
    assert.equal(vm.failed, false, 'garbage pointers do not fail the VM');
  });

  it('ABI 0.1.0 answers OK with an empty value for a missing header', async () => {
    const { vm, ctx } = await setup({ abi: '0.1.0' });
    vm.rt.mem.writeU32(OUT, 5);
    assert.equal(hostcall(vm, ctx, 'proxy_get_header_map_value', 0, ...put(vm, 1024, 'nope'), OUT, OUT + 4), WasmResult.OK);
    assert.deepEqual([u32(vm, OUT), u32(vm, OUT + 4)], [0, 0]);
    assert.equal(hostcall(vm, ctx, 'proxy_continue_stream', 0), WasmResult.UNIMPLEMENTED, '0.2.x-only call is a stub in 0.1.0');
  });
});

describe('buffers', () => {
  it('reads with usize::MAX and follows the prepend/append/replace rules', async () => {
    const { vm, ctx, stream } = await setup();
    stream.requestBody.splice(0, 0, new TextEncoder().encode('abc'));
    assert.equal(hostcall(vm, ctx, 'proxy_get_buffer_bytes', BufferType.HTTP_REQUEST_BODY, 0, -1, OUT, OUT + 4), WasmResult.OK);
    assert.equal(outString(vm, OUT), 'abc');
    const dec = (): string => new TextDecoder().decode(stream.requestBody.bytes());
    const cases: Array<[string, number, number, string, string]> = [
      ['prepend', 0, 0, '>', '>abc'],
      ['append', 0xffffffff, 0, '<', '>abc<'],
      ['replace', 1, 3, 'ABC', '>ABC<'],
      ['replace all', 0, 99, 'new', 'new'],
    ];
    for (const [name, start, size, data, want] of cases) {
      assert.equal(hostcall(vm, ctx, 'proxy_set_buffer_bytes', BufferType.HTTP_REQUEST_BODY, start, size, ...put(vm, 1024, data)), WasmResult.OK, name);
      assert.equal(dec(), want, name);
    }
    assert.equal(hostcall(vm, ctx, 'proxy_get_buffer_status', BufferType.HTTP_REQUEST_BODY, OUT, OUT + 4), WasmResult.OK);
    assert.equal(u32(vm, OUT), 3);
    assert.equal(hostcall(vm, ctx, 'proxy_get_buffer_bytes', BufferType.DOWNSTREAM_DATA, 0, 10, OUT, OUT + 4), WasmResult.NOT_FOUND);
    assert.equal(hostcall(vm, ctx, 'proxy_get_buffer_bytes', BufferType.HTTP_REQUEST_BODY, 10, 10, OUT, OUT + 4), WasmResult.BAD_ARGUMENT);
    assert.equal(hostcall(vm, ctx, 'proxy_get_buffer_bytes', 42, 0, 10, OUT, OUT + 4), WasmResult.BAD_ARGUMENT);
  });
});

describe('properties, metrics, misc', () => {
  it('answers plugin properties itself and stream properties from the host, NUL-separated or dotted', async () => {
    const { vm, ctx, stream } = await setup({}, { name: 'authz', rootId: 'root-a', vmId: 'vm-z', properties: { 'node.id': 'sidecar~1' } });
    const get = (path: string): string | WasmResult => {
      const r = hostcall(vm, ctx, 'proxy_get_property', ...put(vm, 1024, path), OUT, OUT + 4);
      return r === WasmResult.OK ? outString(vm, OUT) : (r as WasmResult);
    };
    assert.equal(get('plugin_name'), 'authz');
    assert.equal(get('plugin_root_id\0'), 'root-a');
    assert.equal(get('plugin_vm_id'), 'vm-z');
    assert.equal(get('request\0path\0'), '/x');
    assert.equal(get('request.path'), '/x');
    assert.equal(get('request.headers.x-a'), '1');
    assert.equal(get('node\0id\0'), 'sidecar~1');
    assert.equal(get('no.such'), WasmResult.NOT_FOUND);
    assert.equal(hostcall(vm, ctx, 'proxy_set_property', ...put(vm, 1024, 'my.state'), ...put(vm, 1100, 'v')), WasmResult.OK);
    assert.equal(new TextDecoder().decode(stream.filterState.get('my.state')), 'v');
  });

  it('defines, increments and reads metrics; histograms cannot be incremented', async () => {
    const { vm, env } = await setup();
    const root = vm.rt.rootContextId;
    assert.equal(hostcall(vm, root, 'proxy_define_metric', 0, ...put(vm, 1024, 'requests'), OUT), WasmResult.OK);
    const id = u32(vm, OUT) as number;
    assert.equal(hostcall(vm, root, 'proxy_increment_metric', id, 5n), WasmResult.OK);
    assert.equal(hostcall(vm, root, 'proxy_get_metric', id, OUT), WasmResult.OK);
    assert.equal(env.metricValues.get('requests')?.value, 5n);
    assert.equal(hostcall(vm, root, 'proxy_define_metric', 2, ...put(vm, 1024, 'latency'), OUT), WasmResult.OK);
    const h = u32(vm, OUT) as number;
    assert.equal(hostcall(vm, root, 'proxy_increment_metric', h, 1n), WasmResult.BAD_ARGUMENT);
    assert.equal(hostcall(vm, root, 'proxy_record_metric', h, 7n), WasmResult.OK);
    assert.equal(hostcall(vm, root, 'proxy_record_metric', 999, 7n), WasmResult.NOT_FOUND);
    assert.equal(hostcall(vm, root, 'proxy_define_metric', 9, ...put(vm, 1024, 'x'), OUT), WasmResult.BAD_ARGUMENT);
  });

  it('answers foreign functions NOT_FOUND and unknown env imports UNIMPLEMENTED', async () => {
    const { vm } = await setup();
    const root = vm.rt.rootContextId;
    assert.equal(hostcall(vm, root, 'proxy_call_foreign_function', 0, 0, 0, 0, OUT, OUT + 4), WasmResult.NOT_FOUND);
    assert.equal(hostcall(vm, root, 'proxy_unknown_future_call', 0), WasmResult.UNIMPLEMENTED);
    assert.equal(hostcall(vm, root, 'proxy_set_effective_context', 12345), WasmResult.BAD_ARGUMENT);
    assert.equal(hostcall(vm, root, 'proxy_done'), WasmResult.NOT_FOUND);
  });

  it('shared data: CAS mismatch, and values shared by VMs with the same vm_id', async () => {
    const store = new SharedDataStore();
    const module = new WebAssembly.Module(await buildModule());
    const mk = (vmId: string): PluginVm => {
      const r = PluginVm.create(module, new FakePluginEnv({ vmId }), { sharedData: store });
      assert.ok(r.ok);
      return r.value;
    };
    const a = mk('shared');
    const b = mk('shared');
    const other = mk('other');
    const root = a.rt.rootContextId;
    assert.equal(hostcall(a, root, 'proxy_get_shared_data', ...put(a, 1024, 'k'), OUT, OUT + 4, OUT + 8), WasmResult.NOT_FOUND);
    assert.equal(hostcall(a, root, 'proxy_set_shared_data', ...put(a, 1024, 'k'), ...put(a, 1100, 'v1'), 0), WasmResult.OK);
    assert.equal(hostcall(b, root, 'proxy_get_shared_data', ...put(b, 1024, 'k'), OUT, OUT + 4, OUT + 8), WasmResult.OK);
    assert.equal(outString(b, OUT), 'v1');
    const cas = u32(b, OUT + 8) as number;
    assert.equal(hostcall(a, root, 'proxy_set_shared_data', ...put(a, 1024, 'k'), ...put(a, 1100, 'v2'), cas), WasmResult.OK);
    assert.equal(hostcall(b, root, 'proxy_set_shared_data', ...put(b, 1024, 'k'), ...put(b, 1100, 'v3'), cas), WasmResult.CAS_MISMATCH, 'stale cas');
    assert.equal(hostcall(other, root, 'proxy_get_shared_data', ...put(other, 1024, 'k'), OUT, OUT + 4, OUT + 8), WasmResult.NOT_FOUND, 'other vm_id');
  });

  it('queues: a second VM of the same vm_id enqueues, the registering root context is notified', async () => {
    const queues = new SharedQueueRegistry();
    const body = `(func (export "proxy_on_queue_ready") (param i32 i32)
      (drop (call $proxy_log (i32.const 2) (i32.const 0) (i32.const 11))))
      (data (i32.const 0) "queue ready")`;
    const module = new WebAssembly.Module(await buildModule({ body }));
    const envA = new FakePluginEnv({ vmId: 'q' });
    const a = PluginVm.create(module, envA, { sharedQueues: queues });
    const b = PluginVm.create(module, new FakePluginEnv({ vmId: 'q' }), { sharedQueues: queues });
    assert.ok(a.ok && b.ok);
    const root = a.value.rt.rootContextId;
    assert.equal(hostcall(a.value, root, 'proxy_register_shared_queue', ...put(a.value, 1024, 'jobs'), OUT), WasmResult.OK);
    const qid = u32(a.value, OUT);
    assert.equal(hostcall(b.value, root, 'proxy_resolve_shared_queue', ...put(b.value, 1024, 'q'), ...put(b.value, 1100, 'jobs'), OUT), WasmResult.OK);
    assert.equal(u32(b.value, OUT), qid);
    assert.equal(hostcall(b.value, root, 'proxy_resolve_shared_queue', ...put(b.value, 1024, 'q'), ...put(b.value, 1100, 'nope'), OUT), WasmResult.NOT_FOUND);
    assert.equal(hostcall(b.value, root, 'proxy_enqueue_shared_queue', qid as number, ...put(b.value, 1024, 'job-1')), WasmResult.OK);
    assert.deepEqual(envA.messages(), ['queue ready']);
    assert.equal(hostcall(a.value, root, 'proxy_dequeue_shared_queue', qid as number, OUT, OUT + 4), WasmResult.OK);
    assert.equal(outString(a.value, OUT), 'job-1');
    assert.equal(hostcall(a.value, root, 'proxy_dequeue_shared_queue', qid as number, OUT, OUT + 4), WasmResult.EMPTY);
    assert.equal(hostcall(a.value, root, 'proxy_dequeue_shared_queue', 999, OUT, OUT + 4), WasmResult.NOT_FOUND);
  });
});

describe('WASI', () => {
  it('shows only the plugin environment, never the proxy process environment', async () => {
    process.env['ISTHMUS_SECRET_FOR_TEST'] = 'leak';
    const { vm } = await setup({ wasi: ['environ_sizes_get', 'environ_get', 'args_sizes_get', 'poll_oneoff'] }, { envVars: [['MODE', 'strict'], ['REGION', 'eu']] });
    const root = vm.rt.rootContextId;
    assert.equal(hostcall(vm, root, 'environ_sizes_get', OUT, OUT + 4), 0);
    assert.deepEqual([u32(vm, OUT), u32(vm, OUT + 4)], [2, 'MODE=strict\0REGION=eu\0'.length]);
    assert.equal(hostcall(vm, root, 'environ_get', 2048, 4096), 0);
    const first = vm.rt.mem.string(u32(vm, 2048) as number, 12);
    assert.equal(first, 'MODE=strict\0');
    assert.equal(hostcall(vm, root, 'args_sizes_get', OUT, OUT + 4), 0);
    assert.deepEqual([u32(vm, OUT), u32(vm, OUT + 4)], [0, 0]);
    assert.equal(hostcall(vm, root, 'poll_oneoff', 0, 0, 0, 0), 76);
    assert.equal(hostcall(vm, root, 'environ_sizes_get', GARBAGE, 0), 21, 'FAULT for a bad pointer');
    delete process.env['ISTHMUS_SECRET_FOR_TEST'];
  });

  it('fd_write goes to the plugin log, line-buffered: stdout info, stderr error', async () => {
    const { vm, env } = await setup({ wasi: ['fd_write'] });
    const root = vm.rt.rootContextId;
    const iov = (ptr: number, s: string): void => {
      const [p, n] = put(vm, ptr + 100, s);
      vm.rt.mem.writeU32(ptr, p);
      vm.rt.mem.writeU32(ptr + 4, n);
    };
    iov(2000, 'hello ');
    assert.equal(hostcall(vm, root, 'fd_write', 1, 2000, 1, OUT), 0);
    assert.deepEqual(env.messages(), []);
    iov(2000, 'world\nsecond');
    hostcall(vm, root, 'fd_write', 1, 2000, 1, OUT);
    iov(2000, 'oops\n');
    hostcall(vm, root, 'fd_write', 2, 2000, 1, OUT);
    assert.deepEqual(env.logs.map((l) => [l.level, l.message]), [[2, 'hello world'], [4, 'oops']]);
    assert.equal(hostcall(vm, root, 'fd_write', 7, 2000, 1, OUT), 8, 'BADF');
  });
});

describe('contexts', () => {
  it('routes stream operations to the effective context, and proxy_done finishes a deferred context', async () => {
    const body = `(data (i32.const 100) "deleted")
      (func (export "proxy_on_done") (param i32) (result i32) (i32.const 0))
      (func (export "proxy_on_delete") (param i32) (drop (call $proxy_log (i32.const 2) (i32.const 100) (i32.const 7))))`;
    const { vm, env, stream } = await setup({ body });
    const root = vm.rt.rootContextId;
    const ctx = [...vm.rt.contexts.values()].find((c) => c.kind === 'http');
    assert.ok(ctx);
    // From the root context, a header read has no stream unless the effective context is set.
    const f = vm.fn('call_proxy_get_header_map_value');
    const g = vm.fn('call_proxy_set_effective_context');
    assert.ok(f && g);
    const key = put(vm, 1024, 'x-a');
    assert.equal(hostcall(vm, root, 'proxy_get_header_map_value', 0, ...key, OUT, OUT + 4), WasmResult.BAD_ARGUMENT);
    // Both calls inside one guest call: set_effective_context lasts until the callback returns.
    assert.equal(vm.call('t', (...a) => { g(ctx.id); return f(...a); }, [0, ...key, OUT, OUT + 4], root), WasmResult.OK);
    assert.equal(outString(vm, OUT), '1');

    const http = vm.createHttpContext(stream);
    assert.ok(http);
    assert.equal(http.onDone(), false, 'proxy_on_done answered false');
    http.onDelete();
    assert.deepEqual(env.messages(), [], 'not deleted before proxy_done');
    assert.equal(hostcall(vm, http.id, 'proxy_done'), WasmResult.OK);
    assert.deepEqual(env.messages(), ['deleted']);
    assert.equal(hostcall(vm, root, 'proxy_set_effective_context', http.id), WasmResult.BAD_ARGUMENT, 'deleted context');
  });
});

describe('stream operations', () => {
  it('continue_stream and close_stream reach the host after the guest returns', async () => {
    const { vm, ctx, stream } = await setup();
    assert.equal(hostcall(vm, ctx, 'proxy_continue_stream', StreamType.HTTP_RESPONSE), WasmResult.OK);
    assert.equal(hostcall(vm, ctx, 'proxy_close_stream', StreamType.HTTP_REQUEST), WasmResult.OK);
    assert.equal(hostcall(vm, ctx, 'proxy_continue_stream', 9), WasmResult.BAD_ARGUMENT);
    assert.deepEqual(stream.continued, [StreamType.HTTP_RESPONSE]);
    assert.deepEqual(stream.closed, [StreamType.HTTP_REQUEST]);
  });

  it('send_local_response from the root context outside a callout is refused, not silently dropped', async () => {
    const { vm } = await setup();
    assert.equal(hostcall(vm, vm.rt.rootContextId, 'proxy_send_local_response', 403, 0, 0, 0, 0, 0, 0, -1), WasmResult.BAD_ARGUMENT);
  });
});
