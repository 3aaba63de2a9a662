// Ending what a test started, whatever state a failure left it in: a child spawned with `detached: true`
// leads a process group of its own, which its own children join, so signalling the group ends them all.

import { execFileSync } from 'node:child_process';

/** SIGKILLs the process group `pid` leads; nothing to do when it is gone already. */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group has ended
  }
}

/** Whether process `pid` still runs. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids of `pid`'s children ([] when it has none: ps exits 1 then). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)]).toString().split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
}
