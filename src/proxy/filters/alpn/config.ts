// Istio's `istio.alpn` HTTP filter config (istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig; istio/proxy
// source/extensions/filters/http/alpn): per upstream HTTP protocol, the ALPN list that replaces the cluster's on
// the request's upstream TLS connection. istiod sends it packed as its own proto; a TypedStruct of it is read too.
// Envoy keeps the first entry per protocol (a map insert) and panics on a protocol it does not know; here that is
// a problem, so the listener is NACKed. The request path lives in filter.ts.

import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { FilterConfig_Protocol as Protocol, FilterConfigSchema, type FilterConfig } from '../../../xds/gen/istio/envoy/config/filter/http/alpn/v2alpha1/config_pb.js';

export const ALPN_FILTER_TYPE = FilterConfigSchema.typeName;

/** The override per upstream protocol; undefined: the cluster's own ALPN is kept. */
export interface AlpnFilterConfig {
  readonly http10: readonly string[] | undefined;
  readonly http11: readonly string[] | undefined;
  readonly http2: readonly string[] | undefined;
}

function compile(m: FilterConfig, path: string, problems: string[]): AlpnFilterConfig {
  const by = new Map<Protocol, readonly string[]>();
  m.alpnOverride.forEach((o, i) => {
    if (o.upstreamProtocol !== Protocol.HTTP10 && o.upstreamProtocol !== Protocol.HTTP11 && o.upstreamProtocol !== Protocol.HTTP2) {
      problems.push(`${path}.alpn_override[${i}].upstream_protocol: unknown protocol ${String(o.upstreamProtocol)}`);
      return;
    }
    if (o.alpnOverride.some((p) => p === '' || Buffer.byteLength(p) > 255)) problems.push(`${path}.alpn_override[${i}].alpn_override: ALPN protocol names are 1 to 255 bytes`);
    // An empty list overrides nothing (Envoy: "ALPN override is empty").
    if (!by.has(o.upstreamProtocol) && o.alpnOverride.length > 0) by.set(o.upstreamProtocol, Object.freeze([...o.alpnOverride]));
  });
  return { http10: by.get(Protocol.HTTP10), http11: by.get(Protocol.HTTP11), http2: by.get(Protocol.HTTP2) };
}

/** The filter's typed_config: the proto itself, or a TypedStruct's value (`typed` undefined). */
export function compileAlpnFilter(typed: Any | undefined, structValue: JsonObject | undefined, path: string, problems: string[]): AlpnFilterConfig {
  let m: FilterConfig | undefined;
  try {
    m = typed !== undefined ? anyUnpack(typed, FilterConfigSchema) : fromJson(FilterConfigSchema, structValue ?? {});
  } catch (e) {
    problems.push(`${path}: cannot decode ${ALPN_FILTER_TYPE}: ${e instanceof Error ? e.message : String(e)}`);
    return { http10: undefined, http11: undefined, http2: undefined };
  }
  if (m === undefined) {
    problems.push(`${path}: cannot decode ${ALPN_FILTER_TYPE}`);
    return { http10: undefined, http11: undefined, http2: undefined };
  }
  return compile(m, path, problems);
}
