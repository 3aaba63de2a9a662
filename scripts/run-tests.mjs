#!/usr/bin/env node
// Runs every *.test.ts under src/, test/, demo/ and bench/ with Node's own test runner. The TypeScript is compiled
// to JavaScript once for the run (scripts/test-loader: esbuild, a few seconds) and loaded by the run's module hooks,
// not transformed by tsx in every test file's process (0.3 s to start tsx in each of them, more per module).
// Usage: node scripts/run-tests.mjs [path-substring ...]  (filters the file list)
// First it builds the dashboard's web app (scripts/build-dashboard.mjs) and compiles the Wasm test plugins from their AssemblyScript sources with the two proxy-wasm SDKs
// (scripts/build-wasm-plugins.mjs; nothing is compiled when the sources did not change).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { compileForTests, removeCompiled } from './test-loader/compile.mjs';

const root = new URL('..', import.meta.url).pathname;
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
}
for (const d of ['src', 'test', 'demo', 'bench']) walk(join(root, d));
const filters = process.argv.slice(2);
const selected = files.filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// A file that hangs fails after TEST_FILE_TIMEOUT seconds instead of holding the run until CI's own limit
// (Node 20 applies --test-timeout to each file as a whole, and the runner kills the file's process).
// Not --test-force-exit: in a CI run with it, engine.test.ts's report stopped in the middle of the file and
// the runner counted 11 tests fewer, without a failure (a file exiting before its reports were out).
const fileTimeout = Number(process.env.TEST_FILE_TIMEOUT ?? 300);
if (!(fileTimeout > 0)) {
  console.error(`TEST_FILE_TIMEOUT must be a positive number of seconds, got ${JSON.stringify(process.env.TEST_FILE_TIMEOUT)}`);
  process.exit(2);
}
// The runner and everything the tests start run in a process group of their own (detached), so that what a
// killed file left behind (its servers, proxies, browsers) can be ended with it: at the end of the run, and
// when the whole run passes TEST_RUN_TIMEOUT minutes (default 45, half of CI's limit; a file past its own
// timeout is killed by the runner, but a process it started could still hold the run open).
const runTimeout = Number(process.env.TEST_RUN_TIMEOUT ?? 45);
if (!(runTimeout > 0)) {
  console.error(`TEST_RUN_TIMEOUT must be a positive number of minutes, got ${JSON.stringify(process.env.TEST_RUN_TIMEOUT)}`);
  process.exit(2);
}
// The dashboard's web app (dist/dashboard-web), which the control plane serves and the browser tests load.
const { buildDashboard } = await import('./build-dashboard.mjs');
await buildDashboard();
const { buildWasmPlugins } = await import('./build-wasm-plugins.mjs');
const t0 = Date.now();
const built = await buildWasmPlugins({ quiet: true });
const compiled = built.plugins.filter((p) => p.compiled).length;
if (compiled > 0) console.log(`wasm test plugins: compiled ${compiled} of ${built.plugins.length} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const compiledJs = await compileForTests();
const reporters = process.env.TEST_TAP_FILE
  ? ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${process.env.TEST_TAP_FILE}`]
  : ['--test-reporter=spec'];
const runner = spawn(
  process.execPath,
  [
    '--import',
    pathToFileURL(join(root, 'scripts', 'test-loader', 'register.mjs')).href,
    '--test',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    `--test-timeout=${Math.round(fileTimeout * 1000)}`,
    ...reporters,
    ...selected,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test', ISTHMUS_TEST_JS: compiledJs.dir }, detached: true },
);
const killGroup = (signal) => {
  try {
    process.kill(-runner.pid, signal);
  } catch {
    // the group is gone already
  }
};
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => killGroup(sig));
const ceiling = setTimeout(() => {
  console.error(`\nthe test run passed TEST_RUN_TIMEOUT (${runTimeout} min): stopping it and every process it started`);
  killGroup('SIGKILL');
}, runTimeout * 60_000);
runner.on('exit', (code, signal) => {
  clearTimeout(ceiling);
  killGroup('SIGKILL'); // whatever a test left running
  removeCompiled(compiledJs.dir).finally(() => process.exit(code ?? (signal !== null ? 1 : 0)));
});
