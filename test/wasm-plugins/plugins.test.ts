// Self-check of the proxy-wasm test plugins: builds them (scripts/build-wasm-plugins.mjs, a no-op
// when up to date) and checks each module statically, with no host: it validates, advertises the
// ABI its SDK targets (solo-io 0.1.8 -> proxy_abi_version_0_2_0, gcore 1.2.3 -> 0_2_1), exports
// memory and the callbacks a host drives, imports only env.proxy_* and WASI functions, and
// imports what its documented behaviour needs. Host behaviour is tested by the host's suites.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface BuiltPlugin {
  sdk: string;
  name: string;
  wasm: string;
  compiled: boolean;
}
interface BuildModule {
  buildWasmPlugins(options: { quiet: boolean }): Promise<{ buildDir: string; plugins: BuiltPlugin[] }>;
}

const SCRIPT = fileURLToPath(new URL('../../scripts/build-wasm-plugins.mjs', import.meta.url));

async function loadBuilder(): Promise<BuildModule> {
  const mod: unknown = await import(pathToFileURL(SCRIPT).href);
  assert.ok(typeof mod === 'object' && mod !== null && 'buildWasmPlugins' in mod);
  assert.equal(typeof mod.buildWasmPlugins, 'function');
  return mod as BuildModule;
}

const ABI_MARKER: Record<string, string> = {
  'solo-io': 'proxy_abi_version_0_2_0',
  gcore: 'proxy_abi_version_0_2_1',
};

const HTTP_EXPORTS = [
  'memory', 'malloc', 'proxy_on_context_create', 'proxy_on_vm_start', 'proxy_on_configure',
  'proxy_on_request_headers', 'proxy_on_request_body', 'proxy_on_response_headers',
  'proxy_on_response_body', 'proxy_on_http_call_response', 'proxy_on_tick', 'proxy_on_queue_ready',
  'proxy_on_done', 'proxy_on_log', 'proxy_on_delete',
];
const TCP_EXPORTS = [
  'proxy_on_new_connection', 'proxy_on_downstream_data', 'proxy_on_upstream_data',
  'proxy_on_downstream_connection_close', 'proxy_on_upstream_connection_close',
];

/** Imports each plugin must declare, given what it is documented to do. */
const EXPECTED_IMPORTS: Record<string, string[]> = {
  'add-header': ['env.proxy_add_header_map_value', 'env.proxy_remove_header_map_value', 'env.proxy_replace_header_map_value'],
  deny: ['env.proxy_get_header_map_value', 'env.proxy_send_local_response'],
  'grpc-call': ['env.proxy_grpc_call', 'env.proxy_set_effective_context', 'env.proxy_continue_stream', 'env.proxy_send_local_response'],
  'grpc-stream': [
    'env.proxy_grpc_stream', 'env.proxy_grpc_send', 'env.proxy_grpc_close', 'env.proxy_grpc_cancel',
    'env.proxy_set_effective_context', 'env.proxy_continue_stream', 'env.proxy_send_local_response',
  ],
  'http-callout': ['env.proxy_http_call', 'env.proxy_set_effective_context', 'env.proxy_continue_stream', 'env.proxy_send_local_response'],
  'shared-queue': [
    'env.proxy_get_shared_data', 'env.proxy_set_shared_data', 'env.proxy_register_shared_queue',
    'env.proxy_enqueue_shared_queue', 'env.proxy_dequeue_shared_queue',
  ],
  timer: ['env.proxy_set_tick_period_milliseconds', 'env.proxy_get_shared_data', 'env.proxy_set_shared_data'],
  metrics: ['env.proxy_define_metric', 'env.proxy_increment_metric', 'env.proxy_record_metric'],
  'body-rewrite': ['env.proxy_get_buffer_bytes', 'env.proxy_set_buffer_bytes'],
  'bad-trap': ['env.proxy_get_header_map_value'],
  'bad-loop': ['env.proxy_get_header_map_value'],
  'bad-alloc': ['env.proxy_get_header_map_value'],
  'bad-garbage': ['env.proxy_log', 'env.proxy_get_header_map_value'],
  'tcp-count': ['wasi_snapshot_preview1.fd_write'],
  'response-callout': ['env.proxy_http_call', 'env.proxy_continue_stream', 'env.proxy_send_local_response'],
};

/** The plugins each SDK must provide (solo-io 0.1.8 has no network callbacks; bad-* are gcore only). */
const EXPECTED_PLUGINS: Record<string, string[]> = {
  'solo-io': ['add-header', 'body-rewrite', 'deny', 'http-callout', 'metrics', 'shared-queue', 'timer'],
  gcore: [
    'add-header', 'bad-alloc', 'bad-garbage', 'bad-loop', 'bad-trap', 'body-rewrite', 'deny',
    'grpc-call', 'grpc-stream', 'http-callout', 'metrics', 'response-callout', 'shared-queue', 'tcp-count', 'timer',
  ],
};

const WASI_MODULE: Record<string, string> = { 'solo-io': 'wasi_unstable', gcore: 'wasi_snapshot_preview1' };

const builder = await loadBuilder();
const { plugins } = await builder.buildWasmPlugins({ quiet: true });

test('every expected plugin is built for each SDK', () => {
  for (const [sdk, names] of Object.entries(EXPECTED_PLUGINS)) {
    const built = plugins.filter((p) => p.sdk === sdk).map((p) => p.name).sort();
    assert.deepEqual(built, names, sdk);
  }
});

test('a second build compiles nothing', async () => {
  const again = await builder.buildWasmPlugins({ quiet: true });
  assert.deepEqual(again.plugins.filter((p) => p.compiled).map((p) => `${p.sdk}/${p.name}`), []);
});

for (const plugin of plugins) {
  test(`${plugin.sdk}/${plugin.name}: valid module with the SDK's ABI marker, exports and imports`, () => {
    const bytes = readFileSync(plugin.wasm);
    assert.equal(WebAssembly.validate(bytes), true);
    const mod = new WebAssembly.Module(bytes);
    const exports = WebAssembly.Module.exports(mod).map((e) => e.name);
    const imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`);

    const markers = exports.filter((e) => e.startsWith('proxy_abi_version_'));
    assert.deepEqual(markers, [ABI_MARKER[plugin.sdk]]);
    for (const name of HTTP_EXPORTS) assert.ok(exports.includes(name), `missing export ${name}`);
    if (plugin.sdk === 'gcore') {
      for (const name of TCP_EXPORTS) assert.ok(exports.includes(name), `missing export ${name}`);
      assert.ok(exports.includes('_start'), 'wasi-shim modules export _start');
    } else {
      assert.ok(!exports.includes('proxy_on_new_connection'), 'solo-io 0.1.8 has no network callbacks');
    }

    for (const imp of imports) {
      const ok = imp.startsWith('env.proxy_') || imp.startsWith(`${WASI_MODULE[plugin.sdk]}.`);
      assert.ok(ok, `unexpected import ${imp}`);
    }
    for (const imp of EXPECTED_IMPORTS[plugin.name] ?? []) {
      assert.ok(imports.includes(imp), `missing import ${imp}; has ${imports.join(', ')}`);
    }
  });
}
