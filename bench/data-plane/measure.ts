// What one run costs the proxy, read from /proc: CPU seconds (utime+stime of every process of the proxy,
// workers included), the largest RSS seen while the load ran (sum over its processes, as `ps` would add
// up nginx's master and worker), and how busy each core was. Linux only; the bench pins the proxy to
// core 0 and everything else to core 1, so the two core figures say who waited for whom.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const RSS_POLL_MS = 100;

let ticksPerSecond: number | undefined;

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat. */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      ticksPerSecond = Number.isFinite(n) && n > 0 ? n : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface ProcStat {
  readonly ppid: number;
  /** utime + stime, in clock ticks. */
  readonly ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
}

/** The process and all its descendants (nginx's workers, a Node proxy's cluster children). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = readStat(pid);
    if (st === undefined) continue;
    const list = children.get(st.ppid);
    if (list === undefined) children.set(st.ppid, [pid]);
    else list.push(pid);
  }
  const out: number[] = [];
  const todo = [root];
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

function rssKb(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m?.[1] !== undefined) kb += Number(m[1]);
    } catch {
      // gone
    }
  }
  return kb;
}

/** Busy and total jiffies per core, from /proc/stat. */
function coreTimes(): Map<number, { busy: number; total: number }> {
  const out = new Map<number, { busy: number; total: number }>();
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (m?.[1] === undefined || m[2] === undefined) continue;
    const v = m[2].split(/\s+/).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
    out.set(Number(m[1]), { busy: total - idle, total });
  }
  return out;
}

export interface Usage {
  /** Wall-clock seconds between start and finish. */
  readonly seconds: number;
  /** CPU seconds used by the proxy's processes (0 with no proxy). */
  readonly cpuSeconds: number;
  /** Largest summed RSS seen, in MB (0 with no proxy). */
  readonly rssMaxMb: number;
  /** Busy % of core 0 and core 1 over the window. */
  readonly core0Pct: number;
  readonly core1Pct: number;
}

export interface Measurement {
  finish(): Usage;
}

/** Starts measuring the given processes (empty for "no proxy"): CPU now, RSS polled until finish(). */
export function startMeasurement(pids: readonly number[]): Measurement {
  const before = new Map<number, number>();
  for (const pid of pids) before.set(pid, readStat(pid)?.ticks ?? 0);
  const cores0 = coreTimes();
  const t0 = process.hrtime.bigint();
  let rssMax = rssKb(pids);
  const timer = pids.length === 0 ? undefined : setInterval(() => (rssMax = Math.max(rssMax, rssKb(pids))), RSS_POLL_MS);
  return {
    finish() {
      if (timer !== undefined) clearInterval(timer);
      rssMax = Math.max(rssMax, rssKb(pids));
      let ticks = 0;
      for (const pid of pids) {
        const now = readStat(pid)?.ticks;
        if (now !== undefined) ticks += now - (before.get(pid) ?? 0);
      }
      const cores1 = coreTimes();
      const pct = (core: number): number => {
        const a = cores0.get(core);
        const b = cores1.get(core);
        if (a === undefined || b === undefined || b.total === a.total) return 0;
        return (100 * (b.busy - a.busy)) / (b.total - a.total);
      };
      return {
        seconds: Number(process.hrtime.bigint() - t0) / 1e9,
        cpuSeconds: ticks / clockTicks(),
        rssMaxMb: rssMax / 1024,
        core0Pct: pct(0),
        core1Pct: pct(1),
      };
    },
  };
}

/** The median (mean of the middle two for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
