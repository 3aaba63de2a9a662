// The proxy is benched as users run it: compiled JavaScript from dist/ (`npm run build`), not TypeScript
// through tsx, whose loader costs memory and start-up time a deployed proxy never pays. Before Isthmus
// rows run, dist/ is (re)built when it is missing or older than any source file, so the figures are
// always those of the code in src/.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToEnd } from './processes.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The entry point the bench runs; tsc writes every file on each build, so its mtime is the build's. */
export const DIST_ENTRY = 'dist/bin/isthmus.js';

function mtimeMs(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest modification time of a non-test .ts file under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, mtimeMs(p) ?? 0);
  }
  return newest;
}

/**
 * Builds dist/ if it is missing or stale. Type errors elsewhere in the tree do not stop the bench (tsc
 * still emits); they are reported. Returns why the proxy cannot be benched, or undefined.
 */
export async function ensureDist(log: (line: string) => void): Promise<string | undefined> {
  const built = mtimeMs(join(REPO_ROOT, DIST_ENTRY));
  if (built !== undefined && built >= newestSource(join(REPO_ROOT, 'src'))) return undefined;
  log(`  ${built === undefined ? 'dist/ not built' : 'dist/ older than src/'}: building (tsc -p tsconfig.build.json)`);
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await runToEnd('tsc', [process.execPath, tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT });
  } catch (e) {
    const first = (e instanceof Error ? e.message : String(e)).split('\n').slice(0, 6).join('\n    ');
    log(`  ! tsc reported errors (dist/ written anyway):\n    ${first}`);
  }
  return mtimeMs(join(REPO_ROOT, DIST_ENTRY)) === undefined ? `${DIST_ENTRY} missing after the build` : undefined;
}
