// Runs the real `isthmus` program in a child process, as a user would: the bundle `npm start` runs, built once
// per test process (a second or so) and removed when the process exits. Starting it takes about half the time
// of loading the TypeScript sources through tsx in every child.

import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let shared: { readonly entry: string; dispose(): void } | undefined;

/** This test process's bundle of the binary, built on first use. */
export function sharedBundleEntry(): string {
  if (shared === undefined || !existsSync(shared.entry)) {
    const b = bundleForTest();
    shared = b;
    process.once('exit', () => b.dispose());
  }
  return shared.entry;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function startIsthmus(args: readonly string[], opts: { cwd?: string } = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [sharedBundleEntry(), ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1' } });
}

export function runIsthmus(args: readonly string[], opts: { cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = startIsthmus(args, opts);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`isthmus ${args.join(' ')} did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Bundles the binary as `npm start` runs it (scripts/bundle.mjs, about a second) into a folder of this
 * test's own under dist/ (so tests running at once never share chunks). `dispose` removes it.
 */
export function bundleForTest(): { readonly entry: string; dispose(): void } {
  const dir = join(ROOT, 'dist', `test-bundle-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  execFileSync(process.execPath, ['scripts/bundle.mjs', '--outdir', dir], { cwd: ROOT });
  return { entry: join(dir, 'isthmus.mjs'), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
