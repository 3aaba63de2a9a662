// The V8 heap settings a proxy process gives itself at start (bin/isthmus.ts for `isthmus proxy` and
// `isthmus proxies`, workers/worker-main.ts for --concurrency workers), sized for a proxy's heap: a small
// live set (config, descriptors, code) and a steady stream of short-lived per-request garbage.
// - The young generation stays at V8's initial 1 MiB semi-spaces (`--semi-space-growth-factor=1`) unless
//   the proxy is busy (governYoungGeneration below). By
//   default V8 grows them to 16 MiB each under a steady allocation rate, which at 1,000 requests/s was 30
//   of the proxy's 110 MB resident; per-request garbage dies young at either size, so the small young
//   generation costs only more frequent scavenges: about 8 ms more of them per 1,000 requests (13 against
//   5), within the run-to-run noise of the proxy's 150 CPU-ms per 1,000 requests.
// - The old generation collects once it has grown 10% or V8's minimum step (8 MiB) past what the last
//   full GC kept (`--heap-growing-percent=10`). V8's own factor goes up to 4: after the full GC at
//   start-up (12 MB live) the first one under load came only at 45 MB; with the flag at 20 MB, then 26 MB.
// - Young-generation collections run on the proxy's own thread (`--no-parallel-scavenge`). With 1 MiB
//   semi-spaces there is little to share out, and where the proxy gets one core (pinned, or a sidecar's CPU
//   limit) the main thread waits for scavenge tasks time-sliced on that same core. (`--single-threaded-gc`
//   would also take marking and sweeping off their threads, but V8 aborts when concurrent or parallel
//   marking is turned off after start-up: only the scavenge setting is safe to change at run time.)
// Set at run time with v8.setFlagsFromString, before the proxy's modules load: both flags are read each
// time V8 sizes a space, not only when the heap is created. A flag already on the command line (or in
// NODE_OPTIONS) for the same setting wins, so `node --max-semi-space-size=2 …` still sizes the young
// generation as asked. Pure: the caller passes the command line and applies what is returned.

/** The settings, each with the command-line flags that mean the user chose it already. */
const SETTINGS: readonly { readonly flag: string; readonly overriddenBy: RegExp }[] = [
  { flag: '--semi-space-growth-factor=1', overriddenBy: /^--(?:(?:max|min)[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor)(?:=|$)/ },
  { flag: '--heap-growing-percent=10', overriddenBy: /^--heap[-_]growing[-_]percent(?:=|$)/ },
  { flag: '--no-parallel-scavenge', overriddenBy: /^--(?:no[-_])?(?:single[-_]threaded(?:[-_]gc)?|parallel[-_]scavenge)$/ },
];

/**
 * The V8 flags to set in a proxy process, given the Node/V8 options it was started with
 * (`process.execArgv` and the words of NODE_OPTIONS).
 */
export function proxyHeapFlags(startedWith: readonly string[]): string[] {
  return SETTINGS.filter((s) => !startedWith.some((a) => s.overriddenBy.test(a))).map((s) => s.flag);
}

/** NODE_OPTIONS as words (Node splits it on spaces; quoting is not needed for V8 flags). */
export function nodeOptionsWords(nodeOptions: string | undefined): string[] {
  return (nodeOptions ?? '').split(/\s+/).filter((w) => w !== '');
}

// The young generation under load. At 1 MiB semi-spaces a proxy near saturation spends much of its time
// scavenging: through HTTP/2 (node:http2 keeps more per stream alive across loop iterations) GC took 28% of
// the proxy's CPU under `h2load -c10 -m10` (`--cpu-prof`), and with 4 MiB semi-spaces from the start the
// same proxy answered 1.5x the requests at a third less CPU per request. A steady 1,000 req/s, where issue
// 4 counts memory, keeps the event loop about 15% busy and gains nothing from a larger young generation.
// So the governor lets V8 grow the semi-spaces as it would by default (`--semi-space-growth-factor=2`, read
// each time V8 sizes new space) only while the event loop was more than half busy over the last second, and
// turns growth off again once it is not; V8 shrinks new space by itself when allocation slows. The growth
// cannot be capped below V8's maximum (16 MiB semi-spaces): `--max-semi-space-size` is read only when the
// heap is created, and V8 grows new space at each scavenge, many within a second. It starts a few seconds
// after the proxy does, so start-up's own burst does not count. Measured against the proxy without it
// (bench/data-plane: memory.ts side by side, ab.ts, h2load through the gateway): at 1,000 req/s the same
// memory (74.0 against 73.9 MB at most, 3 runs) and CPU; at 50 connections over HTTP/1.1, 1.056x the
// requests/s (8 rounds, range 0.97-1.25) at 6% less CPU per request; over HTTP/2 (`h2load -c10 -m10`), 1.30x
// the requests/s at 23% less CPU, for up to 30 MB more resident while saturated.

/** Event-loop utilization above which the young generation may grow. */
export const GROWTH_UTILIZATION = 0.5;
/** How long after start the governor first looks, and then how often. */
export const GOVERNOR_DELAY_MS = 5_000;
export const GOVERNOR_PERIOD_MS = 1_000;

export const GROWTH_ON = '--semi-space-growth-factor=2';
export const GROWTH_OFF = '--semi-space-growth-factor=1';

/** Whether the young generation may grow, given the last period's event-loop utilization. */
export function youngGenerationMayGrow(utilization: number): boolean {
  return utilization > GROWTH_UTILIZATION;
}

export interface GovernorDeps {
  /** Event-loop utilization since the previous call (0..1). */
  readonly utilization: () => number;
  readonly setFlag: (flag: string) => void;
  /** Calls `fn` every `periodMs` after `delayMs`; returns how to stop (the real one does not hold the process open). */
  readonly every: (fn: () => void, delayMs: number, periodMs: number) => () => void;
}

/**
 * Starts the governor, for a proxy whose young generation proxyHeapFlags() sized (not when the command
 * line chose a semi-space size or growth factor). Returns how to stop it.
 */
export function governYoungGeneration(d: GovernorDeps): () => void {
  let growing = false;
  return d.every(
    () => {
      const want = youngGenerationMayGrow(d.utilization());
      if (want === growing) return;
      growing = want;
      d.setFlag(want ? GROWTH_ON : GROWTH_OFF);
    },
    GOVERNOR_DELAY_MS,
    GOVERNOR_PERIOD_MS,
  );
}
