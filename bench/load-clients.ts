// Runs the benchmark's proxies in a child process (bench/ads-load-client.ts) and talks to it over
// stdin/stdout: the child prints the milliseconds until every proxy synced, then, after `mark`, the
// milliseconds until every proxy acknowledged an EDS response sent after the mark.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface LoadClients {
  /** The next figure the child reports (ms). */
  next(): Promise<number>;
  mark(): void;
  close(): Promise<void>;
}

export function startLoadClients(address: string, count: number, namespaces: readonly string[]): LoadClients {
  const script = fileURLToPath(new URL('./ads-load-client.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, address, String(count), namespaces.join(',')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const queue: string[] = [];
  let waiter: ((l: string) => void) | undefined;
  lines.on('line', (l) => (waiter !== undefined ? (waiter(l), (waiter = undefined)) : queue.push(l)));
  return {
    next: () =>
      new Promise<number>((resolve, reject) => {
        const take = (l: string): void => (l.startsWith('error') ? reject(new Error(l)) : resolve(Number(l)));
        const q = queue.shift();
        if (q !== undefined) take(q);
        else waiter = take;
      }),
    mark: () => child.stdin.write('mark\n'),
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}
