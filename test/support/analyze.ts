// Test support for analyzers: load a YAML fixture (any number of documents), validate it against the
// given kinds, run analyzers over the result and return the diagnostics as istioctl prints them.

import { createKindRegistry, kindId, type AnyKind } from '../../src/api/kind.js';
import type { InvalidEntry, ResourceEntry } from '../../src/api/entry.js';
import { loadText } from '../../src/api/load.js';
import { validateObject } from '../../src/api/validate.js';
import { error } from '../../src/lib/issue.js';
import { formatDiagnostic, type Diagnostic } from '../../src/analyze/diagnostic.js';
import { runAnalyzersWith, type Analyzer, type RunOptions } from '../../src/analyze/framework.js';

export interface Loaded {
  readonly entries: readonly ResourceEntry[];
  readonly invalid: readonly InvalidEntry[];
}

/** Loads and validates `yaml` (file name `file`) like `isthmus analyze` does. */
export function loadFixture(yaml: string, kinds: readonly AnyKind[], file = 'test.yaml'): Loaded {
  const registry = createKindRegistry(kinds);
  const loaded = loadText(yaml, file);
  const entries: ResourceEntry[] = [];
  const invalid: InvalidEntry[] = [];
  for (const p of loaded.problems) invalid.push({ origin: { file: p.file, line: p.line }, issues: [error('', p.message)] });
  for (const doc of loaded.documents) {
    const out = validateObject(doc.raw, registry);
    if (out.ok) entries.push({ resource: out.resource, kind: out.descriptor, origin: doc.origin, warnings: out.warnings, locate: doc.locate });
    else {
      const h = out.header;
      const ns = h?.namespace ?? (out.descriptor?.namespaced === true ? 'default' : undefined);
      invalid.push({
        origin: doc.origin,
        issues: out.issues,
        locate: doc.locate,
        ...(h !== undefined ? { apiVersion: h.apiVersion, kind: h.kind } : {}),
        ...(h?.name !== undefined ? { name: h.name } : {}),
        ...(ns !== undefined ? { namespace: ns } : {}),
      });
    }
  }
  return { entries, invalid };
}

/** Runs `analyzers` over the fixture; every given kind counts as available. */
export function analyzeFixture(
  yaml: string,
  kinds: readonly AnyKind[],
  analyzers: readonly Analyzer[],
  opts: RunOptions = {},
): Diagnostic[] {
  const { entries, invalid } = loadFixture(yaml, kinds);
  return runAnalyzersWith(analyzers, entries, invalid, { availableKinds: kinds.map((k) => kindId(k.group, k.kind)), ...opts });
}

/** The diagnostics as printed lines. */
export function analyzeLines(
  yaml: string,
  kinds: readonly AnyKind[],
  analyzers: readonly Analyzer[],
  opts: RunOptions = {},
): string[] {
  return analyzeFixture(yaml, kinds, analyzers, opts).map(formatDiagnostic);
}
