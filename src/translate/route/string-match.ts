// Istio's StringMatch (exact / prefix / regex) as Envoy's StringMatcher (pilot/pkg/networking/util
// ConvertToEnvoyMatch): regexes become safe_regex with no engine set (Envoy's default, RE2), as Istio emits
// them. A StringMatch with nothing set converts to nothing.

import { create } from '@bufbuild/protobuf';
import type { StringMatch } from '../../api/networking/virtual-service.js';
import { RegexMatcherSchema, type RegexMatcher } from '../../xds/gen/envoy/type/matcher/v3/regex_pb.js';
import { StringMatcherSchema, type StringMatcher } from '../../xds/gen/envoy/type/matcher/v3/string_pb.js';

export function regexMatcher(regex: string): RegexMatcher {
  return create(RegexMatcherSchema, { regex });
}

export function exactStringMatcher(exact: string): StringMatcher {
  return create(StringMatcherSchema, { matchPattern: { case: 'exact', value: exact } });
}

/** ConvertToEnvoyMatch; undefined when the StringMatch sets no match type. */
export function stringMatcher(m: StringMatch): StringMatcher | undefined {
  if (m.exact !== undefined) return exactStringMatcher(m.exact);
  if (m.prefix !== undefined) return create(StringMatcherSchema, { matchPattern: { case: 'prefix', value: m.prefix } });
  if (m.regex !== undefined) return create(StringMatcherSchema, { matchPattern: { case: 'safeRegex', value: regexMatcher(m.regex) } });
  return undefined;
}

/** canBeConvertedToPresentMatch: no match type, or the regex `*` (not RE2; Istio reads it as "present"). */
export function isPresentMatch(m: StringMatch | undefined): boolean {
  if (m === undefined) return true;
  if (m.exact !== undefined || m.prefix !== undefined) return false;
  return m.regex === undefined || m.regex === '*';
}
