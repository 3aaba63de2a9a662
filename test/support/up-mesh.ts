// `isthmus up` as the e2e suites start it: the esbuild bundle of the binary (as `npm start` runs it; its
// proxies run from the bundle too), free ingress and monitoring ports, a process group of its own so that
// nothing it started survives a failed test, and the JSON summary it prints once the mesh is up. The
// dashboard listens on a free port (its URL and token are in the summary).

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { ROOT, bundleForTest } from './cli.js';
import { freePort } from './data-plane.js';
import { alive, killGroup } from './processes.js';
import { waitFor } from './wait.js';

export interface UpSummary {
  readonly controlPlane: { readonly monitoring: string; readonly xds: string };
  readonly dashboard?: { readonly url: string; readonly loginUrl: string; readonly token: string };
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

export interface StartUpOptions {
  /** `--metrics-interval`: how often the control plane scrapes the proxies' metrics (default 5000 ms). */
  readonly metricsIntervalMs?: number;
}

/**
 * Pod addresses of their own for this test process (127.10.<k>.x): test files run two at a time, and two
 * meshes on the same addresses would take each other's ports.
 */
function addressBase(): number {
  return (process.pid % 200) * 254 + 1;
}

export async function startUp(readyTimeoutMs: number, opts: StartUpOptions = {}): Promise<RunningUp> {
  const ingress = await freePort();
  const monitoring = await freePort();
  const bundle = bundleForTest();
  const args = [bundle.entry, 'up', '-o', 'json', '--ingress-port', String(ingress), '--xds-port', '0', '--monitoring-port', String(monitoring), '--address-base', String(addressBase()), '--dashboard-port', '0', ...(opts.metricsIntervalMs !== undefined ? ['--metrics-interval', String(opts.metricsIntervalMs)] : [])];
  const up = spawn(process.execPath, args, { cwd: ROOT, detached: true });
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
export { alive };
