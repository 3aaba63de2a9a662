// `isthmus wasm run` with real plugins compiled from the two AssemblyScript SDKs (test/wasm-plugins):
// header changes, local replies, HTTP callouts to a real server, body rewriting, metrics, ticks, the
// sandbox stopping a trap and a runaway loop, load failures, `-o json|yaml`, and flag errors.

import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { CliIO } from './output.js';
import { runCommand } from './run-command.js';
import type { WasmRunReport } from './wasm/run-report.js';
import { readFileSync } from 'node:fs';
import { runWasmPlugin } from './wasm/run-plugin.js';
import { registerWasm, wasmRunInput } from './wasm-run.js';

interface Builder {
  buildWasmPlugins(o: { quiet: boolean }): Promise<unknown>;
  wasmPluginPath(sdk: string, name: string): string;
}
let builder: Builder;
const SDKS = ['solo-io', 'gcore'] as const;

before(async () => {
  const url = pathToFileURL(new URL('../../scripts/build-wasm-plugins.mjs', import.meta.url).pathname).href;
  builder = (await import(url)) as Builder;
  await builder.buildWasmPlugins({ quiet: true });
}, { timeout: 300_000 });

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    stdin: () => Promise.resolve(''),
    cwd: process.cwd(),
    setExitCode: () => undefined,
  };
  const code = await runCommand(['wasm', 'run', ...args], io, (io2) => {
    const program = new Command('isthmus').exitOverride().configureOutput({ writeOut: io2.stdout, writeErr: io2.stderr });
    registerWasm(program, io2);
    return program;
  });
  return { code, stdout, stderr };
}

async function report(sdk: string, plugin: string, args: readonly string[], expectCode = 0): Promise<WasmRunReport> {
  const r = await run([builder.wasmPluginPath(sdk, plugin), ...args, '-o', 'json']);
  assert.equal(r.code, expectCode, r.stderr);
  return JSON.parse(r.stdout) as WasmRunReport;
}

function header(h: ReadonlyArray<readonly [string, string]> | undefined, name: string): string | undefined {
  return h?.find(([n]) => n === name)?.[1];
}

