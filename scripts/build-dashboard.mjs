#!/usr/bin/env node
// Builds the dashboard's web app (src/dashboard/web) into dist/dashboard-web/, which the control plane's
// dashboard server serves: esbuild bundles the two entry points (assets/login.js for the login page,
// assets/app.js for everything behind it) and the static files (HTML, CSS, icon) are copied. Everything
// the browser loads is in that folder: no CDN, the dashboard works without internet access.
// Each file is written to a temporary name and renamed, so a server (or a second build running at the
// same time) never reads half a file. Run by `npm run build` (scripts/bundle.mjs), `npm start` and the
// test runner; `node scripts/build-dashboard.mjs [--outdir <dir>]` alone.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'src/dashboard/web');

function writeAtomically(file, contents) {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, file);
}

/** Builds the web app into `outdir` (default dist/dashboard-web); resolves with the files written. */
export async function buildDashboard({ outdir = join(root, 'dist/dashboard-web') } = {}) {
  const result = await build({
    entryPoints: { app: join(web, 'app.ts'), login: join(web, 'login.ts') },
    outdir: join(outdir, 'assets'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    sourcemap: 'linked',
    write: false,
    logLevel: 'warning',
  });
  const written = [];
  for (const f of result.outputFiles) {
    writeAtomically(f.path, f.contents);
    written.push(relative(outdir, f.path));
  }
  const staticDir = join(web, 'static');
  for (const name of readdirSync(staticDir)) {
    const target = name.endsWith('.css') || name.endsWith('.svg') ? join(outdir, 'assets', name) : join(outdir, name);
    writeAtomically(target, readFileSync(join(staticDir, name)));
    written.push(relative(outdir, target));
  }
  return { outdir, files: written.sort() };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--outdir');
  const r = await buildDashboard(at > 0 && process.argv[at + 1] !== undefined ? { outdir: resolve(process.argv[at + 1]) } : {});
  if (!process.argv.includes('--quiet')) console.log(`dashboard web app: ${r.files.length} files in ${relative(process.cwd(), r.outdir) || '.'}`);
}
