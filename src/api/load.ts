// Reading multi-document YAML (and JSON, which is YAML) into raw objects that remember where they came
// from: the file, the line each document starts on, and the line of any field path inside it, so that a
// validation issue can be printed as `file:line`. Kubernetes `List` objects are expanded into their items.
// Pure over text; reading files and folders lives in config/.

import { isMap, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { parsePath } from '../lib/issue.js';
import type { Origin } from './resource.js';

export interface LoadedDocument {
  readonly origin: Origin;
  readonly raw: unknown;
  /** 1-based line of the field at `path` (e.g. `spec.http[0].route`), or of the nearest parent that exists. */
  locate(path: string): number;
}

export interface LoadProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export interface LoadResult {
  readonly documents: readonly LoadedDocument[];
  readonly problems: readonly LoadProblem[];
}

function nodeLine(node: unknown, lc: LineCounter): number | undefined {
  if (node !== null && typeof node === 'object' && 'range' in node) {
    const range = (node as Node).range;
    if (range) return lc.linePos(range[0]).line;
  }
  return undefined;
}

function keyLine(doc: Document.Parsed, segs: (string | number)[], lc: LineCounter): number | undefined {
  // Prefer the key's own line for a map entry (`foo:`), else the value's.
  let node: unknown = doc.contents;
  let line = nodeLine(node, lc);
  for (const s of segs) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const k: unknown = p.key;
        const kv = k !== null && typeof k === 'object' && 'value' in k ? (k as { value: unknown }).value : k;
        return String(kv) === String(s);
      });
      if (pair === undefined) return line;
      line = nodeLine(pair.key, lc) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof s === 'number') {
      const item: unknown = node.items[s];
      if (item === undefined) return line;
      line = nodeLine(item, lc) ?? line;
      node = item;
    } else {
      return line;
    }
  }
  return line;
}

/** Parses YAML/JSON text holding any number of documents. `file` is only used for origins and problems. */
export function loadText(text: string, file: string): LoadResult {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const documents: LoadedDocument[] = [];
  const problems: LoadProblem[] = [];
  // An empty stream yields an EmptyStream object rather than an array: nothing to load.
  if (!Array.isArray(docs)) return { documents, problems };
  for (const doc of docs) {
    const docLine = nodeLine(doc.contents, lc) ?? (doc.range ? lc.linePos(doc.range[0]).line : 1);
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const line = e.pos !== undefined ? lc.linePos(e.pos[0]).line : docLine;
        problems.push({ file, line, message: `yaml: ${e.message.split('\n')[0] ?? e.message}` });
      }
      continue;
    }
    const raw: unknown = doc.toJS({ maxAliasCount: 100 });
    if (raw === null || raw === undefined) continue; // empty document between separators
    const push = (value: unknown, prefix: (string | number)[]): void => {
      const startLine = keyLine(doc, prefix, lc) ?? docLine;
      documents.push({
        origin: { file, line: prefix.length === 0 ? docLine : startLine },
        raw: value,
        locate: (path: string) => keyLine(doc, [...prefix, ...parsePath(path)], lc) ?? startLine,
      });
    };
    if (
      typeof raw === 'object' &&
      !Array.isArray(raw) &&
      (raw as Record<string, unknown>)['kind'] === 'List' &&
      Array.isArray((raw as Record<string, unknown>)['items'])
    ) {
      const items = (raw as Record<string, unknown>)['items'] as unknown[];
      items.forEach((item, i) => push(item, ['items', i]));
    } else {
      push(raw, []);
    }
  }
  return { documents, problems };
}
