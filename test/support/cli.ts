// Runs the real `isthmus` program in a child process (TypeScript loaded by tsx), as a user would.

import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../src/bin/isthmus.ts', import.meta.url));
// Resolved here so that the child finds tsx whatever its working directory.
const TSX = import.meta.resolve('tsx');

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function startIsthmus(args: readonly string[], opts: { cwd?: string } = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', TSX, BIN, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1' } });
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
