// WasmPlugin modules pulled from a real OCI registry (Debian's docker-registry) by a real sidecar, which plays
// istio-agent's part: `url: oci://<registry>/plugins/add-header:v1` is resolved by tag, the image (the OCI wasm
// artifact, or a Docker image with plugin.wasm in its layer) is downloaded, verified and run. A module that
// cannot be verified is refused as Istio's agent refuses it (pkg/wasm/convert.go): FAIL_CLOSE puts an RBAC
// deny-all in the plugin's place (403 `RBAC: access denied`), FAIL_OPEN lets the traffic through, and in both
// cases only the plugin's own workload is affected. The failure is counted in the proxy's
// `wasm.<namespace>.<name>.fetch_failures`.
// https://istio.io/latest/docs/reference/config/proxy_extensions/wasm-plugin/

import { testPlugins } from '../support/wasm-plugins.js';
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, send, startMesh, startTestProxy, startUpstream, type Reply, type TestMesh } from '../support/data-plane.js';
import { registryInstalled, startOciRegistry, type OciRegistry } from '../support/oci-registry.js';
import { waitFor } from '../support/wait.js';


const skip = registryInstalled() ? false : 'docker-registry is not installed (/usr/bin/docker-registry; apt-get install docker-registry)';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A WasmPlugin for the workloads labelled app=`app`. */
function wasmPlugin(name: string, app: string, url: string, extra = ''): string {
  return `apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: ${name}, namespace: default}
spec:
  selector: {matchLabels: {app: ${app}}}
  url: ${url}
  pluginConfig: {value: from-oci}
${extra}`;
}

interface Workload {
  readonly app: string;
  /** The sidecar's capture address, distinct per workload. */
  readonly ip: string;
}

interface Sidecar {
  get(path: string): Promise<Reply>;
  /** The proxy's admin /stats as name -> value. */
  stats(): Promise<Map<string, string>>;
}

/** One mesh with a Service, an app and a sidecar (with a module cache of its own) per workload. */
async function mesh(t: TestContext, workloads: readonly Workload[], files: Record<string, string>): Promise<{ mesh: TestMesh; sidecars: Map<string, Sidecar> }> {
  const targets = new Map<string, number>();
  let services = '';
  for (const w of workloads) {
    const target = await freePort();
    targets.set(w.app, target);
    await startUpstream(t, w.app, '127.0.0.1', target);
    services += `---
apiVersion: v1
kind: Service
metadata: {name: ${w.app}, namespace: default}
spec:
  selector: {app: ${w.app}}
  ports: [{name: http, port: 9080, targetPort: ${target}}]
`;
  }
  const m = await startMesh(t, { 'svc.yaml': services, ...files });
  const cacheDir = await mkdtemp(join(tmpdir(), 'isthmus-wasm-oci-cache-'));
  t.after(() => rm(cacheDir, { recursive: true, force: true }));
  const sidecars = new Map<string, Sidecar>();
  for (const w of workloads) {
    const target = targets.get(w.app) ?? 0;
    m.cp.workloads.register({ name: `${w.app}-v1`, namespace: 'default', address: w.ip, labels: { app: w.app }, ports: { http: target }, tlsMode: 'disabled' });
    const proxy = await startTestProxy(t, m, { node: `${w.app}-v1`, ip: w.ip, labels: { app: w.app } }, { wasm: { cacheDir: join(cacheDir, w.app) } });
    sidecars.set(w.app, {
      get: (path) => send(w.ip, target, { path, authority: `${w.app}:9080` }),
      stats: async () => {
        const text = await (await fetch(`${proxy.adminUrl}/stats`)).text();
        return new Map(text.split('\n').filter((l) => l.includes(': ')).map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]));
      },
    });
  }
  return { mesh: m, sidecars };
}

function sidecarOf(sidecars: Map<string, Sidecar>, app: string): Sidecar {
  const s = sidecars.get(app);
  assert.ok(s !== undefined, app);
  return s;
}

