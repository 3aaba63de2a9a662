// The analyze layer's entry point: run every analyzer (or a named subset) over loaded entries and get
// istioctl-style diagnostics. See framework.ts for options and diagnostic.ts for printing.

import type { InvalidEntry, ResourceEntry } from '../api/entry.js';
import { ALL_ANALYZERS } from './all.js';
import type { Diagnostic } from './diagnostic.js';
import { runAnalyzersWith, type RunOptions } from './framework.js';

export { ALL_ANALYZERS } from './all.js';
export { compareDiagnostics, formatDiagnostic, friendlyName, isWorseThanOrEqual, sortDiagnostics } from './diagnostic.js';
export type { Diagnostic, DiagnosticResource } from './diagnostic.js';
export { ANALYZE_SUPPRESS_ANNOTATION, globMatch, runAnalyzersWith } from './framework.js';
export type { AnalysisContext, Analyzer, MeshConfigView, RunOptions, Suppression } from './framework.js';
export { documentationUrl, formatMessage, MESSAGES, messageByCode, messageByName } from './messages.js';
export type { MessageCode, MessageLevel, MessageType } from './messages.js';

/** Runs every analyzer (Istio's default set) over the entries; sorted, de-duplicated diagnostics. */
export function runAnalyzers(entries: readonly ResourceEntry[], invalid: readonly InvalidEntry[], opts: RunOptions = {}): Diagnostic[] {
  return runAnalyzersWith(ALL_ANALYZERS, entries, invalid, opts);
}
