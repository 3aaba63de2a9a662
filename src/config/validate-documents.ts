// Turns loaded documents into validated entries (and invalid ones with their issues), against a kind
// registry. Pure; shared by `isthmus validate`, `analyze`, the folder source and the control plane.

import type { ResourceEntry, InvalidEntry } from '../api/entry.js';
import type { KindRegistry } from '../api/kind.js';
import type { LoadedDocument, LoadProblem } from '../api/load.js';
import { validateObject, type ValidateOptions } from '../api/validate.js';
import { error } from '../lib/issue.js';

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
