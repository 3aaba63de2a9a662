// envoy.type.matcher.v3.StringMatcher compiled into a predicate. ignore_case folds ASCII only and does
// not apply to safe_regex (Envoy: source/common/common/matchers.h, StringMatcherImpl). Problems follow
// the protoc-gen-validate rules Envoy enforces (non-empty prefix/suffix/contains, a pattern is required).

import type { StringMatcher } from '../../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import { asciiLower, endsWithIgnoreCase, equalsIgnoreCase, startsWithIgnoreCase } from './ascii.js';
import { compileRegex } from './regex.js';

export type StringPredicate = (value: string) => boolean;

const NEVER: StringPredicate = () => false;

/** Compiles a StringMatcher; on a problem the predicate never matches (the config is rejected anyway). */
export function compileStringMatcher(m: StringMatcher, path: string, problems: string[]): StringPredicate {
  const p = m.matchPattern;
  const ic = m.ignoreCase;
  switch (p.case) {
    case 'exact': {
      const want = ic ? asciiLower(p.value) : p.value;
      return ic ? (v) => equalsIgnoreCase(v, want) : (v) => v === want;
    }
    case 'prefix':
    case 'suffix':
    case 'contains': {
      if (p.value === '') {
        problems.push(`${path}.${p.case}: value length must be at least 1 characters`);
        return NEVER;
      }
      const want = ic ? asciiLower(p.value) : p.value;
      if (p.case === 'prefix') return ic ? (v) => startsWithIgnoreCase(v, want) : (v) => v.startsWith(want);
      if (p.case === 'suffix') return ic ? (v) => endsWithIgnoreCase(v, want) : (v) => v.endsWith(want);
      return ic ? (v) => asciiLower(v).includes(want) : (v) => v.includes(want);
    }
    case 'safeRegex': {
      const r = compileRegex(p.value.regex);
      if (!r.ok) {
        problems.push(`${path}.safe_regex.regex: ${r.reason}`);
        return NEVER;
      }
      const re = r.regex;
      return (v) => re.fullMatch(v);
    }
    case 'custom':
      problems.push(`${path}.custom: unsupported string matcher extension ${JSON.stringify(p.value.name)}`);
      return NEVER;
    case undefined:
      problems.push(`${path}: one of exact, prefix, suffix, safe_regex or contains must be set`);
      return NEVER;
  }
}
