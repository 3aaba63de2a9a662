// `isthmus proxy` and `isthmus proxies` on their own: the same command as in the full program (program.ts), in a program that
// loads nothing else, so each proxy `isthmus up` starts skips the CLI's other verbs, the resource kinds
// and the analyzers (about 0.8 CPU-seconds per proxy on this machine).

import { Command } from 'commander';
import type { CliIO } from './output.js';
import { registerProxy } from './proxy.js';
import { registerProxyHost } from './proxy-host.js';
import { runCommand } from './run-command.js';
import { VERSION } from './version.js';

export function runProxyCli(argv: readonly string[], deps: { readonly io: CliIO; readonly stopSignal: () => Promise<void> }): Promise<number> {
  return runCommand(argv, deps.io, (io) => {
    const program = new Command('isthmus')
      .version(VERSION, '--version', 'print the version')
      .showHelpAfterError('(run with --help for usage)')
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
      .exitOverride();
    registerProxy(program, { io, stopSignal: deps.stopSignal });
    registerProxyHost(program, { io, stopSignal: deps.stopSignal });
    return program;
  });
}
