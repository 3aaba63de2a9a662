// The entry point the primary forks for each worker (cluster.setupPrimary exec). It is a composition root
// like bin/isthmus.ts, kept next to the worker because the primary runs it by path: it hands the process's
// IPC channel and stderr to runWorker and nothing else.
// SIGINT and SIGTERM are ignored: Ctrl-C reaches the whole process group and a supervisor may signal every
// process, but only the primary decides when workers drain, so in-flight requests are not cut.
// The worker sizes its V8 heap as the single-process proxy does (heap-flags.ts) before the proxy loads.

import { setFlagsFromString } from 'node:v8';
import { nodeOptionsWords, proxyHeapFlags } from '../heap-flags.js';
import { startHeapGovernor } from '../heap-governor.js';

if (process.send === undefined) {
  process.stderr.write('error: this is an isthmus proxy worker; run `isthmus proxy --concurrency <n>` instead\n');
  process.exit(64);
}

process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);

const heapFlags = proxyHeapFlags([...process.execArgv, ...nodeOptionsWords(process.env['NODE_OPTIONS'])]);
for (const flag of heapFlags) setFlagsFromString(flag);
startHeapGovernor(heapFlags);
const { runWorker } = await import('./worker.js');
runWorker(
  {
    send: (m) => {
      if (process.connected) process.send?.(m);
    },
    onMessage: (f) => process.on('message', f),
    exit: (code) => process.exit(code),
  },
  (line) => process.stderr.write(line + '\n'),
);
