// Reading a user's mesh config document: typed field readers that collect every problem with its field
// path instead of stopping at the first (parseMeshConfig and the extension provider readers use them).

import { at, error, type Issue } from '../lib/issue.js';

export type Obj = Readonly<Record<string, unknown>>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class Reader {
  readonly issues: Issue[] = [];

  str(o: Obj, key: string, path: string, fallback: string): string {
    const v = o[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') {
      this.issues.push(error(at(path, key), 'must be a string'));
      return fallback;
    }
    return v;
  }

  bool(o: Obj, key: string, path: string, fallback: boolean): boolean {
    const v = o[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      this.issues.push(error(at(path, key), 'must be true or false'));
      return fallback;
    }
    return v;
  }

  uint(o: Obj, key: string, path: string): number {
    const v = o[key];
    if (v === undefined || v === null) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      this.issues.push(error(at(path, key), 'must be a non-negative integer'));
      return 0;
    }
    return v;
  }

  /** A protobuf JSON Duration (`0.5s`) in milliseconds; undefined when absent or invalid. */
  duration(o: Obj, key: string, path: string): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    const m = typeof v === 'string' ? /^(\d+(?:\.\d{1,9})?)s$/.exec(v) : null;
    if (m === null) {
      this.issues.push(error(at(path, key), `invalid duration ${JSON.stringify(v)}: want seconds such as "0.5s"`));
      return undefined;
    }
    return Math.round(Number(m[1]) * 1000);
  }

  strings(o: Obj, key: string, path: string): string[] {
    const v = o[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      this.issues.push(error(at(path, key), 'must be a list of strings'));
      return [];
    }
    return v as string[];
  }

  stringMap(o: Obj, key: string, path: string): Record<string, string> {
    const v = o[key];
    if (v === undefined || v === null) return {};
    if (!isObj(v) || Object.values(v).some((x) => typeof x !== 'string')) {
      this.issues.push(error(at(path, key), 'must be a map of strings'));
      return {};
    }
    return { ...(v as Record<string, string>) };
  }
}
