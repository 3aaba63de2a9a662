// Module hooks for the test run (registered by register.mjs): a .ts module's source is the JavaScript that
// compile.mjs wrote for it into ISTHMUS_TEST_JS (the run's directory), while its URL stays the .ts file's.
// As TypeScript's NodeNext resolution does, a relative `./x.js` imported from a .ts module is `./x.ts` when that
// file exists. A .ts file the run did not compile (written after the run began) is compiled here by esbuild.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = process.env.ISTHMUS_TEST_JS;
if (OUT === undefined || OUT === '') {
  throw new Error('scripts/test-loader: ISTHMUS_TEST_JS is not set (scripts/run-tests.mjs sets it to the compiled sources)');
}

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent !== undefined && parent.endsWith('.ts') && parent.startsWith('file:') && specifier.endsWith('.js')
    && (specifier.startsWith('./') || specifier.startsWith('../'))) {
    const ts = new URL(`${specifier.slice(0, -'.js'.length)}.ts`, parent);
    if (existsSync(fileURLToPath(ts))) return { url: ts.href, format: 'module', shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const rel = relative(ROOT, file);
  if (!rel.startsWith('..')) {
    try {
      return { format: 'module', source: await readFile(join(OUT, `${rel.slice(0, -'.ts'.length)}.js`), 'utf8'), shortCircuit: true };
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
  }
  const { transform } = await import('esbuild');
  const { code } = await transform(await readFile(file, 'utf8'), {
    loader: 'ts', format: 'esm', platform: 'node', target: 'node20', sourcemap: 'inline', sourcefile: basename(file),
  });
  return { format: 'module', source: code, shortCircuit: true };
}