describe('isthmus wasm run', () => {
  for (const sdk of SDKS) {
    it(`${sdk} add-header: shows the request and response as the plugin changed them`, async () => {
      const r = await report(sdk, 'add-header', ['--config', 'v1', '-H', 'x-remove-me: y', '-H', 'x-keep: 1', '-R', 'server: nginx']);
      assert.equal(r.result.outcome, 'continued');
      assert.equal(r.request?.sentUpstream, true);
      assert.deepEqual(r.request?.headers, [[':authority', 'localhost'], [':path', '/'], [':method', 'GET'], [':scheme', 'http'], ['x-keep', '1'], ['x-wasm-request', 'v1']]);
      assert.deepEqual(r.response?.headers, [[':status', '200'], ['server', 'isthmus-wasm'], ['x-wasm-response', 'v1']]);
      assert.equal(r.plugin.abi, sdk === 'gcore' ? '0.2.1' : '0.2.0');
      assert.equal(r.localReply, undefined);
    });

    it(`${sdk} deny: shows the local reply and that the request never went upstream`, async () => {
      const r = await report(sdk, 'deny', ['--config', '{"deny_path":"/admin"}', '--request', 'GET /admin/users']);
      assert.equal(r.result.outcome, 'local_reply');
      assert.equal(r.request?.sentUpstream, false);
      assert.equal(r.response, undefined);
      assert.deepEqual(r.localReply, { status: 403, details: 'wasm_deny', headers: [['x-wasm-denied', 'true']], body: 'denied by wasm\n' });
      const allowed = await report(sdk, 'deny', ['--config', '{"deny_path":"/admin"}', '--request', 'GET /public']);
      assert.equal(allowed.result.outcome, 'continued');
    });
  }

  it('prints human sections: request, response or local reply, logs, metrics, http calls, result', async () => {
    const ok = await run([builder.wasmPluginPath('solo-io', 'add-header'), '--config', 'v1', '--body', 'ping', '--log-level', 'info']);
    assert.equal(ok.code, 0, ok.stderr);
    for (const section of ['request (as sent upstream)', 'response (as sent downstream)', 'logs', 'metrics', 'http calls', 'result']) {
      assert.match(ok.stdout, new RegExp(`^${section.replace(/[()]/g, '\\$&')}$`, 'm'), section);
    }
    assert.match(ok.stdout, /^ {2}x-wasm-request: v1$/m);
    assert.match(ok.stdout, /^ {2}content-length: 4$/m);
    assert.match(ok.stdout, /^ {2}ping$/m);
    assert.match(ok.stdout, /^ {2}continued/m);
    assert.doesNotMatch(ok.stdout, /^ {2}debug /m, '--log-level info drops debug lines');

    const denied = await run([builder.wasmPluginPath('gcore', 'deny'), '--config', '{"deny_header":"x-evil"}', '-H', 'x-evil: 1']);
    assert.equal(denied.code, 0);
    assert.match(denied.stdout, /^local reply \(status 403, details wasm_deny\)$/m);
    assert.match(denied.stdout, /^request \(as the plugin left it; not sent upstream\)$/m);
    assert.match(denied.stdout, /^ {2}local reply 403 from proxy_on_request_headers$/m);
  });

  describe('http-callout against a real server given with --cluster', () => {
    let server: Server;
    let port = 0;
    const seen: Array<{ path: string | undefined; headers: IncomingHttpHeaders }> = [];
    before(async () => {
      server = createServer((req, res) => {
        seen.push({ path: req.url, headers: req.headers });
        const allow = req.headers['x-original-path'] === '/allowed';
        res.writeHead(allow ? 200 : 403, { 'x-auth-user': 'alice' });
        res.end(allow ? 'ok' : 'no');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    for (const sdk of SDKS) {
      it(`${sdk}: 200 continues with x-auth-user copied; 403 answers locally`, async () => {
        const flags = ['--config', '{"cluster":"auth","path":"/auth"}', '--cluster', `auth=http://127.0.0.1:${port}`];
        const ok = await report(sdk, 'http-callout', [...flags, '--request', 'GET /allowed']);
        assert.equal(ok.result.outcome, 'continued', ok.result.detail);
        assert.equal(header(ok.request?.headers, 'x-auth-user'), 'alice');
        assert.deepEqual(ok.httpCalls, [{ cluster: 'auth', method: 'GET', path: '/auth', authority: 'auth', status: 200 }]);
        const last = seen.at(-1);
        assert.equal(last?.path, '/auth');
        assert.equal(last?.headers['x-original-path'], '/allowed');
        assert.equal(last?.headers.host, 'auth');

        const denied = await report(sdk, 'http-callout', [...flags, '--request', 'GET /secret']);
        assert.equal(denied.result.outcome, 'local_reply');
        assert.equal(denied.localReply?.status, 403);
        assert.equal(denied.localReply?.body, 'denied by auth\n');
        assert.equal(header(denied.localReply?.headers, 'x-wasm-auth-status'), '403');
        assert.equal(denied.httpCalls[0]?.status, 403);
        assert.equal(denied.request?.sentUpstream, false);
      });
    }

    it('reports a call to a cluster not given with --cluster, and one nobody answers', async () => {
      const unknown = await report('gcore', 'http-callout', ['--config', '{"cluster":"authz"}']);
      assert.equal(unknown.localReply?.body, 'auth call failed\n');
      assert.match(unknown.httpCalls[0]?.failure ?? '', /unknown cluster "authz".*--cluster authz=<url>/);

      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const deadPort = (closed.address() as AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const refused = await report('gcore', 'http-callout', ['--config', '{"cluster":"auth"}', '--cluster', `auth=http://127.0.0.1:${deadPort}`]);
      assert.equal(refused.localReply?.status, 503);
      assert.equal(refused.localReply?.body, 'auth unavailable\n');
      assert.match(refused.httpCalls[0]?.failure ?? '', /ECONNREFUSED/);
    });
  });

  it('a plugin paused on a call that does not answer in time is reported as paused, the call cancelled', async () => {
    const hung = createServer(() => undefined);
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const port = (hung.address() as AddressInfo).port;
    try {
      const path = builder.wasmPluginPath('gcore', 'http-callout');
      const flags = {
        config: '{"cluster":"auth","timeout_ms":60000}', env: [], cluster: [`auth=http://127.0.0.1:${port}`], request: 'GET /x',
        header: [], responseStatus: '200', responseHeader: [], logLevel: 'info',
      };
      const io: CliIO = { stdout: () => undefined, stderr: () => undefined, stdin: () => Promise.resolve(''), cwd: process.cwd(), setExitCode: () => undefined };
      const input = await wasmRunInput(path, flags, io);
      assert.deepEqual(input.module, new Uint8Array(readFileSync(path)));
      const r = await runWasmPlugin({ ...input, waitMs: 100 });
      assert.equal(r.result.outcome, 'paused');
      assert.match(r.result.detail, /paused in proxy_on_request_headers: no continue within 100 ms/);
      assert.equal(r.request?.sentUpstream, false);
      assert.match(r.httpCalls[0]?.failure ?? '', /cancelled/);
    } finally {
      hung.closeAllConnections();
      await new Promise<void>((r) => hung.close(() => r()));
    }
  });

  for (const sdk of SDKS) {
    it(`${sdk} body-rewrite rewrites --response-body`, async () => {
      const r = await report(sdk, 'body-rewrite', ['--config', '{"from":"world","to":"wasm","response":true}', '--response-body', 'hello world, world', '-R', 'content-type: text/plain']);
      assert.equal(r.result.outcome, 'continued');
      assert.equal(r.response?.body, 'hello wasm, wasm');
      assert.equal(header(r.response?.headers, 'content-length'), undefined, 'the plugin removed content-length');
      assert.equal(header(r.response?.headers, 'content-type'), 'text/plain');
    });

    it(`${sdk} metrics shows the counter, gauge and histogram`, async () => {
      const r = await report(sdk, 'metrics', ['-H', 'a: 1']);
      const by = new Map(r.metrics.map((m) => [m.name, m]));
      assert.deepEqual(by.get('wasm_requests_total'), { name: 'wasm_requests_total', type: 'counter', value: 1 });
      assert.equal(by.get('wasm_active_requests')?.type, 'gauge');
      assert.equal(by.get('wasm_active_requests')?.value, 0, 'incremented per request, decremented in proxy_on_done');
      assert.deepEqual(by.get('wasm_request_headers')?.values, [5]);
    });
  }

  it('reports the tick period a plugin sets (ticks are not run)', async () => {
    const r = await report('gcore', 'timer', ['--config', '{"tick_ms":250}']);
    assert.equal(r.plugin.tickPeriodMs, 250);
    assert.equal(r.logs.some((l) => /^\[INFO\]: tick/.test(l.message)), false);
  });

  it('bad-trap with x-trap exits 1 naming the plugin and the trap', async () => {
    const r = await run([builder.wasmPluginPath('gcore', 'bad-trap'), '-H', 'x-trap: 1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: wasm plugin bad-trap failed: trap in proxy_on_request_headers: unreachable/m);
    assert.match(r.stdout, /^ {2}failed: trap in proxy_on_request_headers/m);
    const fine = await report('gcore', 'bad-trap', []);
    assert.equal(header(fine.response?.headers, 'x-trap-survived'), '1');
  });

  it('bad-loop with x-loop is stopped by the CPU limit', async () => {
    const r = await report('gcore', 'bad-loop', ['-H', 'x-loop: 1'], 1);
    assert.equal(r.result.outcome, 'failed');
    assert.equal(r.result.failure?.kind, 'cpu_limit');
    assert.equal(r.result.failure?.during, 'proxy_on_request_headers');
    assert.equal(r.request?.sentUpstream, false);
  });

  it('a plugin that rejects its configuration fails to load (exit 1)', async () => {
    const r = await run([builder.wasmPluginPath('solo-io', 'deny'), '--config', 'not json', '-o', 'yaml']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: wasm plugin deny failed to load: proxy_on_configure returned false/m);
    const data = parseYaml(r.stdout) as WasmRunReport;
    assert.equal(data.result.outcome, 'failed');
    assert.equal(data.result.failure?.kind, 'load');
  });

  const BAD_FLAGS: ReadonlyArray<readonly [string, readonly string[], RegExp]> = [
    ['request line', ['--request', 'GET'], /invalid --request "GET"/],
    ['request path', ['--request', 'GET x'], /invalid --request "GET x"/],
    ['status', ['--response-status', '99'], /invalid --response-status "99"/],
    ['request header', ['-H', 'nocolon'], /invalid -H "nocolon"/],
    ['response header', ['-R', 'bad name: x'], /invalid -R "bad name: x"/],
    ['env', ['--env', '=x'], /invalid --env "=x"/],
    ['cluster without url', ['--cluster', 'auth'], /invalid --cluster "auth"/],
    ['cluster scheme', ['--cluster', 'auth=ftp://x'], /invalid --cluster "auth=ftp:\/\/x"/],
    ['cluster twice', ['--cluster', 'a=http://x', '--cluster', 'a=http://y'], /cluster "a" is given twice/],
    ['log level', ['--log-level', 'loud'], /invalid --log-level "loud"/],
    ['output', ['-o', 'xml'], /invalid output format "xml"/],
  ];
  for (const [name, args, message] of BAD_FLAGS) {
    it(`bad flag (${name}) exits 64 naming it`, async () => {
      const r = await run([builder.wasmPluginPath('gcore', 'add-header'), ...args]);
      assert.equal(r.code, 64);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    });
  }

  it('a module that cannot be read exits 1 naming it', async () => {
    const r = await run(['/nonexistent/plugin.wasm']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read module \/nonexistent\/plugin.wasm/);
  });
});
