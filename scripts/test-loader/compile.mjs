// The test run's TypeScript, compiled to JavaScript once before the files run (scripts/run-tests.mjs).
// Each test file runs in its own process, and loading TypeScript through tsx cost each one 0.3 s to start
// tsx and more for every module it transformed or resolved (0.5 s more for a file that loads the xDS types:
// 4.8 s against 3.9 s for router-controls.test.ts). esbuild compiles every .ts file of the project here in a
// few seconds, each file alone (type-only imports are marked as such: tsconfig's verbatimModuleSyntax), and
// hooks.mjs serves a module from this output while its URL stays the .ts file's, so import.meta.url, relative
// paths and stack traces (inline source maps, register.mjs enables them) are the source's.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE = join(ROOT, 'node_modules', '.cache', 'isthmus-test-js');
const SOURCE_DIRS = ['src', 'test', 'bench', 'demo'];
// AssemblyScript, not TypeScript for Node: the Wasm test plugins' sources (compiled by build-wasm-plugins.mjs).
const SKIP = ['test/wasm-plugins/solo-io', 'test/wasm-plugins/gcore', 'test/wasm-plugins/common', 'test/wasm-plugins/build'];

/**
 * Compiles every .ts file under src, test, bench and demo into a directory of this run's own (several runs may
 * share a checkout) and returns it; a run's directory is removed by removeCompiled, and one left by a run that
 * died is removed by the next run. Rejects with esbuild's message when a file does not compile.
 */
export async function compileForTests() {
  await removeAbandoned();
  const outDir = join(CACHE, String(process.pid));
  await rm(outDir, { recursive: true, force: true });
  const files = (await Promise.all(SOURCE_DIRS.map((d) => listTs(join(ROOT, d))))).flat();
  const dirs = new Set(files.map((f) => dirname(join(outDir, relative(ROOT, f)))));
  await Promise.all([...dirs].map((d) => mkdir(d, { recursive: true })));
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      const rel = relative(ROOT, file);
      const result = await transform(await readFile(file, 'utf8'), {
        loader: 'ts', format: 'esm', platform: 'node', target: 'node20', sourcemap: 'inline', sourcefile: basename(file),
      }).catch((err) => {
        throw new Error(`compiling ${rel} for the tests failed: ${err instanceof Error ? err.message : String(err)}`);
      });
      await writeFile(join(outDir, `${rel.slice(0, -'.ts'.length)}.js`), result.code);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return { dir: outDir, files: files.length };
}

export async function removeCompiled(dir) {
  await rm(dir, { recursive: true, force: true });
}

async function removeAbandoned() {
  let runs;
  try {
    runs = await readdir(CACHE);
  } catch {
    return;
  }
  for (const name of runs) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    await rm(join(CACHE, name), { recursive: true, force: true });
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code !== 'ESRCH';
  }
}

async function listTs(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) {
      if (!SKIP.includes(relative(ROOT, p))) out.push(...(await listTs(p)));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      out.push(p);
    }
  }
  return out;
}
