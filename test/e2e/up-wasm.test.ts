// A WasmPlugin in the local mesh as a user drives it: `isthmus up` brings up the Bookinfo demo (as `npm start`
// runs the bundled binary), `isthmus apply -f` a WasmPlugin selecting productpage (a header-adding plugin
// built from source with the gcore proxy-wasm SDK, test/wasm-plugins), and the page served through the ingress
// gateway carries the header productpage's sidecar added on its inbound side; a changed pluginConfig shows on
// the next pages without a restart, `isthmus delete -f` takes the plugin away, and Ctrl-C leaves no process.
// One `up` serves the whole file: it is the expensive part.
// https://istio.io/latest/docs/reference/config/proxy_extensions/wasm-plugin/

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, type RunResult } from '../support/cli.js';
import { alive, startUp, type RunningUp, type UpSummary } from '../support/up-mesh.js';
import { waitFor } from '../support/wait.js';
import { testPlugins } from '../support/wasm-plugins.js';



interface Page {
  readonly status: number;
  readonly wasm: string | null;
  readonly html: string;
}

function wasmPlugin(file: string, value: string): string {
  return `apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: add-header, namespace: default}
spec:
  selector: {matchLabels: {app: productpage}}
  url: file://${file}
  pluginConfig: {value: ${value}}
`;
}


describe('a WasmPlugin in the Bookinfo demo of isthmus up', { timeout: 120_000 }, () => {
  let mesh: RunningUp | undefined;
  let up: ChildProcessWithoutNullStreams;
  let summary: UpSummary;
  let cp = '';
  let exited: Promise<number | null>;
  let dir = '';
  let pluginFile = '';
  let yamlFile = '';
  const stderr = (): string => mesh?.stderr() ?? '';

  before(async () => {
    pluginFile = (await testPlugins()).path('gcore', 'add-header');
    dir = await mkdtemp(join(tmpdir(), 'isthmus-up-wasm-'));
    yamlFile = join(dir, 'add-header.yaml');
    mesh = await startUp(90_000);
    ({ up, summary, cp, exited } = mesh);
  });

  after(async () => {
    // up runs in a process group of its own: whatever a failed test left, nothing survives it.
    mesh?.dispose();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  /** The CLI from the same bundle as `up` (a second faster than loading the TypeScript each time). */
  function isthmus(args: readonly string[]): Promise<RunResult> {
    return new Promise((resolve) => {
      execFile(process.execPath, [mesh?.entry ?? '', ...args, '--control-plane', cp], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 }, (err, stdout, errText) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr: errText });
      });
    });
  }

  async function page(): Promise<Page> {
    const r = await fetch(`${summary.ingress}/productpage`);
    return { status: r.status, wasm: r.headers.get('x-wasm-response'), html: await r.text() };
  }

  /** Waits until a page through the gateway satisfies `check` (a push reaches the sidecar within a debounce or two). */
  function eventually(what: string, check: (p: Page) => boolean): Promise<Page> {
    return waitFor(async () => {
      const p = await page();
      return check(p) ? p : undefined;
    }, what, 15_000, 100);
  }

  it('serves the product page through the gateway without a plugin', async () => {
    const p = await eventually('the product page', (x) => x.status === 200);
    assert.equal(p.wasm, null);
    assert.match(p.html, /The Comedy of Errors/);
  });

  it('apply -f a WasmPlugin for productpage: its inbound sidecar adds the header the gateway returns', async () => {
    await writeFile(yamlFile, wasmPlugin(pluginFile, 'one'));
    const r = await isthmus(['apply', '-f', yamlFile]);
    assert.equal(r.code, 0, r.stderr);
    const p = await eventually('the plugin to run', (x) => x.wasm !== null);
    assert.equal(p.status, 200);
    assert.match(p.wasm ?? '', /one/);
    assert.match(p.html, /The Comedy of Errors/, 'the page itself is unchanged');
  });

  it('a changed pluginConfig applies live, with every page served meanwhile', async () => {
    await writeFile(yamlFile, wasmPlugin(pluginFile, 'two'));
    const r = await isthmus(['apply', '-f', yamlFile]);
    assert.equal(r.code, 0, r.stderr);
    const statuses = new Set<number>();
    const p = await eventually('the new pluginConfig', (x) => {
      statuses.add(x.status);
      return /two/.test(x.wasm ?? '');
    });
    assert.doesNotMatch(p.wasm ?? '', /one/);
    assert.deepEqual([...statuses], [200]);
  });

  it('delete -f takes the plugin away: normal pages again', async () => {
    const r = await isthmus(['delete', '-f', yamlFile]);
    assert.equal(r.code, 0, r.stderr);
    const p = await eventually('the plugin to go', (x) => x.wasm === null);
    assert.equal(p.status, 200);
    assert.match(p.html, /The Comedy of Errors/);
  });

  it('stops everything on Ctrl-C, leaving no process behind', async () => {
    const pids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(up.pid)], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    assert.ok(pids.length >= 7, `apps and proxies have pids: ${pids.join(', ')}`);
    up.kill('SIGINT');
    assert.equal(await exited, 0, stderr());
    assert.deepEqual(pids.filter(alive), []);
  });
});