describe('WasmPlugin from an OCI registry through a real sidecar', { skip }, () => {
  let reg: OciRegistry;
  let module: Uint8Array;
  let url: string;
  let dockerUrl: string;

  before(async () => {
    const plugins = await testPlugins();
    module = new Uint8Array(await readFile(plugins.path('gcore', 'add-header')));
    reg = await startOciRegistry();
    await reg.pushWasmArtifact('plugins/add-header', 'v1', module);
    await reg.pushTarImage('plugins/add-header-image', 'v1', { 'plugin.wasm': module }, 'docker');
    url = `oci://${reg.host}/plugins/add-header:v1`;
    dockerUrl = `oci://${reg.host}/plugins/add-header-image:v1`;
  });
  after(async () => {
    await reg?.stop();
  });

  const formats = [
    { name: 'the OCI wasm artifact', url: (): string => url },
    { name: 'a Docker image with plugin.wasm in its layer', url: (): string => dockerUrl },
  ];
  for (const [i, f] of formats.entries()) {
    it(`pulls ${f.name} by tag, verifies its sha256 and runs it`, async (t) => {
      const { sidecars } = await mesh(t, [{ app: 'reviews', ip: `127.0.10.${1 + i}` }], {
        'wp.yaml': wasmPlugin('add-header', 'reviews', f.url(), `  sha256: ${sha256(module)}\n`),
      });
      const reviews = sidecarOf(sidecars, 'reviews');
      const r = await waitFor(async () => {
        const x = await reviews.get('/reviews/1');
        return x.headers['x-wasm-response'] !== undefined ? x : undefined;
      }, 'the pulled plugin to run', 15_000);
      assert.deepEqual([r.status, r.body, String(r.headers['x-wasm-response'])], [200, 'reviews', '{"value":"from-oci"}']);
      const st = await reviews.stats();
      assert.equal(st.get('wasm.default.add-header.fetch_failures') ?? '0', '0', 'no fetch failed');
    });
  }

  it('a wrong sha256 refuses the module: FAIL_CLOSE denies the plugin\'s traffic (RBAC), FAIL_OPEN lets it pass, other workloads are untouched', async (t) => {
    const wrong = sha256(new TextEncoder().encode('not the module'));
    const { sidecars } = await mesh(
      t,
      [
        { app: 'reviews', ip: '127.0.10.3' },
        { app: 'details', ip: '127.0.10.4' },
        { app: 'ratings', ip: '127.0.10.5' },
      ],
      {
        'closed.yaml': wasmPlugin('closed', 'reviews', url, `  sha256: ${wrong}\n  failStrategy: FAIL_CLOSE\n`),
        'open.yaml': wasmPlugin('open', 'details', url, `  sha256: ${wrong}\n  failStrategy: FAIL_OPEN\n`),
      },
    );
    const cases = [
      { name: 'FAIL_CLOSE: the plugin\'s workload is denied as by an RBAC deny-all', app: 'reviews', plugin: 'closed', want: [403, 'RBAC: access denied'] },
      { name: 'FAIL_OPEN: the plugin\'s workload is served without it', app: 'details', plugin: 'open', want: [200, 'details'] },
      { name: 'a workload without plugins is served', app: 'ratings', plugin: undefined, want: [200, 'ratings'] },
    ];
    for (const c of cases) {
      const s = sidecarOf(sidecars, c.app);
      if (c.plugin !== undefined) {
        const stat = `wasm.default.${c.plugin}.fetch_failures`;
        await waitFor(async () => Number((await s.stats()).get(stat) ?? '0') >= 1, `${c.name}: ${stat}`, 15_000);
      }
      const r = await s.get(`/${c.app}/1`);
      assert.deepEqual([r.status, r.body], c.want, c.name);
      assert.equal(r.headers['x-wasm-response'], undefined, `${c.name}: the plugin never ran`);
    }
  });
});
