#!/usr/bin/env node
// Composition root of the `isthmus` command: the only place that touches argv, the process's streams and
// its exit status.

import { text } from 'node:stream/consumers';
import { ALL_KINDS } from '../api/kinds.js';
import { createKindRegistry } from '../api/kind.js';
import { runCli } from '../cli/program.js';

// Installed only when a long-running command asks for it, so Ctrl-C still ends a short command at once.
const stopSignal = (): Promise<void> =>
  new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });

const code = await runCli(process.argv.slice(2), {
  registry: createKindRegistry(ALL_KINDS),
  stopSignal,
  io: {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    stdin: () => text(process.stdin),
    cwd: process.cwd(),
    setExitCode: () => undefined,
  },
});
process.exitCode = code;
