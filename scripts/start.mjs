#!/usr/bin/env node
// `npm start`: builds when a source changed since the last build, then runs `isthmus up` (the Bookinfo
// demo mesh, or the folder given after `npm start --`). An unchanged checkout starts at once instead of
// spending the ~20 s of a full TypeScript build.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist/.build-stamp');

/** The newest modification time among the build's inputs (tests excluded). */
function newest(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return 0;
  if (!st.isDirectory()) return /\.test\.ts$/.test(path) ? 0 : st.mtimeMs;
  let m = st.mtimeMs;
  for (const e of readdirSync(path)) m = Math.max(m, newest(join(path, e)));
  return m;
}

const inputs = ['src', 'demo', 'proto', 'scripts/gen-xds.mjs', 'scripts/bundle.mjs', 'scripts/build-dashboard.mjs', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.demo.json'];
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (Math.max(...inputs.map((p) => newest(join(root, p)))) > built) {
  process.stderr.write('building (sources changed since the last build)...\n');
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  writeFileSync(stamp, new Date().toISOString() + '\n');
}
const bin = existsSync(join(root, 'dist/bundle/isthmus.mjs')) ? 'dist/bundle/isthmus.mjs' : 'dist/bin/isthmus.js';
process.argv = [process.argv[0], join(root, bin), 'up', ...process.argv.slice(2)];
await import(join(root, bin));
