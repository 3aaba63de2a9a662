// `isthmus up <folder>` with a user's own app: a Deployment whose container command runs here, its Service,
// and a Gateway route to it. The folder's edits apply live (a fault added to the VirtualService, the
// Deployment scaled to two pods and back), a crash of the process hosting the proxies is reported and
// recovered, and the errors a user meets first are clear (a taken port, a missing folder).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleForTest, runIsthmus } from '../support/cli.js';
import { freePort } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { killGroup } from '../support/processes.js';

const APP = `import { createServer } from 'node:http';
createServer((req, res) => res.end(JSON.stringify({ pod: process.env.HOSTNAME, path: req.url }))).listen(Number(process.env.PORT), process.env.HOST);
`;

function deployment(replicas: number): string {
  return `apiVersion: v1
kind: Service
metadata: {name: hello}
spec:
  selector: {app: hello}
  ports: [{name: http, port: 8000}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello-v1}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello, version: v1}}
    spec:
      containers:
      - name: hello
        image: example/hello
        command: [node, server.mjs]
        ports: [{containerPort: 8000}]
`;
}

const GATEWAY = `apiVersion: apps/v1
kind: Deployment
metadata: {name: ingressgateway, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  template:
    metadata: {labels: {istio: ingressgateway}}
    spec:
      containers: [{name: istio-proxy, image: isthmus/proxy}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
`;

function route(fault: boolean): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: hello}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - ${fault ? 'fault: {abort: {httpStatus: 418, percentage: {value: 100}}}\n    ' : ''}route:
    - destination: {host: hello, port: {number: 8000}}
`;
}

describe('isthmus up <folder> with your own app', { timeout: 180_000 }, () => {
  let dir: string;
  let up: ChildProcessWithoutNullStreams;
  let bundle: ReturnType<typeof bundleForTest> | undefined;
  let stderr = '';
  let ingress = 0;
  let cp = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'isthmus-own-'));
    await writeFile(join(dir, 'server.mjs'), APP);
    await writeFile(join(dir, 'hello.yaml'), deployment(1));
    await writeFile(join(dir, 'gateway.yaml'), GATEWAY);
    await writeFile(join(dir, 'route.yaml'), route(false));
    ingress = await freePort();
    const monitoring = await freePort();
    cp = `127.0.0.1:${monitoring}`;
    bundle = bundleForTest();
    up = spawn(process.execPath, [bundle.entry, 'up', dir, '-o', 'json', '--ingress-port', String(ingress), '--xds-port', '0', '--monitoring-port', String(monitoring)], { cwd: dir, detached: true });
    let stdout = '';
    up.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    up.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => stdout.includes('"processes"') || undefined, `isthmus up to be ready (${stderr})`, 120_000, 100);
  });

  after(async () => {
    if (up.exitCode === null) {
      const exited = new Promise((r) => up.once('exit', r));
      up.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    }
    // up runs in a process group of its own: whatever a failed test left, nothing survives it.
    killGroup(up.pid);
    await rm(dir, { recursive: true, force: true });
    bundle?.dispose();
  });

  async function get(): Promise<{ status: number; body: string }> {
    const r = await fetch(`http://127.0.0.1:${ingress}/hi`);
    return { status: r.status, body: await r.text() };
  }

  it('runs the app from its command and routes to it through the gateway', async () => {
    const r = await get();
    assert.equal(r.status, 200, r.body);
    const body = JSON.parse(r.body) as { pod: string; path: string };
    assert.match(body.pod, /^hello-v1-[a-z0-9]{10}-[a-z0-9]{5}$/);
    assert.equal(body.path, '/hi');
  });

  it('applies an edit of the folder live: a fault added to the VirtualService', async () => {
    await writeFile(join(dir, 'route.yaml'), route(true));
    await waitFor(async () => (await get()).status === 418 || undefined, 'the abort to apply', 10_000, 100);
    await writeFile(join(dir, 'route.yaml'), route(false));
    await waitFor(async () => (await get()).status === 200 || undefined, 'the abort to go', 10_000, 100);
  });

  it('rolls out a Deployment scaled in the folder: two pods answer, then one', async () => {
    await writeFile(join(dir, 'hello.yaml'), deployment(2));
    const pods = new Set<string>();
    await waitFor(async () => {
      const r = await get();
      if (r.status === 200) pods.add((JSON.parse(r.body) as { pod: string }).pod);
      return pods.size >= 2 || undefined;
    }, `a second pod to answer (${stderr})`, 60_000, 50);
    const ps = await runIsthmus(['proxy-status', '--control-plane', cp]);
    assert.equal((ps.stdout.match(/^hello-v1-/gm) ?? []).length, 2, ps.stdout);
    await writeFile(join(dir, 'hello.yaml'), deployment(1));
    await waitFor(async () => {
      const s = await runIsthmus(['proxy-status', '--control-plane', cp]);
      return (s.stdout.match(/^hello-v1-/gm) ?? []).length === 1 || undefined;
    }, 'the second pod to stop', 30_000, 200);
    assert.equal((await get()).status, 200);
  });

  it('restarts the process hosting the proxies when it crashes, and reports it', async () => {
    const line = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(up.pid)], { encoding: 'utf8' }).split('\n').find((l) => l.includes(' proxies --spec '));
    assert.ok(line !== undefined, 'the proxies process runs');
    process.kill(Number(line.trim().split(/\s+/)[0]), 'SIGKILL');
    await waitFor(() => /proxies exited \(signal SIGKILL\); restarting/.test(stderr) || undefined, `the crash to be reported (${stderr})`, 10_000, 50);
    await waitFor(async () => (await get().catch(() => ({ status: 0, body: '' }))).status === 200 || undefined, 'traffic to flow again', 30_000, 100);
  });
});

