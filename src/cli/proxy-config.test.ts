// `isthmus proxy-config` end to end: a control plane and three sidecars in this process, the commands run
// through commander with output captured, each proxy named by a pod-name prefix as a user would.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { freePort, startMesh, startTestProxy, type TestMesh } from '../../test/support/data-plane.js';
import { waitFor } from '../../test/support/wait.js';
import { IsthmusError } from '../lib/errors.js';
import type { CliIO } from './output.js';
import { registerProxyConfig } from './proxy-config.js';

const NS = 'default';
const REVIEWS = `reviews.${NS}.svc.cluster.local`;
const PORT = 9080;
const IP = { productpage: '127.0.42.1', reviewsV1: '127.0.42.2', reviewsV2: '127.0.42.3' };
const POD = { productpage: 'productpage-v1-7d4b9', reviewsV1: 'reviews-v1-5c8f2', reviewsV2: 'reviews-v2-9a1e0' };

const app = (name: string, version: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}-${version}, namespace: ${NS}, labels: {app: ${name}, version: ${version}}}
spec:
  selector: {matchLabels: {app: ${name}, version: ${version}}}
  template:
    metadata: {labels: {app: ${name}, version: ${version}}}
    spec: {containers: [{name: ${name}, image: ${name}:${version}}]}
---
`;
const service = (name: string): string => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${NS}}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: ${PORT}}]
---
`;

