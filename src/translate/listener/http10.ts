// HTTP/1.0 on a proxy's connection managers, as Istio decides it (listener_builder.go, sidecar inbound and
// outbound and gateway connection managers alike): `http_protocol_options.accept_http_10` is set when the node
// metadata's HTTP10 is "1" or "true" (the proxy's ISTIO_META_HTTP10; enableHTTP10). Without it Envoy answers
// HTTP/1.0 requests 426 Upgrade Required. Istio's mesh-wide switch (PILOT_HTTP10, features.HTTP10) is an
// istiod environment variable, which this pure translation does not read. Applied as a last pass over the
// built listeners, like access logs and tracing; other http_protocol_options fields are kept. Pure.

import { clone, create } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { Http1ProtocolOptionsSchema } from '../../xds/gen/envoy/config/core/v3/protocol_pb.js';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { Filter, FilterChain } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { HttpConnectionManagerSchema } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { Proxy } from '../../model/proxy.js';

/** Istio's enableHTTP10: the metadata value "1" or "true", in any case. */
export function acceptsHttp10(proxy: Proxy): boolean {
  const v = proxy.metadata['HTTP10'];
  return typeof v === 'string' && ['1', 'true'].includes(v.toLowerCase());
}

function withHttp10Filter(f: Filter): Filter {
  if (f.configType.case !== 'typedConfig' || !f.configType.value.typeUrl.endsWith(HttpConnectionManagerSchema.typeName)) return f;
  const h = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
  if (h === undefined) return f;
  const o = h.httpProtocolOptions ?? create(Http1ProtocolOptionsSchema);
  o.acceptHttp10 = true;
  h.httpProtocolOptions = o;
  return { ...f, configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, h) } };
}

const chainWithHttp10 = (c: FilterChain): FilterChain => ({ ...c, filters: c.filters.map(withHttp10Filter) });

/** The listeners, with every HTTP connection manager accepting HTTP/1.0 when the proxy asks for it; else unchanged. */
export function withHttp10(listeners: readonly Listener[], proxy: Proxy): Listener[] {
  if (!acceptsHttp10(proxy)) return [...listeners];
  return listeners.map((l) => {
    if (l.apiListener !== undefined) return l;
    const c = clone(ListenerSchema, l);
    c.filterChains = c.filterChains.map(chainWithHttp10);
    if (c.defaultFilterChain !== undefined) c.defaultFilterChain = chainWithHttp10(c.defaultFilterChain);
    return c;
  });
}
