// Child processes of the data-plane bench: find a tool on this machine, spawn it pinned to one core with
// its output kept for error messages, wait until it answers HTTP, and stop it by its pid. Every child
// started here is remembered, so a bench that exits early never leaves one running; nothing here
// signals a process it did not start.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processTree } from './measure.js';

const TAIL_LINES = 20;
const STOP_GRACE_MS = 5_000;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Where Debian puts nginx and haproxy (not on a non-root user's PATH). */
const EXTRA_BIN_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** The absolute path of an executable on PATH (or in an sbin folder), or undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== ''), ...EXTRA_BIN_DIRS];
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

const TASKSET = findBinary('taskset');

/** Whether children can be pinned to a core (util-linux's taskset is present). */
export function canPin(): boolean {
  return TASKSET !== undefined;
}

export interface SpawnOptions {
  /** Run on this CPU core only (`taskset -c`); unpinned when taskset is missing. */
  readonly core?: number;
  readonly cwd?: string;
  /** Called with each line of stdout. */
  readonly onLine?: (line: string) => void;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** Resolves once the process has exited, with how it ended ("exit code 1", "signal SIGTERM"). */
  readonly exited: Promise<string>;
  isRunning(): boolean;
  /** The last lines it printed (stdout and stderr), for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves when it has exited. */
  stop(): Promise<void>;
}

const tempDirs = new Set<string>();

/**
 * On any exit of the bench (an error, Ctrl-C, a closed stdout), SIGKILL every child still running with its
 * whole process tree (a killed nginx master would leave its worker behind) and remove the temp folders.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) {
      if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) continue;
      for (const pid of processTree(c.pid).reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  // Without a handler these signals end Node without running 'exit' handlers.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
}

/** A new temp folder, removed by `removeTempDir` or, at the latest, when the bench exits. */
export function makeTempDir(prefix: string): string {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Starts `argv` (argv[0] an executable path) as a tracked child. Rejects if it cannot be started. */
export async function spawnChild(name: string, argv: readonly string[], o: SpawnOptions = {}): Promise<Child> {
  const [file, ...args] = o.core !== undefined && TASKSET !== undefined ? [TASKSET, '-c', String(o.core), ...argv] : argv;
  if (file === undefined) throw new Error(`${name}: empty command`);
  installExitHook();
  const cp = spawn(file, args, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((ok, fail) => {
    const onError = (e: Error): void => fail(new Error(`${name}: cannot start ${file}: ${e.message}`));
    cp.once('error', onError);
    cp.once('spawn', () => {
      cp.off('error', onError);
      cp.on('error', () => undefined); // a failed kill() of an already-gone process is not news
      ok();
    });
  });
  const pid = cp.pid;
  if (pid === undefined) throw new Error(`${name}: no pid`);
  live.add(cp);
  const lines: string[] = [];
  const keep = (line: string): void => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
  };
  splitLines(cp, 'stdout', (line) => {
    keep(line);
    o.onLine?.(line);
  });
  splitLines(cp, 'stderr', keep);
  const exited = new Promise<string>((resolve) => {
    cp.once('exit', (code, signal) => {
      live.delete(cp);
      resolve(signal !== null ? `signal ${signal}` : `exit code ${code ?? '?'}`);
    });
  });
  const isRunning = (): boolean => cp.exitCode === null && cp.signalCode === null;
  return {
    name,
    pid,
    exited,
    isRunning,
    tail: () => lines.join('\n'),
    async stop() {
      if (!isRunning()) return;
      cp.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (isRunning()) cp.kill('SIGKILL');
      }, STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

function splitLines(cp: ChildProcess, stream: 'stdout' | 'stderr', onLine: (line: string) => void): void {
  let rest = '';
  const s = cp[stream];
  if (s === null) return;
  s.setEncoding('utf8');
  s.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) onLine(p);
  });
  s.on('end', () => {
    if (rest !== '') onLine(rest);
  });
}

/** Runs a command to completion and returns its stdout; rejects with its output on a non-zero exit. */
export async function runToEnd(name: string, argv: readonly string[], o: SpawnOptions = {}): Promise<string> {
  const out: string[] = [];
  const child = await spawnChild(name, argv, { ...o, onLine: (l) => out.push(l) });
  const how = await child.exited;
  if (how !== 'exit code 0') throw new Error(`${name}: ${how}\n${child.tail()}`);
  return out.join('\n');
}

/** One GET on 127.0.0.1:port: the status code, or the error's text. */
export function probe(port: number, path = '/', timeoutMs = 1_000): Promise<number | string> {
  return probeWith(request, { host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs });
}

/** One GET over TLS on 127.0.0.1:port (any certificate): the status code, or the error's text. */
export function probeTls(port: number, path = '/', timeoutMs = 1_000): Promise<number | string> {
  return probeWith(httpsRequest, { host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs, rejectUnauthorized: false });
}

function probeWith<O extends { readonly timeout: number }>(send: (o: O, cb: (res: IncomingMessage) => void) => ClientRequest, o: O): Promise<number | string> {
  return new Promise((resolve) => {
    const req = send(o, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', (e) => resolve(e.message));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeout} ms`)));
    req.on('error', (e) => resolve(e.message));
    req.end();
  });
}

/**
 * Polls GET / on the port until it answers 200, the deadline passes, or `alive()` turns false.
 * Returns undefined on success, else why not (the last answer or error). `ask` makes one request (default
 * HTTP/1.1; the bench's HTTP/2-only listeners pass their own).
 */
export async function waitFor200(port: number, deadlineMs: number, alive: () => boolean = () => true, ask: (port: number) => Promise<number | string> = probe): Promise<string | undefined> {
  const end = Date.now() + deadlineMs;
  let last: number | string = 'never tried';
  while (Date.now() < end) {
    if (!alive()) return `the process exited (last answer: ${describe(last)})`;
    last = await ask(port);
    if (last === 200) return undefined;
    await sleep(100);
  }
  return `no 200 on 127.0.0.1:${port} within ${deadlineMs / 1000} s (last answer: ${describe(last)})`;
}

function describe(answer: number | string): string {
  return typeof answer === 'number' ? `HTTP ${answer}` : answer;
}

/** `n` distinct free loopback ports (held open together, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((ok, fail) => {
        s.once('error', fail);
        s.listen(0, '127.0.0.1', () => ok());
      });
      const a = s.address();
      if (a === null || typeof a === 'string') throw new Error('no port');
      ports.push(a.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
  }
}
