// envoy.config.route.v3.HeaderMatcher and QueryParameterMatcher compiled into predicates over a request.
//
// Header semantics (Envoy source/common/http/header_utility.h, HeaderDataBaseImpl / PresentMatch):
// - every value of the header is joined with ',' before matching;
// - a missing header fails every value matcher, whatever invert_match says, unless
//   treat_missing_header_as_empty (then it is matched as '');
// - present_match compares presence with the wanted value, then invert_match applies;
//   a matcher with no specifier is a presence check;
// - range_match parses the value as an int64 (absl::SimpleAtoi) and tests [start, end).
// Query parameters (config_utility.cc): the first value of the name, undecoded; present_match: false
// matches an absent parameter (as documented; Envoy fixed its implementation in envoyproxy/envoy#38000).

import type { HeaderMatcher, QueryParameterMatcher } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { asciiLower } from './ascii.js';
import { compileRegex } from './regex.js';
import type { HeaderSource, RequestView } from './request-view.js';
import { joinedHeader } from './request-view.js';
import { compileStringMatcher, type StringPredicate } from './string-matcher.js';
import type { HeaderMap, HeaderPredicate } from './types.js';

export interface CompiledHeaderMatcher extends HeaderPredicate {
  matches(headers: HeaderSource): boolean;
}

const NEVER: StringPredicate = () => false;
const INT64 = /^\s*[+-]?\d{1,19}\s*$/;

function valuePredicate(m: HeaderMatcher, path: string, problems: string[]): StringPredicate | undefined {
  const s = m.headerMatchSpecifier;
  switch (s.case) {
    case 'exactMatch': {
      const want = s.value;
      return (v) => v === want;
    }
    case 'prefixMatch':
    case 'suffixMatch':
    case 'containsMatch': {
      const field = s.case === 'prefixMatch' ? 'prefix_match' : s.case === 'suffixMatch' ? 'suffix_match' : 'contains_match';
      if (s.value === '') {
        problems.push(`${path}.${field}: value length must be at least 1 characters`);
        return NEVER;
      }
      const want = s.value;
      if (s.case === 'prefixMatch') return (v) => v.startsWith(want);
      if (s.case === 'suffixMatch') return (v) => v.endsWith(want);
      return (v) => v.includes(want);
    }
    case 'safeRegexMatch': {
      const r = compileRegex(s.value.regex);
      if (!r.ok) {
        problems.push(`${path}.safe_regex_match.regex: ${r.reason}`);
        return NEVER;
      }
      const re = r.regex;
      return (v) => re.fullMatch(v);
    }
    case 'rangeMatch': {
      const { start, end } = s.value;
      return (v) => {
        if (!INT64.test(v)) return false;
        const n = BigInt(v.trim());
        return n >= start && n < end;
      };
    }
    case 'stringMatch':
      return compileStringMatcher(s.value, `${path}.string_match`, problems);
    case 'presentMatch':
    case undefined:
      return undefined;
  }
}

class ValueHeaderMatcher implements CompiledHeaderMatcher {
  constructor(
    readonly name: string,
    private readonly test: StringPredicate,
    private readonly invert: boolean,
    private readonly missingAsEmpty: boolean,
  ) {}

  matches(headers: HeaderSource): boolean {
    return this.check(headers.header(this.name));
  }

  matchesMap(headers: HeaderMap): boolean {
    return this.check(joinedHeader(headers, this.name));
  }

  private check(v: string | undefined): boolean {
    if (v === undefined) {
      if (!this.missingAsEmpty) return false;
      v = '';
    }
    return this.test(v) !== this.invert;
  }
}

class PresentHeaderMatcher implements CompiledHeaderMatcher {
  constructor(
    readonly name: string,
    private readonly present: boolean,
    private readonly invert: boolean,
  ) {}

  matches(headers: HeaderSource): boolean {
    return ((headers.header(this.name) !== undefined) === this.present) !== this.invert;
  }

  matchesMap(headers: HeaderMap): boolean {
    return ((joinedHeader(headers, this.name) !== undefined) === this.present) !== this.invert;
  }
}

export function compileHeaderMatcher(m: HeaderMatcher, path: string, problems: string[]): CompiledHeaderMatcher {
  if (m.name === '') problems.push(`${path}.name: value length must be at least 1 characters`);
  const name = asciiLower(m.name);
  const test = valuePredicate(m, path, problems);
  if (test === undefined) {
    const present = m.headerMatchSpecifier.case === 'presentMatch' ? m.headerMatchSpecifier.value : true;
    return new PresentHeaderMatcher(name, present, m.invertMatch);
  }
  return new ValueHeaderMatcher(name, test, m.invertMatch, m.treatMissingHeaderAsEmpty);
}

export function compileHeaderMatchers(ms: readonly HeaderMatcher[], path: string, problems: string[]): readonly CompiledHeaderMatcher[] {
  return Object.freeze(ms.map((m, i) => compileHeaderMatcher(m, `${path}[${i}]`, problems)));
}

export interface CompiledQueryParameterMatcher {
  matches(req: RequestView): boolean;
}

export function compileQueryParameterMatcher(m: QueryParameterMatcher, path: string, problems: string[]): CompiledQueryParameterMatcher {
  if (m.name === '') problems.push(`${path}.name: value length must be at least 1 characters`);
  if (m.name.length > 1024) problems.push(`${path}.name: value length must be at most 1024 characters`);
  const name = m.name;
  const s = m.queryParameterMatchSpecifier;
  if (s.case === 'stringMatch') {
    const test = compileStringMatcher(s.value, `${path}.string_match`, problems);
    return {
      matches(req) {
        const v = req.queryParam(name);
        return v !== undefined && test(v);
      },
    };
  }
  const present = s.case === 'presentMatch' ? s.value : true;
  return {
    matches(req) {
      return (req.queryParam(name) !== undefined) === present;
    },
  };
}
