// Protobuf Durations and percentages as the data plane uses them: milliseconds as plain numbers.

import type { Duration } from '@bufbuild/protobuf/wkt';

/** Milliseconds of a Duration, or `fallback` when it is unset. */
export function durationMs(d: Duration | undefined, fallback: number): number;
export function durationMs(d: Duration | undefined): number | undefined;
export function durationMs(d: Duration | undefined, fallback?: number): number | undefined {
  if (d === undefined) return fallback;
  return Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
}
