// VirtualService `corsPolicy` to the per-route config of Envoy's CORS filter (envoy.filters.http.cors
// CorsPolicy), as pilot/pkg/networking/core/route/route.go TranslateCORSPolicy: origins as string matchers
// (`allowOrigins`, else the deprecated exact `allowOrigin` list), comma-joined method and header lists,
// max age in whole seconds, the filter enabled for 100% of requests, and unmatched preflights forwarded
// unless `unmatchedPreflights: IGNORE`.

import { create } from '@bufbuild/protobuf';
import type { CorsPolicy as IstioCorsPolicy } from '../../api/networking/virtual-service.js';
import { CorsPolicySchema, type CorsPolicy } from '../../xds/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { secondsFromString } from '../proto-values.js';
import { exactStringMatcher, stringMatcher } from './string-match.js';
import { integerToFractional, runtimeFraction } from './percent.js';

export function translateCorsPolicy(in_: IstioCorsPolicy): CorsPolicy {
  const out = create(CorsPolicySchema, {
    forwardNotMatchingPreflights: in_.unmatchedPreflights !== 'IGNORE',
    filterEnabled: runtimeFraction(integerToFractional(100)),
    allowHeaders: (in_.allowHeaders ?? []).join(','),
    allowMethods: (in_.allowMethods ?? []).join(','),
    exposeHeaders: (in_.exposeHeaders ?? []).join(','),
  });
  if (in_.allowOrigins !== undefined) out.allowOriginStringMatch = in_.allowOrigins.flatMap((m) => stringMatcher(m) ?? []);
  else if (in_.allowOrigin !== undefined) out.allowOriginStringMatch = in_.allowOrigin.map(exactStringMatcher);
  if (in_.allowCredentials !== undefined) out.allowCredentials = in_.allowCredentials;
  if (in_.maxAge !== undefined) out.maxAge = String(secondsFromString(in_.maxAge));
  return out;
}
