// `isthmus dashboard envoy`: a real control plane and sidecar; the browser opener is replaced by a recorder.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { freePort, startMesh, startTestProxy } from '../../test/support/data-plane.js';
import { IsthmusError } from '../lib/errors.js';
import type { CliIO } from './output.js';
import { openerCommand, openInBrowser, registerDashboard, type UrlOpener } from './dashboard.js';

const POD = 'details-v1-6c9b4';
const cleanups: (() => unknown)[] = [];
const ctx = { after: (fn: () => unknown) => void cleanups.push(fn) } as unknown as TestContext;
let controlPlane: string;
let adminUrl: string;

before(async () => {
  const mesh = await startMesh(ctx, {
    'details.yaml': `apiVersion: v1
kind: Service
metadata: {name: details, namespace: default}
spec:
  selector: {app: details}
  ports: [{name: http, port: 9080}]
`,
  });
  controlPlane = new URL(mesh.cp.monitoringUrl).host;
  adminUrl = (await startTestProxy(ctx, mesh, { node: POD, ip: '127.0.44.1', labels: { app: 'details' } })).adminUrl;
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function run(args: readonly string[], open: UrlOpener): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stdin: () => Promise.resolve(''), cwd: process.cwd(), setExitCode: () => undefined };
  const program = new Command('isthmus').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerDashboard(program, io, { open });
  await program.parseAsync([...args], { from: 'user' });
  return { out, err };
}

function recorder(result = true): UrlOpener & { opened: string[] } {
  const opened: string[] = [];
  return Object.assign((url: string) => (opened.push(url), Promise.resolve(result)), { opened });
}

describe('dashboard envoy', () => {
  it("prints the proxy's admin URL and opens it", async () => {
    const open = recorder();
    const { out, err } = await run(['dashboard', 'envoy', 'details', '--control-plane', controlPlane], open);
    assert.equal(out, `${adminUrl}\n`);
    assert.deepEqual(open.opened, [adminUrl]);
    assert.equal(err, '');
    await fetch(adminUrl).then((r) => assert.equal(r.status, 200, 'the URL is the live admin'));
  });

  it('--browser=false only prints; so does `d proxy` with the full name', async () => {
    const open = recorder();
    const { out } = await run(['d', 'proxy', `${POD}.default`, '--browser=false', '--control-plane', controlPlane], open);
    assert.equal(out, `${adminUrl}\n`);
    assert.deepEqual(open.opened, []);
  });

  it('prints the URL and a hint when no browser can be opened', async () => {
    const { out, err } = await run(['dashboard', 'envoy', 'details', '--control-plane', controlPlane], recorder(false));
    assert.equal(out, `${adminUrl}\n`);
    assert.equal(err, `could not open a browser; open ${adminUrl} in your browser\n`);
  });

  it('-o json and -o yaml print {proxy, url} and open nothing', async () => {
    const open = recorder();
    const json = await run(['dash', 'envoy', 'details', '-o', 'json', '--control-plane', controlPlane], open);
    assert.deepEqual(JSON.parse(json.out), { proxy: `${POD}.default`, url: adminUrl });
    const yaml = await run(['dash', 'envoy', 'details', '-o', 'yaml', '--control-plane', controlPlane], open);
    assert.deepEqual(parseYaml(yaml.out), { proxy: `${POD}.default`, url: adminUrl });
    assert.deepEqual(open.opened, []);
  });

  it('--admin names the admin without the control plane', async () => {
    const unreachable = `127.0.0.1:${await freePort()}`;
    const { out } = await run(['dashboard', 'envoy', '--admin', new URL(adminUrl).host, '--control-plane', unreachable, '--browser=false'], recorder());
    assert.equal(out, `${adminUrl}\n`);
  });

  const errors: { name: string; args: () => string[]; code: string; message: RegExp }[] = [
    { name: 'an unknown proxy', args: () => ['dashboard', 'envoy', 'ratings', '--control-plane', controlPlane], code: 'ISM_NOT_FOUND', message: new RegExp(`no proxy "ratings" in namespace default; connected: ${POD}\\.default`) },
    { name: 'no proxy', args: () => ['dashboard', 'envoy', '--control-plane', controlPlane], code: 'ISM_USAGE', message: /needs a proxy name/ },
    { name: 'a bad -o', args: () => ['dashboard', 'envoy', 'details', '-o', 'short', '--control-plane', controlPlane], code: 'ISM_USAGE', message: /invalid output format "short": must be one of url, json, yaml/ },
    { name: 'a bad --browser', args: () => ['dashboard', 'envoy', 'details', '--browser=no', '--control-plane', controlPlane], code: 'ISM_USAGE', message: /invalid --browser "no"/ },
  ];
  for (const c of errors) {
    it(`rejects ${c.name}`, async () => {
      await assert.rejects(run(c.args(), recorder()), (e: unknown) => {
        assert.ok(e instanceof IsthmusError, String(e));
        assert.equal(e.code, c.code);
        assert.match(e.message, c.message);
        return true;
      });
    });
  }
});

describe('the platform opener', () => {
  it("is istioctl's per platform", () => {
    assert.deepEqual(openerCommand('linux', 'http://x'), ['xdg-open', ['http://x']]);
    assert.deepEqual(openerCommand('darwin', 'http://x'), ['open', ['http://x']]);
    assert.deepEqual(openerCommand('win32', 'http://x'), ['rundll32', ['url.dll,FileProtocolHandler', 'http://x']]);
    assert.equal(openerCommand('aix', 'http://x'), undefined);
  });

  it('reports false when the opener does not exist', async () => {
    assert.equal(await openInBrowser('http://127.0.0.1:1/', { platform: 'linux', env: { PATH: '/nonexistent' } }), false);
    assert.equal(await openInBrowser('http://127.0.0.1:1/', { platform: 'aix' }), false);
  });
});
