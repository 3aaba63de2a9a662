// Listener filters as Istio configures them (pilot/pkg/xds/filters/filters.go and listener_inbound.go
// populateListenerFilters): the TLS and HTTP inspectors, original_dst, and the port predicates that switch an
// inspector off for ports that do not need it. The HTTP inspector must come after the TLS inspector: once TLS
// sets the transport protocol, HTTP inspection is skipped.

import { create } from '@bufbuild/protobuf';
import { pack } from '../../xds/codec.js';
import {
  ListenerFilterChainMatchPredicateSchema,
  ListenerFilterSchema,
  type ListenerFilter,
  type ListenerFilterChainMatchPredicate,
} from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { TlsInspectorSchema } from '../../xds/gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import { HttpInspectorSchema } from '../../xds/gen/envoy/extensions/filters/listener/http_inspector/v3/http_inspector_pb.js';
import { OriginalDstSchema } from '../../xds/gen/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js';
import { HTTP_INSPECTOR, ORIGINAL_DST, TLS_INSPECTOR } from './well-known.js';

/** tls_inspector with a 512-byte initial read buffer (Istio lowers Envoy's 64 KiB default). */
export function tlsInspector(filterDisabled?: ListenerFilterChainMatchPredicate): ListenerFilter {
  return create(ListenerFilterSchema, {
    name: TLS_INSPECTOR,
    configType: { case: 'typedConfig', value: pack(TlsInspectorSchema, create(TlsInspectorSchema, { initialReadBufferSize: 512 })) },
    ...(filterDisabled !== undefined ? { filterDisabled } : {}),
  });
}

export function httpInspector(filterDisabled?: ListenerFilterChainMatchPredicate): ListenerFilter {
  return create(ListenerFilterSchema, {
    name: HTTP_INSPECTOR,
    configType: { case: 'typedConfig', value: pack(HttpInspectorSchema, create(HttpInspectorSchema)) },
    ...(filterDisabled !== undefined ? { filterDisabled } : {}),
  });
}

export function originalDst(): ListenerFilter {
  return create(ListenerFilterSchema, {
    name: ORIGINAL_DST,
    configType: { case: 'typedConfig', value: pack(OriginalDstSchema, create(OriginalDstSchema)) },
  });
}

function portRange(port: number): ListenerFilterChainMatchPredicate {
  return create(ListenerFilterChainMatchPredicateSchema, { rule: { case: 'destinationPortRange', value: { start: port, end: port + 1 } } });
}

/** listenerPredicateExcludePorts: matches (so disables the filter on) exactly `ports`; `ports` must not be empty. */
export function predicateForPorts(ports: readonly number[]): ListenerFilterChainMatchPredicate {
  const ranges = [...ports].sort((a, b) => a - b).map(portRange);
  if (ranges.length === 1) return ranges[0] as ListenerFilterChainMatchPredicate;
  return create(ListenerFilterChainMatchPredicateSchema, { rule: { case: 'orMatch', value: { rules: ranges } } });
}

/** listenerPredicateIncludePorts: matches every port except `ports`. */
export function predicateForOtherPorts(ports: readonly number[]): ListenerFilterChainMatchPredicate {
  return create(ListenerFilterChainMatchPredicateSchema, { rule: { case: 'notMatch', value: predicateForPorts(ports) } });
}
