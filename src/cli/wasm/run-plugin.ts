// Drives one proxy-wasm plugin through one request and response, without a mesh, with the host the proxy
// uses (compilePlugin: the same instrumentation, CPU and memory limits; PluginVm; WasmHttpContext), in the
// order the proxy's wasm filter (src/proxy/filters/wasm/filter.ts) drives it:
//   context create; proxy_on_request_headers (end_of_stream when there is no body); then, once the request
//   headers continued, proxy_on_request_body with the whole body and end_of_stream; the request goes
//   upstream; unless the plugin answered locally, the simulated upstream response goes through
//   proxy_on_response_headers and proxy_on_response_body the same way; finally done, log, delete.
// Pauses: a callback that pauses while an HTTP call is pending waits (bounded by `waitMs`) for the call's
// answer and the plugin's continue_stream, local reply or failure. A pause with nothing pending ends the run
// as `paused` at request headers (nothing could resume it); at a body's end of stream, or at response
// headers, the proxy passes the data on, and so does this.
// After a local reply the plugin sees no response callbacks (as in the proxy's filter). The VM is closed at
// the end (ticks never run; pending calls are cancelled).

import { LogLevel } from '../../proxy/wasm/abi.js';
import { compilePlugin } from '../../proxy/wasm/compile-plugin.js';
import { PluginVm } from '../../proxy/wasm/plugin-vm.js';
import type { FilterResult, WasmHttpContext } from '../../proxy/wasm/stream-context.js';
import { SharedDataStore } from '../../proxy/wasm/shared-data.js';
import { SharedQueueRegistry } from '../../proxy/wasm/shared-queues.js';
import { createRunEnv, type RunEnv } from './run-env.js';
import type { HeaderEntries, RunFailure, RunOutcome, WasmRunReport } from './run-report.js';
import { RunStream } from './run-stream.js';

const dec = new TextDecoder();

export interface WasmRunInput {
  /** The module's bytes. */
  readonly module: Uint8Array;
  /** Shown in reports; also the plugin's name (`plugin_name`) and vm id. */
  readonly modulePath: string;
  readonly name: string;
  readonly rootId: string;
  readonly pluginConfig: Uint8Array;
  readonly envVars: ReadonlyArray<readonly [string, string]>;
  readonly clusters: ReadonlyMap<string, URL>;
  /** Request headers with pseudo-headers first (:authority, :path, :method, :scheme). */
  readonly requestHeaders: HeaderEntries;
  /** Undefined: the request has no body (end_of_stream at the headers). */
  readonly requestBody: Uint8Array | undefined;
  /** Response headers with :status first. */
  readonly responseHeaders: HeaderEntries;
  readonly responseBody: Uint8Array | undefined;
  /** How long a paused plugin may wait for its HTTP calls and continue (default 5000 ms). */
  readonly waitMs?: number;
  /** CPU-time limit per callback (the host's default, 200 ms, when absent). */
  readonly cpuLimitMs?: number;
  /** Plugin log lines below this level are dropped (default TRACE: all). */
  readonly logLevel?: LogLevel;
}

export const DEFAULT_WAIT_MS = 5000;

type Stop = { readonly outcome: RunOutcome; readonly detail: string };

/** Wakes waiters on any stream event, call completion or VM failure; they re-check their condition. */
class Wakeup {
  private waiters: Array<() => void> = [];
  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  /** Resolves true once `cond` holds, false after `ms`. */
  async until(cond: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }
}

function text(b: Uint8Array): string {
  return dec.decode(b);
}

function entries(pairs: ReadonlyArray<readonly [string, Uint8Array]>): HeaderEntries {
  return pairs.map(([n, v]) => [n, text(v)]);
}

function stripPrefix(error: string, name: string): string {
  const p = `plugin ${name}: `;
  return error.startsWith(p) ? error.slice(p.length) : error;
}

/** Runs the plugin; never throws for plugin problems (they are in the report's result). */
export async function runWasmPlugin(input: WasmRunInput): Promise<WasmRunReport> {
  const waitMs = input.waitMs ?? DEFAULT_WAIT_MS;
  const rec = createRunEnv({
    name: input.name,
    rootId: input.rootId,
    pluginConfig: input.pluginConfig,
    envVars: input.envVars,
    clusters: input.clusters,
    defaultCallTimeoutMs: waitMs,
    logLevel: input.logLevel ?? LogLevel.TRACE,
  });
  const plugin = { name: input.name, module: input.modulePath, rootId: input.rootId };
  const base = { logs: rec.logs, metrics: rec.metrics, httpCalls: rec.calls };
  const loadFailed = (message: string, abi?: string): WasmRunReport => ({
    plugin: abi === undefined ? plugin : { ...plugin, abi },
    ...base,
    result: { outcome: 'failed', detail: `failed to load: ${message}`, failure: { kind: 'load', message } },
  });

  const compiled = await compilePlugin(input.module);
  if (!compiled.ok) return loadFailed(compiled.error);
  const wakeup = new Wakeup();
  const sigs = compiled.value.importSignatures;
  const vmr = PluginVm.create(compiled.value.module, rec.env, {
    sharedData: new SharedDataStore(),
    sharedQueues: new SharedQueueRegistry(),
    onFailure: () => wakeup.wake(),
    ...(sigs === undefined ? {} : { importSignatures: sigs }),
    ...(input.cpuLimitMs === undefined ? {} : { cpuLimitMs: input.cpuLimitMs }),
  });
  if (!vmr.ok) return loadFailed(stripPrefix(vmr.error, input.name), compiled.value.abi);
  const vm = vmr.value;
  try {
    return await drive(input, vm, rec, wakeup, waitMs, { ...plugin, abi: vm.abi });
  } finally {
    vm.close();
  }
}

