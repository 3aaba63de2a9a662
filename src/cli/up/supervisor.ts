// The local mesh's process supervisor, as a kubelet restarts a pod's containers: each managed process is
// started, and when it exits without being asked to it is reported (with its last lines of output) and
// restarted after a back-off that doubles from 1 s to 30 s and resets once it has run for 10 s
// (Kubernetes' CrashLoopBackOff, scaled down). `stopAll` sends SIGTERM, waits, then SIGKILLs whatever is
// left, so Ctrl-C leaves no process behind. Only processes this supervisor started are ever signalled.

import { spawn, type ChildProcess } from 'node:child_process';

export interface ProcessSpec {
  /** Shown in reports: `reviews-v1-abc12 (app)`, `... (sidecar)`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export type SupervisorEvent =
  | { readonly type: 'exited'; readonly name: string; readonly code: number | null; readonly signal: string | null; readonly lastLines: readonly string[]; readonly restartInMs: number }
  | { readonly type: 'restarted'; readonly name: string; readonly pid: number; readonly restarts: number }
  | { readonly type: 'spawn-failed'; readonly name: string; readonly error: string };

export interface SupervisorOptions {
  readonly onEvent: (e: SupervisorEvent) => void;
  /** Every line a process writes (stdout and stderr), for `--logs`. */
  readonly onLine?: (name: string, line: string) => void;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

const KEEP_LINES = 20;
const STABLE_MS = 10_000;

class Managed {
  child: ChildProcess | undefined;
  restarts = 0;
  backoffMs: number;
  startedAt = 0;
  timer: NodeJS.Timeout | undefined;
  stopping = false;
  readonly lines: string[] = [];
  exited: Promise<void> = Promise.resolve();

  constructor(readonly spec: ProcessSpec, initialBackoff: number) {
    this.backoffMs = initialBackoff;
  }
}

export class Supervisor {
  readonly #procs = new Map<string, Managed>();
  readonly #min: number;
  readonly #max: number;

  constructor(private readonly o: SupervisorOptions) {
    this.#min = o.minBackoffMs ?? 1000;
    this.#max = o.maxBackoffMs ?? 30_000;
  }

  /** Starts `spec` under supervision; a name already running is a programming error. */
  start(spec: ProcessSpec): void {
    if (this.#procs.has(spec.name)) throw new Error(`process ${spec.name} is already supervised`);
    const m = new Managed(spec, this.#min);
    this.#procs.set(spec.name, m);
    this.#spawn(m);
  }

  pids(): ReadonlyMap<string, number> {
    const out = new Map<string, number>();
    for (const [name, m] of this.#procs) if (m.child?.pid !== undefined && m.child.exitCode === null && m.child.signalCode === null) out.set(name, m.child.pid);
    return out;
  }

  restarts(name: string): number {
    return this.#procs.get(name)?.restarts ?? 0;
  }

  lastLines(name: string): readonly string[] {
    return this.#procs.get(name)?.lines ?? [];
  }

  #spawn(m: Managed): void {
    let child: ChildProcess;
    try {
      child = spawn(m.spec.command, [...m.spec.args], { cwd: m.spec.cwd, env: { ...m.spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      this.o.onEvent({ type: 'spawn-failed', name: m.spec.name, error: e instanceof Error ? e.message : String(e) });
      return;
    }
    m.child = child;
    m.startedAt = Date.now();
    m.lines.length = 0; // an exit report shows this run's output only
    const emit = (line: string): void => {
      const l = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (l === '') return;
      m.lines.push(l);
      if (m.lines.length > KEEP_LINES) m.lines.shift();
      this.o.onLine?.(m.spec.name, l);
    };
    // Each stream keeps its unterminated tail for the next chunk, so a line written in pieces stays whole.
    const lineReader = (): { data: (buf: Buffer) => void; end: () => void } => {
      let tail = '';
      return {
        data: (buf) => {
          const parts = (tail + buf.toString('utf8')).split('\n');
          tail = parts.pop() ?? '';
          for (const p of parts) emit(p);
        },
        end: () => {
          if (tail !== '') emit(tail);
          tail = '';
        },
      };
    };
    for (const stream of [child.stdout, child.stderr]) {
      const r = lineReader();
      stream?.on('data', r.data);
      stream?.on('end', r.end);
    }
    m.exited = new Promise<void>((resolve) => {
      child.once('error', (e) => {
        // ENOENT and friends: the command cannot run at all; 'exit' may not follow.
        if (child.pid === undefined) {
          this.o.onEvent({ type: 'spawn-failed', name: m.spec.name, error: e.message });
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        resolve();
        if (m.stopping) return;
        if (Date.now() - m.startedAt >= STABLE_MS) m.backoffMs = this.#min;
        const wait = m.backoffMs;
        m.backoffMs = Math.min(this.#max, m.backoffMs * 2);
        this.o.onEvent({ type: 'exited', name: m.spec.name, code, signal, lastLines: [...m.lines], restartInMs: wait });
        m.timer = setTimeout(() => {
          m.timer = undefined;
          if (m.stopping) return;
          m.restarts++;
          this.#spawn(m);
          if (m.child?.pid !== undefined) this.o.onEvent({ type: 'restarted', name: m.spec.name, pid: m.child.pid, restarts: m.restarts });
        }, wait);
      });
    });
  }

  /** Stops one process (SIGTERM, then SIGKILL after `graceMs`) and forgets it. */
  async stop(name: string, graceMs = 5000): Promise<void> {
    const m = this.#procs.get(name);
    if (m === undefined) return;
    this.#procs.delete(name);
    await stopManaged(m, graceMs);
  }

  async stopAll(graceMs = 5000): Promise<void> {
    const all = [...this.#procs.values()];
    this.#procs.clear();
    await Promise.all(all.map((m) => stopManaged(m, graceMs)));
  }
}

async function stopManaged(m: Managed, graceMs: number): Promise<void> {
  m.stopping = true;
  if (m.timer !== undefined) clearTimeout(m.timer);
  const c = m.child;
  if (c === undefined || c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
  c.kill('SIGTERM');
  const killer = setTimeout(() => c.kill('SIGKILL'), graceMs);
  await m.exited;
  clearTimeout(killer);
}
