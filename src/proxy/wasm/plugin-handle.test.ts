// Failure policies: FAIL_CLOSE fails the plugin's streams, FAIL_OPEN skips the plugin, FAIL_RELOAD
// starts a fresh VM from the same compiled module (at most once per backoff interval) with shared data kept.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WasmResult } from './abi.js';
import { compilePlugin } from './compile-plugin.js';
import { FakeHttpStream, FakePluginEnv } from '../../../test/support/wasm-fake-env.js';
import type { FailStrategy, PluginHandle } from './plugin-handle.js';
import { PluginHandle as Handle } from './plugin-handle.js';
import { SharedDataStore } from './shared-data.js';
import { buildModule, hostcall, outString, put } from './wat-harness.test.js';

// Traps when called with num_headers = 99.
const BODY = `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
  (if (i32.eq (local.get 1) (i32.const 99)) (then unreachable)) (i32.const 0))`;

async function handle(policy: FailStrategy, env = new FakePluginEnv({ name: 'p' }), sharedData = new SharedDataStore()): Promise<PluginHandle> {
  const compiled = await compilePlugin(await buildModule({ body: BODY }));
  assert.ok(compiled.ok);
  const h = Handle.create(compiled.value, env, { failStrategy: policy, sharedData });
  assert.ok(h.ok);
  return h.value;
}

function crash(h: PluginHandle): void {
  const ctx = h.httpContext(new FakeHttpStream());
  assert.equal(ctx.kind, 'http');
  if (ctx.kind === 'http') assert.equal(ctx.onRequestHeaders(99, true), 'failed');
}

describe('PluginHandle', () => {
  it('FAIL_CLOSE and FAIL_OPEN keep the failed VM out of service and say what to do', async () => {
    for (const [policy, failOpen] of [['FAIL_CLOSE', false], ['FAIL_OPEN', true]] as const) {
      const h = await handle(policy);
      const ok = h.httpContext(new FakeHttpStream());
      assert.equal(ok.kind, 'http');
      if (ok.kind === 'http') assert.equal(ok.onRequestHeaders(1, true), 'continue');
      crash(h);
      const after = h.httpContext(new FakeHttpStream());
      assert.equal(after.kind, 'failed', policy);
      if (after.kind === 'failed') {
        assert.equal(after.failOpen, failOpen);
        assert.equal(after.policy, policy);
        assert.equal(after.reason?.kind, 'trap');
      }
      assert.equal(h.failOpen, failOpen);
    }
  });

  it('FAIL_RELOAD re-creates the VM with a backoff, and shared data survives', async () => {
    const env = new FakePluginEnv({ name: 'p' });
    const h = await handle('FAIL_RELOAD', env);
    const first = h.vm;
    assert.equal(hostcall(first, first.rt.rootContextId, 'proxy_set_shared_data', ...put(first, 1024, 'k'), ...put(first, 1100, 'kept'), 0), WasmResult.OK);
    crash(h);
    const ctx = h.httpContext(new FakeHttpStream());
    assert.equal(ctx.kind, 'http', 'reloaded at once after the first failure');
    assert.notEqual(h.vm, first);
    const second = h.vm;
    assert.equal(hostcall(second, second.rt.rootContextId, 'proxy_get_shared_data', ...put(second, 1024, 'k'), 16, 20, 24), WasmResult.OK);
    assert.equal(outString(second, 16), 'kept');

    crash(h);
    const during = h.httpContext(new FakeHttpStream());
    assert.equal(during.kind, 'failed', 'no second reload within the backoff');
    if (during.kind === 'failed') assert.equal(during.failOpen, false);
    env.clock.advance(1000);
    assert.equal(h.httpContext(new FakeHttpStream()).kind, 'http');
    assert.equal(env.stat.get('wasm.p.reloads'), 2);
    assert.equal(env.stat.get('wasm.p.failures'), 2);
  });
});
