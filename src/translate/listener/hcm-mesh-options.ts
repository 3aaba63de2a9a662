// Connection manager settings that follow the mesh config or the proxy's node metadata, as Istio's
// buildHTTPConnectionManager sets them on sidecar inbound and outbound and gateway connection managers
// alike (listener_builder.go), applied as a last pass over the built listeners (like access logs and tracing)
// and only when they differ from what the builder already set (http-connection-manager.ts: BASE path
// normalization, HTTP/1.0 refused). Pure.
// - HTTP/1.0: `http_protocol_options.accept_http_10` when the node metadata's HTTP10 is "1" or "true" (the
//   proxy's ISTIO_META_HTTP10; enableHTTP10). Without it Envoy answers HTTP/1.0 requests 426. Istio's
//   mesh-wide switch (PILOT_HTTP10, features.HTTP10) is an istiod environment variable, which this pure
//   translation does not read.
// - meshConfig.pathNormalization.normalization: NONE turns normalize_path off; MERGE_SLASHES adds
//   merge_slashes; DECODE_AND_MERGE_SLASHES adds merge_slashes and UNESCAPE_AND_FORWARD for escaped
//   slashes; DEFAULT and BASE are normalize_path with escaped slashes kept.

import { clone, create } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { Http1ProtocolOptionsSchema } from '../../xds/gen/envoy/config/core/v3/protocol_pb.js';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { Filter, FilterChain } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import {
  HttpConnectionManagerSchema,
  HttpConnectionManager_PathWithEscapedSlashesAction as EscapedSlashes,
  type HttpConnectionManager,
} from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { Proxy } from '../../model/proxy.js';
import type { MeshConfig } from '../../model/mesh-config.js';

/** Istio's enableHTTP10: the metadata value "1" or "true", in any case. */
export function acceptsHttp10(proxy: Proxy): boolean {
  const v = proxy.metadata['HTTP10'];
  return typeof v === 'string' && ['1', 'true'].includes(v.toLowerCase());
}

type Change = (h: HttpConnectionManager) => void;

function changesFor(proxy: Proxy, mesh: MeshConfig): Change[] {
  const out: Change[] = [];
  if (acceptsHttp10(proxy)) {
    out.push((h) => {
      const o = h.httpProtocolOptions ?? create(Http1ProtocolOptionsSchema);
      o.acceptHttp10 = true;
      h.httpProtocolOptions = o;
    });
  }
  switch (mesh.pathNormalization) {
    case 'NONE':
      out.push((h) => void (h.normalizePath = false));
      break;
    case 'MERGE_SLASHES':
      out.push((h) => void (h.mergeSlashes = true));
      break;
    case 'DECODE_AND_MERGE_SLASHES':
      out.push((h) => {
        h.mergeSlashes = true;
        h.pathWithEscapedSlashesAction = EscapedSlashes.UNESCAPE_AND_FORWARD;
      });
      break;
    default: // DEFAULT, BASE: as built
  }
  return out;
}

function changedFilter(f: Filter, changes: readonly Change[]): Filter {
  if (f.configType.case !== 'typedConfig' || !f.configType.value.typeUrl.endsWith(HttpConnectionManagerSchema.typeName)) return f;
  const h = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
  if (h === undefined) return f;
  for (const c of changes) c(h);
  return { ...f, configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, h) } };
}

/** The listeners with their connection managers set as the proxy's metadata and the mesh config say; unchanged when neither asks for anything. */
export function withHcmMeshOptions(listeners: readonly Listener[], proxy: Proxy, mesh: MeshConfig): Listener[] {
  const changes = changesFor(proxy, mesh);
  if (changes.length === 0) return [...listeners];
  const chain = (c: FilterChain): FilterChain => ({ ...c, filters: c.filters.map((f) => changedFilter(f, changes)) });
  return listeners.map((l) => {
    if (l.apiListener !== undefined) return l;
    const c = clone(ListenerSchema, l);
    c.filterChains = c.filterChains.map(chain);
    if (c.defaultFilterChain !== undefined) c.defaultFilterChain = chain(c.defaultFilterChain);
    return c;
  });
}
