// `isthmus validate -f <files|dirs|->`: validates resources as Istio's and Kubernetes' webhooks would,
// printing each problem as `file:line kind namespace/name field: message`. Exit 1 when any is invalid.

import type { Command } from 'commander';
import type { InvalidEntry } from '../api/entry.js';
import type { KindRegistry } from '../api/kind.js';
import { readConfigPaths } from '../config/read-files.js';
import { validateDocuments } from '../config/validate-documents.js';
import type { Issue } from '../lib/issue.js';
import { parseOutputFormat, renderData, type CliIO } from './output.js';

export interface ValidationReportRow {
  readonly file: string;
  readonly line: number;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly field: string;
  readonly severity: Issue['severity'];
  readonly message: string;
}

export function formatReportRow(r: ValidationReportRow): string {
  const what = r.kind === '' ? '' : ` ${r.kind} ${r.namespace === '' ? '' : r.namespace + '/'}${r.name === '' ? '-' : r.name}`;
  const field = r.field === '' ? '' : ` ${r.field}:`;
  const sev = r.severity === 'warning' ? ' warning:' : '';
  return `${r.file}:${r.line}${what}${field}${sev} ${r.message}`;
}

/** One report row per issue of an invalid document (or of a valid one's warnings). */
export function rowsOf(entry: InvalidEntry | { origin: InvalidEntry['origin']; kind: string; namespace?: string; name: string; issues: readonly Issue[]; locate?: (p: string) => number }): ValidationReportRow[] {
  return entry.issues.map((i) => ({
    file: entry.origin.file,
    line: i.path === '' ? entry.origin.line : (entry.locate?.(i.path) ?? entry.origin.line),
    kind: entry.kind ?? '',
    namespace: entry.namespace ?? '',
    name: entry.name ?? '',
    field: i.path,
    severity: i.severity,
    message: i.message,
  }));
}

export function registerValidate(program: Command, io: CliIO, registry: KindRegistry): void {
  program
    .command('validate')
    .description("Validate Istio, Gateway API and Kubernetes resources with Istio's and Kubernetes' own rules")
    .requiredOption('-f, --filename <paths...>', 'files or folders to validate (folders are read recursively; - reads stdin)')
    .option('-n, --namespace <ns>', 'namespace for resources that name none', 'default')
    .option('-o, --output <format>', 'output format: table|json|yaml', 'table')
    .addHelpText(
      'after',
      `
Prints one line per problem: file:line kind namespace/name field: message
Exit status: 0 when every resource is valid (warnings allowed), 1 otherwise.

Examples:
  isthmus validate -f examples/
  kubectl get vs -A -o yaml | isthmus validate -f -`,
    )
    .action(async (opts: { filename: string[]; namespace: string; output: string }) => {
      const format = parseOutputFormat(opts.output);
      const read = await readConfigPaths(opts.filename, { stdin: io.stdin, cwd: io.cwd });
      const { entries, invalid } = validateDocuments(read.documents, registry, { defaultNamespace: opts.namespace }, read.problems);
      const rows: ValidationReportRow[] = invalid.flatMap((e) => rowsOf(e));
      for (const e of entries) {
        if (e.warnings.length === 0) continue;
        rows.push(
          ...rowsOf({
            origin: e.origin,
            kind: e.resource.kind,
            ...(e.resource.metadata.namespace !== undefined ? { namespace: e.resource.metadata.namespace } : {}),
            name: e.resource.metadata.name,
            issues: e.warnings,
            ...(e.locate !== undefined ? { locate: e.locate } : {}),
          }),
        );
      }
      rows.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
      const invalidCount = invalid.length;
      if (format === 'table') {
        for (const r of rows) io.stdout(formatReportRow(r) + '\n');
        const summary = `${entries.length} valid, ${invalidCount} invalid (${read.files.length} file${read.files.length === 1 ? '' : 's'})`;
        io.stderr(invalidCount === 0 ? `validation succeed: ${summary}\n` : `validation failed: ${summary}\n`);
      } else {
        io.stdout(renderData({ valid: entries.length, invalid: invalidCount, files: read.files, issues: rows }, format));
      }
      io.setExitCode(invalidCount > 0 ? 1 : 0);
    });
}
