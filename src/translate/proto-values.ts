// Small protobuf value builders every translation builder shares: Durations from the Go duration strings
// Istio's YAML uses (`1.5s`, `100ms`, `1h30m`; gogo jsonpb parses google.protobuf.Duration with Go's
// time.ParseDuration), wrapper messages and socket addresses.
//
// protobuf-es v2 unboxes wrapper types in singular message fields (`Cluster.perConnectionBufferLimitBytes`
// is a `number | undefined`), so set those fields to plain values; the wrapper builders here are for the
// places that need a real message (oneof members, Any payloads, repeated wrappers). Pure; never throws
// except for a duration string validation should already have rejected.

import { create } from '@bufbuild/protobuf';
import {
  BoolValueSchema,
  DurationSchema,
  UInt32ValueSchema,
  UInt64ValueSchema,
  type BoolValue,
  type Duration,
  type UInt32Value,
  type UInt64Value,
} from '@bufbuild/protobuf/wkt';
import { parseGoDuration } from '../api/validation/duration.js';
import { AddressSchema, SocketAddressSchema, type Address } from '../xds/gen/envoy/config/core/v3/address_pb.js';

const NS_PER_S = 1_000_000_000;

/** A Duration of `ns` nanoseconds (sign kept on both parts, as the proto requires). */
export function durationFromNs(ns: number): Duration {
  const whole = Math.trunc(ns / NS_PER_S);
  const nanos = Math.round(ns - whole * NS_PER_S);
  return create(DurationSchema, { seconds: BigInt(whole), nanos });
}

/** A Duration of `ms` milliseconds. */
export function durationFromMs(ms: number): Duration {
  return durationFromNs(ms * 1_000_000);
}

/** A Duration of whole seconds. */
export function durationFromSeconds(s: number): Duration {
  return create(DurationSchema, { seconds: BigInt(Math.trunc(s)) });
}

/**
 * The Duration a Go duration string names (`1.5s`, `100ms`, `2h45m`, `0`). The config was validated
 * before translation, so a string that does not parse is a programming error; the message names it.
 */
export function durationFromString(s: string): Duration {
  const p = parseGoDuration(s);
  if (!p.ok) throw new Error(`duration ${JSON.stringify(s)}: ${p.message}`);
  return durationFromNs(p.ns);
}

/** Whole seconds of a Go duration string, truncated (Istio's `uint32(d.Seconds)` for TCP keepalive). */
export function secondsFromString(s: string): number {
  const p = parseGoDuration(s);
  if (!p.ok) throw new Error(`duration ${JSON.stringify(s)}: ${p.message}`);
  return Math.trunc(p.ns / NS_PER_S);
}

export function uint32Value(value: number): UInt32Value {
  return create(UInt32ValueSchema, { value });
}

export function uint64Value(value: bigint | number): UInt64Value {
  return create(UInt64ValueSchema, { value: BigInt(value) });
}

export function boolValue(value: boolean): BoolValue {
  return create(BoolValueSchema, { value });
}

/** A TCP socket address (`address.socket_address {address, port_value}`). */
export function socketAddress(address: string, port: number): Address {
  return create(AddressSchema, {
    address: { case: 'socketAddress', value: create(SocketAddressSchema, { address, portSpecifier: { case: 'portValue', value: port } }) },
  });
}

/** Largest uint32: Istio's "no limit" for circuit breaker thresholds (math.MaxUint32). */
export const MAX_UINT32 = 4_294_967_295;
