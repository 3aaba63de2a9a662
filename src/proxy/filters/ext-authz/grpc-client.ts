// The ext_authz gRPC authorization client (Envoy's GrpcClientImpl): one unary
// envoy.service.auth.v3.Authorization/Check per request to a host of the envoy_grpc cluster, with the
// grpc_service timeout as the deadline. Status OK allows (ok_response headers: append=true appends,
// otherwise overwrites; headers_to_remove; response_headers_to_add); any other status denies with
// denied_response (status default 403, headers, body); an RPC failure (unreachable, deadline, bad
// message) is an error. The call goes through the cluster as any side call does (upstream/grpc-unary.ts): a
// host picked as the router picks, HTTP/2 from the cluster's pool with its transport (TLS, the workload
// certificate over SDS for an in-mesh authorizer behind a sidecar), circuit breakers and outlier reporting.
// Not modelled: initial_metadata, retry_policy.
// Envoy: source/extensions/filters/common/ext_authz/ext_authz_grpc_impl.cc, check_request_utils.cc.

import { create, type JsonObject } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { CheckRequestSchema, type CheckRequest, type CheckResponse } from '../../../xds/gen/envoy/service/auth/v3/external_auth_pb.js';
import type { HeaderValueOption } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { ClusterHandle } from '../../upstream/cluster-handle.js';
import { grpcUnary } from '../../upstream/grpc-unary.js';
import { GRPC_OK } from '../../upstream/grpc-framing.js';
import { headerValue } from '../../http/headers.js';
import type { GrpcAuthzService } from './config.js';
import type { CancelCheck, CheckCallback, CheckInput, CheckResult, HeaderPair } from './check.js';
import { AUTHORIZATION_SERVICE } from './authorization-service.js';

function peer(address: string, port: number, principal: string) {
  return { address: { address: { case: 'socketAddress' as const, value: { address, portSpecifier: { case: 'portValue' as const, value: port } } } }, principal };
}

/** check_request_utils createHttpCheck: the request's attributes, headers (pseudo headers included) and body. */
export function buildCheckRequest(input: CheckInput): CheckRequest {
  const headers: Record<string, string> = { ':authority': input.authority, ':method': input.method, ':path': input.path, ':scheme': input.scheme };
  for (const k in input.headers) {
    if (k === 'host') continue;
    const v = headerValue(input.headers, k);
    if (v !== undefined) headers[k] = v;
  }
  const q = input.path.indexOf('?');
  const filterMetadata: Record<string, JsonObject> = {};
  for (const ns in input.metadataContext) filterMetadata[ns] = JSON.parse(JSON.stringify(input.metadataContext[ns])) as JsonObject;
  return create(CheckRequestSchema, {
    attributes: {
      source: peer(input.sourceAddress, input.sourcePort, input.sourcePrincipal),
      destination: peer(input.destinationAddress, input.destinationPort, ''),
      request: {
        time: timestampFromMs(input.nowMs),
        http: {
          id: input.requestId,
          method: input.method,
          headers,
          path: input.path,
          host: input.authority,
          scheme: input.scheme,
          query: q < 0 ? '' : input.path.slice(q + 1),
          size: BigInt(input.size),
          protocol: input.protocol,
          ...(input.body === undefined ? {} : input.packAsBytes ? { rawBody: input.body } : { body: input.body.toString('utf8') }),
        },
      },
      ...(input.sni !== '' ? { tlsSession: { sni: input.sni } } : {}),
      metadataContext: { filterMetadata },
    },
  });
}

function optionPairs(opts: readonly HeaderValueOption[], wantAppend: boolean): HeaderPair[] {
  const out: HeaderPair[] = [];
  for (const o of opts) {
    const h = o.header;
    if (h === undefined || h.key === '') continue;
    // ext_authz docs (OkHttpResponse.headers): append=true appends, false or unset adds or overwrites.
    if ((o.append === true) === wantAppend) out.push([h.key.toLowerCase(), h.value !== '' ? h.value : Buffer.from(h.rawValue).toString('utf8')]);
  }
  return out;
}

function allPairs(opts: readonly HeaderValueOption[]): HeaderPair[] {
  return [...optionPairs(opts, false), ...optionPairs(opts, true)];
}

/** GrpcClientImpl::onSuccess. */
export function checkResultOf(r: CheckResponse): CheckResult {
  const md = r.dynamicMetadata !== undefined ? (r.dynamicMetadata as Record<string, unknown>) : undefined;
  if ((r.status?.code ?? 0) === GRPC_OK) {
    const ok = r.httpResponse.case === 'okResponse' ? r.httpResponse.value : undefined;
    return {
      kind: 'ok',
      headersToSet: ok !== undefined ? optionPairs(ok.headers, false) : [],
      headersToAppend: ok !== undefined ? optionPairs(ok.headers, true) : [],
      headersToRemove: ok !== undefined ? ok.headersToRemove.map((h) => h.toLowerCase()) : [],
      responseHeadersToAdd: ok !== undefined ? allPairs(ok.responseHeadersToAdd) : [],
      dynamicMetadata: md,
    };
  }
  const denied = r.httpResponse.case === 'deniedResponse' ? r.httpResponse.value : undefined;
  const code = denied?.status?.code ?? 0;
  return { kind: 'denied', status: code > 0 ? code : 403, body: denied?.body ?? '', headers: denied !== undefined ? allPairs(denied.headers) : [], dynamicMetadata: md };
}

/** Runs one gRPC check against a host of `cluster`; `done` is called exactly once unless cancelled. */
export function checkGrpc(svc: GrpcAuthzService, cluster: ClusterHandle, input: CheckInput, done: CheckCallback): CancelCheck {
  const m = AUTHORIZATION_SERVICE.Check;
  return grpcUnary(cluster, { path: m.path, authority: svc.authority, message: m.requestSerialize(buildCheckRequest(input)), timeoutMs: svc.timeoutMs }, (r) => {
    if (!r.ok) return done({ kind: 'error', reason: r.message !== '' ? r.message : `gRPC status ${r.status}` });
    let res: CheckResponse;
    try {
      res = m.responseDeserialize(r.reply);
    } catch (e) {
      return done({ kind: 'error', reason: `bad CheckResponse: ${(e as Error).message}` });
    }
    done(checkResultOf(res));
  });
}
