// envoy.type.matcher.v3.MetadataMatcher (and its ValueMatcher) compiled into a predicate over dynamic
// metadata, represented here as plain JavaScript values keyed by filter name: a Struct is an object, a
// ListValue an array, and string/number/boolean/null the scalar kinds. `undefined` is a value that is not
// there (protobuf's Value with no kind set).
//
// Envoy: source/common/common/matchers.cc (MetadataMatcher::match, ValueMatcher and its kinds) and
// source/common/config/metadata.cc (Metadata::metadataValue: a path that leaves a Struct yields the empty
// Value). present_match matches any value that is set, including an explicit null (PresentMatcher checks
// kind_case() != KIND_NOT_SET), and present_match: false never matches. `invert` flips the final result.

import type { MetadataMatcher } from '../../../xds/gen/envoy/type/matcher/v3/metadata_pb.js';
import type { ValueMatcher } from '../../../xds/gen/envoy/type/matcher/v3/value_pb.js';
import { compileStringMatcher } from '../../http/route/string-matcher.js';

export type MetadataPredicate = (metadata: Readonly<Record<string, unknown>>) => boolean;
type ValuePredicate = (value: unknown) => boolean;

const NEVER: ValuePredicate = () => false;

function isStruct(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function compileValueMatcher(m: ValueMatcher, path: string, problems: string[]): ValuePredicate {
  const p = m.matchPattern;
  switch (p.case) {
    case 'nullMatch':
      return (v) => v === null;
    case 'doubleMatch': {
      const d = p.value.matchPattern;
      if (d.case === 'exact') {
        const want = d.value;
        return (v) => typeof v === 'number' && v === want;
      }
      if (d.case === 'range') {
        const { start, end } = d.value;
        return (v) => typeof v === 'number' && v >= start && v < end;
      }
      problems.push(`${path}.double_match: one of range or exact must be set`);
      return NEVER;
    }
    case 'stringMatch': {
      const test = compileStringMatcher(p.value, `${path}.string_match`, problems);
      return (v) => typeof v === 'string' && test(v);
    }
    case 'boolMatch': {
      const want = p.value;
      return (v) => v === want;
    }
    case 'presentMatch':
      return p.value ? (v) => v !== undefined : NEVER;
    case 'listMatch': {
      const lp = p.value.matchPattern;
      if (lp.case !== 'oneOf') {
        problems.push(`${path}.list_match: one_of must be set`);
        return NEVER;
      }
      const one = compileValueMatcher(lp.value, `${path}.list_match.one_of`, problems);
      return (v) => Array.isArray(v) && v.some(one);
    }
    case 'orMatch': {
      const ms = p.value.valueMatchers;
      if (ms.length < 2) problems.push(`${path}.or_match.value_matchers: value must contain at least 2 item(s)`);
      const each = ms.map((x, i) => compileValueMatcher(x, `${path}.or_match.value_matchers[${i}]`, problems));
      return (v) => each.some((f) => f(v));
    }
    case undefined:
      problems.push(`${path}: one of null_match, double_match, string_match, bool_match, present_match, list_match or or_match must be set`);
      return NEVER;
  }
}

/** The value at filter/path in the metadata, undefined when any step is missing or not a struct. */
function lookup(metadata: Readonly<Record<string, unknown>>, filter: string, keys: readonly string[]): unknown {
  let cur: unknown = metadata[filter];
  for (const k of keys) {
    if (!isStruct(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

export function compileMetadataMatcher(m: MetadataMatcher, path: string, problems: string[]): MetadataPredicate {
  if (m.filter === '') problems.push(`${path}.filter: value length must be at least 1 characters`);
  if (m.path.length === 0) problems.push(`${path}.path: value must contain at least 1 item(s)`);
  const keys: string[] = [];
  m.path.forEach((s, i) => {
    if (s.segment.case !== 'key' || s.segment.value === '') problems.push(`${path}.path[${i}].key: value length must be at least 1 characters`);
    else keys.push(s.segment.value);
  });
  if (m.value === undefined) {
    problems.push(`${path}.value: value is required`);
    return () => false;
  }
  const test = compileValueMatcher(m.value, `${path}.value`, problems);
  const filter = m.filter;
  const invert = m.invert;
  return (md) => test(lookup(md, filter, keys)) !== invert;
}
