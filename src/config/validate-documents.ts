// Turns loaded documents into validated entries (and invalid ones with their issues), against a kind
// registry. Pure; shared by `isthmus validate`, `analyze`, the folder source and the control plane.

import type { ResourceEntry, InvalidEntry } from '../api/entry.js';
import type { KindRegistry } from '../api/kind.js';
import type { LoadedDocument, LoadProblem } from '../api/load.js';
import { validateObject, type ValidateOptions } from '../api/validate.js';
import { error } from '../lib/issue.js';
import { entryKey } from './store.js';

export interface ValidatedDocuments {
  readonly entries: readonly ResourceEntry[];
  readonly invalid: readonly InvalidEntry[];
}

export function validateDocuments(
  documents: readonly LoadedDocument[],
  registry: KindRegistry,
  opts: ValidateOptions = {},
  problems: readonly LoadProblem[] = [],
): ValidatedDocuments {
  const entries: ResourceEntry[] = [];
  const invalid: InvalidEntry[] = [];
  for (const p of problems) invalid.push({ origin: { file: p.file, line: p.line }, issues: [error('', p.message)] });
  for (const doc of documents) {
    const out = validateObject(doc.raw, registry, opts);
    if (out.ok) {
      entries.push({ resource: out.resource, kind: out.descriptor, origin: doc.origin, warnings: out.warnings, locate: doc.locate });
    } else {
      const h = out.header;
      const ns = h?.namespace ?? (out.descriptor?.namespaced === true ? (opts.defaultNamespace ?? 'default') : undefined);
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

export interface DuplicateDefinition {
  readonly kept: ResourceEntry;
  readonly ignored: ResourceEntry;
}

/**
 * One entry per resource identity (group/Kind/namespace/name), the first definition winning, as the
 * config store does when two files define the same object; the others are returned to be reported.
 */
export function firstDefinitions(entries: readonly ResourceEntry[]): { unique: ResourceEntry[]; duplicates: DuplicateDefinition[] } {
  const seen = new Map<string, ResourceEntry>();
  const duplicates: DuplicateDefinition[] = [];
  for (const e of entries) {
    const key = entryKey(e);
    const kept = seen.get(key);
    if (kept === undefined) seen.set(key, e);
    else duplicates.push({ kept, ignored: e });
  }
  return { unique: [...seen.values()], duplicates };
}