async function drive(
  input: WasmRunInput,
  vm: PluginVm,
  rec: RunEnv,
  wakeup: Wakeup,
  waitMs: number,
  plugin: { name: string; module: string; rootId: string; abi: string },
): Promise<WasmRunReport> {
  const stream = new RunStream(input.requestHeaders, input.requestBody ?? new Uint8Array(0));
  const continued = { request: false, response: false };
  stream.onEvent = (e) => {
    if (e === 'continue-request') continued.request = true;
    if (e === 'continue-response') continued.response = true;
    wakeup.wake();
  };
  const settleWatch = (): void => void rec.whenCallsSettle().then(() => wakeup.wake());

  const failed = (): Stop => {
    const f = vm.failureReason;
    return { outcome: 'failed', detail: f === undefined ? 'failed' : `failed: ${f.kind} in ${f.during}: ${f.message}` };
  };
  const ended = (during: string): Stop | undefined => {
    if (vm.failed) return failed();
    if (stream.localReply !== undefined) return { outcome: 'local_reply', detail: `local reply ${stream.localReply.status} from ${during}` };
    if (stream.closed.length > 0) return { outcome: 'closed', detail: `closed: the plugin closed the stream in ${during}` };
    return undefined;
  };

  /** One callback; a pause waits for the plugin's continue when an HTTP call is pending. */
  const step = async (during: string, dir: 'request' | 'response', call: () => FilterResult, holdWhenIdle: boolean): Promise<Stop | undefined> => {
    continued[dir] = false;
    const r = call();
    if (r === 'failed') return failed();
    const stop = ended(during);
    if (stop !== undefined) return stop;
    if (r === 'continue') return undefined;
    if (rec.pendingCalls() === 0) {
      return holdWhenIdle ? { outcome: 'paused', detail: `paused in ${during}: nothing pending could resume the stream (no HTTP call in flight)` } : undefined;
    }
    settleWatch();
    const done = await wakeup.until(() => continued[dir] || vm.failed || stream.localReply !== undefined || stream.closed.length > 0 || rec.pendingCalls() === 0, waitMs);
    const after = ended('proxy_on_http_call_response');
    if (after !== undefined) return after;
    if (continued[dir]) return undefined;
    if (!done) return { outcome: 'paused', detail: `paused in ${during}: no continue within ${waitMs} ms (an HTTP call is still pending)` };
    return holdWhenIdle ? { outcome: 'paused', detail: `paused in ${during}: the HTTP call finished and the plugin did not continue` } : undefined;
  };

  const ctx: WasmHttpContext | undefined = vm.createHttpContext(stream);
  let stop: Stop | undefined = ctx === undefined ? failed() : undefined;
  let sentUpstream = false;
  let response: { headers: HeaderEntries; body: string } | undefined;
  if (ctx !== undefined) {
    const reqBody = input.requestBody;
    stop = await step('proxy_on_request_headers', 'request', () => ctx.onRequestHeaders(stream.requestHeaders.pairs().length, reqBody === undefined), true);
    if (stop === undefined && reqBody !== undefined) {
      stream.requestBody.writable = true;
      stop = await step('proxy_on_request_body', 'request', () => ctx.onRequestBody(stream.requestBody.length, true), false);
      stream.requestBody.writable = false;
    }
    if (stop === undefined) {
      sentUpstream = true;
      stream.requestHeaders.writable = false;
      stream.setResponse(input.responseHeaders, input.responseBody ?? new Uint8Array(0));
      const resBody = input.responseBody;
      stop = await step('proxy_on_response_headers', 'response', () => ctx.onResponseHeaders(stream.responseHeaders?.pairs().length ?? 0, resBody === undefined), false);
      stream.responseSent = true;
      if (stop === undefined && resBody !== undefined) {
        stream.responseBody.writable = true;
        stop = await step('proxy_on_response_body', 'response', () => ctx.onResponseBody(stream.responseBody.length, true), false);
        stream.responseBody.writable = false;
      }
      if (stream.responseHeaders !== undefined) stream.responseHeaders.writable = false;
      if (stop === undefined) response = { headers: stream.responseHeaders?.entries() ?? [], body: text(stream.responseBody.bytes()) };
    }
    ctx.end();
    if (vm.failed && stop?.outcome !== 'failed') stop = failed();
  }
  const f = vm.failureReason;
  const failure: RunFailure | undefined = f === undefined ? undefined : { kind: f.kind, during: f.during, message: f.message };
  const result = stop ?? { outcome: 'continued' as const, detail: 'continued: the request went upstream and the response downstream' };
  const l = stream.localReply;
  const tick = vm.rt.tickPeriodMs;
  return {
    plugin: tick > 0 ? { ...plugin, tickPeriodMs: tick } : plugin,
    request: { sentUpstream, headers: stream.requestHeaders.entries(), body: text(stream.requestBody.bytes()) },
    ...(response === undefined ? {} : { response }),
    ...(l === undefined
      ? {}
      : { localReply: { status: l.status, details: l.details, headers: entries(l.headers), body: text(l.body), ...(l.grpcStatus === undefined ? {} : { grpcStatus: l.grpcStatus }) } }),
    logs: rec.logs,
    metrics: rec.metrics,
    httpCalls: rec.calls,
    result: failure === undefined || result.outcome !== 'failed' ? result : { ...result, failure },
  };
}
