// Reading YAML/JSON from files, folders (recursively) and stdin (`-`) into loaded documents.
// Only `.yaml`, `.yml` and `.json` files are read from folders, as istioctl does; a file named
// explicitly is read whatever its extension.

import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { loadText, type LoadedDocument, type LoadProblem } from '../api/load.js';
import { IsthmusError } from '../lib/errors.js';

export const CONFIG_EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

export function isConfigFile(name: string): boolean {
  return CONFIG_EXTENSIONS.some((e) => name.endsWith(e));
}

/** Every config file under `dir`, sorted, as absolute paths. Hidden entries (`.git`, `.#x`) are skipped. */
export async function listConfigFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && isConfigFile(e.name)) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

export interface ReadResult {
  readonly documents: readonly LoadedDocument[];
  readonly problems: readonly LoadProblem[];
  /** The files that were read, as they are named in origins. */
  readonly files: readonly string[];
}

export interface ReadOptions {
  /** Reads stdin when a path is `-`. */
  readonly stdin?: () => Promise<string>;
  /** Origins name files relative to this folder (default: the process's working directory). */
  readonly cwd?: string;
}

/** Reads every path (file, folder or `-`) and parses the documents in it. Unreadable paths throw ISM_FILE_READ. */
export async function readConfigPaths(paths: readonly string[], opts: ReadOptions = {}): Promise<ReadResult> {
  const cwd = opts.cwd ?? process.cwd();
  const documents: LoadedDocument[] = [];
  const problems: LoadProblem[] = [];
  const files: string[] = [];
  const display = (p: string): string => {
    const r = relative(cwd, p);
    return r === '' || r.startsWith('..') ? p : r;
  };
  const addText = (text: string, name: string): void => {
    const r = loadText(text, name);
    documents.push(...r.documents);
    problems.push(...r.problems);
    files.push(name);
  };
  for (const p of paths) {
    if (p === '-') {
      if (opts.stdin === undefined) throw new IsthmusError('ISM_FILE_READ', 'reading from stdin (-) is not available here');
      addText(await opts.stdin(), '-');
      continue;
    }
    const abs = isAbsolute(p) ? p : resolve(cwd, p);
    let st;
    try {
      st = await stat(abs);
    } catch (e) {
      throw new IsthmusError('ISM_FILE_READ', `cannot read ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String(e)}`, { cause: e });
    }
    const list = st.isDirectory() ? await listConfigFiles(abs) : [abs];
    for (const f of list) addText(await readFile(f, 'utf8'), display(f));
  }
  return { documents, problems, files };
}
