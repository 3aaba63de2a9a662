// The V8 heap settings a proxy process gives itself at start (bin/isthmus.ts for `isthmus proxy` and
// `isthmus proxies`, workers/worker-main.ts for --concurrency workers), sized for a proxy's heap: a small
// live set (config, descriptors, code) and a steady stream of short-lived per-request garbage.
// - The young generation stays at V8's initial 1 MiB semi-spaces (`--semi-space-growth-factor=1`). By
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
