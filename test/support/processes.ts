// Ending what a test started, whatever state a failure left it in: a child spawned with `detached: true`
// leads a process group of its own, which its own children join, so signalling the group ends them all.

/** SIGKILLs the process group `pid` leads; nothing to do when it is gone already. */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group has ended
  }
}
