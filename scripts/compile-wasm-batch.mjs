#!/usr/bin/env node
// Compiles several AssemblyScript plugins with one compiler in one process (used by build-wasm-plugins.mjs).
// Starting `asc` costs more than compiling a test plugin: a process per plugin took ~5 s each, one process
// ~1 s per plugin after the first (the compiler and Binaryen load and warm up once). The output is the same
// bytes as `asc` run alone with the same arguments.
// Usage: node scripts/compile-wasm-batch.mjs '<json>'  with json = { compiler: 'asc-0.17' | 'asc', jobs: [{ args }] }
// (args as for the `asc` command line, paths relative to the project root). Prints one JSON line per job:
// { index, ok, ms, output } where output is the compiler's messages; exits 0 once every job was tried.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
process.chdir(ROOT);
const { compiler, jobs } = JSON.parse(process.argv[2] ?? '{}');
if (!Array.isArray(jobs)) {
  console.error('compile-wasm-batch: expected {"compiler": ..., "jobs": [...]} as the only argument');
  process.exit(2);
}

/** @type {(args: string[]) => Promise<{ ok: boolean, output: string }>} */
let compile;
if (compiler === 'asc-0.17') {
  // assemblyscript 0.17 (CommonJS): main(argv, options) returns the exit code; Binaryen must be ready first.
  const asc = createRequire(import.meta.url)(`${ROOT}node_modules/assemblyscript-0.17/cli/asc.js`);
  await asc.ready;
  compile = async (args) => {
    const stdout = asc.createMemoryStream();
    const stderr = asc.createMemoryStream();
    const code = asc.main(args, { stdout, stderr });
    return { ok: code === 0, output: `${stdout.toString()}${stderr.toString()}` };
  };
} else if (compiler === 'asc') {
  // assemblyscript 0.2x (ESM): main(argv, options) resolves with { error, stdout, stderr }.
  const { default: asc } = await import(`${ROOT}node_modules/assemblyscript/dist/asc.js`);
  compile = async (args) => {
    const { error, stdout, stderr } = await asc.main(args, {});
    return { ok: error === null, output: `${stdout.toString()}${stderr.toString()}` };
  };
} else {
  console.error(`compile-wasm-batch: unknown compiler ${JSON.stringify(compiler)}`);
  process.exit(2);
}

for (const [index, job] of jobs.entries()) {
  const started = Date.now();
  let result;
  try {
    result = await compile(job.args);
  } catch (err) {
    result = { ok: false, output: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  process.stdout.write(`${JSON.stringify({ index, ok: result.ok, ms: Date.now() - started, output: result.output })}\n`);
}
