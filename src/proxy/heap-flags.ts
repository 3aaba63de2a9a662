// The V8 heap settings a proxy process gives itself at start (bin/isthmus.ts for `isthmus proxy` and
// `isthmus proxies`, workers/worker-main.ts for --concurrency workers), sized for a proxy's heap: a small
// live set (config, descriptors, code) and a steady stream of short-lived per-request garbage.
// - The young generation stays at V8's initial 1 MiB semi-spaces (`--semi-space-growth-factor=1`) unless
//   the proxy is busy (governHeap below). By
//   default V8 grows them to 16 MiB each under a steady allocation rate, which at 1,000 requests/s was 30
//   of the proxy's 110 MB resident; per-request garbage dies young at either size, so the small young
//   generation costs only more frequent scavenges: about 8 ms more of them per 1,000 requests (13 against
//   5), within the run-to-run noise of the proxy's 150 CPU-ms per 1,000 requests.
// - The old generation collects once it has grown 10% or V8's minimum step (8 MiB) past what the last
//   full GC kept (`--heap-growing-percent=10`). V8's own factor goes up to 4: after the full GC at
//   start-up (12 MB live) the first one under load came only at 45 MB; with the flag at 20 MB, then 26 MB.
//   While the proxy is busy the governor gives V8's own factor back (governHeap below).
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

// The heap under load. At 1 MiB semi-spaces a proxy near saturation spends much of its time scavenging:
// through HTTP/2 (node:http2 keeps more per stream alive across loop iterations) GC took 28% of the proxy's
// CPU under `h2load -c10 -m10` (`--cpu-prof`), and with 4 MiB semi-spaces from the start the same proxy
// answered 1.5x the requests at a third less CPU per request. The streams in flight at each scavenge are
// promoted and die in the old generation, which at 10% growth then took a full GC five times a second
// (counted with a `gc` PerformanceObserver). A steady 1,000 req/s, where issue 4 counts memory, keeps the
// event loop about 15% busy and gains nothing from either. So while the event loop was more than half busy
// over the last second the governor gives both back to V8: the semi-spaces grow as they would by default
// (`--semi-space-growth-factor=2`, read each time V8 sizes new space) and the old generation's limit after a
// full GC follows V8's own growing factor (`--heap-growing-percent=0`: unset, read at each full GC); once the
// loop is calm again it sets the proxy's settings back, and V8 shrinks new space by itself when allocation
// slows. The growth cannot be capped below V8's maximum (16 MiB semi-spaces): `--max-semi-space-size` is read
// only when the heap is created, and V8 grows new space at each scavenge, many within a second. It starts a
// few seconds after the proxy does, so start-up's own burst does not count. A setting the command line chose
// is the user's: the governor switches only the ones proxyHeapFlags made. Measured against the proxy without
// it (bench/data-plane: memory.ts side by side, ab.ts, h2load through the gateway): the young generation's
// growth kept a steady 1,000 req/s at the same memory (74.0 against 73.9 MB at most, 3 runs) and CPU, gave
// 1.056x the requests/s at 50 connections over HTTP/1.1 (8 rounds, range 0.97-1.25) at 6% less CPU per
// request and 1.30x over HTTP/2 at 23% less CPU, for up to 30 MB more resident while saturated; V8's own
// old-generation growth on top gave HTTP/2 1.20-1.25x more (6 rounds, twice) at a fifth less CPU per request.

/** Event-loop utilization above which the proxy counts as busy. */
export const BUSY_UTILIZATION = 0.5;
/** How long after start the governor first looks, and then how often. */
export const GOVERNOR_DELAY_MS = 5_000;
export const GOVERNOR_PERIOD_MS = 1_000;

/** Each setting the governor switches: the proxy's own (calm) and V8's default behaviour (busy). */
export const GOVERNED: readonly { readonly calm: string; readonly busy: string }[] = [
  { calm: '--semi-space-growth-factor=1', busy: '--semi-space-growth-factor=2' },
  { calm: '--heap-growing-percent=10', busy: '--heap-growing-percent=0' },
];

export interface GovernedFlags {
  readonly calm: readonly string[];
  readonly busy: readonly string[];
}

/** The governed settings among the flags proxyHeapFlags returned: none that the command line chose. */
export function governedFlags(applied: readonly string[]): GovernedFlags {
  const g = GOVERNED.filter((x) => applied.includes(x.calm));
  return { calm: g.map((x) => x.calm), busy: g.map((x) => x.busy) };
}

/** Whether the proxy counts as busy, given the last period's event-loop utilization. */
export function isBusy(utilization: number): boolean {
  return utilization > BUSY_UTILIZATION;
}

export interface GovernorDeps {
  /** Event-loop utilization since the previous call (0..1). */
  readonly utilization: () => number;
  readonly setFlag: (flag: string) => void;
  /** Calls `fn` every `periodMs` after `delayMs`; returns how to stop (the real one does not hold the process open). */
  readonly every: (fn: () => void, delayMs: number, periodMs: number) => () => void;
}

/** Starts the governor over `flags` (governedFlags()). Returns how to stop it. */
export function governHeap(d: GovernorDeps, flags: GovernedFlags): () => void {
  let busy = false;
  return d.every(
    () => {
      const now = isBusy(d.utilization());
      if (now === busy) return;
      busy = now;
      for (const f of now ? flags.busy : flags.calm) d.setFlag(f);
    },
    GOVERNOR_DELAY_MS,
    GOVERNOR_PERIOD_MS,
  );
}
