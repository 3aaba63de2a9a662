// The ext_authz gRPC authorization client (Envoy's GrpcClientImpl): one unary
// envoy.service.auth.v3.Authorization/Check per request to a host of the envoy_grpc cluster, with the
// grpc_service timeout as the deadline. Status OK allows (ok_response headers: append=true appends,
// otherwise overwrites; headers_to_remove; response_headers_to_add); any other status denies with
// denied_response (status default 403, headers, body); an RPC failure (unreachable, deadline, bad
// message) is an error. The host is picked from the cluster like the router does; @grpc/grpc-js keeps one
// channel per host and authority, reused across requests.
// Not modelled: TLS to the authorizer (the channel is plaintext), initial_metadata, retry_policy.
// Envoy: source/extensions/filters/common/ext_authz/ext_authz_grpc_impl.cc, check_request_utils.cc.

import { Client, credentials, Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { create, type JsonObject } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { CheckRequestSchema, type CheckRequest, type CheckResponse } from '../../../xds/gen/envoy/service/auth/v3/external_auth_pb.js';
import type { HeaderValueOption } from '../../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { ClusterHandle } from '../../upstream/cluster-handle.js';
import { headerValue } from '../../http/headers.js';
import type { GrpcAuthzService } from './config.js';
import type { CancelCheck, CheckCallback, CheckInput, CheckResult, HeaderPair } from './check.js';
import { AUTHORIZATION_SERVICE } from './authorization-service.js';

const clients = new Map<string, Client>();

function clientFor(address: string, port: number, authority: string): Client {
  const target = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  const key = `${target}|${authority}`;
  let c = clients.get(key);
  if (c === undefined) {
    c = new Client(target, credentials.createInsecure(), { 'grpc.default_authority': authority });
    clients.set(key, c);
  }
  return c;
}

/** Closes every authorizer channel (proxy shutdown, tests). */
export function closeExtAuthzGrpcClients(): void {
  for (const c of clients.values()) c.close();
  clients.clear();
}

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
  if ((r.status?.code ?? 0) === GrpcStatus.OK) {
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
  const host = cluster.pick({ hash: undefined, avoid: undefined, originalDestination: undefined });
  if (host === undefined) {
    done({ kind: 'error', reason: 'no healthy upstream' });
    return () => undefined;
  }
  const client = clientFor(host.address, host.port, svc.authority);
  const m = AUTHORIZATION_SERVICE.Check;
  let finished = false;
  cluster.requestStarted(host);
  const call = client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, buildCheckRequest(input), new Metadata(), { deadline: Date.now() + svc.timeoutMs }, (err, res) => {
    if (finished) return;
    finished = true;
    cluster.requestEnded(host);
    if (err !== null || res === undefined) {
      cluster.report(host, err?.code === GrpcStatus.UNAVAILABLE ? 'local-origin-failure' : 'success');
      done({ kind: 'error', reason: err?.details ?? 'no response' });
      return;
    }
    cluster.report(host, 'success');
    done(checkResultOf(res));
  });
  return () => {
    if (finished) return;
    finished = true;
    cluster.requestEnded(host);
    call.cancel();
  };
}
