// The folder source, Isthmus's embedded default: loads every YAML/JSON file under a folder, watches it,
// and on change (debounced) reloads only the files whose content changed. Mistakes never take config
// away: a file that stops parsing keeps all its previous resources; an invalid resource keeps its previous
// valid version; only a resource that is really gone from its file (or a deleted file) is deleted.

import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type { InvalidEntry, ResourceEntry } from '../api/entry.js';
import type { KindRegistry } from '../api/kind.js';
import { loadText } from '../api/load.js';
import { groupOf, resourceKey } from '../api/resource.js';
import type { ValidateOptions } from '../api/validate.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import { listConfigFiles } from './read-files.js';
import { entryKey, type ChangeBatch, type ConfigStore } from './store.js';
import { validateDocuments } from './validate-documents.js';

export interface FolderSourceOptions {
  readonly dir: string;
  readonly registry: KindRegistry;
  readonly store: ConfigStore;
  /** Quiet period before a reload (default 100 ms). */
  readonly debounceMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Origins name files relative to this folder (default: the working directory). */
  readonly cwd?: string;
  readonly validate?: ValidateOptions;
}

/** What one reload did: the store's change batch (if any) and the problems of the files it read. */
export interface ReloadReport {
  readonly batch: ChangeBatch | undefined;
  /** Problems per file that was (re)read in this reload; a file with no problems maps to []. */
  readonly problems: ReadonlyMap<string, readonly InvalidEntry[]>;
  readonly deletedFiles: readonly string[];
}

interface FileState {
  readonly hash: string;
  readonly entries: readonly ResourceEntry[];
  readonly problems: readonly InvalidEntry[];
}

export class FolderSource {
  readonly #opts: FolderSourceOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #files = new Map<string, FileState>();
  readonly #listeners = new Set<(r: ReloadReport) => void>();
  #watcher: FSWatcher | undefined;
  #timer: { cancel(): void } | undefined;
  #reloading: Promise<ReloadReport> | undefined;
  #again = false;
  #stopped = false;

  constructor(opts: FolderSourceOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
  }

  /** Current problems of every file, sorted by file. */
  problems(): InvalidEntry[] {
    return [...this.#files.keys()].sort().flatMap((f) => [...(this.#files.get(f)?.problems ?? [])]);
  }

  files(): string[] {
    return [...this.#files.keys()].sort();
  }

  onReload(listener: (r: ReloadReport) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Loads the folder once and starts watching it. Resolves with the first load's report. */
  async start(): Promise<ReloadReport> {
    const first = await this.reload();
    if (!this.#stopped) {
      this.#watcher = watch(this.#opts.dir, { recursive: true, persistent: true }, () => this.#schedule());
      this.#watcher.on('error', (e) => this.#log.warn('config folder watch error', { dir: this.#opts.dir, error: String(e) }));
    }
    return first;
  }

  stop(): void {
    this.#stopped = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer?.cancel();
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.reload().catch((e: unknown) => this.#log.error('config reload failed', { error: String(e) }));
    }, this.#opts.debounceMs ?? 100);
  }

  /** Rescans the folder now; concurrent calls are coalesced (a change during a reload triggers one more). */
  async reload(): Promise<ReloadReport> {
    if (this.#reloading !== undefined) {
      this.#again = true;
      return this.#reloading;
    }
    this.#reloading = this.#reloadOnce();
    try {
      let report = await this.#reloading;
      while (this.#again && !this.#stopped) {
        this.#again = false;
        this.#reloading = this.#reloadOnce();
        report = await this.#reloading;
      }
      return report;
    } finally {
      this.#reloading = undefined;
    }
  }

  async #reloadOnce(): Promise<ReloadReport> {
    const cwd = this.#opts.cwd ?? process.cwd();
    const paths = await listConfigFiles(this.#opts.dir);
    const seen = new Set<string>();
    const updates = new Map<string, readonly ResourceEntry[]>();
    const problems = new Map<string, readonly InvalidEntry[]>();
    for (const abs of paths) {
      const name = relative(cwd, abs) || abs;
      seen.add(name);
      let text: string;
      try {
        text = await readFile(abs, 'utf8');
      } catch {
        continue; // deleted between listing and reading: the next event rescans
      }
      const hash = createHash('sha256').update(text).digest('hex');
      const prev = this.#files.get(name);
      if (prev !== undefined && prev.hash === hash) continue;
      const state = this.#loadFile(name, text, hash, prev);
      this.#files.set(name, state);
      updates.set(name, state.entries);
      problems.set(name, state.problems);
      for (const p of state.problems)
        for (const i of p.issues)
          this.#log.warn('invalid config', {
            file: `${p.origin.file}:${p.locate?.(i.path) ?? p.origin.line}`,
            resource: `${p.kind ?? '?'} ${p.namespace !== undefined ? p.namespace + '/' : ''}${p.name ?? '?'}`,
            field: i.path,
            message: i.message,
          });
    }
    const deletedFiles: string[] = [];
    for (const name of [...this.#files.keys()]) {
      if (!seen.has(name)) {
        this.#files.delete(name);
        updates.set(name, []);
        deletedFiles.push(name);
      }
    }
    const batch = updates.size > 0 ? this.#opts.store.replaceSources(updates) : undefined;
    const report: ReloadReport = { batch, problems, deletedFiles };
    for (const l of this.#listeners) l(report);
    return report;
  }

  #loadFile(name: string, text: string, hash: string, prev: FileState | undefined): FileState {
    const loaded = loadText(text, name);
    if (loaded.problems.length > 0) {
      // The file does not parse: nothing in it can be trusted, so everything it had keeps serving.
      const { invalid } = validateDocuments([], this.#opts.registry, this.#opts.validate, loaded.problems);
      return { hash, entries: prev?.entries ?? [], problems: invalid };
    }
    const { entries, invalid } = validateDocuments(loaded.documents, this.#opts.registry, this.#opts.validate);
    const kept: ResourceEntry[] = [...entries];
    const newKeys = new Set(entries.map(entryKey));
    const prevByKey = new Map((prev?.entries ?? []).map((e) => [entryKey(e), e]));
    for (const bad of invalid) {
      if (bad.apiVersion === undefined || bad.kind === undefined || bad.name === undefined) continue;
      const key = resourceKey(groupOf(bad.apiVersion), bad.kind, bad.namespace, bad.name);
      const old = prevByKey.get(key);
      if (old !== undefined && !newKeys.has(key)) kept.push(old);
    }
    return { hash, entries: kept, problems: invalid };
  }
}
