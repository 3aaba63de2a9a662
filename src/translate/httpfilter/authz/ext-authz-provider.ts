// meshConfig.extensionProviders -> the envoy.filters.http.ext_authz config each provider stands for (Istio's
// authz/builder/extauthz.go processExtensionProvider, buildExtAuthzHTTP/GRPC, generateHTTPConfig/GRPCConfig):
// the authorizer's service resolved to its outbound cluster (model.LookupCluster), the 600 s default
// timeout, failOpen as failure_mode_allow, statusOnError, header lists as case-insensitive exact/prefix/
// suffix matchers, the request body settings and transport_api_version V3. filter_enabled_metadata is
// left for the caller (it is per provider). A provider whose service cannot be found resolves to an error
// string; CUSTOM policies naming it then get the deny fallback.

import { create } from '@bufbuild/protobuf';
import type { MeshSnapshot } from '../../../model/snapshot.js';
import type { ExtAuthzRequestBody, ExtensionProvider } from '../../../model/mesh-config.js';
import { subsetKey } from '../../../xds/names.js';
import { ApiVersion } from '../../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import { BufferSettingsSchema, ExtAuthzSchema, type BufferSettings, type ExtAuthz } from '../../../xds/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import { ListStringMatcherSchema, type ListStringMatcher } from '../../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import type { StatusCode } from '../../../xds/gen/envoy/type/v3/http_status_pb.js';
import { stringExact, stringPrefix, stringSuffix } from './matchers.js';

export const EXT_AUTHZ_FILTER_NAME = 'envoy.filters.http.ext_authz';

/** Istio's default check timeout (extauthz.go timeoutOrDefault). */
const DEFAULT_TIMEOUT_SECONDS = 600n;

export type ResolvedProvider = { readonly ok: true; readonly config: ExtAuthz } | { readonly ok: false; readonly error: string };

/** model.LookupCluster: `ns/hostname`, or a hostname that exists in exactly one namespace. */
export function lookupCluster(snapshot: MeshSnapshot, service: string, port: number): { readonly hostname: string; readonly cluster: string } | { readonly error: string } {
  if (service === '') return { error: 'service must not be empty' };
  const parts = service.split('/');
  if (parts.length === 2) {
    const [ns, name] = parts as [string, string];
    const svc = snapshot.services.find((s) => s.hostname === name && s.namespace === ns);
    if (svc !== undefined) return { hostname: svc.hostname, cluster: subsetKey('outbound', '', svc.hostname, port) };
  } else {
    const found = snapshot.services.filter((s) => s.hostname === service);
    const namespaces = [...new Set(found.map((s) => s.namespace))];
    if (namespaces.length === 1) return { hostname: service, cluster: subsetKey('outbound', '', service, port) };
    if (namespaces.length > 1) return { error: `found ${service} in multiple namespaces [${namespaces.join(' ')}], specify the namespace explicitly in the format of <Namespace>/<Hostname>` };
  }
  return { error: `could not find service ${service} in Istio service registry` };
}

/** extauthz.go generateHeaders: `*x` suffix, `x*` prefix, else exact; all case-insensitive. */
function headerMatchers(headers: readonly string[]): ListStringMatcher | undefined {
  if (headers.length === 0) return undefined;
  return create(ListStringMatcherSchema, {
    patterns: headers.map((h) => (h.startsWith('*') ? stringSuffix(h.slice(1), true) : h.endsWith('*') ? stringPrefix(h.slice(0, -1), true) : stringExact(h, true))),
  });
}

function timeout(ms: number | undefined): { seconds: bigint; nanos: number } {
  if (ms === undefined) return { seconds: DEFAULT_TIMEOUT_SECONDS, nanos: 0 };
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

function bodySettings(b: ExtAuthzRequestBody | undefined): { withRequestBody?: BufferSettings } {
  return b === undefined ? {} : { withRequestBody: create(BufferSettingsSchema, { maxRequestBytes: b.maxRequestBytes, allowPartialMessage: b.allowPartialMessage, packAsBytes: b.packAsBytes }) };
}

function statusOnError(s: string): { statusOnError?: { code: StatusCode } } {
  return s === '' ? {} : { statusOnError: { code: Number(s) as StatusCode } };
}

/** One provider's ext_authz config, or why it cannot be used. Providers that are not ext_authz are skipped by the caller. */
export function resolveExtAuthzProvider(snapshot: MeshSnapshot, p: ExtensionProvider): ResolvedProvider {
  if (p.kind === 'envoyExtAuthzGrpc') {
    const g = p.envoyExtAuthzGrpc;
    const c = lookupCluster(snapshot, g.service, g.port);
    if ('error' in c) return { ok: false, error: c.error };
    return {
      ok: true,
      config: create(ExtAuthzSchema, {
        ...statusOnError(g.statusOnError),
        failureModeAllow: g.failOpen,
        services: { case: 'grpcService', value: { targetSpecifier: { case: 'envoyGrpc', value: { clusterName: c.cluster, authority: c.hostname } }, timeout: timeout(g.timeoutMs) } },
        transportApiVersion: ApiVersion.V3,
        ...bodySettings(g.includeRequestBodyInCheck),
      }),
    };
  }
  if (p.kind !== 'envoyExtAuthzHttp') return { ok: false, error: `provider ${p.name} is not an ext_authz provider` };
  const h = p.envoyExtAuthzHttp;
  const c = lookupCluster(snapshot, h.service, h.port);
  if ('error' in c) return { ok: false, error: c.error };
  const headersToAdd = Object.keys(h.includeAdditionalHeadersInCheck)
    .sort()
    .map((k) => ({ key: k, value: h.includeAdditionalHeadersInCheck[k] as string }));
  const upstream = headerMatchers(h.headersToUpstreamOnAllow);
  const deny = headerMatchers(h.headersToDownstreamOnDeny);
  const allow = headerMatchers(h.headersToDownstreamOnAllow);
  const allowedHeaders = headerMatchers(h.includeRequestHeadersInCheck);
  return {
    ok: true,
    config: create(ExtAuthzSchema, {
      ...statusOnError(h.statusOnError),
      failureModeAllow: h.failOpen,
      transportApiVersion: ApiVersion.V3,
      services: {
        case: 'httpService',
        value: {
          pathPrefix: h.pathPrefix,
          // The uri is required but not used by the filter; the cluster is what is called.
          serverUri: { timeout: timeout(h.timeoutMs), uri: `http://${c.hostname}`, httpUpstreamType: { case: 'cluster', value: c.cluster } },
          ...(headersToAdd.length > 0 ? { authorizationRequest: { headersToAdd } } : {}),
          ...(upstream !== undefined || deny !== undefined || allow !== undefined
            ? {
                authorizationResponse: {
                  ...(upstream !== undefined ? { allowedUpstreamHeaders: upstream } : {}),
                  ...(deny !== undefined ? { allowedClientHeaders: deny } : {}),
                  ...(allow !== undefined ? { allowedClientHeadersOnSuccess: allow } : {}),
                },
              }
            : {}),
        },
      },
      ...bodySettings(h.includeRequestBodyInCheck),
      ...(allowedHeaders !== undefined ? { allowedHeaders } : {}),
    }),
  };
}
