// RouteAction.hash_policy compiled for consistent-hash load balancers, in order with their terminal
// flags. connection_properties without source_ip hashes nothing and is dropped, as in Envoy's
// HashPolicyImpl; a header's regex_rewrite is compiled here so the request path never compiles one.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-routeaction-hashpolicy

import type { RouteAction_HashPolicy } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
import { asciiLower } from './ascii.js';
import { optionalDurationMs } from './proto-values.js';
import { compileRegex, parseRewrite } from './regex.js';
import type { CompiledHashPolicy } from './types.js';

function compileOne(h: RouteAction_HashPolicy, path: string, problems: string[]): CompiledHashPolicy | undefined {
  const terminal = h.terminal;
  const s = h.policySpecifier;
  switch (s.case) {
    case 'header': {
      if (s.value.headerName === '') problems.push(`${path}.header.header_name: value length must be at least 1 characters`);
      let rewrite: ((v: string) => string) | undefined;
      const rr = s.value.regexRewrite;
      if (rr !== undefined) {
        const re = compileRegex(rr.pattern?.regex ?? '');
        if (!re.ok) problems.push(`${path}.header.regex_rewrite.pattern.regex: ${re.reason}`);
        else {
          const sub = parseRewrite(rr.substitution, re.regex.groupCount);
          if (!sub.ok) problems.push(`${path}.header.regex_rewrite.substitution: ${sub.reason}`);
          else {
            const regex = re.regex;
            const rw = sub.rewrite;
            rewrite = (v) => regex.replaceAll(v, rw);
          }
        }
      }
      return { kind: 'header', terminal, headerName: asciiLower(s.value.headerName), rewrite };
    }
    case 'cookie':
      if (s.value.name === '') problems.push(`${path}.cookie.name: value length must be at least 1 characters`);
      return {
        kind: 'cookie',
        terminal,
        name: s.value.name,
        ttlMs: optionalDurationMs(s.value.ttl, `${path}.cookie.ttl`, problems),
        path: s.value.path,
        attributes: Object.freeze(s.value.attributes.map((a) => Object.freeze({ name: a.name, value: a.value }))),
      };
    case 'connectionProperties':
      return s.value.sourceIp ? { kind: 'sourceIp', terminal } : undefined;
    case 'queryParameter':
      if (s.value.name === '') problems.push(`${path}.query_parameter.name: value length must be at least 1 characters`);
      return { kind: 'queryParameter', terminal, name: s.value.name };
    case 'filterState':
      if (s.value.key === '') problems.push(`${path}.filter_state.key: value length must be at least 1 characters`);
      return { kind: 'filterState', terminal, key: s.value.key };
    case undefined:
      problems.push(`${path}: one of header, cookie, connection_properties, query_parameter or filter_state must be set`);
      return undefined;
  }
}

export function compileHashPolicies(list: readonly RouteAction_HashPolicy[], path: string, problems: string[]): readonly CompiledHashPolicy[] {
  const out: CompiledHashPolicy[] = [];
  list.forEach((h, i) => {
    const c = compileOne(h, `${path}[${i}]`, problems);
    if (c !== undefined) out.push(Object.freeze(c));
  });
  return Object.freeze(out);
}
