// `npm run bench -- wasm`: what a Wasm plugin costs per request, against the same behaviour as a native
// filter, in the same run (issue 7's target: under 5 µs per request). Both run through the proxy's real
// HTTP filter path (the wasm filter on an HttpStream, the response head through the encode hooks, the end
// of the stream): the plugin adds a request header, removes one and adds a response header; the native
// filter is a JS function doing the same to the same maps. The router is left out of both (a direct
// response answers), so the difference is the plugin's. Three plugins: the same behaviour written straight
// against the ABI (bench/wasm/add-header.wat: no SDK, no allocation, so its cost is the host's own
// bookkeeping, which is what the target is about), and the add-header test plugin built with each
// AssemblyScript SDK (their runtimes allocate and collect garbage on every context: the SDK's cost on top).
// Interleaved rounds, medians. BENCH_WASM_ONLY=abi|gcore|solo-io runs one row.

import { PassThrough } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { StringValueSchema } from '@bufbuild/protobuf/wkt';
import { HttpStream, type DownstreamRequest, type DownstreamResponse } from '../src/proxy/http/http-stream.js';
import { newStreamInfo } from '../src/proxy/http/stream-info.js';
import { runWasmFilter } from '../src/proxy/filters/wasm/filter.js';
import { compileWasmPluginConfig, type WasmFilterConfig } from '../src/proxy/filters/wasm/config.js';
import { WasmPluginRegistry } from '../src/proxy/filters/wasm/plugin-registry.js';
import { PluginConfigSchema, VmConfigSchema } from '../src/xds/gen/envoy/extensions/wasm/v3/wasm_pb.js';
import { pack } from '../src/xds/codec.js';
import { StatsStore } from '../src/proxy/stats/stats-store.js';
import { silentLogger } from '../src/lib/logger.js';
import { systemClock } from '../src/lib/clock.js';
import { mathRandom } from '../src/proxy/lib/random.js';
import type { HcmEnv } from '../src/proxy/http/hcm-env.js';

const ROUNDS = 7;
const PER_ROUND = 20_000;
const TARGET_US = 5;

const response: DownstreamResponse = {
  headersSent: false,
  writeContinue: () => undefined,
  writeHead: () => undefined,
  write: () => true,
  end: () => undefined,
  addTrailers: () => undefined,
  once: () => undefined,
};

const body = new PassThrough();

function stream(): HttpStream {
  const req: DownstreamRequest = {
    method: 'GET',
    path: '/reviews/1',
    authority: 'reviews:9080',
    scheme: 'http',
    protocol: 'HTTP/1.1',
    headers: { 'user-agent': 'bench', accept: '*/*', 'x-request-id': 'a0b1c2', 'x-remove-me': 'yes' },
    hasBody: false,
    body,
    remoteAddress: '127.0.0.1',
    remotePort: 40000,
    localAddress: '127.0.0.2',
    localPort: 9080,
    serverName: '',
  };
  return new HttpStream(req, response, newStreamInfo(0), mathRandom, { reset: () => undefined, onReset: () => undefined }, 'envoy');
}

/** The native equivalent: the same header changes, as a filter and an encode hook. */
function nativeRequest(): void {
  const s = stream();
  const h = s.request.headers;
  h['x-wasm-request'] = 'hello';
  delete h['x-remove-me'];
  s.encodeHooks.push((_st, rh) => {
    rh['x-wasm-response'] = 'hello';
  });
  s.respond(200, { 'content-type': 'text/plain' }, 'ok', 'direct_response');
  s.complete();
}

function wasmRequest(config: WasmFilterConfig, env: HcmEnv): void {
  const s = stream();
  if (runWasmFilter(config, s, env, () => undefined) !== 'continue') throw new Error('the plugin did not continue');
  s.respond(200, { 'content-type': 'text/plain' }, 'ok', 'direct_response');
  s.complete();
}

function perRequestNs(f: () => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < PER_ROUND; i++) f();
  return Number(process.hrtime.bigint() - t0) / PER_ROUND;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

