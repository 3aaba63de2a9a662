// Coalesces bursts of config changes into one rebuild and push, as istiod's debounce does
// (pilot/pkg/xds/discovery.go debounce(): PILOT_DEBOUNCE_AFTER = 100 ms of quiet, PILOT_DEBOUNCE_MAX =
// 10 s at most after the first change of a burst). Each change restarts the quiet period; the burst is
// flushed when the quiet period passes or the max delay is reached, whichever comes first. Only the
// latest rebuild function of a burst is called (it sees every change). Time comes from the injected Clock.

import type { Clock } from '../lib/clock.js';

export interface DebouncedBurst<T> {
  /** The latest value passed to `changed` in this burst. */
  readonly latest: T;
  readonly events: number;
  /** Clock time of the first change of the burst. */
  readonly firstAt: number;
  readonly lastAt: number;
}

export interface PushDebouncerOptions<T> {
  readonly clock: Clock;
  readonly afterMs: number;
  readonly maxMs: number;
  readonly flush: (burst: DebouncedBurst<T>) => void;
}

export class PushDebouncer<T> {
  private burst: { latest: T; events: number; firstAt: number; lastAt: number } | undefined;
  private timer: { cancel(): void } | undefined;

  constructor(private readonly opts: PushDebouncerOptions<T>) {}

  get pending(): boolean {
    return this.burst !== undefined;
  }

  changed(value: T): void {
    const now = this.opts.clock.now();
    if (this.burst === undefined) this.burst = { latest: value, events: 1, firstAt: now, lastAt: now };
    else {
      this.burst.latest = value;
      this.burst.events++;
      this.burst.lastAt = now;
    }
    this.timer?.cancel();
    const untilMax = this.burst.firstAt + this.opts.maxMs - now;
    const delay = Math.max(0, Math.min(this.opts.afterMs, untilMax));
    this.timer = this.opts.clock.setTimeout(() => this.flushNow(), delay);
  }

  /** Flushes a pending burst at once (shutdown, tests). */
  flushNow(): void {
    this.timer?.cancel();
    this.timer = undefined;
    const b = this.burst;
    if (b === undefined) return;
    this.burst = undefined;
    this.opts.flush({ ...b });
  }

  /** Drops a pending burst without flushing it. */
  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.burst = undefined;
  }
}
