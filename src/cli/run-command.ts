// Running a commander program as the `isthmus` binary does: the exit status a command sets, 0 for
// --help and --version, 64 for usage errors (istioctl's ExitIncorrectUsage), and `error: <message>` with
// exit 1 for failures (IsthmusError codes decide between usage and failure).

import { CommanderError, type Command } from 'commander';
import { IsthmusError } from '../lib/errors.js';
import type { CliIO } from './output.js';

export async function runCommand(argv: readonly string[], baseIo: CliIO, build: (io: CliIO) => Command | Promise<Command>): Promise<number> {
  let code = 0;
  const io: CliIO = { ...baseIo, setExitCode: (c) => (code = c) };
  const program = await build(io);
  for (const c of program.commands) c.exitOverride();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 64;
    if (e instanceof IsthmusError) {
      io.stderr(`error: ${e.message}\n`);
      return e.code === 'ISM_USAGE' ? 64 : 1;
    }
    io.stderr(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
