// `isthmus analyze <paths...>`: Istio's analyzers over files and folders, printed as istioctl prints them,
// with istioctl's thresholds and exit statuses (65 when a file cannot be parsed, 79 when issues at or
// above --failure-threshold are found; istioctl/cmd/sysexits.go).

import type { Command } from 'commander';
import { formatDiagnostic, friendlyName, isWorseThanOrEqual, runAnalyzers, type Diagnostic, type MessageLevel, type Suppression } from '../analyze/index.js';
import type { KindRegistry } from '../api/kind.js';
import { readConfigPaths } from '../config/read-files.js';
import { firstDefinitions, validateDocuments } from '../config/validate-documents.js';
import { IsthmusError } from '../lib/errors.js';
import { renderData, type CliIO } from './output.js';

export const EXIT_DATA_ERROR = 65;
export const EXIT_ANALYZER_FOUND_ISSUES = 79;

const LEVELS: readonly MessageLevel[] = ['Info', 'Warning', 'Error'];

function parseLevel(flag: string, v: string): MessageLevel {
  const found = LEVELS.find((l) => l.toLowerCase() === v.toLowerCase());
  if (found === undefined) throw new IsthmusError('ISM_USAGE', `invalid ${flag} "${v}": must be one of ${LEVELS.join(', ')}`);
  return found;
}

function parseSuppression(v: string): Suppression {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new IsthmusError('ISM_USAGE', `invalid --suppress "${v}": expected CODE=Kind namespace/name, e.g. "IST0102=Namespace frod"`);
  return { code: v.slice(0, eq), resource: v.slice(eq + 1) };
}

/** istioctl's JSON/YAML shape of one message (pkg/config/analysis/diag/message.go Unstructured). */
export function diagnosticToData(d: Diagnostic): Record<string, string> {
  return {
    code: d.code,
    level: d.level,
    ...(d.resource !== undefined ? { origin: friendlyName(d.resource) } : {}),
    ...(d.origin !== undefined ? { reference: d.origin.line > 0 ? `${d.origin.file}:${d.origin.line}` : d.origin.file } : {}),
    message: d.message,
    documentationUrl: d.documentationUrl,
  };
}

interface AnalyzeOptions {
  failureThreshold: string;
  outputThreshold: string;
  output: string;
  namespace: string;
  suppress: string[];
}

export function registerAnalyze(program: Command, io: CliIO, registry: KindRegistry): void {
  program
    .command('analyze')
    .description("Run Istio's analyzers over configuration files and folders")
    .argument('<paths...>', 'files or folders to analyze (folders are read recursively; - reads stdin)')
    .option('--failure-threshold <level>', 'the severity level that makes the exit status 79: Info, Warning or Error', 'Error')
    .option('--output-threshold <level>', 'the lowest severity level printed: Info, Warning or Error', 'Info')
    .option('-o, --output <format>', 'output format: log|json|yaml', 'log')
    .option('-n, --namespace <ns>', 'namespace for resources that name none', 'default')
    .option(
      '-S, --suppress <CODE=Kind ns/name>',
      'suppress a message by code and resource (glob * allowed), e.g. "IST0101=VirtualService default/*"; repeatable',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .addHelpText(
      'after',
      `
Prints one line per message: <Level> [<Code>] (<Kind> <namespace>/<name> <file:line>) <message>
Exit status: 0 when no message reaches --failure-threshold; 79 when one does; 65 when a file cannot be parsed.

Examples:
  isthmus analyze examples/
  isthmus analyze -o json --failure-threshold Warning vs.yaml dr.yaml`,
    )
    .action(async (paths: string[], opts: AnalyzeOptions) => {
      const failure = parseLevel('--failure-threshold', opts.failureThreshold);
      const outputLevel = parseLevel('--output-threshold', opts.outputThreshold);
      const format = opts.output === 'log' ? 'log' : opts.output === 'json' || opts.output === 'yaml' ? opts.output : undefined;
      if (format === undefined) throw new IsthmusError('ISM_USAGE', `invalid output format "${opts.output}": must be one of log, json, yaml`);
      const suppress = opts.suppress.map(parseSuppression);

      const read = await readConfigPaths(paths, { stdin: io.stdin, cwd: io.cwd });
      const validated = validateDocuments(read.documents, registry, { defaultNamespace: opts.namespace });
      const { unique, duplicates } = firstDefinitions(validated.entries);
      for (const { kept, ignored } of duplicates) {
        const r = ignored.resource;
        io.stderr(
          `Warning: ${r.kind} ${r.metadata.namespace !== undefined ? r.metadata.namespace + '/' : ''}${r.metadata.name} at ${ignored.origin.file}:${ignored.origin.line} is also defined at ${kept.origin.file}:${kept.origin.line}; the first definition is analyzed\n`,
        );
      }
      const diagnostics = runAnalyzers(unique, validated.invalid, { suppress, outputThreshold: outputLevel });

      for (const p of read.problems) io.stderr(`Error: failed to parse ${p.file}:${p.line}: ${p.message}\n`);
      if (format === 'log') {
        for (const d of diagnostics) io.stdout(formatDiagnostic(d) + '\n');
      } else {
        io.stdout(renderData(diagnostics.map(diagnosticToData), format));
      }
      const target = paths.join(', ');
      if (diagnostics.length === 0) {
        io.stderr(
          read.problems.length === 0
            ? `\u2714 No validation issues found when analyzing ${target}.\n`
            : `No validation issues found when analyzing ${target} (but ${read.problems.length} ${read.problems.length === 1 ? 'file' : 'files'} could not be parsed).\n`,
        );
      }
      if (read.problems.length > 0) io.setExitCode(EXIT_DATA_ERROR);
      else if (diagnostics.some((d) => isWorseThanOrEqual(d.level, failure))) {
        io.stderr(`Error: Analyzers found issues when analyzing ${target}.\nSee https://istio.io/v1.30/docs/reference/config/analysis for more information about causes and resolutions.\n`);
        io.setExitCode(EXIT_ANALYZER_FOUND_ISSUES);
      } else io.setExitCode(0);
    });
}
