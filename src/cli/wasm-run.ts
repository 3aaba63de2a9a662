// `isthmus wasm run <module>`: runs a proxy-wasm plugin through one request and response without a mesh,
// with the host the proxy uses, and prints what it did (run-plugin.ts drives it, run-report.ts renders
// it): the request as sent upstream, the response as sent downstream or the local reply, logs with their
// levels, metrics, HTTP calls (made for real to the servers named by --cluster), and the result.
// Exit 0 when the plugin ran (whatever it decided), 1 when it failed to load or the sandbox stopped it
// (`error: wasm plugin <name> ...` on stderr, after the report), 64 for bad flags (ISM_USAGE, naming the flag).
// This file owns the flags only.

import { readFile } from 'node:fs/promises';
import { basename, resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import { IsthmusError } from '../lib/errors.js';
import { renderData, type CliIO } from './output.js';
import { parseDataFormat } from './request.js';
import { DEFAULT_WAIT_MS, runWasmPlugin, type WasmRunInput } from './wasm/run-plugin.js';
import { renderRunReport, type HeaderEntries } from './wasm/run-report.js';
import { RUN_LOG_LEVELS, type RunLogLevel } from './wasm/run-env.js';
import type { LogLevel } from '../proxy/wasm/abi.js';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export interface WasmRunFlags {
  readonly config?: string;
  readonly rootId?: string;
  readonly env: string[];
  readonly cluster: string[];
  readonly request: string;
  readonly header: string[];
  readonly body?: string;
  readonly responseStatus: string;
  readonly responseHeader: string[];
  readonly responseBody?: string;
  readonly logLevel: string;
  readonly output?: string;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

function usage(message: string): IsthmusError {
  return new IsthmusError('ISM_USAGE', message);
}

/** `'name: value'` for -H / -R; names are lower-cased as the proxy shows them (HTTP/2 style). */
export function parseHeaderFlag(flag: string, h: string): [string, string] {
  const colon = h.indexOf(':');
  const name = colon < 0 ? '' : h.slice(0, colon).trim();
  if (colon < 0 || !TOKEN.test(name)) throw usage(`invalid ${flag} "${h}": want ${flag} 'name: value' with a valid header name`);
  const value = h.slice(colon + 1).trim();
  if (/[\r\n\0]/.test(value)) throw usage(`invalid ${flag} "${h}": the value must not contain line breaks`);
  return [name.toLowerCase(), value];
}

/** `--request 'METHOD /path'`. */
export function parseRequestLine(v: string): { method: string; path: string } {
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(v);
  if (m === null || !TOKEN.test(m[1] ?? '') || !(m[2] ?? '').startsWith('/')) {
    throw usage(`invalid --request "${v}": want '<METHOD> <path>', e.g. 'GET /' or 'POST /api?x=1'`);
  }
  return { method: m[1] as string, path: m[2] as string };
}

export function parseStatusFlag(v: string): number {
  const n = Number(v);
  if (!/^\d{3}$/.test(v.trim()) || n < 100 || n > 599) throw usage(`invalid --response-status "${v}": want an HTTP status from 100 to 599`);
  return n;
}

/** `--log-level`: one of the ABI's levels, by name. */
export function parseLogLevel(v: string): LogLevel {
  const i = RUN_LOG_LEVELS.indexOf(v.toLowerCase() as RunLogLevel);
  if (i < 0) throw usage(`invalid --log-level "${v}": must be one of ${RUN_LOG_LEVELS.join(', ')}`);
  return i as LogLevel;
}

/** `--env K=V` (repeatable): the only environment WASI shows the plugin. */
export function parseEnvFlags(values: readonly string[]): Array<[string, string]> {
  return values.map((e) => {
    const eq = e.indexOf('=');
    if (eq <= 0) throw usage(`invalid --env "${e}": want --env NAME=value`);
    return [e.slice(0, eq), e.slice(eq + 1)];
  });
}

/** `--cluster name=url` (repeatable): where the plugin's HTTP calls to `name` go. */
export function parseClusterFlags(values: readonly string[]): Map<string, URL> {
  const out = new Map<string, URL>();
  for (const c of values) {
    const eq = c.indexOf('=');
    const name = eq < 0 ? '' : c.slice(0, eq);
    let url: URL | undefined;
    try {
      url = new URL(c.slice(eq + 1));
    } catch {
      url = undefined;
    }
    if (name === '' || url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw usage(`invalid --cluster "${c}": want --cluster <name>=<http(s) url>, e.g. --cluster auth=http://127.0.0.1:8080`);
    }
    if (out.has(name)) throw usage(`invalid --cluster "${c}": cluster "${name}" is given twice`);
    out.set(name, url);
  }
  return out;
}

/** A text flag's value, or a file's bytes for `@file` (relative to the working directory). */
async function textOrFile(flag: string, v: string | undefined, io: CliIO): Promise<Uint8Array | undefined> {
  if (v === undefined) return undefined;
  if (!v.startsWith('@')) return new TextEncoder().encode(v);
  const file = resolvePath(io.cwd, v.slice(1));
  try {
    return new Uint8Array(await readFile(file));
  } catch (e) {
    throw new IsthmusError('ISM_FILE_READ', `cannot read ${flag} ${v}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function withLength(headers: HeaderEntries, body: Uint8Array | undefined): HeaderEntries {
  if (body === undefined || headers.some(([n]) => n === 'content-length')) return headers;
  return [...headers, ['content-length', String(body.byteLength)]];
}

/** The run's input from the flags; every flag is checked before anything runs. */
export async function wasmRunInput(modulePath: string, f: WasmRunFlags, io: CliIO): Promise<WasmRunInput> {
  const { method, path } = parseRequestLine(f.request);
  const status = parseStatusFlag(f.responseStatus);
  const reqHeaders = f.header.map((h) => parseHeaderFlag('-H', h));
  const resHeaders = f.responseHeader.map((h) => parseHeaderFlag('-R', h));
  const envVars = parseEnvFlags(f.env);
  const logLevel = parseLogLevel(f.logLevel);
  const clusters = parseClusterFlags(f.cluster);
  const host = reqHeaders.find(([n]) => n === 'host')?.[1] ?? 'localhost';
  const requestBody = await textOrFile('--body', f.body, io);
  const responseBody = await textOrFile('--response-body', f.responseBody, io);
  const pluginConfig = (await textOrFile('--config', f.config, io)) ?? new Uint8Array(0);
  const file = resolvePath(io.cwd, modulePath);
  let module: Uint8Array;
  try {
    module = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new IsthmusError('ISM_FILE_READ', `cannot read module ${modulePath}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const requestHeaders: HeaderEntries = [[':authority', host], [':path', path], [':method', method], [':scheme', 'http'], ...reqHeaders.filter(([n]) => n !== 'host')];
  return {
    module,
    modulePath,
    name: basename(modulePath).replace(/\.wasm$/, ''),
    rootId: f.rootId ?? '',
    pluginConfig,
    envVars,
    clusters,
    requestHeaders: withLength(requestHeaders, requestBody),
    requestBody,
    responseHeaders: withLength([[':status', String(status)], ...resHeaders], responseBody),
    responseBody,
    logLevel,
  };
}

export function registerWasm(program: Command, io: CliIO): void {
  const wasm = program.command('wasm').description('Work with proxy-wasm plugins');
  wasm
    .command('run')
    .description('Run a proxy-wasm plugin through one request and response, without a mesh, and show what it did')
    .argument('<module>', 'the plugin: a .wasm file built with a proxy-wasm SDK')
    .option('--config <text>', "the plugin configuration given to proxy_on_configure, as is (Istio's pluginConfig is JSON); @file reads a file")
    .option('--root-id <id>', 'the root id (PluginConfig.root_id) the plugin registers under (default "")')
    .option('--env <NAME=value>', 'an environment variable the plugin sees through WASI (repeatable)', collect, [])
    .option('--cluster <name=url>', "where the plugin's HTTP calls to cluster <name> go, e.g. auth=http://127.0.0.1:8080 (repeatable)", collect, [])
    .option('--request <request>', "the request line '<METHOD> <path>'", 'GET /')
    .option('-H, --header <header>', "a request header 'name: value' (repeatable); 'host: x' sets :authority, localhost otherwise", collect, [])
    .option('--body <text>', 'the request body (content-length is added unless given); @file reads a file')
    .option('--response-status <N>', "the simulated upstream's status", '200')
    .option('-R, --response-header <header>', "a header of the simulated upstream's response 'name: value' (repeatable)", collect, [])
    .option('--response-body <text>', "the simulated upstream's response body; @file reads a file")
    .option('--log-level <level>', 'drop plugin log lines below this level: trace, debug, info, warn, error, critical; the plugin is told it too', 'trace')
    .option('-o, --output <format>', 'json or yaml: the report as one object')
    .addHelpText(
      'after',
      `
The plugin runs in the proxy's own host and sandbox (same CPU and memory limits). It sees the request
headers (end_of_stream when there is no --body), then the body; unless it answers locally, the simulated
upstream response (--response-status, -R, --response-body) goes through its response callbacks; then
done, log, delete. A pause with an HTTP call in flight waits up to ${DEFAULT_WAIT_MS / 1000} s for the call and the
plugin's continue. Timers are not run; the tick period is reported.

Exit 0 when the plugin ran (continued, paused, answered locally), 1 when it failed to load or the
sandbox stopped it (trap, CPU or memory limit, proc_exit), 64 for bad flags.

Examples:
  isthmus wasm run add-header.wasm --config hello -R 'server: nginx'
  isthmus wasm run deny.wasm --config '{"deny_path":"/admin"}' --request 'GET /admin/users'
  isthmus wasm run auth.wasm --config '{"cluster":"auth"}' --cluster auth=http://127.0.0.1:8080 -o json`,
    )
    .action(async (modulePath: string, f: WasmRunFlags) => {
      const format = parseDataFormat(f.output);
      const input = await wasmRunInput(modulePath, f, io);
      const report = await runWasmPlugin(input);
      io.stdout(format === undefined ? renderRunReport(report) : renderData(report, format));
      if (report.result.outcome === 'failed') {
        io.stderr(`error: wasm plugin ${report.plugin.name} ${report.result.detail}\n`);
        io.setExitCode(1);
      }
    });
}
