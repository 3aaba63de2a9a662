// Drives a proxyless gRPC client child process (grpc-js-xds or python grpcio) over stdin/stdout: one JSON
// command per line, one JSON answer per line, each answer awaited with a deadline.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tsImport } from '../../support/ts-import.js';

export interface CallSummary {
  readonly servers: Record<string, number>;
  readonly errors: Record<string, number>;
  readonly ms: number[];
}

export interface ClientProcess {
  calls(target: string, count: number, opts?: { metadata?: Record<string, string>; deadlineMs?: number; timeoutMs?: number }): Promise<CallSummary>;
  stderr(): string;
  close(): Promise<void>;
}

export type ClientKind = 'grpc-js-xds' | 'python-grpcio';

export function startClient(kind: ClientKind, bootstrap: unknown): ClientProcess {
  const env = { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap) };
  const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
  const child: ChildProcessWithoutNullStreams =
    kind === 'grpc-js-xds'
      ? spawn(process.execPath, [...tsImport(), here('./grpc-js-xds-client.ts')], { env })
      : spawn('/usr/bin/python3', [here('./grpcio_client.py')], { env });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  return {
    calls(target, count, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? 30_000;
      return new Promise<CallSummary>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${kind}: no answer within ${timeoutMs} ms; stderr:\n${err.slice(-2000)}`)), timeoutMs);
        waiting.push((line) => {
          clearTimeout(timer);
          resolve(JSON.parse(line) as CallSummary);
        });
        child.stdin.write(JSON.stringify({ target, count, metadata: opts.metadata, deadlineMs: opts.deadlineMs }) + '\n');
      });
    },
    stderr: () => err,
    close() {
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      });
    },
  };
}