const CONFIG = {
  'bookinfo.yaml': service('reviews') + service('productpage') + app('reviews', 'v1') + app('reviews', 'v2') + app('productpage', 'v1'),
  'reviews-dr.yaml': `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: ${NS}}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
`,
  'reviews-vs.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: ${NS}}
spec:
  hosts: [reviews]
  http:
  - match: [{uri: {prefix: /v2}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
`,
};

const cleanups: (() => unknown)[] = [];
const ctx = { after: (fn: () => unknown) => void cleanups.push(fn) } as unknown as TestContext;
let mesh: TestMesh;
let controlPlane: string;
let productpageAdmin: string;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isthmus-pc-'));
  mesh = await startMesh(ctx, CONFIG);
  controlPlane = new URL(mesh.cp.monitoringUrl).host;
  const register = (name: string, address: string, app: string, version: string): void =>
    void mesh.cp.workloads.register({ name, namespace: NS, address, labels: { app, version }, tlsMode: 'disabled' });
  register(POD.productpage, IP.productpage, 'productpage', 'v1');
  register(POD.reviewsV1, IP.reviewsV1, 'reviews', 'v1');
  register(POD.reviewsV2, IP.reviewsV2, 'reviews', 'v2');
  // The proxy takes `--level` (the admin's POST /logging?level=) only when it is given a way to apply it.
  const logLevels = { setLogLevel: () => true };
  const pp = await startTestProxy(ctx, mesh, { node: POD.productpage, ip: IP.productpage, labels: { app: 'productpage', version: 'v1' } }, logLevels);
  await startTestProxy(ctx, mesh, { node: POD.reviewsV1, ip: IP.reviewsV1, labels: { app: 'reviews', version: 'v1' } });
  await startTestProxy(ctx, mesh, { node: POD.reviewsV2, ip: IP.reviewsV2, labels: { app: 'reviews', version: 'v2' } });
  productpageAdmin = new URL(pp.adminUrl).host;
  await waitFor(async () => (await (await fetch(`${pp.adminUrl}/clusters`)).text()).includes(`${IP.reviewsV2}:${PORT}`), 'the reviews v2 endpoint at productpage');
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
  await rm(dir, { recursive: true, force: true });
});

/** Runs `isthmus <args>` with proxy-config registered; resolves with what it printed. */
async function run(args: readonly string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stdin: () => Promise.resolve(''), cwd: dir, setExitCode: () => undefined };
  const program = new Command('isthmus').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerProxyConfig(program, io);
  await program.parseAsync([...args], { from: 'user' });
  return { out, err };
}

const cp = (): string[] => ['--control-plane', controlPlane];
const lines = (s: string): string[] => s.trimEnd().split('\n');

describe('proxy-config through the control plane', () => {
  it('clusters: the subset clusters of reviews, each naming its DestinationRule', async () => {
    const { out } = await run(['proxy-config', 'clusters', 'productpage', ...cp()]);
    assert.match(lines(out)[0] ?? '', /^SERVICE FQDN\s+PORT\s+SUBSET\s+DIRECTION\s+TYPE\s+DESTINATION RULE$/);
    assert.match(out, new RegExp(`^${REVIEWS.replaceAll('.', '\\.')}\\s+${PORT}\\s+v1\\s+outbound\\s+EDS\\s+reviews\\.${NS}$`, 'm'));
    assert.match(out, new RegExp(`^${REVIEWS.replaceAll('.', '\\.')}\\s+${PORT}\\s+v2\\s+outbound\\s+EDS\\s+reviews\\.${NS}$`, 'm'));
    const filtered = await run(['pc', 'cluster', `${POD.productpage}.${NS}`, '--subset', 'v2', '-o', 'json', ...cp()]);
    assert.deepEqual((JSON.parse(filtered.out) as { name: string }[]).map((c) => c.name), [`outbound|${PORT}|v2|${REVIEWS}`]);
  });

  it('listeners: the outbound HTTP chain on 9080 goes to route config 9080', async () => {
    const { out } = await run(['pc', 'listeners', 'productpage', '--port', String(PORT), ...cp()]);
    assert.match(out, new RegExp(`^0\\.0\\.0\\.0\\s+${PORT}\\s+Trans: raw_buffer; App: http/1\\.1,h2c\\s+Route: ${PORT}$`, 'm'));
    const short = await run(['pc', 'listener', 'productpage', '--verbose=false', ...cp()]);
    assert.match(lines(short.out)[0] ?? '', /^ADDRESSES\s+PORT\s+TYPE$/);
  });

  it('routes: the VirtualService routes /v2 to v2 and the rest to v1', async () => {
    const { out } = await run(['pc', 'routes', 'productpage', '--name', String(PORT), ...cp()]);
    const reviews = lines(out).filter((l) => l.includes(`${REVIEWS}:${PORT}`));
    assert.equal(reviews.length, 2);
    assert.match(reviews[0] ?? '', /\s\/v2\*\s+reviews\.default$/);
    assert.match(reviews[1] ?? '', /\s\/\*\s+reviews\.default$/);
  });

  it('endpoints: each reviews pod is healthy in its own subset', async () => {
    const v1 = await run(['pc', 'endpoints', 'productpage', '--cluster', `outbound|${PORT}|v1|${REVIEWS}`, ...cp()]);
    assert.deepEqual(
      lines(v1.out).map((l) => l.split(/\s{3,}/)),
      [
        ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'],
        [`${IP.reviewsV1}:${PORT}`, 'HEALTHY', 'OK', `outbound|${PORT}|v1|${REVIEWS}`],
      ],
    );
    const v2 = await run(['pc', 'endpoint', 'productpage', '--cluster', `outbound|${PORT}|v2|${REVIEWS}`, ...cp()]);
    assert.match(v2.out, new RegExp(`^${IP.reviewsV2.replaceAll('.', '\\.')}:${PORT}\\s+HEALTHY\\s+OK\\s+outbound\\|${PORT}\\|v2\\|`, 'm'));
  });

  it('log: prints the loggers under pod.namespace, and --level changes them', async () => {
    const before = await run(['pc', 'log', 'productpage', ...cp()]);
    assert.match(before.out, new RegExp(`^${POD.productpage}\\.${NS}:\nactive loggers:\n`));
    const changed = await run(['pc', 'log', 'productpage', '--level', 'debug', ...cp()]);
    assert.match(changed.out, /^ {2}isthmus: debug$/m);
  });

  it('all: every table, each row named type/name; -o json is a config dump that -f reads back', async () => {
    const { out } = await run(['pc', 'all', 'productpage', ...cp()]);
    for (const want of [`cluster/outbound|${PORT}|v1|${REVIEWS}`, `listener/0.0.0.0_${PORT}`, `route/${PORT}`, `endpoint/${IP.reviewsV1}:${PORT}`]) {
      assert.ok(out.includes(want), `${want} in\n${out}`);
    }
    const dump = await run(['pc', 'all', 'productpage', '-o', 'json', ...cp()]);
    await writeFile(join(dir, 'config_dump.json'), dump.out);
    const fromFile = await run(['pc', 'clusters', '-f', 'config_dump.json']);
    const live = await run(['pc', 'clusters', 'productpage', ...cp()]);
    assert.equal(fromFile.out, live.out);
  });

  it('--admin talks to the admin directly, without the control plane', async () => {
    const unreachable = `127.0.0.1:${await freePort()}`;
    const { out } = await run(['pc', 'clusters', '--admin', productpageAdmin, '--control-plane', unreachable, '--subset', 'v1']);
    assert.match(out, /\sv1\s+outbound\s+EDS\s+reviews\.default$/m);
  });

  it('--help shows the flags and examples', async () => {
    let printed = '';
    const program = new Command('isthmus').exitOverride().configureOutput({ writeOut: (s) => void (printed += s), writeErr: (s) => void (printed += s) });
    registerProxyConfig(program, { stdout: () => undefined, stderr: () => undefined, stdin: () => Promise.resolve(''), cwd: dir, setExitCode: () => undefined });
    await assert.rejects(program.parseAsync(['pc', 'routes', '--help'], { from: 'user' }), (e: unknown) => (e as { code?: string }).code === 'commander.helpDisplayed');
    assert.match(printed, /--verbose \[bool\]/);
    assert.match(printed, /Examples:\n {2}isthmus proxy-config routes productpage-v1\n {2}isthmus proxy-config routes productpage-v1 --name 9080\n/);
  });
});

describe('proxy-config errors name what is wrong', () => {
  const cases: { name: string; args: () => string[]; code: string; message: RegExp }[] = [
    { name: 'an unknown proxy', args: () => ['pc', 'clusters', 'ratings', ...cp()], code: 'ISM_NOT_FOUND', message: new RegExp(`no proxy "ratings" in namespace default; connected: ${POD.productpage}\\.default, ${POD.reviewsV1}\\.default, ${POD.reviewsV2}\\.default`) },
    { name: 'an ambiguous prefix', args: () => ['pc', 'routes', 'reviews', ...cp()], code: 'ISM_NOT_FOUND', message: new RegExp(`"reviews" matches several proxies: ${POD.reviewsV1}\\.default, ${POD.reviewsV2}\\.default; name one`) },
    { name: 'a proxy in another namespace', args: () => ['pc', 'listeners', 'productpage', '-n', 'shop', ...cp()], code: 'ISM_NOT_FOUND', message: /no proxy "productpage" in namespace shop/ },
    { name: 'a bad -o', args: () => ['pc', 'clusters', 'productpage', '-o', 'xml', ...cp()], code: 'ISM_USAGE', message: /invalid output format "xml": must be one of short, json, yaml/ },
    { name: 'a bad --port', args: () => ['pc', 'listeners', 'productpage', '--port', 'http', ...cp()], code: 'ISM_USAGE', message: /invalid --port "http": must be a port number/ },
    { name: 'a bad --verbose', args: () => ['pc', 'routes', 'productpage', '--verbose', 'maybe', ...cp()], code: 'ISM_USAGE', message: /invalid --verbose "maybe": must be true or false/ },
    { name: 'no proxy and no file', args: () => ['pc', 'clusters', ...cp()], code: 'ISM_USAGE', message: /name a proxy .* or give --file <config_dump\.json> or --admin/ },
    { name: 'a proxy and a file', args: () => ['pc', 'clusters', 'productpage', '-f', 'x.json'], code: 'ISM_USAGE', message: /give a proxy name or --file, not both/ },
    { name: 'a missing file', args: () => ['pc', 'all', '-f', 'missing.json'], code: 'ISM_FILE_READ', message: /cannot read missing\.json: no such file/ },
    { name: '-o for log', args: () => ['pc', 'log', 'productpage', '-o', 'json', ...cp()], code: 'ISM_USAGE', message: /--output is not applicable for log/ },
    { name: 'an unknown log level', args: () => ['pc', 'log', 'productpage', '--level', 'loud', ...cp()], code: 'ISM_USAGE', message: /unrecognized logging level: loud/ },
  ];
  it('pc secret on a sidecar without certificates says so, as istioctl does', async () => {
    const r = await run(['pc', 'secret', 'productpage', ...cp()]);
    assert.match(r.out + r.err, /No active or warming secrets found/);
  });

  for (const c of cases) {
    it(c.name, async () => {
      await assert.rejects(run(c.args()), (e: unknown) => {
        assert.ok(e instanceof IsthmusError, String(e));
        assert.equal(e.code, c.code);
        assert.match(e.message, c.message);
        return true;
      });
    });
  }

  it('an unreachable control plane, with its address', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    await assert.rejects(run(['pc', 'clusters', 'productpage', '--control-plane', address]), (e: unknown) => {
      assert.ok(e instanceof IsthmusError);
      assert.equal(e.code, 'ISM_CONNECT');
      assert.match(e.message, new RegExp(`cannot reach the control plane at ${address.replaceAll('.', '\\.')}: .*ECONNREFUSED`));
      return true;
    });
  });

  it('an unreachable admin, with the proxy and its address', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    await assert.rejects(run(['pc', 'endpoints', 'productpage', '--admin', address]), (e: unknown) => {
      assert.ok(e instanceof IsthmusError);
      assert.equal(e.code, 'ISM_CONNECT');
      assert.match(e.message, new RegExp(`cannot reach the admin of productpage\\.default at http://${address.replaceAll('.', '\\.')}: .*ECONNREFUSED`));
      return true;
    });
  });

  it('a file that is not a config dump', async () => {
    await writeFile(join(dir, 'not-a-dump.json'), '{"kind": "Pod"}');
    await assert.rejects(run(['pc', 'listeners', '-f', 'not-a-dump.json']), /not-a-dump\.json is not an Envoy config dump \(no "configs" list\)/);
  });
});