export async function benchWasm(log: (line: string) => void): Promise<void> {
  const { buildWasmPlugins, wasmPluginPath } = (await import(new URL('../scripts/build-wasm-plugins.mjs', import.meta.url).href)) as {
    buildWasmPlugins(o: { quiet: boolean }): Promise<unknown>;
    wasmPluginPath(sdk: string, name: string): string;
  };
  await buildWasmPlugins({ quiet: true });
  const stats = new StatsStore();
  const registry = new WasmPluginRegistry({ logger: silentLogger, stats, clock: systemClock, cluster: () => undefined, node: { id: 'bench', cluster: 'bench', metadata: {} }, hostEnv: () => undefined, fetcher: undefined });
  const env: HcmEnv = { wasm: registry, routeTable: () => undefined, cluster: () => undefined, random: mathRandom, onStreamComplete: () => undefined };
  log(`wasm: per-request cost of the add-header plugin vs a native filter doing the same (${ROUNDS} interleaved rounds of ${PER_ROUND.toLocaleString('en-US')} requests, medians)`);
  log('| plugin | native ns/req | wasm ns/req | added µs/req | target < 5 µs |');
  log('|---|---:|---:|---:|---|');
  const wabt = await (await import('wabt')).default();
  const wat = await readFile(fileURLToPath(new URL('./wasm/add-header.wat', import.meta.url)), 'utf8');
  const abiModule = wabt.parseWat('add-header.wat', wat).toBinary({}).buffer;
  const modules: [string, { case: 'filename'; value: string } | { case: 'inlineBytes'; value: Uint8Array }][] = [
    ['ABI, no SDK', { case: 'inlineBytes', value: abiModule }],
    ['gcore SDK', { case: 'filename', value: wasmPluginPath('gcore', 'add-header') }],
    ['solo-io SDK', { case: 'filename', value: wasmPluginPath('solo-io', 'add-header') }],
  ];
  const only = process.env['BENCH_WASM_ONLY'];
  for (const [label, code] of modules) {
    if (only !== undefined && only !== '' && !label.toLowerCase().startsWith(only.toLowerCase())) continue;
    const pc = create(PluginConfigSchema, {
      name: `bench.${label.replace(/[^a-z]+/gi, '-')}`,
      rootId: 'add-header',
      vm: { case: 'vmConfig', value: create(VmConfigSchema, { runtime: 'envoy.wasm.runtime.v8', code: { specifier: { case: 'local', value: { specifier: code } } } }) },
      configuration: pack(StringValueSchema, create(StringValueSchema, { value: 'hello' })),
    });
    const compiled = compileWasmPluginConfig(pc, 'bench');
    if (!compiled.ok) throw new Error(compiled.problems.join('; '));
    const config = compiled.value;
    const entry = registry.entry(config);
    await new Promise<void>((r) => entry.whenSettled(r));
    if (entry.state.kind !== 'ready') throw new Error(`plugin ${label}: ${entry.state.kind === 'failed' ? entry.state.error : 'not ready'}`);
    // Warm both paths up (JIT, the VM's first allocations).
    perRequestNs(nativeRequest);
    perRequestNs(() => wasmRequest(config, env));
    const native: number[] = [];
    const wasm: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      native.push(perRequestNs(nativeRequest));
      wasm.push(perRequestNs(() => wasmRequest(config, env)));
    }
    const n = median(native);
    const w = median(wasm);
    const added = (w - n) / 1000;
    log(`| add-header (${label}) | ${n.toFixed(0)} | ${w.toFixed(0)} | ${added.toFixed(2)} | ${added < TARGET_US ? 'met' : 'MISSED'} |`);
  }
  const failures = [...stats.counters()].filter((c) => c.name.includes('.failures') && c.value > 0);
  if (failures.length > 0) log(`plugin failures during the bench: ${failures.map((c) => `${c.name}=${c.value}`).join(', ')}`);
  registry.close();
}
