// How `isthmus up` starts its processes on this machine: the `isthmus` binary itself (for each proxy) and
// the bundled demo images. Built (`dist/`), everything runs as plain JavaScript; from a source checkout
// (`src/`, run with tsx) the same files run through tsx. Bundled images are the demo's apps, named as
// container images so the demo's Deployments read as they would in a cluster:
// `isthmus/bookinfo-productpage|details|reviews|ratings`.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Launcher {
  /** The Node binary. */
  readonly node: string;
  /** Arguments before `isthmus`'s own (`[--import tsx] <bin>`). */
  readonly isthmusArgs: readonly string[];
  /** Node arguments that run a bundled image, or undefined when the image is not bundled. */
  bundled(image: string): readonly string[] | undefined;
  /** The folder of the demo's config (the default of `isthmus up`). */
  readonly demoConfig: string;
}

const BUNDLED = /^isthmus\/bookinfo-(productpage|details|reviews|ratings)(:.*)?$/;

export function defaultLauncher(): Launcher {
  const self = fileURLToPath(import.meta.url);
  const fromSource = extname(self) === '.ts';
  const root = packageRoot(dirname(self));
  const tsx = (): string[] => ['--import', import.meta.resolve('tsx')];
  // Run as we were run: from source through tsx; from a bundle (this file is one of its chunks), that same
  // bundle; from tsc's dist/, the bundle next to it when built, else dist/bin.
  const ownBundle = join(dirname(self), 'isthmus.mjs');
  const distBundle = join(root, 'dist/bundle/isthmus.mjs');
  const isthmusArgs = fromSource
    ? [...tsx(), join(root, 'src/bin/isthmus.ts')]
    : existsSync(ownBundle)
      ? [ownBundle]
      : existsSync(distBundle)
        ? [distBundle]
        : [join(root, 'dist/bin/isthmus.js')];
  return {
    node: process.execPath,
    isthmusArgs,
    demoConfig: join(root, 'examples/bookinfo'),
    bundled(image) {
      const m = BUNDLED.exec(image);
      if (m === null) return undefined;
      const built = join(root, 'dist/demo/bookinfo', `${m[1]}.js`);
      if (!fromSource && existsSync(built)) return [built];
      return [...tsx(), join(root, 'demo/bookinfo', `${m[1]}.ts`)];
    },
  };
}

/** The folder of Isthmus's package.json above `dir` (src/cli/up, dist/cli/up or dist/bundle). */
function packageRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'isthmus') return d;
    if (dirname(d) === d) throw new Error(`isthmus: cannot find the package root above ${dir}`);
  }
}
