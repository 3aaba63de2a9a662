// `isthmus request` against a real mesh: a control plane, sidecars and upstream servers in this process
// (test/support/data-plane.ts); the command finds the sidecar through the control plane and sends
// through its HTTP proxy as the workload's app would.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Command } from 'commander';
import { freePort, startMesh, startTestProxy, startUpstream, viaSidecar } from '../../test/support/data-plane.js';
import { waitFor } from '../../test/support/wait.js';
import type { CliIO } from './output.js';
import { registerRequest } from './request.js';
import { serviceYaml } from '../../test/support/mesh-yaml.js';


interface Run {
  readonly out: string;
  readonly err: string;
}

/** Runs `isthmus request ...args` on a fresh Command with buffered I/O; rejects with the command's error. */
async function request(args: readonly string[], stdin = ''): Promise<Run> {
  let out = '';
  let err = '';
  const io: CliIO = { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stdin: () => Promise.resolve(stdin), cwd: process.cwd(), setExitCode: () => undefined };
  const program = new Command('isthmus').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerRequest(program, io);
  for (const c of program.commands) c.exitOverride();
  await program.parseAsync(['request', ...args], { from: 'user' });
  return { out, err };
}

/** A stand-in control plane whose /debug/syncz lists one proxy at `ip`. */
async function fakeControlPlane(t: { after: (fn: () => Promise<void>) => void }, ip: string): Promise<string> {
  const server: Server = createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify([{ proxy: 'sleep-1.default', node_id: `sidecar~${ip}~sleep-1.default~default.svc.cluster.local`, resources: {}, istiod: 'fake', connection_id: '1', connected_at: '', xds: 'sotw' }]));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('isthmus request', () => {
  it('sends through the workload sidecar and prints the answer like curl -i', async (t) => {
    const target = await freePort();
    const app = await startUpstream(t, 'reviews-v1', '127.0.0.1', target);
    const mesh = await startMesh(t, { 'svc.yaml': serviceYaml('reviews', 9080, target) + serviceYaml('productpage', 9080, 9080) }, { outboundTrafficPolicy: 'REGISTRY_ONLY' });
    mesh.cp.workloads.register({ name: 'reviews-v1', namespace: 'default', address: '127.0.0.42', labels: { app: 'reviews', version: 'v1' }, ports: { http: target }, tlsMode: 'disabled' });
    mesh.cp.workloads.register({ name: 'productpage-v1', namespace: 'default', address: '127.0.0.41', labels: { app: 'productpage', version: 'v1' }, tlsMode: 'disabled' });
    await startTestProxy(t, mesh, { node: 'reviews-v1', ip: '127.0.0.42', labels: { app: 'reviews', version: 'v1' } });
    await startTestProxy(t, mesh, { node: 'productpage-v1', ip: '127.0.0.41', labels: { app: 'productpage', version: 'v1' } });
    await waitFor(async () => (await viaSidecar('127.0.0.41', 'http://reviews:9080/').catch(() => undefined))?.status === 200, 'reviews through the sidecars', 10_000);
    const cp = ['--control-plane', mesh.cp.monitoringUrl];

    await t.test('status line, headers and body of the upstream answer', async () => {
      const r = await request([...cp, '--from', 'productpage', 'http://reviews:9080/reviews/0']);
      const [head = '', body] = r.out.split('\n\n');
      assert.match(head, /^HTTP\/1\.1 200 OK\n/);
      assert.match(head, /\nx-upstream: reviews-v1\n/);
      assert.match(head, /\nserver: envoy(\n|$)/, 'the answer came through the sidecar');
      assert.equal(body, 'reviews-v1\n');
      assert.equal(app.seen.at(-1)?.url, '/reviews/0');
    });

    await t.test('method, headers and body reach the upstream; -o json gives {status, headers, body, durationMs}', async () => {
      const r = await request([...cp, '--from', 'productpage-v1.default', '-X', 'PUT', '-H', 'x-user: jason', '-H', 'Content-Type: text/plain', '-d', 'hello', '-o', 'json', 'reviews:9080/reviews/1']);
      const j = JSON.parse(r.out) as { status: number; headers: Record<string, string>; body: string; durationMs: number };
      assert.equal(j.status, 200);
      assert.equal(j.body, 'reviews-v1');
      assert.equal(j.headers['x-upstream'], 'reviews-v1');
      assert.equal(typeof j.durationMs, 'number');
      const seen = app.seen.at(-1);
      assert.deepEqual([seen?.method, seen?.url, seen?.headers['x-user'], seen?.headers['content-type'], seen?.body], ['PUT', '/reviews/1', 'jason', 'text/plain', 'hello']);
    });

    await t.test('-d @- reads the body from stdin and makes the request a POST', async () => {
      await request([...cp, '--from', 'productpage', '-d', '@-', 'http://reviews:9080/post'], 'from stdin');
      assert.deepEqual([app.seen.at(-1)?.method, app.seen.at(-1)?.body], ['POST', 'from stdin']);
    });

    await t.test("an unknown host gets the proxy's 404, printed, not an error", async () => {
      const r = await request([...cp, '--from', 'productpage', 'http://unknown.example:7777/']);
      assert.match(r.out, /^HTTP\/1\.1 404 Not Found\n/);
    });

    await t.test('bad input names the thing that is wrong', async () => {
      const cases: { name: string; args: string[]; error: RegExp }[] = [
        { name: 'unknown workload', args: [...cp, '--from', 'ghost', 'http://reviews:9080/'], error: /no proxy "ghost" in namespace default; connected: .*productpage-v1\.default/ },
        { name: 'malformed URL', args: [...cp, '--from', 'productpage', 'http://'], error: /invalid URL "http:\/\/"/ },
        { name: 'unsupported scheme', args: [...cp, '--from', 'productpage', 'ftp://reviews/x'], error: /invalid URL "ftp:\/\/reviews\/x": scheme ftp is not supported/ },
        { name: 'header without a colon', args: [...cp, '--from', 'productpage', '-H', 'end-user jason', 'http://reviews:9080/'], error: /invalid header "end-user jason": want -H 'name: value'/ },
        { name: 'bad output format', args: [...cp, '--from', 'productpage', '-o', 'xml', 'http://reviews:9080/'], error: /invalid output format "xml": must be one of json, yaml/ },
        { name: 'bad timeout', args: [...cp, '--from', 'productpage', '--timeout', 'soon', 'http://reviews:9080/'], error: /invalid --timeout "soon"/ },
        { name: 'missing body file', args: [...cp, '--from', 'productpage', '-d', '@/nonexistent/body.json', 'http://reviews:9080/'], error: /cannot read -d @\/nonexistent\/body\.json/ },
      ];
      for (const c of cases) await assert.rejects(request(c.args), c.error, c.name);
    });
  });

  it('says so when nothing answers: unreachable control plane, refused connection, timeout', async (t) => {
    const dead = await freePort();
    await assert.rejects(request(['--control-plane', `127.0.0.1:${dead}`, '--from', 'productpage', 'http://reviews:9080/']), /cannot reach the control plane at 127\.0\.0\.1:\d+: .*ECONNREFUSED/);

    // A proxy the control plane lists, with nothing listening on its HTTP proxy port.
    const refused = await fakeControlPlane(t, '127.0.0.97');
    await assert.rejects(
      request(['--control-plane', refused, '--from', 'sleep', 'http://reviews:9080/']),
      (e: Error & { code?: string }) => e.code === 'ISM_CONNECT' && /no response to GET http:\/\/reviews:9080\/ through the sidecar's HTTP proxy 127\.0\.0\.97:15001: ECONNREFUSED/.test(e.message),
    );

    // One that accepts and never answers.
    const sockets = new Set<Socket>();
    const silent = createNetServer((s) => void sockets.add(s));
    await new Promise<void>((r) => silent.listen(15001, '127.0.0.98', () => r()));
    t.after(() => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      silent.close(() => r());
    }));
    const quiet = await fakeControlPlane(t, '127.0.0.98');
    await assert.rejects(request(['--control-plane', quiet, '--from', 'sleep', '--timeout', '200ms', 'http://reviews:9080/']), /through the sidecar's HTTP proxy 127\.0\.0\.98:15001: no answer within 200 ms/);
  });
});
