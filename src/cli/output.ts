// Output helpers shared by every command: `-o json|yaml|table` rendering and istioctl-style tables
// (left-aligned columns separated by three spaces, upper-case headers).

import { stringify } from 'yaml';
import { IsthmusError } from '../lib/errors.js';

export type OutputFormat = 'table' | 'json' | 'yaml';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

export function parseOutputFormat(v: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(v)) return v as OutputFormat;
  if (v === 'short') return 'table';
  throw new IsthmusError('ISM_USAGE', `invalid output format "${v}": must be one of ${OUTPUT_FORMATS.join(', ')}`);
}

export function renderData(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? JSON.stringify(value, null, 2) + '\n' : stringify(value, { lineWidth: 0 });
}

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3)))
      .join('')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** The I/O a command may use; bin/ wires it to the process, tests may wire it to buffers. */
export interface CliIO {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  readonly stdin: () => Promise<string>;
  readonly cwd: string;
  /** Sets the process's exit status (the last call wins). */
  readonly setExitCode: (code: number) => void;
}