describe('isthmus up --isolate-proxies', { timeout: 120_000 }, () => {
  it('runs each pod\'s sidecar in a process of its own, and stops them all', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-isolated-'));
    const bundle = bundleForTest();
    let up: ChildProcessWithoutNullStreams | undefined;
    try {
      await writeFile(join(dir, 'server.mjs'), APP);
      await writeFile(join(dir, 'hello.yaml'), deployment(1));
      const ingress = await freePort();
      up = spawn(process.execPath, [bundle.entry, 'up', dir, '--isolate-proxies', '-o', 'json', '--ingress-port', String(ingress), '--xds-port', '0', '--monitoring-port', '0'], { cwd: dir, detached: true });
      let stdout = '';
      let stderr = '';
      up.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      up.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const summary = await waitFor(() => { try { return JSON.parse(stdout) as { pods: { phase: string }[]; processes: Record<string, number> }; } catch { return undefined; } }, `isthmus up to be ready (${stderr})`, 90_000, 100);
      assert.deepEqual(summary.pods.map((p) => p.phase), ['Running']);
      const names = Object.keys(summary.processes);
      assert.ok(names.some((n) => /^hello-v1-\S+ \(sidecar\)$/.test(n)), names.join(', '));
      assert.ok(!names.includes('proxies'), 'no shared proxies process');
      const exited = new Promise((r) => up?.once('exit', r));
      up.kill('SIGINT');
      assert.equal(await exited, 0);
      for (const pid of Object.values(summary.processes)) assert.throws(() => process.kill(pid, 0), `process ${pid} is gone`);
    } finally {
      killGroup(up?.pid);
      bundle.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('isthmus up: the first errors a user meets', () => {
  it('names a taken ingress port and the flag that moves it, and starts nothing', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runIsthmus(['up', '--ingress-port', String(port), '--xds-port', '0', '--monitoring-port', '0']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`error: the ingress gateway \\(HTTP\\) cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use; choose another with --ingress-port`));
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('names a folder that does not exist', async () => {
    const r = await runIsthmus(['up', 'no-such-folder']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: cannot read config no-such-folder: not a folder/);
  });
});
