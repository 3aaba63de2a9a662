// `isthmus wasm run` as a plugin author runs it, in a real child process: a plugin built with a real SDK
// makes an HTTP call to a real server given with --cluster and changes the request, and the report says
// so; a plugin that traps exits 1 naming itself and the trap.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { runIsthmus, ROOT } from '../support/cli.js';

interface Builder {
  buildWasmPlugins(o: { quiet: boolean }): Promise<unknown>;
  wasmPluginPath(sdk: string, name: string): string;
}
let builder: Builder;

before(async () => {
  builder = (await import(pathToFileURL(`${ROOT}scripts/build-wasm-plugins.mjs`).href)) as Builder;
  await builder.buildWasmPlugins({ quiet: true });
}, { timeout: 300_000 });

describe('isthmus wasm run', () => {
  it('runs a plugin through one request with a real HTTP callout, and exits 1 on a trap', async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/check' ? 200 : 404, { 'x-auth-user': 'e2e-user' });
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const ok = await runIsthmus([
        'wasm', 'run', builder.wasmPluginPath('solo-io', 'http-callout'),
        '--config', '{"cluster":"auth","path":"/check"}', '--cluster', `auth=http://127.0.0.1:${port}`,
        '--request', 'POST /orders', '--body', '{"n":1}', '-R', 'content-type: application/json', '--log-level', 'info',
      ]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /^request \(as sent upstream\)\n {2}:authority: localhost\n {2}:path: \/orders\n {2}:method: POST\n/m);
      assert.match(ok.stdout, /^ {2}x-auth-user: e2e-user$/m);
      assert.match(ok.stdout, /^ {2}\{"n":1\}$/m);
      assert.match(ok.stdout, /^http calls\n {2}CLUSTER +METHOD +PATH +RESULT\n {2}auth +GET +\/check +200$/m);
      assert.match(ok.stdout, /^result\n {2}continued/m);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }

    const trap = await runIsthmus(['wasm', 'run', builder.wasmPluginPath('gcore', 'bad-trap'), '-H', 'x-trap: 1', '-o', 'json']);
    assert.equal(trap.code, 1);
    assert.match(trap.stderr, /error: wasm plugin bad-trap failed: trap in proxy_on_request_headers: unreachable/);
    const report = JSON.parse(trap.stdout) as { result: { outcome: string; failure?: { kind: string } } };
    assert.equal(report.result.outcome, 'failed');
    assert.equal(report.result.failure?.kind, 'trap');
  });
});
