// `isthmus proxy` as a real CLI child process (a primary and its workers with --concurrency), as the
// concurrency tests start it: its output kept, every process of it killed when the test ends, and the
// admin, readiness and Prometheus addresses it prints once it has started.

import type { TestContext } from 'node:test';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { startIsthmus } from './cli.js';
import { alive, childPids } from './processes.js';
import { waitFor } from './wait.js';

export interface ProxyChild {
  readonly child: ChildProcessWithoutNullStreams;
  readonly admin: string;
  readonly readiness: string;
  readonly prometheus: string;
  /** What it printed so far. */
  out(): string;
  err(): string;
  /** Its exit code, once it exits. */
  readonly exited: Promise<number | null>;
}

/** Starts `isthmus proxy <args>`; resolves once its output names its addresses and matches `started` (by default the readiness line). */
export async function startProxyChild(t: TestContext, args: readonly string[], started: RegExp = /readiness +(\S+)/): Promise<ProxyChild> {
  const child = startIsthmus(['proxy', ...args]);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  t.after(() => {
    for (const pid of [...childPids(child.pid ?? 0), child.pid ?? 0]) if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
  });
  await waitFor(() => started.test(out) && /readiness +(\S+)/.test(out), 'the proxy to start', 60_000).catch((e: Error) => {
    throw new Error(`${e.message}\nstdout: ${out}\nstderr: ${err}`);
  });
  return {
    child,
    admin: /admin +(\S+)/.exec(out)?.[1] ?? '',
    readiness: /readiness +(\S+)/.exec(out)?.[1] ?? '',
    prometheus: /prometheus +(\S+)/.exec(out)?.[1] ?? '',
    out: () => out,
    err: () => err,
    exited,
  };
}
