// istioctl's `experimental` group (`x`, `exp`): each experimental verb registers under the one command the
// first of them created.

import type { Command } from 'commander';

export function experimentalCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'x') ?? program.command('x').alias('experimental').alias('exp').description('Experimental commands, as istioctl x');
}
