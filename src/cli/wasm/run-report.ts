// What `isthmus wasm run` reports about one run of a plugin, and its rendering for people. The same object
// is printed with `-o json|yaml`; the text form has one section per concern: the plugin, the request as
// sent upstream, the response as sent downstream (or the local reply), logs, metrics, HTTP calls, and the
// result. Bodies are shown as UTF-8 text. Nothing here runs a plugin.

import { renderTable } from '../output.js';
import type { RunHttpCall, RunLog, RunMetric } from './run-env.js';

/**
 * continued: the request went upstream and the response downstream. paused: the plugin stopped the stream
 * and did not continue it (within the wait, or with nothing pending that could). local_reply: the plugin
 * answered itself. closed: the plugin closed the stream. failed: the module did not load, or the sandbox
 * stopped it (trap, CPU or memory limit, proc_exit).
 */
export type RunOutcome = 'continued' | 'paused' | 'local_reply' | 'closed' | 'failed';

export type HeaderEntries = Array<[string, string]>;

export interface RunFailure {
  /** `load`, or the sandbox's kind: trap, cpu_limit, proc_exit, memory_limit, host_error. */
  readonly kind: string;
  /** The guest function that was running (absent for load failures). */
  readonly during?: string;
  readonly message: string;
}

export interface WasmRunReport {
  readonly plugin: {
    readonly name: string;
    readonly module: string;
    /** The proxy-wasm ABI the module advertises (absent when it did not compile). */
    readonly abi?: string;
    readonly rootId: string;
    /** Set when the plugin asked for ticks (proxy_set_tick_period_milliseconds); ticks are not run. */
    readonly tickPeriodMs?: number;
  };
  /** Absent when the plugin did not load. `sentUpstream` false: the headers and body as the plugin left them. */
  readonly request?: { readonly sentUpstream: boolean; readonly headers: HeaderEntries; readonly body: string };
  readonly response?: { readonly headers: HeaderEntries; readonly body: string };
  readonly localReply?: {
    readonly status: number;
    readonly details: string;
    readonly headers: HeaderEntries;
    readonly body: string;
    readonly grpcStatus?: number;
  };
  readonly logs: readonly RunLog[];
  readonly metrics: readonly RunMetric[];
  readonly httpCalls: readonly RunHttpCall[];
  readonly result: {
    readonly outcome: RunOutcome;
    /** One line saying what happened, e.g. `paused in proxy_on_request_headers: ...`. */
    readonly detail: string;
    readonly failure?: RunFailure;
  };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : `  ${l}`))
    .join('\n');
}

function headBlock(headers: HeaderEntries, body: string): string {
  const lines = headers.map(([n, v]) => `${n}: ${v}`);
  let out = indent(lines.join('\n')) + '\n';
  if (body !== '') out += '\n' + indent(body.endsWith('\n') ? body.slice(0, -1) : body) + '\n';
  return out;
}

function metricValue(m: RunMetric): string {
  return m.values === undefined ? String(m.value) : `${m.values.length} recorded: ${m.values.join(', ')}`;
}

function callResult(c: RunHttpCall): string {
  if (c.status !== undefined) return String(c.status);
  return `failed: ${c.failure ?? 'no answer'}`;
}

/** The human form. */
export function renderRunReport(r: WasmRunReport): string {
  const p = r.plugin;
  const parts: string[] = [];
  const abi = p.abi === undefined ? '' : `, ABI ${p.abi}`;
  parts.push(`plugin ${p.name} (${p.module}${abi}, root id ${JSON.stringify(p.rootId)})\n`);
  if (r.request !== undefined) {
    const title = r.request.sentUpstream ? 'request (as sent upstream)' : 'request (as the plugin left it; not sent upstream)';
    parts.push(`${title}\n${headBlock(r.request.headers, r.request.body)}`);
  }
  if (r.localReply !== undefined) {
    const l = r.localReply;
    const grpc = l.grpcStatus === undefined ? '' : `, grpc-status ${l.grpcStatus}`;
    const details = l.details === '' ? '' : `, details ${l.details}`;
    parts.push(`local reply (status ${l.status}${details}${grpc})\n${headBlock(l.headers, l.body)}`);
  } else if (r.response !== undefined) {
    parts.push(`response (as sent downstream)\n${headBlock(r.response.headers, r.response.body)}`);
  }
  const logs = r.logs.map((l) => `${l.level.padEnd(8)} ${l.message}`).join('\n');
  parts.push(`logs\n${r.logs.length === 0 ? '  (none)\n' : indent(logs) + '\n'}`);
  const metrics = renderTable(['NAME', 'TYPE', 'VALUE'], r.metrics.map((m) => [m.name, m.type, metricValue(m)]));
  parts.push(`metrics\n${r.metrics.length === 0 ? '  (none)\n' : indent(metrics)}`);
  const calls = renderTable(
    ['CLUSTER', 'METHOD', 'PATH', 'RESULT'],
    r.httpCalls.map((c) => [c.cluster, c.method, c.path, callResult(c)]),
  );
  parts.push(`http calls\n${r.httpCalls.length === 0 ? '  (none)\n' : indent(calls)}`);
  const tick = p.tickPeriodMs === undefined ? '' : `\n  tick period ${p.tickPeriodMs} ms (ticks are not run by wasm run)`;
  parts.push(`result\n  ${r.result.detail}${tick}\n`);
  return parts.join('\n');
}
