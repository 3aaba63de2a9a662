// `isthmus watch <folder>`: the control plane's config pipeline, live. Loads the folder into the config
// store, validates and analyzes it, and on every change prints what changed, the files' problems, and the
// analyzer messages that appeared or were resolved. Runs until SIGINT/SIGTERM (or the abort signal).

import type { Command } from 'commander';
import { formatDiagnostic, runAnalyzers } from '../analyze/index.js';
import type { KindRegistry } from '../api/kind.js';
import { FolderSource, type ReloadReport } from '../config/folder-source.js';
import { ConfigStore } from '../config/store.js';
import { formatReportRow, rowsOf } from './validate.js';
import type { CliIO } from './output.js';
import { resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { IsthmusError } from '../lib/errors.js';

export interface WatchDeps {
  readonly io: CliIO;
  readonly registry: KindRegistry;
  /** Resolves when the command should stop (bin/ wires SIGINT and SIGTERM to it). */
  readonly stopSignal: () => Promise<void>;
}

function describeKey(key: string): string {
  // group/Kind/namespace/name -> Kind namespace/name
  const [, kind = '', ns = '', name = ''] = key.split('/');
  return `${kind} ${ns === '' ? '' : ns + '/'}${name}`;
}

export function registerWatch(program: Command, deps: WatchDeps): void {
  const { io, registry } = deps;
  program
    .command('watch')
    .description('Load a folder of config, validate and analyze it, and follow every change live (Ctrl-C stops)')
    .argument('<folder>', 'the config folder (read recursively: .yaml, .yml, .json)')
    .option('--debounce <ms>', 'quiet period before a change is applied, in milliseconds', '100')
    .option('-n, --namespace <ns>', 'namespace for resources that name none', 'default')
    .addHelpText(
      'after',
      `
An invalid edit is reported and the resource's last good version keeps serving; a file that no longer
parses keeps every resource it had; deleting a file deletes its resources.

Example:
  isthmus watch examples/`,
    )
    .action(async (folder: string, opts: { debounce: string; namespace: string }) => {
      const dir = resolve(io.cwd, folder);
      const st = await stat(dir).catch(() => undefined);
      if (st === undefined || !st.isDirectory()) throw new IsthmusError('ISM_FILE_READ', `cannot watch ${folder}: not a folder`);
      const debounceMs = Number(opts.debounce);
      if (!Number.isFinite(debounceMs) || debounceMs < 0) throw new IsthmusError('ISM_USAGE', `invalid --debounce "${opts.debounce}": must be a number of milliseconds`);

      const stopped = deps.stopSignal();
      const store = new ConfigStore();
      const source = new FolderSource({ dir, registry, store, debounceMs, cwd: io.cwd, validate: { defaultNamespace: opts.namespace } });
      let previous = new Set<string>();

      const analyze = (): void => {
        const diagnostics = runAnalyzers(store.list(), source.problems());
        const now = new Map(diagnostics.map((d) => [formatDiagnostic(d), d]));
        for (const line of now.keys()) if (!previous.has(line)) io.stdout(`  + ${line}\n`);
        for (const line of previous) if (!now.has(line)) io.stdout(`  - resolved: ${line}\n`);
        previous = new Set(now.keys());
      };

      const printProblems = (r: ReloadReport): void => {
        for (const [, invalid] of [...r.problems].sort(([a], [b]) => (a < b ? -1 : 1)))
          for (const e of invalid) for (const row of rowsOf(e)) io.stdout(`  ! ${formatReportRow(row)}\n`);
      };

      const first = await source.start();
      const files = source.files().length;
      io.stdout(`Watching ${folder}: ${store.size} resources from ${files} file${files === 1 ? '' : 's'} (revision ${store.revision})\n`);
      printProblems(first);
      for (const c of store.conflicts())
        io.stdout(`  ! ${describeKey(c.key)} in ${c.ignored.origin.file} is also defined in ${c.kept.origin.file}; the first is used\n`);
      analyze();
      if (previous.size === 0 && source.problems().length === 0) io.stdout('  \u2714 no validation or analysis issues\n');

      source.onReload((r) => {
        if (r.batch === undefined && [...r.problems.values()].every((p) => p.length === 0)) return;
        if (r.batch !== undefined) {
          io.stdout(`revision ${r.batch.revision}:\n`);
          for (const c of r.batch.changes) io.stdout(`  ${c.type === 'add' ? 'added' : c.type === 'update' ? 'updated' : 'deleted'} ${describeKey(c.key)} (${c.entry.origin.file})\n`);
        } else {
          io.stdout('no change applied:\n');
        }
        printProblems(r);
        analyze();
      });

      await stopped;
      source.stop();
      io.stdout('stopped\n');
    });
}
