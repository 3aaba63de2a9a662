// `isthmus proxy` as a user runs it: a real child process with a bootstrap file from `envoyBootstrap`,
// against the real control plane; it becomes ready, its admin dump shows the mesh, and SIGINT stops it
// with status 0.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_KINDS } from '../../src/api/kinds.js';
import { createKindRegistry } from '../../src/api/kind.js';
import { startControlPlane } from '../../src/cli/control-plane.js';
import { envoyBootstrap } from '../../src/cli/bootstrap.js';
import { runIsthmus, startIsthmus } from '../support/cli.js';
import { waitFor } from '../support/wait.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: 9080}]
`;

describe('isthmus proxy (CLI)', () => {
  it('starts from a bootstrap file, syncs, serves its admin and stops on SIGINT', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-proxy-cli-'));
    await writeFile(join(dir, 'svc.yaml'), SERVICE);
    const cp = await startControlPlane({ configDir: dir, registry: createKindRegistry(ALL_KINDS), xdsPort: 0, monitoringPort: 0, debounceMs: 10 });
    t.after(async () => {
      await cp.close();
      await rm(dir, { recursive: true, force: true });
    });
    const bootFile = join(tmpdir(), `isthmus-bootstrap-${process.pid}.json`);
    t.after(() => rm(bootFile, { force: true }));
    await writeFile(
      bootFile,
      JSON.stringify(envoyBootstrap({ node: 'productpage-v1', proxyless: false, xdsAddress: cp.xdsAddress, namespace: 'default', type: 'sidecar', ip: '10.1.0.5', labels: {}, serviceAccount: 'default', locality: { region: '', zone: '', subZone: '' } })),
    );
    const child = startIsthmus(['proxy', '--bootstrap', bootFile, '--admin-port', '0', '--readiness-port', '0']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await waitFor(() => /readiness +http:\/\/\S+/.test(out), 'the proxy to start', 20_000);
    const admin = /admin +(\S+)/.exec(out)?.[1] ?? '';
    const readiness = /readiness +(\S+)/.exec(out)?.[1] ?? '';
    assert.match(readiness, /\/healthz\/ready$/);
    await waitFor(async () => (await fetch(readiness)).status === 200, 'readiness 200', 10_000);
    assert.equal(await (await fetch(`${admin}/ready`)).text(), 'LIVE\n');
    const dump = await (await fetch(`${admin}/config_dump`)).text();
    assert.ok(dump.includes('"outbound|9080||reviews.default.svc.cluster.local"'));
    assert.ok(dump.includes('"0.0.0.0_9080"'));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.match(out, /stopped/);
  });

  it('refuses a bootstrap file it cannot use, naming the field', async () => {
    const file = join(tmpdir(), `isthmus-bad-bootstrap-${process.pid}.json`);
    await writeFile(file, JSON.stringify({ node: { id: 'x' } }));
    try {
      const r = await runIsthmus(['proxy', '--bootstrap', file]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /error: invalid bootstrap .*dynamic_resources\.ads_config: must be set/);
    } finally {
      await rm(file, { force: true });
    }
  });
});
