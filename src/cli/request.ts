// `isthmus request --from <workload> <url>`: sends a real request out through a workload's sidecar, as
// `kubectl exec sleep -- curl` does in Istio's tasks. The sidecar is found through the control plane
// (proxy-target.ts); the request goes to its HTTP proxy on <capture ip>:15001 as an app with HTTP_PROXY
// sends it: absolute-form for http://, a CONNECT tunnel (undici's ProxyAgent) for https://. Prints what
// came back like `curl -i` (status line, headers, body), or {status, headers, body, durationMs} with
// -o json|yaml. Any HTTP response exits 0; no response (refused, reset, timeout) is an error, exit 1.
// The argument parsing and the sending are shared with `isthmus explain --send`.

import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http';
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { ProxyAgent, request as undiciRequest } from 'undici';
import { IsthmusError } from '../lib/errors.js';
import { renderData, type CliIO } from './output.js';
import { resolveProxy } from './proxy-target.js';

/** The sidecar's HTTP proxy port (virtualOutbound). */
export const SIDECAR_PROXY_PORT = 15001;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export interface OutgoingRequest {
  readonly method: string;
  readonly url: URL;
  /** As given on the command line: names keep their case, order is kept. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer | undefined;
}

export interface SidecarResponse {
  readonly status: number;
  readonly statusText: string;
  readonly httpVersion: string;
  /** In the order received (raw case for http://, lower case for https://). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  readonly durationMs: number;
}

/** `reviews:9080/x` or `http://reviews:9080/x`; only http and https. */
export function parseTargetUrl(s: string): URL {
  const text = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(s) ? s : `http://${s}`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new IsthmusError('ISM_USAGE', `invalid URL "${s}": not a URL (want e.g. http://reviews:9080/reviews/0)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new IsthmusError('ISM_USAGE', `invalid URL "${s}": scheme ${u.protocol.slice(0, -1)} is not supported (want http or https)`);
  if (u.hostname === '') throw new IsthmusError('ISM_USAGE', `invalid URL "${s}": no host`);
  return u;
}

/** `-H 'name: value'` flags; a malformed one is a usage error naming it. */
export function parseHeaderFlags(values: readonly string[]): [string, string][] {
  return values.map((h) => {
    const colon = h.indexOf(':');
    const name = colon < 0 ? '' : h.slice(0, colon).trim();
    if (colon < 0 || !TOKEN.test(name)) throw new IsthmusError('ISM_USAGE', `invalid header "${h}": want -H 'name: value' with a valid header name`);
    const value = h.slice(colon + 1).trim();
    if (/[\r\n\0]/.test(value)) throw new IsthmusError('ISM_USAGE', `invalid header "${h}": the value must not contain line breaks`);
    return [name, value];
  });
}

export function parseMethod(m: string | undefined, hasBody: boolean): string {
  if (m === undefined) return hasBody ? 'POST' : 'GET';
  if (!TOKEN.test(m)) throw new IsthmusError('ISM_USAGE', `invalid method "${m}"`);
  return m;
}

/** `10s`, `500ms`, `1m` or a number of seconds, as milliseconds. */
export function parseTimeout(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (m === null || Number(m[1]) <= 0) throw new IsthmusError('ISM_USAGE', `invalid --timeout "${v}": want a duration such as 10s, 500ms or 1m`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

/** -o for request and explain: json or yaml; undefined prints for humans. */
export function parseDataFormat(v: string | undefined): 'json' | 'yaml' | undefined {
  if (v === undefined) return undefined;
  if (v === 'json' || v === 'yaml') return v;
  throw new IsthmusError('ISM_USAGE', `invalid output format "${v}": must be one of json, yaml`);
}

/** `-d`: the data itself, `@file` (relative to the working directory) or `@-` (stdin). */
export async function readBody(d: string | undefined, io: CliIO): Promise<Buffer | undefined> {
  if (d === undefined) return undefined;
  if (d === '@-') return Buffer.from(await io.stdin());
  if (d.startsWith('@')) {
    const file = resolvePath(io.cwd, d.slice(1));
    try {
      return await readFile(file);
    } catch (e) {
      throw new IsthmusError('ISM_FILE_READ', `cannot read -d ${d}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return Buffer.from(d);
}

/** Lower-case name → value (repeated names joined with ', '), as a proxy sees the request. */
export function headerRecord(headers: readonly (readonly [string, string])[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headers) {
    const n = k.toLowerCase();
    out[n] = out[n] === undefined ? v : `${out[n]}, ${v}`;
  }
  return out;
}

function failure(req: OutgoingRequest, via: string, e: unknown, timeoutMs: number): IsthmusError {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  const what = code === 'ETIMEDOUT_ISTHMUS' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ? `no answer within ${timeoutMs} ms` : `${typeof code === 'string' ? `${code} ` : ''}${err.message}${cause}`;
  return new IsthmusError('ISM_CONNECT', `no response to ${req.method} ${req.url.toString()} through the sidecar's HTTP proxy ${via}: ${what}`);
}

function pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}

/** http://: an absolute-form request to the sidecar's HTTP proxy. */
function sendPlain(ip: string, req: OutgoingRequest, timeoutMs: number): Promise<SidecarResponse> {
  const start = performance.now();
  const hasHost = req.headers.some(([k]) => k.toLowerCase() === 'host');
  const headers: string[] = hasHost ? [] : ['Host', req.url.host];
  for (const [k, v] of req.headers) headers.push(k, v);
  if (req.body !== undefined && !req.headers.some(([k]) => k.toLowerCase() === 'content-length')) headers.push('Content-Length', String(req.body.length));
  return new Promise((ok, fail) => {
    const r = httpRequest({ host: ip, port: SIDECAR_PROXY_PORT, method: req.method, path: req.url.toString(), headers, agent: false, setHost: false }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        ok({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', httpVersion: `HTTP/${res.httpVersion}`, headers: pairs(res.rawHeaders), body: Buffer.concat(chunks), durationMs: Math.round(performance.now() - start) });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        fail(e);
      });
    });
    const timer = setTimeout(() => r.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT_ISTHMUS' })), timeoutMs);
    r.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    r.end(req.body);
  });
}

/** https://: a CONNECT tunnel through the sidecar (undici's ProxyAgent), TLS end to end. */
async function sendTunnelled(ip: string, req: OutgoingRequest, timeoutMs: number, insecure: boolean): Promise<SidecarResponse> {
  const start = performance.now();
  const agent = new ProxyAgent({ uri: `http://${ip.includes(':') ? `[${ip}]` : ip}:${SIDECAR_PROXY_PORT}`, ...(insecure ? { requestTls: { rejectUnauthorized: false } } : {}), headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  try {
    const res = await undiciRequest(req.url, { dispatcher: agent, method: req.method, headers: req.headers.map(([k, v]) => [k, v]).flat(), ...(req.body !== undefined ? { body: req.body } : {}) });
    const body = Buffer.from(await res.body.arrayBuffer());
    const headers: [string, string][] = [];
    for (const [k, v] of Object.entries(res.headers)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) headers.push([k, x]);
    return { status: res.statusCode, statusText: STATUS_CODES[res.statusCode] ?? '', httpVersion: 'HTTP/1.1', headers, body, durationMs: Math.round(performance.now() - start) };
  } finally {
    await agent.close().catch(() => undefined);
  }
}

/** Sends `req` through the HTTP proxy of the sidecar on `ip`; an IsthmusError (ISM_CONNECT) when nothing answers. */
export async function sendThroughSidecar(ip: string, req: OutgoingRequest, opts: { timeoutMs: number; insecure?: boolean }): Promise<SidecarResponse> {
  const via = `${ip}:${SIDECAR_PROXY_PORT}`;
  try {
    return req.url.protocol === 'https:' ? await sendTunnelled(ip, req, opts.timeoutMs, opts.insecure === true) : await sendPlain(ip, req, opts.timeoutMs);
  } catch (e) {
    throw failure(req, via, e, opts.timeoutMs);
  }
}

/** Like `curl -i`: status line, headers, blank line, body. */
export function renderResponseText(r: SidecarResponse): string {
  const head = [`${r.httpVersion} ${r.status}${r.statusText !== '' ? ` ${r.statusText}` : ''}`, ...r.headers.map(([k, v]) => `${k}: ${v}`)].join('\n');
  const body = r.body.toString('utf8');
  return `${head}\n\n${body}${body !== '' && !body.endsWith('\n') ? '\n' : ''}`;
}

export function responseData(r: SidecarResponse): { status: number; headers: Record<string, string | string[]>; body: string; durationMs: number } {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of r.headers) {
    const n = k.toLowerCase();
    const prev = headers[n];
    headers[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return { status: r.status, headers, body: r.body.toString('utf8'), durationMs: r.durationMs };
}

export function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

interface RequestFlags {
  readonly from: string;
  readonly request?: string;
  readonly header: string[];
  readonly data?: string;
  readonly output?: string;
  readonly timeout: string;
  readonly insecure?: boolean;
  readonly controlPlane: string;
  readonly namespace: string;
  readonly admin?: string;
}

export function registerRequest(program: Command, io: CliIO): void {
  program
    .command('request')
    .description("Send a request from a workload through its sidecar, like `kubectl exec <pod> -- curl -i <url>`")
    .argument('<url>', 'where to send it, e.g. http://reviews:9080/reviews/0 (http:// may be left out)')
    .requiredOption('--from <workload>', 'the workload whose sidecar sends it: a proxy `pod.namespace`, node id or unique pod-name prefix')
    .option('-X, --request <method>', 'the method (default GET, or POST with -d)')
    .option('-H, --header <header>', "a request header 'name: value' (repeatable)", collect, [])
    .option('-d, --data <body>', 'the request body; @file reads a file, @- reads stdin')
    .option('-o, --output <format>', 'json or yaml: {status, headers, body, durationMs}')
    .option('--timeout <duration>', 'how long to wait for the answer', '30s')
    .option('-k, --insecure', 'https://: do not verify the server certificate')
    .option('--control-plane <host:port>', 'the control plane monitoring address', '127.0.0.1:15014')
    .option('-n, --namespace <ns>', 'namespace of the workload', 'default')
    .option('--admin <host:port>', "the sidecar's admin address (default: what the proxy reports)")
    .addHelpText(
      'after',
      `
The request leaves through the workload's sidecar (its HTTP proxy on <ip>:15001), so the mesh's
routing, faults, retries and timeouts apply as they do for the app. Exit 0 on any HTTP answer, 1 when
none comes (connection refused, reset, --timeout).

Examples:
  isthmus request --from productpage http://reviews:9080/reviews/0
  isthmus request --from productpage -H 'end-user: jason' http://reviews:9080/reviews/0
  isthmus request --from sleep -X POST -d '{"a":1}' -H 'content-type: application/json' http://httpbin:8000/post -o json`,
    )
    .action(async (rawUrl: string, f: RequestFlags) => {
      const format = parseDataFormat(f.output);
      const url = parseTargetUrl(rawUrl);
      const headers = parseHeaderFlags(f.header);
      const timeoutMs = parseTimeout(f.timeout);
      const body = await readBody(f.data, io);
      const method = parseMethod(f.request, body !== undefined);
      const target = await resolveProxy(f.controlPlane, f.from, { namespace: f.namespace, ...(f.admin !== undefined ? { admin: f.admin } : {}) });
      if (target.ip === '') throw new IsthmusError('ISM_NOT_FOUND', `proxy ${target.id} reports no IP address: cannot reach its HTTP proxy`);
      const res = await sendThroughSidecar(target.ip, { method, url, headers, body }, { timeoutMs, insecure: f.insecure === true });
      io.stdout(format === undefined ? renderResponseText(res) : renderData(responseData(res), format));
    });
}
