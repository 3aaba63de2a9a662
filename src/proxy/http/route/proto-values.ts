// Protobuf Durations and FractionalPercents as the route table uses them: whole milliseconds and
// integer fractions. Invalid durations are problems, never exceptions.

import type { Duration } from '@bufbuild/protobuf/wkt';
import { FractionalPercent_DenominatorType, type FractionalPercent } from '../../../xds/gen/envoy/type/v3/percent_pb.js';
import type { Random } from '../../lib/random.js';
import type { Fraction } from './types.js';

const MAX_DURATION_SECONDS = 315_576_000_000n;

/** Whole milliseconds (Envoy's PROTOBUF_GET_MS); undefined with a problem when out of range. */
export function durationMs(d: Duration, path: string, problems: string[]): number | undefined {
  if (d.seconds < 0n || d.nanos < 0 || d.seconds > MAX_DURATION_SECONDS || d.nanos > 999_999_999) {
    problems.push(`${path}: duration out of range`);
    return undefined;
  }
  return Number(d.seconds) * 1000 + Math.floor(d.nanos / 1_000_000);
}

/** Like durationMs, for optional fields: undefined when unset. */
export function optionalDurationMs(d: Duration | undefined, path: string, problems: string[]): number | undefined {
  return d === undefined ? undefined : durationMs(d, path, problems);
}

const DENOMINATORS: Record<FractionalPercent_DenominatorType, number> = {
  [FractionalPercent_DenominatorType.HUNDRED]: 100,
  [FractionalPercent_DenominatorType.TEN_THOUSAND]: 10_000,
  [FractionalPercent_DenominatorType.MILLION]: 1_000_000,
};

export const ALWAYS: Fraction = Object.freeze({ numerator: 100, denominator: 100 });

export function compileFraction(p: FractionalPercent | undefined, fallback: Fraction): Fraction {
  if (p === undefined) return fallback;
  return Object.freeze({ numerator: p.numerator, denominator: DENOMINATORS[p.denominator] ?? 100 });
}

/**
 * ProtobufPercentHelper::evaluateFractionalPercent: `random % denominator < numerator`, with the one
 * random value Envoy draws per request (a numerator above the denominator is always a hit).
 */
export function fractionHit(f: Fraction, randomValue: number): boolean {
  return randomValue % f.denominator < f.numerator;
}

/** A fresh draw against a fraction (mirror policies sample per request with their own random value). */
export function sampleFraction(f: Fraction, random: Random): boolean {
  return Math.floor(random.next() * f.denominator) < f.numerator;
}

/**
 * One request's random value, standing in for Envoy's uint64: an integer in [0, 2^32) from the top
 * bits of the draw, so generators with 32 bits of entropy (seededRandom) still give uniform low bits
 * for the modulo operations that consume it (the bias of `% n` is n / 2^32).
 */
export function drawRandomValue(random: Random): number {
  return Math.floor(random.next() * 4294967296);
}
