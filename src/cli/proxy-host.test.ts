// `isthmus proxies --spec`: several real proxies in one process, fed by a real control plane; entries added
// to the watched spec start, removed ones stop; a bad spec is refused with every problem and changes
// nothing; one proxy that cannot start does not stop the others.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { envoyBootstrap } from './bootstrap.js';
import { parseHostSpec, registerProxyHost } from './proxy-host.js';
import type { CliIO } from './output.js';
import { runCommand } from './run-command.js';
import { startMesh } from '../../test/support/data-plane.js';
import { waitFor } from '../../test/support/wait.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 9080}]
`;

async function ready(ip: string): Promise<boolean> {
  try {
    const r = await fetch(`http://${ip}:15021/healthz/ready`, { signal: AbortSignal.timeout(500) });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

describe('parseHostSpec', () => {
  const cases: { name: string; text: string; problems: string[] }[] = [
    { name: 'not JSON', text: '{', problems: ['s.json: not JSON'] },
    { name: 'no list', text: '{"proxies": 3}', problems: ['s.json: proxies: must be a list'] },
    { name: 'missing fields', text: '{"proxies": [{}]}', problems: ['s.json: proxies[0].name: must be a non-empty string', 's.json: proxies[0].bootstrap: must be a non-empty string'] },
    { name: 'duplicate names', text: '{"proxies": [{"name": "a", "bootstrap": "b"}, {"name": "a", "bootstrap": "c"}]}', problems: ['s.json: proxies[1].name: "a" appears twice'] },
    { name: 'bad port map', text: '{"proxies": [{"name": "a", "bootstrap": "b", "portMap": [[8080]]}]}', problems: ['s.json: proxies[0].portMap: must be a list of [listener port, bound port] pairs'] },
  ];
  for (const c of cases)
    it(`refuses ${c.name}, naming the entry and field`, () => {
      const r = parseHostSpec(c.text, 's.json');
      assert.equal(r.ok, false);
      if (!r.ok) for (const p of c.problems) assert.ok(r.problems.some((x) => x.startsWith(p)), `${p} in ${r.problems.join(' | ')}`);
    });

  it('reads a valid spec', () => {
    const r = parseHostSpec('{"proxies": [{"name": "gw", "bootstrap": "/b.json", "bindAddress": "127.0.0.1", "portMap": [[8080, 18080]]}]}', 's.json');
    assert.deepEqual(r, { ok: true, proxies: [{ name: 'gw', bootstrap: '/b.json', bindAddress: '127.0.0.1', portMap: [[8080, 18080]] }] });
  });
});

describe('isthmus proxies', () => {
  it('runs the spec\'s proxies in one process and follows changes to the file', async (t) => {
    const mesh = await startMesh(t, { 'svc.yaml': SERVICE });
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-host-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const ips = ['127.0.61.1', '127.0.61.2', '127.0.61.3'];
    const entry = async (i: number): Promise<Record<string, string>> => {
      const ip = ips[i] as string;
      const file = join(dir, `p${i}.json`);
      const b = envoyBootstrap({ node: `web-${i}`, proxyless: false, xdsAddress: mesh.cp.xdsAddress, namespace: 'default', type: 'sidecar', ip, labels: { app: 'web' }, serviceAccount: 'default', locality: { region: '', zone: '', subZone: '' }, adminHost: ip });
      await writeFile(file, JSON.stringify(b));
      return { name: `web-${i}.default`, bootstrap: file, captureAddress: ip, appAddress: '127.0.61.100' };
    };
    const spec = join(dir, 'spec.json');
    const writeSpec = async (entries: unknown[]): Promise<void> => {
      await writeFile(`${spec}.tmp`, JSON.stringify({ proxies: entries }));
      await rename(`${spec}.tmp`, spec);
    };
    // A port the third proxy's admin cannot take: it fails alone.
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(15000, ips[2], () => r()));
    t.after(() => new Promise<void>((r) => blocker.close(() => r())));
    const [e0, e1, e2] = [await entry(0), await entry(1), await entry(2)];
    await writeSpec([e0, e2]);

    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((r) => (stop = r));
    let out = '';
    let err = '';
    const io: CliIO = { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stdin: async () => '', cwd: dir, setExitCode: () => undefined };
    const running = runCommand(['proxies', '--spec', 'spec.json', '--drain-time', '1'], io, (io2) => {
      const p = new Command('isthmus').exitOverride();
      registerProxyHost(p, { io: io2, stopSignal: () => stopped });
      return p;
    });
    await waitFor(() => ready(ips[0] as string), 'web-0 ready', 15_000, 50);
    await waitFor(() => err.includes('proxy web-2.default cannot start'), `web-2 to fail alone (${err})`, 10_000, 50);
    assert.match(out, /proxy web-0\.default: admin http:\/\/127\.0\.61\.1:15000/);

    await writeSpec([e0, e1]);
    await waitFor(() => ready(ips[1] as string), 'web-1 to start when added to the spec', 15_000, 50);

    await writeSpec([e1]);
    await waitFor(async () => !(await ready(ips[0] as string)), 'web-0 to stop when removed from the spec', 15_000, 50);
    assert.equal(await ready(ips[1] as string), true);

    await writeFile(spec, '{"proxies": [{"name": 7}]}');
    await waitFor(() => err.includes('(the running proxies are kept)'), 'the bad spec to be reported', 10_000, 50);
    assert.equal(await ready(ips[1] as string), true, 'a bad spec changes nothing');

    stop();
    assert.equal(await running, 0);
    assert.equal(await ready(ips[1] as string), false);
  });
});
