// The config store: validated resources keyed by `group/Kind/namespace/name`, a revision that grows with
// every change, and typed change events. Sources (a folder, Kubernetes, `isthmus apply`) own the keys they
// put in; `replaceSource` swaps one source's whole set and emits only what changed. The store never holds
// an invalid resource: callers validate first.

import { resourceKey, groupOf } from '../api/resource.js';
import type { ResourceEntry } from '../api/entry.js';

export type ChangeType = 'add' | 'update' | 'delete';

export interface ConfigChange {
  readonly type: ChangeType;
  readonly key: string;
  /** The new entry (add/update) or the removed one (delete). */
  readonly entry: ResourceEntry;
  readonly previous?: ResourceEntry;
}

export interface ChangeBatch {
  readonly revision: number;
  readonly changes: readonly ConfigChange[];
}

export interface Conflict {
  readonly key: string;
  readonly kept: ResourceEntry;
  readonly ignored: ResourceEntry;
}

export function entryKey(e: ResourceEntry): string {
  const r = e.resource;
  return resourceKey(groupOf(r.apiVersion), r.kind, r.metadata.namespace, r.metadata.name);
}

function sameResource(a: ResourceEntry, b: ResourceEntry): boolean {
  // Resources are plain frozen JSON; a canonical JSON comparison is exact. apiVersion differences between
  // aliases (v1 vs v1alpha3) with the same content count as an update, as the user changed the text.
  return JSON.stringify(a.resource) === JSON.stringify(b.resource);
}

export class ConfigStore {
  #revision = 0;
  readonly #entries = new Map<string, { entry: ResourceEntry; source: string }>();
  readonly #bySource = new Map<string, Map<string, ResourceEntry>>();
  readonly #listeners = new Set<(batch: ChangeBatch) => void>();
  #conflicts: Conflict[] = [];

  get revision(): number {
    return this.#revision;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): ResourceEntry | undefined {
    return this.#entries.get(key)?.entry;
  }

  /** All entries, optionally of one kind (`group/Kind`, e.g. `networking.istio.io/VirtualService`), sorted by key. */
  list(kindId?: string): ResourceEntry[] {
    const out: ResourceEntry[] = [];
    for (const [key, v] of [...this.#entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (kindId === undefined || key.startsWith(kindId + '/')) out.push(v.entry);
    }
    return out;
  }

  /** Keys defined by more than one source: the first source (by name) wins, the others are reported here. */
  conflicts(): readonly Conflict[] {
    return this.#conflicts;
  }

  sources(): string[] {
    return [...this.#bySource.keys()].sort();
  }

  entriesOf(source: string): ResourceEntry[] {
    return [...(this.#bySource.get(source)?.values() ?? [])];
  }

  subscribe(listener: (batch: ChangeBatch) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Replaces everything `source` provides with `entries`; emits one batch (if anything changed). */
  replaceSource(source: string, entries: readonly ResourceEntry[]): ChangeBatch | undefined {
    return this.replaceSources(new Map([[source, entries]]));
  }

  /** Replaces several sources at once, as one batch and one revision. */
  replaceSources(updates: ReadonlyMap<string, readonly ResourceEntry[]>): ChangeBatch | undefined {
    for (const [source, entries] of updates) {
      const m = new Map<string, ResourceEntry>();
      for (const e of entries) if (!m.has(entryKey(e))) m.set(entryKey(e), e);
      if (m.size === 0) this.#bySource.delete(source);
      else this.#bySource.set(source, m);
    }
    return this.#recompute();
  }

  removeSource(source: string): ChangeBatch | undefined {
    return this.replaceSource(source, []);
  }

  #recompute(): ChangeBatch | undefined {
    const next = new Map<string, { entry: ResourceEntry; source: string }>();
    const conflicts: Conflict[] = [];
    for (const source of this.sources()) {
      for (const [key, entry] of this.#bySource.get(source) ?? []) {
        const have = next.get(key);
        if (have === undefined) next.set(key, { entry, source });
        else conflicts.push({ key, kept: have.entry, ignored: entry });
      }
    }
    this.#conflicts = conflicts;
    const changes: ConfigChange[] = [];
    for (const [key, v] of next) {
      const prev = this.#entries.get(key);
      if (prev === undefined) changes.push({ type: 'add', key, entry: v.entry });
      else if (!sameResource(prev.entry, v.entry)) changes.push({ type: 'update', key, entry: v.entry, previous: prev.entry });
    }
    for (const [key, prev] of this.#entries) if (!next.has(key)) changes.push({ type: 'delete', key, entry: prev.entry });
    this.#entries.clear();
    for (const [k, v] of next) this.#entries.set(k, v);
    if (changes.length === 0) return undefined;
    changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const batch = { revision: ++this.#revision, changes };
    for (const l of this.#listeners) l(batch);
    return batch;
  }
}
