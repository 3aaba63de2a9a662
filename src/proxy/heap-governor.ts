// The young-generation governor of heap-flags.ts, wired to this process: event-loop utilization from
// perf_hooks, the flag set with v8.setFlagsFromString, an unref'd timer. Called by the proxy's composition roots (bin/isthmus.ts, workers/worker-main.ts) when they
// applied the growth-factor flag, so a semi-space size chosen on the command line is left alone.

import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { governYoungGeneration, GROWTH_OFF } from './heap-flags.js';

/**
 * Starts the governor when `applied` (the flags proxyHeapFlags returned) holds the growth-factor setting;
 * returns how to stop it, or undefined when it did not start. Its timers never hold the process open.
 */
export function startYoungGenerationGovernor(applied: readonly string[]): (() => void) | undefined {
  if (!applied.includes(GROWTH_OFF)) return undefined;
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return governYoungGeneration({
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
  });
}
