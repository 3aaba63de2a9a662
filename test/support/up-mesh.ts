// `isthmus up` as the e2e suites start it: the esbuild bundle of the binary (as `npm start` runs it; its
// proxies run from the bundle too), free ingress and monitoring ports, a process group of its own so that
// nothing it started survives a failed test, and the JSON summary it prints once the mesh is up.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { ROOT, bundleForTest } from './cli.js';
import { freePort } from './data-plane.js';
import { killGroup } from './processes.js';
import { waitFor } from './wait.js';

export interface UpSummary {
  readonly controlPlane: { readonly monitoring: string; readonly xds: string };
  readonly ingress: string;
  readonly pods: readonly { readonly name: string; readonly role: string; readonly phase: string; readonly adminUrl: string; readonly pids: Readonly<Record<string, number>> }[];
  readonly processes: Readonly<Record<string, number>>;
}

export interface RunningUp {
  readonly up: ChildProcessWithoutNullStreams;
  /** The bundled binary's entry: CLI calls against this mesh can use it too (faster than tsx). */
  readonly entry: string;
  readonly summary: UpSummary;
  /** The control plane's monitoring address (host:port), for `--control-plane`. */
  readonly cp: string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  stderr(): string;
  /** Kills the whole process group if it still runs, and removes the bundle. */
  dispose(): void;
}

export async function startUp(readyTimeoutMs: number): Promise<RunningUp> {
  const ingress = await freePort();
  const monitoring = await freePort();
  const bundle = bundleForTest();
  const up = spawn(process.execPath, [bundle.entry, 'up', '-o', 'json', '--ingress-port', String(ingress), '--xds-port', '0', '--monitoring-port', String(monitoring)], { cwd: ROOT, detached: true });
  const exited = new Promise<number | null>((r) => up.once('exit', (code) => r(code)));
  let stdout = '';
  let stderr = '';
  up.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  up.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const dispose = (): void => {
    if (up.exitCode === null) killGroup(up.pid);
    bundle.dispose();
  };
  try {
    const summary = await waitFor(
      () => {
        try {
          return JSON.parse(stdout) as UpSummary;
        } catch {
          return undefined;
        }
      },
      `isthmus up to print the mesh (stderr so far: ${stderr})`,
      readyTimeoutMs,
      100,
    );
    return { up, entry: bundle.entry, summary, cp: summary.controlPlane.monitoring.replace('http://', ''), exited, stderr: () => stderr, dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}

/** Whether process `pid` still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
