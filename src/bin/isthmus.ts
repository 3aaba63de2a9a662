#!/usr/bin/env node
// Composition root of the `isthmus` command: the only place that touches argv, the process's streams and
// its exit status. `isthmus proxy` loads only the proxy (cli/proxy-program.ts): `isthmus up` starts one
// per pod, and each would otherwise load every verb and resource kind first.

import { text } from 'node:stream/consumers';
import { setFlagsFromString } from 'node:v8';
import type { CliIO } from '../cli/output.js';
import { nodeOptionsWords, proxyHeapFlags } from '../proxy/heap-flags.js';
import { startHeapGovernor } from '../proxy/heap-governor.js';

// Installed only when a long-running command asks for it, so Ctrl-C still ends a short command at once.
const stopSignal = (): Promise<void> =>
  new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    process.once('SIGHUP', () => resolve()); // the terminal closed
  });

// A reader that closed the pipe (`isthmus ... | head`) ends the output, not the command: EPIPE stops further
// writes to that stream instead of crashing with an unhandled 'error' event. Other write errors still throw.
const closed = { stdout: false, stderr: false };
for (const name of ['stdout', 'stderr'] as const) {
  process[name].on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    closed[name] = true;
  });
}

const io: CliIO = {
  stdout: (s) => void (closed.stdout || process.stdout.write(s)),
  stderr: (s) => void (closed.stderr || process.stderr.write(s)),
  stdin: () => text(process.stdin),
  cwd: process.cwd(),
  setExitCode: () => undefined,
};

const argv = process.argv.slice(2);
let code: number;
if (argv[0] === 'proxy' || argv[0] === 'proxies') {
  // A proxy's young and old generations sized for a proxy (proxy/heap-flags.ts), before its modules load.
  const heapFlags = proxyHeapFlags([...process.execArgv, ...nodeOptionsWords(process.env['NODE_OPTIONS'])]);
  for (const flag of heapFlags) setFlagsFromString(flag);
  startHeapGovernor(heapFlags);
  const { runProxyCli } = await import('../cli/proxy-program.js');
  code = await runProxyCli(argv, { io, stopSignal });
} else {
  const [{ ALL_KINDS }, { createKindRegistry }, { runCli }] = await Promise.all([import('../api/kinds.js'), import('../api/kind.js'), import('../cli/program.js')]);
  code = await runCli(argv, { registry: createKindRegistry(ALL_KINDS), stopSignal, io });
}
process.exitCode = code;
