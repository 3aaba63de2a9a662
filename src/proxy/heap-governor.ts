// The heap governor of heap-flags.ts, wired to this process: event-loop utilization from perf_hooks, the
// flags set with v8.setFlagsFromString, an unref'd timer. Called by the proxy's composition roots
// (bin/isthmus.ts, workers/worker-main.ts) with the flags they applied, so a setting chosen on the command
// line is left alone.

import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { governedFlags, governHeap } from './heap-flags.js';

/**
 * Starts the governor over the governed settings among `applied` (the flags proxyHeapFlags returned);
 * returns how to stop it, or undefined when there is nothing to govern. Its timers never hold the process open.
 */
export function startHeapGovernor(applied: readonly string[]): (() => void) | undefined {
  const flags = governedFlags(applied);
  if (flags.calm.length === 0) return undefined;
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return governHeap(
    {
      utilization: () => {
        const now = performance.eventLoopUtilization();
        const u = performance.eventLoopUtilization(now, last).utilization;
        last = now;
        return u;
      },
      setFlag: (flag) => setFlagsFromString(flag),
      every: (fn, delayMs, periodMs) => {
        let interval: NodeJS.Timeout | undefined;
        const first = setTimeout(() => {
          last = performance.eventLoopUtilization();
          interval = setInterval(fn, periodMs);
          interval.unref();
        }, delayMs);
        first.unref();
        return () => {
          clearTimeout(first);
          if (interval !== undefined) clearInterval(interval);
        };
      },
    },
    flags,
  );
}
