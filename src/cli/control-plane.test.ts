// istiod's feature flags in the control plane: the one PilotFeatures object given to startControlPlane is the
// one every rebuilt snapshot carries (translation memoized against a snapshot relies on it), and the
// `control-plane` command reads the PILOT_* variables once, reporting a refused value as startup problems are
// reported (`  ! <where>: <message>` on stderr) and running on with the default.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { ALL_KINDS } from '../api/kinds.js';
import { createKindRegistry } from '../api/kind.js';
import { DEFAULT_PILOT_FEATURES, type PilotFeatures } from '../model/pilot-features.js';
import { waitFor } from '../../test/support/wait.js';
import { registerControlPlane, startControlPlane } from './control-plane.js';
import type { CliIO } from './output.js';
import { runCommand } from './run-command.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: reviews, labels: {istio.io/persistent-session: sid}}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
`;

function bufferIO(): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stdin: () => Promise.resolve(''), cwd: process.cwd(), setExitCode: () => undefined, out: () => out, err: () => err };
}

describe('control plane: feature flags', () => {
  it('every snapshot, the first and each rebuild, carries the very features object it was given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-cp-features-'));
    await writeFile(join(dir, 'svc.yaml'), SERVICE);
    const features: PilotFeatures = Object.freeze({ ...DEFAULT_PILOT_FEATURES, enablePersistentSessionFilter: true });
    const cp = await startControlPlane({ configDir: dir, registry: createKindRegistry(ALL_KINDS), xdsPort: 0, monitoringPort: 0, debounceMs: 10, features });
    try {
      const first = cp.snapshot();
      assert.equal(first.features, features);
      cp.workloads.register({ name: 'reviews-v1', namespace: 'default', address: '127.0.0.1', labels: { app: 'reviews' } });
      const next = await waitFor(() => (cp.snapshot() !== first ? cp.snapshot() : undefined), 'a rebuilt snapshot');
      assert.equal(next.features, features);
    } finally {
      await cp.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('without features: Istio`s defaults', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-cp-features-'));
    const cp = await startControlPlane({ configDir: dir, registry: createKindRegistry(ALL_KINDS), xdsPort: 0, monitoringPort: 0 });
    try {
      assert.equal(cp.snapshot().features, DEFAULT_PILOT_FEATURES);
    } finally {
      await cp.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('`isthmus control-plane` reports a PILOT_* value Go`s ParseBool refuses and runs on with the default', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-cp-features-'));
    await writeFile(join(dir, 'svc.yaml'), SERVICE);
    const io = bufferIO();
    try {
      const code = await runCommand(['control-plane', '--config', dir, '--xds-port', '0', '--monitoring-port', '0', '--dashboard-port', '0'], io, (cio) => {
        const program = new Command('isthmus').exitOverride().configureOutput({ writeOut: cio.stdout, writeErr: cio.stderr });
        registerControlPlane(program, { io: cio, registry: createKindRegistry(ALL_KINDS), stopSignal: () => Promise.resolve(), env: { PILOT_ENABLE_PERSISTENT_SESSION_FILTER: 'yes' } });
        return program;
      });
      assert.equal(code, 0, io.err());
      assert.match(io.err(), /^ {2}! PILOT_ENABLE_PERSISTENT_SESSION_FILTER: Invalid environment variable value `yes`, expecting true\/false, defaulting to false$/m);
      assert.match(io.out(), /control plane serving .*: 1 resources, 1 services/);
      assert.match(io.out(), /stopped/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('`isthmus control-plane --help` names the three variables', async () => {
    const io = bufferIO();
    await runCommand(['control-plane', '--help'], io, (cio) => {
      const program = new Command('isthmus').exitOverride().configureOutput({ writeOut: cio.stdout, writeErr: cio.stderr });
      registerControlPlane(program, { io: cio, registry: createKindRegistry(ALL_KINDS), stopSignal: () => Promise.resolve() });
      return program;
    });
    for (const v of ['PILOT_ENABLE_PERSISTENT_SESSION_FILTER', 'PILOT_PERSISTENT_SESSION_LABEL', 'PILOT_PERSISTENT_SESSION_HEADER_LABEL']) assert.match(io.out(), new RegExp(v));
  });
});
