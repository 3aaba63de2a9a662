// The built web app (scripts/build-dashboard.mjs writes it to dist/dashboard-web/), served as files.
// Which files may be served before login is decided by the server, not here. Files are read once and
// kept in memory (the whole app is a few hundred kB); a missing build answers a page saying how to build.

import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** dist/dashboard-web of the isthmus package this code runs from (src/, dist/ or a bundle under dist/). */
export function defaultWebRoot(from: string = fileURLToPath(import.meta.url)): string {
  for (let d = dirname(from); ; d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'isthmus') return join(d, 'dist', 'dashboard-web');
    if (dirname(d) === d) return join(dirname(from), 'dashboard-web');
  }
}

export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
}

export class WebAssets {
  readonly #cache = new Map<string, Promise<Asset | undefined>>();

  constructor(readonly root: string) {}

  /** The file at URL path `path` (`/assets/app.js`), or undefined when there is none. */
  get(path: string): Promise<Asset | undefined> {
    const rel = normalize(decodeURIComponent(path)).replace(/^[/\\]+/, '');
    if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('..')) return Promise.resolve(undefined);
    let hit = this.#cache.get(rel);
    if (hit === undefined) {
      hit = readFile(join(this.root, rel)).then(
        (body) => ({ body, contentType: TYPES[extname(rel)] ?? 'application/octet-stream' }),
        () => undefined,
      );
      // A miss is not cached: the build may land after the server started.
      void hit.then((a) => a === undefined && this.#cache.delete(rel));
      this.#cache.set(rel, hit);
    }
    return hit;
  }
}
