#!/usr/bin/env node
// Builds the proxy-wasm test plugins: every test/wasm-plugins/<sdk>/*.ts is compiled with that
// SDK's AssemblyScript compiler into test/wasm-plugins/build/<sdk>/<name>.wasm (gitignored).
//   solo-io: @solo-io/proxy-runtime 0.1.8 + assemblyscript 0.17 (npm alias assemblyscript-0.17)
//   gcore:   @gcoredev/proxy-wasm-sdk-as 1.2.3 + assemblyscript 0.28 + @assemblyscript/wasi-shim
// Up-to-date check: each output has a `<name>.stamp` holding a sha256 over the compiler and SDK
// versions, the compile flags, the plugin source and every shared helper it may import
// (test/wasm-plugins/common/**, <sdk>/lib/**); a matching stamp means nothing is compiled, so
// repeated test runs cost a few file reads. The stale plugins are compiled in batches, two batches at a
// time, each batch one process running one SDK's compiler over several plugins (compile-wasm-batch.mjs:
// the compiler starts once, not once per plugin); outputs are written to a temporary name and renamed,
// and a lock directory serialises concurrent callers (node --test runs test files in parallel processes).
// Usage: node scripts/build-wasm-plugins.mjs [--quiet]   (exit 1 with the compiler's message)
// API:   import { buildWasmPlugins } from './build-wasm-plugins.mjs'; await buildWasmPlugins({ quiet: true })
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import {
  existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PLUGINS_DIR = join(ROOT, 'test', 'wasm-plugins');
const BUILD_DIR = join(PLUGINS_DIR, 'build');
const LOCK_DIR = join(BUILD_DIR, '.lock');
const PARALLEL = Math.max(1, Math.min(2, availableParallelism()));
// Optimised (inlining, dead-code removal) like a shipped plugin, but at level 1: -O3 costs ~20%
// more CPU per plugin for no difference the host can observe. Changing flags changes every stamp.
const OPTIMIZE = ['-O1'];

/** @typedef {{ sdk: string, compilerPackage: string, compiler: 'asc-0.17' | 'asc', packages: string[], shared: string[], args: (src: string, out: string) => string[] }} Sdk */
/** @type {Sdk[]} */
const SDKS = [
  {
    sdk: 'solo-io',
    compilerPackage: 'assemblyscript-0.17',
    compiler: 'asc-0.17',
    packages: ['@solo-io/proxy-runtime'],
    shared: ['test/wasm-plugins/common', 'test/wasm-plugins/solo-io/lib'],
    // 0.1.8 needs its abort (logs via proxy_log, then wasi_unstable.proc_exit(255)).
    args: (src, out) => [src, '--binaryFile', out, '--use', 'abort=abort_proc_exit', ...OPTIMIZE],
  },
  {
    sdk: 'gcore',
    compilerPackage: 'assemblyscript',
    compiler: 'asc',
    packages: ['@gcoredev/proxy-wasm-sdk-as', '@assemblyscript/wasi-shim'],
    shared: ['test/wasm-plugins/common', 'test/wasm-plugins/gcore/lib'],
    // The SDK logs through WASI (fd_write): the shim maps console/process/abort to WASI and
    // exports `_start`. The shim's `abort=wasi_abort` wins over a `--use abort=abort_proc_exit`
    // given next to it, so abort writes "abort: <msg> in <file>(<l>:<c>)" to fd 2 and calls
    // proc_exit(255).
    args: (src, out) => [
      src, '--outFile', out, '--config', 'node_modules/@assemblyscript/wasi-shim/asconfig.json', ...OPTIMIZE,
    ],
  },
];

/**
 * Compiles every plugin whose stamp is stale. Resolves with one entry per plugin; rejects with
 * the compiler's output when a compilation fails.
 * @param {{ quiet?: boolean }} [options]
 * @returns {Promise<{ buildDir: string, plugins: { sdk: string, name: string, wasm: string, compiled: boolean }[] }>}
 */
export async function buildWasmPlugins({ quiet = false } = {}) {
  mkdirSync(BUILD_DIR, { recursive: true });
  const jobs = planJobs();
  if (jobs.every((j) => j.fresh)) return summary(jobs, new Set());
  const release = await acquireLock();
  try {
    const todo = planJobs().filter((j) => !j.fresh); // re-check: another process may have built
    const compiled = new Set();
    const batches = planBatches(todo);
    let next = 0;
    let failure = null;
    const worker = async () => {
      while (failure === null && next < batches.length) {
        const batch = batches[next++];
        try {
          await compileBatch(batch, (job, ms) => {
            compiled.add(job.wasm);
            if (!quiet) console.log(`wasm-plugins: compiled ${job.sdk}/${job.name}.wasm in ${(ms / 1000).toFixed(1)}s`);
          });
        } catch (err) {
          failure ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, batches.length) }, worker));
    if (failure !== null) throw failure;
    return summary(planJobs(), compiled);
  } finally {
    release();
  }
}

