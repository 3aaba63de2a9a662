// Listeners for proxyless gRPC clients (Istio's grpcgen/lds.go buildOutboundListeners): one API listener per
// visible service port, named `<host>:<port>` as the client asks for `xds:///<host>:<port>`, whose
// HttpConnectionManager takes route config `outbound|<port>||<host>` over ADS and runs only the filters gRPC
// implements (fault, router last). Istio builds only the names a client requests, expanding a short name in
// the client's namespace (`reviews:9080`, `reviews.default:9080`, `reviews.default.svc:9080`) to the FQDN;
// Isthmus builds every name, those aliases included, and the xDS server answers each subscription with the
// names it asked for. gRPC servers' inbound listeners (xds.istio.io/grpc/lds/inbound/...) are not built yet.

import { create } from '@bufbuild/protobuf';
import { pack } from '../../xds/codec.js';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { ConfigSourceSchema } from '../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import { HttpConnectionManagerSchema, RdsSchema } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { grpcListenerName } from '../../xds/names.js';
import type { Service } from '../../registry/types.js';
import type { ProxyContext } from '../context.js';
import { socketAddress } from '../proto-values.js';
import { proxylessRouteName } from '../route/route-names.js';
import { buildProxylessHttpFilters } from './http-filters.js';
import { serviceAddress } from './outbound-tcp-chains.js';

/** The names tryFindFQDN would expand to `hostname` for a client whose DNS domain is `dnsDomain` (`<ns>.svc.<suffix>`). */
export function shortNamesFor(hostname: string, namespace: string, dnsDomain: string): string[] {
  const suffix = `.${dnsDomain}`;
  if (dnsDomain === '' || !hostname.endsWith(suffix)) return [];
  const short = hostname.slice(0, -suffix.length);
  if (short === '' || short.includes('.')) return [];
  const out = [short];
  if (dnsDomain.startsWith(`${namespace}.`) || dnsDomain === namespace) out.push(`${short}.${namespace}`);
  if (dnsDomain.startsWith(`${namespace}.svc.`) || dnsDomain === `${namespace}.svc`) out.push(`${short}.${namespace}.svc`);
  return out;
}

function apiListener(name: string, service: Service, port: number): Listener {
  const hcm = create(HttpConnectionManagerSchema, {
    httpFilters: buildProxylessHttpFilters(),
    routeSpecifier: {
      case: 'rds',
      value: create(RdsSchema, {
        configSource: create(ConfigSourceSchema, { configSourceSpecifier: { case: 'ads', value: {} } }),
        routeConfigName: proxylessRouteName(service.hostname, port),
      }),
    },
  });
  return create(ListenerSchema, {
    name,
    address: socketAddress(serviceAddress(service), port),
    apiListener: { apiListener: pack(HttpConnectionManagerSchema, hcm) },
  });
}

export function buildProxylessListeners(ctx: ProxyContext): Listener[] {
  const out = new Map<string, Listener>();
  const aliases: [string, Service, number][] = [];
  for (const service of ctx.services) {
    const shorts = shortNamesFor(service.hostname, ctx.proxy.namespace, ctx.proxy.dnsDomain);
    for (const p of service.ports) {
      const name = grpcListenerName(service.hostname, p.port);
      out.set(name, apiListener(name, service, p.port));
      for (const s of shorts) aliases.push([grpcListenerName(s, p.port), service, p.port]);
    }
  }
  // A real hostname wins over an alias spelled the same.
  for (const [name, service, port] of aliases) if (!out.has(name)) out.set(name, apiListener(name, service, port));
  return [...out.values()];
}
