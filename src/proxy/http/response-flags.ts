// Envoy's response flags: a bit set of what went wrong with a request or connection, printed by the access
// log's %RESPONSE_FLAGS% (short names, comma-joined) and %RESPONSE_FLAGS_LONG% (PascalCase), and used as the
// `response_flags` label of Istio's metrics. Bit order is Envoy's CoreResponseFlag order
// (envoy/stream_info/stream_info.h; source/common/stream_info/utility.h ALL_RESPONSE_STRINGS_FLAGS), which is
// also the order flags are printed in. Meanings: docs/root/configuration/observability/access_log/usage.rst.
// This file only names and prints flags; the one place that decides which flag a failure gets is the HTTP
// layer's error mapping.

export interface ResponseFlagSpec {
  readonly bit: number;
  /** Short name, as %RESPONSE_FLAGS% prints it (`UH`). */
  readonly short: string;
  /** Long name, as %RESPONSE_FLAGS_LONG% prints it (`NoHealthyUpstream`). */
  readonly long: string;
}

/** Every flag in Envoy's order; bit i is 1 << i. */
export const RESPONSE_FLAG_SPECS: readonly ResponseFlagSpec[] = Object.freeze(
  (
    [
      ['LH', 'FailedLocalHealthCheck'],
      ['UH', 'NoHealthyUpstream'],
      ['UT', 'UpstreamRequestTimeout'],
      ['LR', 'LocalReset'],
      ['UR', 'UpstreamRemoteReset'],
      ['UF', 'UpstreamConnectionFailure'],
      ['UC', 'UpstreamConnectionTermination'],
      ['UO', 'UpstreamOverflow'],
      ['NR', 'NoRouteFound'],
      ['DI', 'DelayInjected'],
      ['FI', 'FaultInjected'],
      ['RL', 'RateLimited'],
      ['UAEX', 'UnauthorizedExternalService'],
      ['RLSE', 'RateLimitServiceError'],
      ['DC', 'DownstreamConnectionTermination'],
      ['URX', 'UpstreamRetryLimitExceeded'],
      ['SI', 'StreamIdleTimeout'],
      ['IH', 'InvalidEnvoyRequestHeaders'],
      ['DPE', 'DownstreamProtocolError'],
      ['UMSDR', 'UpstreamMaxStreamDurationReached'],
      ['RFCF', 'ResponseFromCacheFilter'],
      ['NFCF', 'NoFilterConfigFound'],
      ['DT', 'DurationTimeout'],
      ['UPE', 'UpstreamProtocolError'],
      ['NC', 'NoClusterFound'],
      ['OM', 'OverloadManagerTerminated'],
      ['DF', 'DnsResolutionFailed'],
      ['DO', 'DropOverload'],
      ['DR', 'DownstreamRemoteReset'],
      ['UDO', 'UnconditionalDropOverload'],
    ] as const
  ).map(([short, long], i) => Object.freeze({ bit: 1 << i, short, long })),
);

/** Flag bits by short name: `info.flags |= ResponseFlag.UH`. */
export const ResponseFlag = Object.freeze({
  LH: 1 << 0,
  UH: 1 << 1,
  UT: 1 << 2,
  LR: 1 << 3,
  UR: 1 << 4,
  UF: 1 << 5,
  UC: 1 << 6,
  UO: 1 << 7,
  NR: 1 << 8,
  DI: 1 << 9,
  FI: 1 << 10,
  RL: 1 << 11,
  UAEX: 1 << 12,
  RLSE: 1 << 13,
  DC: 1 << 14,
  URX: 1 << 15,
  SI: 1 << 16,
  IH: 1 << 17,
  DPE: 1 << 18,
  UMSDR: 1 << 19,
  RFCF: 1 << 20,
  NFCF: 1 << 21,
  DT: 1 << 22,
  UPE: 1 << 23,
  NC: 1 << 24,
  OM: 1 << 25,
  DF: 1 << 26,
  DO: 1 << 27,
  DR: 1 << 28,
  UDO: 1 << 29,
} as const);

export type ResponseFlagName = keyof typeof ResponseFlag;

/** A set of flags; 0 is none. */
export type ResponseFlags = number;

/** What %RESPONSE_FLAGS% prints when no flag is set. */
export const NO_RESPONSE_FLAGS = '-';

const SHORT_BY_BIT: readonly string[] = RESPONSE_FLAG_SPECS.map((s) => s.short);
const LONG_BY_BIT: readonly string[] = RESPONSE_FLAG_SPECS.map((s) => s.long);
const BIT_BY_NAME: ReadonlyMap<string, number> = new Map(
  RESPONSE_FLAG_SPECS.flatMap((s) => [
    [s.short, s.bit],
    [s.long, s.bit],
  ]),
);

function render(flags: ResponseFlags, names: readonly string[]): string {
  if (flags === 0) return NO_RESPONSE_FLAGS;
  // One flag is the common case: index it directly.
  if ((flags & (flags - 1)) === 0) return names[31 - Math.clz32(flags)] ?? NO_RESPONSE_FLAGS;
  let out = '';
  for (let i = 0; i < names.length; i++) {
    if ((flags & (1 << i)) !== 0) out = out === '' ? (names[i] as string) : `${out},${names[i] as string}`;
  }
  return out === '' ? NO_RESPONSE_FLAGS : out;
}

/** %RESPONSE_FLAGS%: short names comma-joined in Envoy's order, `-` for none. */
export function responseFlagsToString(flags: ResponseFlags): string {
  return render(flags, SHORT_BY_BIT);
}

/** %RESPONSE_FLAGS_LONG%: PascalCase names comma-joined, `-` for none. */
export function responseFlagsToLongString(flags: ResponseFlags): string {
  return render(flags, LONG_BY_BIT);
}

/** The bit of a short or long flag name (as access log `response_flag_filter` lists them), or undefined. */
export function responseFlagByName(name: string): number | undefined {
  return BIT_BY_NAME.get(name);
}

/** Whether any of `wanted` is set in `flags`. */
export function hasAnyResponseFlag(flags: ResponseFlags, wanted: ResponseFlags): boolean {
  return (flags & wanted) !== 0;
}