/** Absolute path of a built plugin, e.g. wasmPluginPath('gcore', 'deny'). */
export function wasmPluginPath(sdk, name) {
  return join(BUILD_DIR, sdk, `${name}.wasm`);
}

function summary(jobs, compiled) {
  return {
    buildDir: BUILD_DIR,
    plugins: jobs.map((j) => ({ sdk: j.sdk, name: j.name, wasm: j.wasm, compiled: compiled.has(j.wasm) })),
  };
}

function planJobs() {
  const jobs = [];
  for (const sdk of SDKS) {
    const dir = join(PLUGINS_DIR, sdk.sdk);
    const sharedHash = hashFiles(sdk.shared.flatMap((d) => listTs(join(ROOT, d))));
    const versions = [sdk.compilerPackage, ...sdk.packages].map((p) => `${p}@${packageVersion(p)}`).join(' ');
    for (const file of listTs(dir, false).sort()) {
      const name = basename(file, '.ts');
      const src = relative(ROOT, file);
      const wasm = wasmPluginPath(sdk.sdk, name);
      const args = sdk.args(src, relative(ROOT, wasm));
      const stamp = createHash('sha256')
        .update(`${versions}\n${args.join(' ')}\n${sharedHash}\n`)
        .update(readFileSync(file))
        .digest('hex');
      const stampFile = `${wasm.slice(0, -'.wasm'.length)}.stamp`;
      const fresh = existsSync(wasm) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
      jobs.push({ sdk: sdk.sdk, name, src, wasm, stamp, stampFile, fresh, compiler: sdk.compiler, args: sdk.args });
    }
  }
  return jobs;
}

/** One SDK's stale plugins in up to PARALLEL batches of alternating plugins, the largest batches first. */
function planBatches(todo) {
  const batches = [];
  for (const sdk of SDKS) {
    const jobs = todo.filter((j) => j.sdk === sdk.sdk);
    const n = Math.min(PARALLEL, jobs.length);
    for (let b = 0; b < n; b++) batches.push(jobs.filter((_, i) => i % n === b));
  }
  return batches.sort((a, b) => b.length - a.length);
}

/** Compiles a batch in one compile-wasm-batch.mjs process; rejects with the compiler's output at the first failure. */
function compileBatch(batch, onCompiled) {
  const tmps = batch.map((job) => `${job.wasm}.${process.pid}.tmp`);
  for (const job of batch) mkdirSync(join(BUILD_DIR, job.sdk), { recursive: true });
  const request = {
    compiler: batch[0].compiler,
    jobs: batch.map((job, i) => ({ args: job.args(job.src, relative(ROOT, tmps[i])) })),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'compile-wasm-batch.mjs'), JSON.stringify(request)], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    let stderr = '';
    let failure = null;
    const done = new Set();
    child.stderr.on('data', (d) => { stderr += d; });
    child.stdout.on('data', (d) => {
      pending += d;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const result = JSON.parse(line);
        const job = batch[result.index];
        const tmp = tmps[result.index];
        done.add(result.index);
        if (!result.ok || !existsSync(tmp)) {
          rmSync(tmp, { force: true });
          failure ??= new Error(`wasm-plugins: compiling ${job.src} failed:\n${result.output.trim()}`);
          continue;
        }
        renameSync(tmp, job.wasm);
        writeFileSync(job.stampFile, job.stamp);
        onCompiled(job, result.ms);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      for (const tmp of tmps) rmSync(tmp, { force: true });
      const missed = batch.find((_, i) => !done.has(i));
      if (failure === null && (code !== 0 || missed !== undefined)) {
        failure = new Error(`wasm-plugins: the ${batch[0].sdk} compiler exited (${code}) before compiling ${missed?.src ?? 'every plugin'}:\n${stderr.trim()}`);
      }
      if (failure !== null) reject(failure);
      else resolve();
    });
  });
}

function listTs(dir, recursive = true) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (recursive) out.push(...listTs(p));
    } else if (entry.name.endsWith('.ts')) {
      out.push(p);
    }
  }
  return out;
}

function hashFiles(files) {
  const h = createHash('sha256');
  for (const f of files.sort()) h.update(`${relative(ROOT, f)}\0`).update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

function packageVersion(name) {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
  return String(pkg.version);
}

/** mkdir is atomic: the holder writes its pid; a lock whose holder died or is >10 min old is taken over. */
async function acquireLock() {
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      return () => rmSync(LOCK_DIR, { recursive: true, force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      if (lockIsStale()) {
        rmSync(LOCK_DIR, { recursive: true, force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function lockIsStale() {
  try {
    if (Date.now() - statSync(LOCK_DIR).mtimeMs > 10 * 60_000) return true;
    const pid = Number(readFileSync(join(LOCK_DIR, 'pid'), 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false; // holder has not written its pid yet
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return err.code === 'ESRCH';
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildWasmPlugins({ quiet: process.argv.includes('--quiet') }).catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
