// The value rules of protoc-gen-validate, for src/xds/pgv.ts: what one string, number, enum, duration, Any,
// repeated field or map breaks of its `(validate.rules)`, with PGV's reasons (its C++ templates,
// github.com/bufbuild/protoc-gen-validate templates/cc/*.go, and the shared ltgt template), and how PGV prints
// values in them (Go's duration and list formats).

import { isIP } from 'node:net';
import { isFieldSet, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf';
import type { Any, Duration } from '@bufbuild/protobuf/wkt';
import {
  BoolRulesSchema,
  BytesRulesSchema,
  DoubleRulesSchema,
  EnumRulesSchema,
  Fixed32RulesSchema,
  Fixed64RulesSchema,
  FloatRulesSchema,
  Int32RulesSchema,
  Int64RulesSchema,
  KnownRegex,
  SFixed32RulesSchema,
  SFixed64RulesSchema,
  SInt32RulesSchema,
  SInt64RulesSchema,
  StringRulesSchema,
  UInt32RulesSchema,
  UInt64RulesSchema,
  type AnyRules,
  type BytesRules,
  type DurationRules,
  type EnumRules,
  type FieldRules,
  type StringRules,
} from './gen/validate/validate_pb.js';

type Rules = FieldRules['type'];
type NumRules = Extract<Rules, { case: 'float' | 'double' | 'int32' | 'int64' | 'uint32' | 'uint64' | 'sint32' | 'sint64' | 'fixed32' | 'fixed64' | 'sfixed32' | 'sfixed64' }>['value'];
type Num = number | bigint;

/** Whether the proto2 field `name` of a rules message is set (an unset one reads as its default). */
export function has(m: Message, desc: DescMessage, name: string): boolean {
  const f = desc.field[name];
  return f !== undefined && isFieldSet(m, f);
}

/** The numeric and bool rules messages' descriptors by type name (their presence checks need the descriptor). */
const SCALAR_RULES = new Map<string, DescMessage>(
  [FloatRulesSchema, DoubleRulesSchema, Int32RulesSchema, Int64RulesSchema, UInt32RulesSchema, UInt64RulesSchema, SInt32RulesSchema, SInt64RulesSchema, Fixed32RulesSchema, Fixed64RulesSchema, SFixed32RulesSchema, SFixed64RulesSchema, BoolRulesSchema].map((d) => [d.typeName, d]),
);

// ---- formatting, as PGV prints its values

/** Go's time.Duration.String(), which PGV's generator uses for durations in its messages ("0s", "1.5s", "1m0s", "100ms"). */
export function goDuration(d: Duration | undefined): string {
  if (d === undefined) return '0s';
  let ns = d.seconds * 1_000_000_000n + BigInt(d.nanos);
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  if (neg) ns = -ns;
  const frac = (v: bigint, unit: bigint): string => {
    const whole = v / unit;
    const rest = v % unit;
    if (rest === 0n) return whole.toString();
    const digits = unit.toString().length - 1;
    return `${whole}.${rest.toString().padStart(digits, '0').replace(/0+$/, '')}`;
  };
  let out: string;
  if (ns < 1_000n) out = `${ns}ns`;
  else if (ns < 1_000_000n) out = `${frac(ns, 1_000n)}µs`;
  else if (ns < 1_000_000_000n) out = `${frac(ns, 1_000_000n)}ms`;
  else {
    const h = ns / 3_600_000_000_000n;
    const m = (ns / 60_000_000_000n) % 60n;
    const s = frac(ns % 60_000_000_000n, 1_000_000_000n);
    out = `${h > 0n ? `${h}h` : ''}${h > 0n || m > 0n ? `${m}m` : ''}${s}s`;
  }
  return neg ? `-${out}` : out;
}

/** Go's %v of a list ("[a b c]"), as PGV's `in` messages print it. */
const goList = (xs: readonly unknown[]): string => `[${xs.map((x) => (typeof x === 'object' && x !== null ? goDuration(x as Duration) : String(x))).join(' ')}]`;

/** A prefix, pattern or constant in a reason, between double quotes and otherwise as written in the proto. */
const quote = (s: string): string => `"${s}"`;

// ---- ranges (PGV's ltgt template: numbers and durations alike)

interface Bounds<T> {
  readonly lt?: T;
  readonly lte?: T;
  readonly gt?: T;
  readonly gte?: T;
}

/** PGV's range check: undefined when `v` is inside, else its reason. `cmp` orders two values. */
function rangeProblem<T>(v: T, b: Bounds<T>, cmp: (a: T, b: T) => number, show: (x: T) => string): string | undefined {
  const { lt, lte, gt, gte } = b;
  if (lt !== undefined) {
    if (gt !== undefined) {
      if (cmp(lt, gt) > 0) return cmp(v, gt) <= 0 || cmp(v, lt) >= 0 ? `value must be inside range (${show(gt)}, ${show(lt)})` : undefined;
      return cmp(v, lt) >= 0 && cmp(v, gt) <= 0 ? `value must be outside range [${show(lt)}, ${show(gt)}]` : undefined;
    }
    if (gte !== undefined) {
      if (cmp(lt, gte) > 0) return cmp(v, gte) < 0 || cmp(v, lt) >= 0 ? `value must be inside range [${show(gte)}, ${show(lt)})` : undefined;
      return cmp(v, lt) >= 0 && cmp(v, gte) < 0 ? `value must be outside range [${show(lt)}, ${show(gte)})` : undefined;
    }
    return cmp(v, lt) >= 0 ? `value must be less than ${show(lt)}` : undefined;
  }
  if (lte !== undefined) {
    if (gt !== undefined) {
      if (cmp(lte, gt) > 0) return cmp(v, gt) <= 0 || cmp(v, lte) > 0 ? `value must be inside range (${show(gt)}, ${show(lte)}]` : undefined;
      return cmp(v, lte) > 0 && cmp(v, gt) <= 0 ? `value must be outside range (${show(lte)}, ${show(gt)}]` : undefined;
    }
    if (gte !== undefined) {
      if (cmp(lte, gte) > 0) return cmp(v, gte) < 0 || cmp(v, lte) > 0 ? `value must be inside range [${show(gte)}, ${show(lte)}]` : undefined;
      return cmp(v, lte) > 0 && cmp(v, gte) < 0 ? `value must be outside range (${show(lte)}, ${show(gte)})` : undefined;
    }
    return cmp(v, lte) > 0 ? `value must be less than or equal to ${show(lte)}` : undefined;
  }
  if (gt !== undefined) return cmp(v, gt) <= 0 ? `value must be greater than ${show(gt)}` : undefined;
  if (gte !== undefined) return cmp(v, gte) < 0 ? `value must be greater than or equal to ${show(gte)}` : undefined;
  return undefined;
}

const cmpNum = (a: Num, b: Num): number => (a < b ? -1 : a > b ? 1 : 0);
const durNs = (d: Duration): bigint => d.seconds * 1_000_000_000n + BigInt(d.nanos);
const cmpDur = (a: Duration, b: Duration): number => cmpNum(durNs(a), durNs(b));

/** The set bounds of a rules message (proto2: an unset bound reads 0 and must not count). */
function boundsOf<T>(m: Message & Bounds<T>, desc: DescMessage | undefined): Bounds<T> {
  const pick = (k: 'lt' | 'lte' | 'gt' | 'gte'): T | undefined => (desc === undefined ? m[k] : has(m, desc, k) ? m[k] : undefined);
  const out: { lt?: T; lte?: T; gt?: T; gte?: T } = {};
  for (const k of ['lt', 'lte', 'gt', 'gte'] as const) {
    const v = pick(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

// ---- scalar rules

function numberProblems(v: Num, r: NumRules & Message, out: string[], at: string): void {
  const desc = SCALAR_RULES.get(r.$typeName) as DescMessage;
  if (has(r, desc, 'const') && cmpNum(v, r.const) !== 0) out.push(`${at}: value must equal ${String(r.const)}`);
  const p = rangeProblem<Num>(v, boundsOf<Num>(r as Message & Bounds<Num>, desc), cmpNum, String);
  if (p !== undefined) out.push(`${at}: ${p}`);
  const inList = r.in as readonly Num[];
  const notIn = r.notIn as readonly Num[];
  if (inList.length > 0 && !inList.some((x) => cmpNum(x, v) === 0)) out.push(`${at}: value must be in list ${goList(inList)}`);
  else if (notIn.length > 0 && notIn.some((x) => cmpNum(x, v) === 0)) out.push(`${at}: value must not be in list ${goList(notIn)}`);
}

/** RFC 1123 host names, as PGV's IsHostname accepts them. */
function isHostname(s: string): boolean {
  const h = s.endsWith('.') ? s.slice(0, -1) : s;
  if (s.length > 253 || h === '') return false;
  return h.split('.').every((part) => part.length > 0 && part.length <= 63 && !part.startsWith('-') && !part.endsWith('-') && /^[A-Za-z0-9-]+$/.test(part));
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * PGV's well-known regexes (validate.proto). `strict: false`, which Envoy's protos use, only keeps out NUL,
 * CR and LF, the bytes that would split a head; the strict forms are RFC 7230's.
 */
const KNOWN: Record<'name' | 'value' | 'loose', { readonly text: string; readonly re: RegExp }> = {
  name: { text: "^:?[0-9a-zA-Z!#$%&'*+-.^_|~\\x60]+$", re: /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/ },
  value: { text: '^[^\\x00-\\x08\\x0A-\\x1F\\x7F]*$', re: /^[^\x00-\x08\x0A-\x1F\x7F]*$/ },
  loose: { text: '^[^\\x00\\n\\r]*$', re: /^[^\0\n\r]*$/ },
};

/** RE2 patterns compiled as JavaScript ones (the subset Envoy's protos use compiles alike); undefined when one does not. */
const patterns = new Map<string, RegExp | undefined>();
function pattern(p: string): RegExp | undefined {
  if (!patterns.has(p)) {
    let re: RegExp | undefined;
    try {
      re = new RegExp(p, 'u');
    } catch {
      re = undefined;
    }
    patterns.set(p, re);
  }
  return patterns.get(p);
}

function stringProblems(v: string, r: StringRules, out: string[], at: string): void {
  const d = StringRulesSchema;
  const push = (reason: string): void => void out.push(`${at}: ${reason}`);
  if (has(r, d, 'const') && v !== r.const) push(`value must equal ${quote(r.const)}`);
  if (r.in.length > 0 && !r.in.includes(v)) push(`value must be in list ${goList(r.in)}`);
  else if (r.notIn.length > 0 && r.notIn.includes(v)) push(`value must not be in list ${goList(r.notIn)}`);
  const runes = (): number => {
    let n = 0;
    for (const _ of v) n++;
    return n;
  };
  if (has(r, d, 'len') && BigInt(runes()) !== r.len) push(`value length must be ${r.len} characters`);
  else if (has(r, d, 'minLen') && has(r, d, 'maxLen') && r.minLen === r.maxLen) {
    if (BigInt(runes()) !== r.minLen) push(`value length must be ${r.minLen} characters`);
  } else if (has(r, d, 'minLen') || has(r, d, 'maxLen')) {
    const n = BigInt(runes());
    if (has(r, d, 'minLen') && has(r, d, 'maxLen')) {
      if (n < r.minLen || n > r.maxLen) push(`value length must be between ${r.minLen} and ${r.maxLen} characters, inclusive`);
    } else if (has(r, d, 'minLen') && n < r.minLen) push(`value length must be at least ${r.minLen} characters`);
    else if (has(r, d, 'maxLen') && n > r.maxLen) push(`value length must be at most ${r.maxLen} characters`);
  }
  if (has(r, d, 'lenBytes') || has(r, d, 'minBytes') || has(r, d, 'maxBytes')) {
    const n = BigInt(Buffer.byteLength(v));
    if (has(r, d, 'lenBytes')) {
      if (n !== r.lenBytes) push(`value length must be ${r.lenBytes} bytes`);
    } else if (has(r, d, 'minBytes') && has(r, d, 'maxBytes')) {
      if (r.minBytes === r.maxBytes ? n !== r.minBytes : n < r.minBytes || n > r.maxBytes)
        push(r.minBytes === r.maxBytes ? `value length must be ${r.minBytes} bytes` : `value length must be between ${r.minBytes} and ${r.maxBytes} bytes, inclusive`);
    } else if (has(r, d, 'minBytes') && n < r.minBytes) push(`value length must be at least ${r.minBytes} bytes`);
    else if (has(r, d, 'maxBytes') && n > r.maxBytes) push(`value length must be at most ${r.maxBytes} bytes`);
  }
  if (has(r, d, 'prefix') && !v.startsWith(r.prefix)) push(`value does not have prefix ${quote(r.prefix)}`);
  if (has(r, d, 'suffix') && !v.endsWith(r.suffix)) push(`value does not have suffix ${quote(r.suffix)}`);
  if (has(r, d, 'contains') && !v.includes(r.contains)) push(`value does not contain substring ${quote(r.contains)}`);
  if (has(r, d, 'notContains') && v.includes(r.notContains)) push(`value contains substring ${quote(r.notContains)}`);
  if (has(r, d, 'pattern')) {
    const re = pattern(r.pattern);
    if (re !== undefined && !re.test(v)) push(`value does not match regex pattern ${quote(r.pattern)}`);
  }
  const wk = r.wellKnown;
  switch (wk.case) {
    case 'ip':
      if (wk.value && isIP(v) === 0) push('value must be a valid IP Address');
      break;
    case 'ipv4':
      if (wk.value && isIP(v) !== 4) push('value must be a valid IPv4 Address');
      break;
    case 'ipv6':
      if (wk.value && isIP(v) !== 6) push('value must be a valid IPv6 Address');
      break;
    case 'address':
      if (wk.value && isIP(v) === 0 && !isHostname(v)) push('value must be an ip address, or a hostname.');
      break;
    case 'hostname':
      if (wk.value && !isHostname(v)) push('value must be a valid hostname');
      break;
    case 'uuid':
      if (wk.value && !UUID.test(v)) push('value must be a valid UUID');
      break;
    case 'wellKnownRegex': {
      if (wk.value === KnownRegex.UNKNOWN) break;
      const k = r.strict === false ? KNOWN.loose : wk.value === KnownRegex.HTTP_HEADER_NAME ? KNOWN.name : KNOWN.value;
      if (!k.re.test(v)) push(`value does not match regex pattern ${quote(k.text)}`);
      break;
    }
    default:
      break; // email, uri and uri_ref: C++ PGV does not implement them, so Envoy's protos do not use them
  }
}

function bytesProblems(v: Uint8Array, r: BytesRules, out: string[], at: string): void {
  const d = BytesRulesSchema;
  const n = BigInt(v.length);
  if (has(r, d, 'len') && n !== r.len) out.push(`${at}: value length must be ${r.len} bytes`);
  else if (has(r, d, 'minLen') && has(r, d, 'maxLen') && (n < r.minLen || n > r.maxLen)) out.push(`${at}: value length must be between ${r.minLen} and ${r.maxLen} bytes, inclusive`);
  else if (has(r, d, 'minLen') && !has(r, d, 'maxLen') && n < r.minLen) out.push(`${at}: value length must be at least ${r.minLen} bytes`);
  else if (has(r, d, 'maxLen') && !has(r, d, 'minLen') && n > r.maxLen) out.push(`${at}: value length must be at most ${r.maxLen} bytes`);
}

function enumProblems(v: number, field: DescField, r: EnumRules, out: string[], at: string): void {
  const d = EnumRulesSchema;
  if (has(r, d, 'const') && v !== r.const) out.push(`${at}: value must equal ${r.const}`);
  if (r.in.length > 0 && !r.in.includes(v)) out.push(`${at}: value must be in list ${goList(r.in)}`);
  else if (r.notIn.length > 0 && r.notIn.includes(v)) out.push(`${at}: value must not be in list ${goList(r.notIn)}`);
  const e = field.enum;
  if (r.definedOnly && e !== undefined && !e.values.some((x) => x.number === v)) out.push(`${at}: value must be one of the defined enum values`);
}

function durationProblems(v: Duration | undefined, r: DurationRules, out: string[], at: string): void {
  if (v === undefined) {
    if (r.required) out.push(`${at}: value is required`);
    return;
  }
  if (r.const !== undefined && cmpDur(v, r.const) !== 0) out.push(`${at}: value must equal ${goDuration(r.const)}`);
  const p = rangeProblem(v, boundsOf<Duration>(r as DurationRules & Bounds<Duration>, undefined), cmpDur, goDuration);
  if (p !== undefined) out.push(`${at}: ${p}`);
  if (r.in.length > 0 && !r.in.some((x) => cmpDur(x, v) === 0)) out.push(`${at}: value must be in list ${goList(r.in)}`);
  else if (r.notIn.length > 0 && r.notIn.some((x) => cmpDur(x, v) === 0)) out.push(`${at}: value must not be in list ${goList(r.notIn)}`);
}

function anyProblems(v: Any | undefined, r: AnyRules, out: string[], at: string): void {
  if (v === undefined) {
    if (r.required) out.push(`${at}: value is required`);
    return;
  }
  if (r.in.length > 0 && !r.in.includes(v.typeUrl)) out.push(`${at}: type URL must be in list ${goList(r.in)}`);
  else if (r.notIn.length > 0 && r.notIn.includes(v.typeUrl)) out.push(`${at}: type URL must not be in list ${goList(r.notIn)}`);
}

// ---- fields and messages

export const WRAPPERS = new Set(['google.protobuf.DoubleValue', 'google.protobuf.FloatValue', 'google.protobuf.Int64Value', 'google.protobuf.UInt64Value', 'google.protobuf.Int32Value', 'google.protobuf.UInt32Value', 'google.protobuf.BoolValue', 'google.protobuf.StringValue', 'google.protobuf.BytesValue']);

/** The rules on one value (a singular field's, or a repeated field's item rules). */
export function valueProblems(v: unknown, field: DescField, r: Rules, out: string[], at: string): void {
  switch (r.case) {
    case 'string':
      if (typeof v === 'string') stringProblems(v, r.value, out, at);
      return;
    case 'bytes':
      if (v instanceof Uint8Array) bytesProblems(v, r.value, out, at);
      return;
    case 'bool':
      if (typeof v === 'boolean' && has(r.value, BoolRulesSchema, 'const') && v !== r.value.const) out.push(`${at}: value must equal ${String(r.value.const)}`);
      return;
    case 'enum':
      if (typeof v === 'number') enumProblems(v, field, r.value, out, at);
      return;
    case 'duration':
      durationProblems(v as Duration | undefined, r.value, out, at);
      return;
    case 'any':
      anyProblems(v as Any | undefined, r.value, out, at);
      return;
    case 'float':
    case 'double':
    case 'int32':
    case 'int64':
    case 'uint32':
    case 'uint64':
    case 'sint32':
    case 'sint64':
    case 'fixed32':
    case 'fixed64':
    case 'sfixed32':
    case 'sfixed64': {
      if (typeof v !== 'number' && typeof v !== 'bigint') return;
      numberProblems(v, r.value as NumRules & Message, out, at);
      return;
    }
    default:
      return; // repeated and map rules are handled by the caller; timestamps are not used by Envoy's xDS
  }
}

/** PGV's repeated min_items/max_items and map min_pairs/max_pairs reasons (`unit` is "item" or "pair"). */
export function countProblem(count: number, min: bigint | undefined, max: bigint | undefined, unit: 'item' | 'pair'): string | undefined {
  const n = BigInt(count);
  if (min !== undefined && min > 0n) {
    if (min === max) return n !== min ? `value must contain exactly ${min} ${unit}(s)` : undefined;
    if (max !== undefined) return n < min || n > max ? `value must contain between ${min} and ${max} ${unit}s, inclusive` : undefined;
    return n < min ? `value must contain at least ${min} ${unit}(s)` : undefined;
  }
  return max !== undefined && n > max ? `value must contain no more than ${max} ${unit}(s)` : undefined;
}
