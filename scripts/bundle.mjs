#!/usr/bin/env node
// Bundles the `isthmus` binary with esbuild into dist/bundle/ (one file per dynamic import: the proxy's
// chunk loads without the rest of the CLI). Node spends most of a process's start resolving and compiling
// hundreds of ES modules; a bundle cuts each `isthmus proxy` start from about 1.2 to 0.8 CPU-seconds, which
// `isthmus up` pays once per pod. dist/bin/isthmus.js (tsc's output) stays the package's bin; `npm start`
// and `isthmus up`'s launcher use the bundle when it exists.
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `--outdir <dir>` (inside the package, so the launcher finds it): tests bundle into their own folder.
const at = process.argv.indexOf('--outdir');
const outdir = at > 0 && process.argv[at + 1] !== undefined ? resolve(process.argv[at + 1]) : join(root, 'dist/bundle');
rmSync(outdir, { recursive: true, force: true }); // chunk names change with their content
await build({
  // worker-main: `isthmus proxy --concurrency N` forks ./worker-main.mjs next to the code that starts it.
  entryPoints: { isthmus: join(root, 'src/bin/isthmus.ts'), 'worker-main': join(root, 'src/proxy/workers/worker-main.ts') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
});
// The full build (`npm run build`) ends here: the dashboard's web app (dist/dashboard-web, served by the
// control plane), then the stamp, so `npm start` does not build the same sources again. Test bundles
// (--outdir) leave the web app to the test runner.
if (at < 0) await (await import('./build-dashboard.mjs')).buildDashboard();
if (at < 0) writeFileSync(join(root, 'dist/.build-stamp'), new Date().toISOString() + '\n');
