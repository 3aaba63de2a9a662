// The load balancer contract shared by every policy: pick a host for one request (or one retry), given
// an optional request hash and a predicate rejecting hosts already tried. Picks never throw; undefined
// means "no healthy upstream" (Envoy's UH response flag is the caller's to set).

import type { Random } from '../../lib/random.js';
import type { Host } from '../host.js';

export interface PickContext {
  /** The request hash from the route's hash policy (see hash-policy.ts); hash policies only. */
  readonly hash?: bigint | number;
  /** Retry host predicate (previous_hosts): a host for which this returns true is picked again only as a last resort. */
  readonly exclude?: (h: Host) => boolean;
  /**
   * Total selection attempts when `exclude` rejects hosts; after the last one the last host picked is
   * used anyway, as Envoy does. Default 2 (RetryPolicy.host_selection_retry_max_attempts defaults to 1).
   */
  readonly maxSelectionAttempts?: number;
  /**
   * Priority levels a retry leaves out (the previous_priorities retry priority): the level is chosen from
   * the loads without them (priority-load.ts loadsExcluding).
   */
  readonly excludedPriorities?: readonly boolean[];
}

export interface LoadBalancer {
  pick(ctx?: PickContext): Host | undefined;
}

export interface LbDeps {
  readonly random: Random;
  /** In-flight requests on the host (least-request). */
  activeRequests(h: Host): number;
  /** Whether outlier detection has ejected the host; ejected hosts count as unhealthy. */
  isEjected(h: Host): boolean;
  /** Changes whenever any ejection changes (OutlierDetector.version); lets the balancer skip per-pick scans. */
  healthVersion?(): number;
}

export const DEFAULT_SELECTION_ATTEMPTS = 2;

/** Attempts for one pick: 1 without a predicate, else the context's limit (at least 1). */
export function selectionAttempts(ctx: PickContext | undefined): number {
  if (ctx?.exclude === undefined) return 1;
  return Math.max(1, ctx.maxSelectionAttempts ?? DEFAULT_SELECTION_ATTEMPTS);
}

const TWO_32 = 4294967296;

/** A uniformly random unsigned 64-bit value built from two draws of `random`. */
export function random64(random: Random): bigint {
  const hi = Math.floor(random.next() * TWO_32) >>> 0;
  const lo = Math.floor(random.next() * TWO_32) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** An integer in [0, n). */
export function randomIndex(random: Random, n: number): number {
  return Math.min(n - 1, Math.floor(random.next() * n));
}

/** A request hash as an unsigned 64-bit BigInt. */
export function toHash64(hash: bigint | number): bigint {
  return typeof hash === 'bigint' ? BigInt.asUintN(64, hash) : BigInt.asUintN(64, BigInt(Math.trunc(hash)));
}
