// The ext_authz HTTP filter against real authorizers on 127.0.0.1 (an HTTP one on node:http and a gRPC
// one implementing envoy.service.auth.v3.Authorization on @grpc/grpc-js), reached through a real
// upstream cluster: what the client gets (allowed through, denied with the authorizer's answer, or the
// error status), what the upstream request carries, what the authorizer saw, the UAEX flag and details.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { Server as GrpcServer, ServerCredentials, status as GrpcStatus, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { create, fromJson, type JsonObject } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ExtAuthzSchema } from '../../../xds/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import { CheckResponseSchema, type CheckRequest, type CheckResponse } from '../../../xds/gen/envoy/service/auth/v3/external_auth_pb.js';
import type { StatusCode } from '../../../xds/gen/envoy/type/v3/http_status_pb.js';
import { XDS_REGISTRY } from '../../../xds/codec.js';
import { compileCluster } from '../../runtime/compile-cluster.js';
import { NO_SECRETS } from '../../upstream/connection-pools.js';
import { UpstreamCluster } from '../../upstream/upstream-cluster.js';
import type { ClusterHandle } from '../../upstream/cluster-handle.js';
import { seededRandom } from '../../lib/random.js';
import { systemClock } from '../../../lib/clock.js';
import { HttpStream, type DownstreamRequest, type DownstreamResponse } from '../../http/http-stream.js';
import { newStreamInfo } from '../../http/stream-info.js';
import type { HeaderMap } from '../../http/headers.js';
import type { HcmEnv } from '../../http/hcm-env.js';
import type { CompiledHcm } from '../../runtime/compile-hcm.js';
import { ResponseFlag } from '../../http/response-flags.js';
import { StatsStore } from '../../stats/stats-store.js';
import { compileExtAuthz, type ExtAuthzConfig } from './config.js';
import { runExtAuthzFilter } from './filter.js';
import { AUTHORIZATION_SERVICE } from './authorization-service.js';
import { RBACSchema } from '../../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { compileRbacFilter } from '../rbac/config.js';
import { HttpConnectionManagerSchema } from '../../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { pack } from '../../../xds/codec.js';
import { compileHcm } from '../../runtime/compile-hcm.js';
import { runRbacFilter } from '../rbac/filter.js';
import { selfSigned, signedBy } from '../../../../test/translate/secret/certs.js';

function config(json: JsonObject): ExtAuthzConfig {
  const r = compileExtAuthz(fromJson(ExtAuthzSchema, { transportApiVersion: 'V3', ...json }, { registry: XDS_REGISTRY }), 'typed_config');
  if (!r.ok) assert.fail(r.problems.join('; '));
  return r.value;
}

function staticCluster(name: string, port: number, http2: boolean): UpstreamCluster {
  const proto = fromJson(
    ClusterSchema,
    {
      name,
      type: 'STATIC',
      connectTimeout: '1s',
      ...(http2 ? { http2ProtocolOptions: {} } : {}),
      loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: port } } } }] }] },
    },
    { registry: XDS_REGISTRY },
  );
  const c = compileCluster(proto);
  if (!c.ok) assert.fail(c.problems.join('; '));
  return new UpstreamCluster(c.value, { clock: systemClock, random: seededRandom(1), secrets: NO_SECRETS }, undefined);
}

interface Outcome {
  /** 'continued' when the request went on to the next filter. */
  readonly kind: 'continued' | 'answered';
  readonly status?: number;
  readonly headers?: Record<string, unknown>;
  readonly body?: string;
  readonly s: HttpStream;
}

const HCM = { statPrefix: 'inbound_0.0.0.0_8080' } as CompiledHcm;

function run(cfg: ExtAuthzConfig, clusters: ReadonlyMap<string, ClusterHandle>, o: { headers?: HeaderMap; path?: string; method?: string; metadata?: Record<string, Record<string, unknown>>; body?: string; stats?: StatsStore; before?: (s: HttpStream) => void } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const sent: { status?: number; headers?: Record<string, unknown> } = {};
    let s: HttpStream | undefined;
    const response: DownstreamResponse = {
      headersSent: false,
      writeContinue: () => undefined,
      writeHead: (status, h) => Object.assign(sent, { status, headers: h }),
      write: () => true,
      end: (chunk) => resolve({ kind: 'answered', ...sent, body: chunk === undefined ? '' : String(chunk), s: s as HttpStream }),
      addTrailers: () => undefined,
      once: () => undefined,
    };
    const body = new PassThrough();
    if (o.body !== undefined) body.end(o.body);
    const request: DownstreamRequest = {
      method: o.method ?? 'GET',
      path: o.path ?? '/things?x=1',
      authority: 'app.example.com',
      scheme: 'http',
      protocol: 'HTTP/1.1',
      headers: { 'x-request-id': 'req-1', ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}), ...o.headers },
      hasBody: o.body !== undefined,
      body,
      remoteAddress: '10.0.0.5',
      remotePort: 40000,
      localAddress: '10.0.0.9',
      localPort: 8080,
      serverName: '',
    };
    const info = newStreamInfo(Date.now());
    Object.assign(info.dynamicMetadata, o.metadata ?? {});
    s = new HttpStream(request, response, info, { next: () => 0 }, { reset: () => undefined, onReset: () => undefined }, undefined);
    o.before?.(s);
    const env: HcmEnv = { routeTable: () => undefined, cluster: (n) => clusters.get(n), random: { next: () => 0 }, onStreamComplete: () => undefined, ...(o.stats !== undefined ? { stats: o.stats } : {}) };
    const st = runExtAuthzFilter('envoy.filters.http.ext_authz', cfg, s, HCM, env, () => resolve({ kind: 'continued', s: s as HttpStream }));
    if (st === 'continue') resolve({ kind: 'continued', s });
  });
}

// ---- the HTTP authorizer: decides by the x-decision request header, records what it saw.
interface SeenHttp {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
let httpAuthz: Server;
let httpPort = 0;
const seenHttp: SeenHttp[] = [];

// ---- the gRPC authorizer: decides by the x-decision header inside the CheckRequest.
let grpcAuthz: GrpcServer;
let grpcPort = 0;
const seenGrpc: CheckRequest[] = [];

/** A port nothing listens on. */
let deadPort = 0;

const clusters = new Map<string, ClusterHandle>();

before(async () => {
  httpAuthz = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seenHttp.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      const d = req.headers['x-decision'];
      if (d === 'allow') {
        res.writeHead(200, { 'x-user': 'alice', 'x-auth-extra': 'appended', 'x-not-allowed': 'no', 'x-client-ok': 'hello', 'x-envoy-auth-headers-to-remove': 'x-secret' });
        res.end();
      } else if (d === 'slow') setTimeout(() => res.end(), 2000);
      else if (d === 'crash') {
        res.writeHead(503);
        res.end('down');
      } else {
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="x"', 'x-reason': 'no token', 'content-type': 'application/json' });
        res.end('{"error":"unauthenticated"}');
      }
    });
  });
  await new Promise<void>((r) => httpAuthz.listen(0, '127.0.0.1', r));
  httpPort = (httpAuthz.address() as AddressInfo).port;

  grpcAuthz = new GrpcServer();
  grpcAuthz.addService(AUTHORIZATION_SERVICE, {
    Check: (call: ServerUnaryCall<CheckRequest, CheckResponse>, cb: sendUnaryData<CheckResponse>) => {
      seenGrpc.push(call.request);
      const d = call.request.attributes?.request?.http?.headers['x-decision'];
      if (d === 'allow')
        cb(null, create(CheckResponseSchema, { status: { code: GrpcStatus.OK }, httpResponse: { case: 'okResponse', value: { headers: [{ header: { key: 'x-user', value: 'bob' } }], responseHeadersToAdd: [{ header: { key: 'x-authz', value: 'grpc' } }] } }, dynamicMetadata: { checked: true } }));
      else if (d === 'slow') setTimeout(() => cb(null, create(CheckResponseSchema, { status: { code: GrpcStatus.OK } })), 2000);
      else
        cb(null, create(CheckResponseSchema, { status: { code: GrpcStatus.PERMISSION_DENIED }, httpResponse: { case: 'deniedResponse', value: { status: { code: 418 as StatusCode }, body: 'go away', headers: [{ header: { key: 'x-reason', value: 'teapot' } }] } } }));
    },
  });
  grpcPort = await new Promise<number>((ok, fail) => grpcAuthz.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : ok(p))));

  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  deadPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));

  clusters.set('outbound|8000||authz-http.default.svc.cluster.local', staticCluster('outbound|8000||authz-http.default.svc.cluster.local', httpPort, false));
  clusters.set('outbound|9000||authz-grpc.default.svc.cluster.local', staticCluster('outbound|9000||authz-grpc.default.svc.cluster.local', grpcPort, true));
  clusters.set('dead-http', staticCluster('dead-http', deadPort, false));
  clusters.set('dead-grpc', staticCluster('dead-grpc', deadPort, true));
});

after(async () => {
  for (const c of clusters.values()) (c as UpstreamCluster).close();
  grpcAuthz.forceShutdown();
  await new Promise<void>((r) => httpAuthz.close(() => r()));
});

const ISTIO_MATCHER = {
  filter: 'envoy.filters.http.rbac',
  path: [{ key: 'istio_ext_authz_shadow_effective_policy_id' }],
  value: { stringMatch: { prefix: 'istio-ext-authz-sample' } },
};

function httpService(extra: JsonObject = {}, cluster = 'outbound|8000||authz-http.default.svc.cluster.local'): JsonObject {
  return {
    httpService: {
      serverUri: { uri: 'http://authz-http.default.svc.cluster.local', cluster, timeout: '0.3s' },
      pathPrefix: '/check',
      authorizationRequest: { headersToAdd: [{ key: 'x-added', value: 'by-proxy' }] },
      authorizationResponse: {
        allowedUpstreamHeaders: { patterns: [{ exact: 'x-user', ignoreCase: true }] },
        allowedUpstreamHeadersToAppend: { patterns: [{ prefix: 'x-auth-' }] },
        allowedClientHeaders: { patterns: [{ exact: 'x-reason' }, { exact: 'content-type' }] },
        allowedClientHeadersOnSuccess: { patterns: [{ exact: 'x-client-ok' }] },
      },
    },
    allowedHeaders: { patterns: [{ exact: 'x-decision' }] },
    ...extra,
  };
}

function grpcService(extra: JsonObject = {}, cluster = 'outbound|9000||authz-grpc.default.svc.cluster.local'): JsonObject {
  return { grpcService: { envoyGrpc: { clusterName: cluster, authority: 'authz-grpc.default.svc.cluster.local' }, timeout: '1s' }, ...extra };
}

describe('ext_authz filter with an HTTP authorizer', () => {
  it('allows: authorizer headers reach the upstream request (set, append, remove) and the client response', async () => {
    seenHttp.length = 0;
    const stats = new StatsStore();
    const o = await run(config(httpService()), clusters, { headers: { 'x-decision': 'allow', 'x-user': 'mallory', 'x-auth-extra': 'mine', 'x-secret': 's3', cookie: 'c=1', authorization: 'Bearer t' }, stats });
    assert.equal(o.kind, 'continued');
    const h = o.s.request.headers;
    assert.equal(h['x-user'], 'alice', 'allowed_upstream_headers overwrite');
    assert.equal(h['x-auth-extra'], 'mine,appended', 'allowed_upstream_headers_to_append append');
    assert.equal(h['x-secret'], undefined, 'x-envoy-auth-headers-to-remove');
    assert.equal(h['x-not-allowed'], undefined);
    // What the authorizer saw: same method, path prefixed, host, always-sent and allowed headers only.
    const seen = seenHttp[0];
    assert.ok(seen);
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, '/check/things?x=1');
    assert.equal(seen.headers.host, 'app.example.com');
    assert.equal(seen.headers.authorization, 'Bearer t');
    assert.equal(seen.headers['x-added'], 'by-proxy');
    assert.equal(seen.headers['x-decision'], 'allow');
    assert.equal(seen.headers.cookie, undefined, 'not in allowed_headers');
    assert.equal(seen.headers['content-length'], '0');
    // allowed_client_headers_on_success go on the response.
    const rh: HeaderMap = {};
    for (const f of o.s.responseHooks) f(200, rh);
    assert.equal(rh['x-client-ok'], 'hello');
    assert.equal(stats.counter('http.inbound_0.0.0.0_8080.ext_authz.ok').value, 1);
  });

  it('denies with the authorizer status, body and allowed client headers; UAEX and ext_authz_denied', async () => {
    const o = await run(config(httpService()), clusters, { headers: { 'x-decision': 'deny' } });
    assert.equal(o.kind, 'answered');
    assert.equal(o.status, 401);
    assert.equal(o.body, '{"error":"unauthenticated"}');
    assert.equal(o.headers?.['x-reason'], 'no token');
    assert.equal(o.headers?.['content-type'], 'application/json');
    assert.equal(o.headers?.['www-authenticate'], 'Bearer realm="x"', 'always passed with a configured list');
    assert.equal(o.s.info.details, 'ext_authz_denied');
    assert.equal(o.s.info.flags & ResponseFlag.UAEX, ResponseFlag.UAEX);
  });

  it('a 5xx from the authorizer is an error: status_on_error, empty body, ext_authz_error', async () => {
    const o = await run(config(httpService({ statusOnError: { code: 'ServiceUnavailable' } })), clusters, { headers: { 'x-decision': 'crash' } });
    assert.equal(o.kind, 'answered');
    assert.equal(o.status, 503);
    assert.equal(o.body, '');
    assert.equal(o.s.info.details, 'ext_authz_error');
    assert.equal(o.s.info.flags & ResponseFlag.UAEX, ResponseFlag.UAEX);
  });

  it('the server_uri timeout is an error (default 403)', async () => {
    const o = await run(config(httpService()), clusters, { headers: { 'x-decision': 'slow' } });
    assert.equal(o.status, 403);
    assert.equal(o.s.info.details, 'ext_authz_error');
  });

  const down: { name: string; failOpen: boolean; want: 'continued' | 'answered' }[] = [
    { name: 'authorizer down, failure_mode_allow false: 403', failOpen: false, want: 'answered' },
    { name: 'authorizer down, failure_mode_allow true: the request continues, marked', failOpen: true, want: 'continued' },
  ];
  for (const c of down)
    it(c.name, async () => {
      const o = await run(config(httpService({ failureModeAllow: c.failOpen, failureModeAllowHeaderAdd: true }, 'dead-http')), clusters, { headers: { 'x-decision': 'allow' } });
      assert.equal(o.kind, c.want);
      if (c.want === 'answered') assert.equal(o.status, 403);
      else assert.equal(o.s.request.headers['x-envoy-auth-failure-mode-allowed'], 'true');
    });

  it('a cluster that does not exist is an error', async () => {
    const o = await run(config(httpService({}, 'gone')), clusters, {});
    assert.equal(o.status, 403);
    assert.equal(o.s.info.details, 'ext_authz_error');
  });

  it('with_request_body sends the body to the authorizer and still forwards all of it', async () => {
    seenHttp.length = 0;
    const o = await run(config(httpService({ withRequestBody: { maxRequestBytes: 1024 } })), clusters, { method: 'POST', headers: { 'x-decision': 'allow' }, body: 'hello body' });
    assert.equal(o.kind, 'continued');
    assert.equal(seenHttp[0]?.body, 'hello body');
    assert.equal(seenHttp[0]?.headers['content-length'], '10');
    const rest: Buffer[] = [];
    for await (const c of o.s.request.body) rest.push(c as Buffer);
    assert.equal(Buffer.concat(rest).toString(), 'hello body');
  });

  it('with_request_body: a body over the limit gets 413 unless allow_partial_message', async () => {
    const o = await run(config(httpService({ withRequestBody: { maxRequestBytes: 4 } })), clusters, { method: 'POST', headers: { 'x-decision': 'allow' }, body: 'hello body' });
    assert.equal(o.status, 413);
    seenHttp.length = 0;
    const p = await run(config(httpService({ withRequestBody: { maxRequestBytes: 4, allowPartialMessage: true } })), clusters, { method: 'POST', headers: { 'x-decision': 'allow' }, body: 'hello body' });
    assert.equal(p.kind, 'continued');
    assert.equal(seenHttp[0]?.body, 'hell');
  });
});

describe('ext_authz filter with a gRPC authorizer', () => {
  it('allows: ok_response headers go upstream, response_headers_to_add to the client, dynamic metadata is published', async () => {
    seenGrpc.length = 0;
    const o = await run(config(grpcService()), clusters, { headers: { 'x-decision': 'allow', 'x-user': 'mallory' } });
    assert.equal(o.kind, 'continued');
    assert.equal(o.s.request.headers['x-user'], 'bob');
    const rh: HeaderMap = {};
    for (const f of o.s.responseHooks) f(200, rh);
    assert.equal(rh['x-authz'], 'grpc');
    assert.deepEqual(o.s.info.dynamicMetadata['envoy.filters.http.ext_authz'], { checked: true });
    const http = seenGrpc[0]?.attributes?.request?.http;
    assert.equal(http?.method, 'GET');
    assert.equal(http?.path, '/things?x=1');
    assert.equal(http?.host, 'app.example.com');
    assert.equal(http?.headers[':authority'], 'app.example.com');
    assert.equal(http?.id, 'req-1');
    const src = seenGrpc[0]?.attributes?.source?.address?.address;
    assert.equal(src?.case === 'socketAddress' ? src.value.address : '', '10.0.0.5');
  });

  it('denies with denied_response status, body and headers', async () => {
    const o = await run(config(grpcService()), clusters, { headers: { 'x-decision': 'deny' } });
    assert.equal(o.status, 418);
    assert.equal(o.body, 'go away');
    assert.equal(o.headers?.['x-reason'], 'teapot');
    assert.equal(o.s.info.details, 'ext_authz_denied');
    assert.equal(o.s.info.flags & ResponseFlag.UAEX, ResponseFlag.UAEX);
  });

  it('the deadline is an error', async () => {
    const o = await run(config(grpcService({ statusOnError: { code: 'GatewayTimeout' } })), clusters, { headers: { 'x-decision': 'slow' } });
    assert.equal(o.status, 504);
    assert.equal(o.s.info.details, 'ext_authz_error');
  });

  for (const failOpen of [false, true])
    it(`authorizer down, failure_mode_allow ${failOpen}`, async () => {
      const o = await run(config(grpcService({ failureModeAllow: failOpen }, 'dead-grpc')), clusters, { headers: { 'x-decision': 'allow' } });
      assert.equal(o.kind, failOpen ? 'continued' : 'answered');
      if (!failOpen) assert.equal(o.status, 403);
    });
});

// The authorizer's cluster originates TLS (as an Istio cluster does to an authorizer with a sidecar, with
// mTLS): the check goes over the cluster's own transport, its CA and SAN check included.
describe('ext_authz filter with a gRPC authorizer over TLS', () => {
  const ca = selfSigned('authz-test-ca');
  const serverCert = signedBy('authz', ca, ['DNS:authz.example']);
  let tlsServer: GrpcServer;
  let tlsPort = 0;
  before(async () => {
    tlsServer = new GrpcServer();
    tlsServer.addService(AUTHORIZATION_SERVICE, {
      Check: (_call: ServerUnaryCall<CheckRequest, CheckResponse>, cb: sendUnaryData<CheckResponse>) =>
        cb(null, create(CheckResponseSchema, { status: { code: GrpcStatus.OK }, httpResponse: { case: 'okResponse', value: { headers: [{ header: { key: 'x-user', value: 'over-tls' } }] } } })),
    });
    tlsPort = await new Promise<number>((ok, fail) => tlsServer.bindAsync('127.0.0.1:0', ServerCredentials.createSsl(null, [{ private_key: serverCert.key, cert_chain: serverCert.cert }]), (e, p) => (e ? fail(e) : ok(p))));
  });
  after(() => tlsServer.forceShutdown());
  const tlsCluster = (name: string, san: string): UpstreamCluster => {
    const proto = fromJson(
      ClusterSchema,
      {
        name,
        type: 'STATIC',
        connectTimeout: '1s',
        http2ProtocolOptions: {},
        loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: tlsPort } } } }] }] },
        transportSocket: {
          name: 'envoy.transport_sockets.tls',
          typedConfig: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
            sni: 'authz.example',
            commonTlsContext: { validationContext: { trustedCa: { inlineBytes: ca.cert.toString('base64') }, matchSubjectAltNames: [{ exact: san }] } },
          },
        },
      },
      { registry: XDS_REGISTRY },
    );
    const c = compileCluster(proto);
    if (!c.ok) assert.fail(c.problems.join('; '));
    return new UpstreamCluster(c.value, { clock: systemClock, random: seededRandom(1), secrets: NO_SECRETS }, undefined);
  };

  it('the check goes over TLS and is answered; a server failing the SAN check is an error', async () => {
    const good = tlsCluster('tls-grpc', 'authz.example');
    const wrong = tlsCluster('tls-grpc-wrong-san', 'someone-else.example');
    const tls = new Map<string, ClusterHandle>([['tls-grpc', good], ['tls-grpc-wrong-san', wrong]]);
    try {
      const o = await run(config(grpcService({}, 'tls-grpc')), tls, { headers: { 'x-decision': 'allow' } });
      assert.equal(o.kind, 'continued');
      assert.equal(o.s.request.headers['x-user'], 'over-tls');
      const bad = await run(config(grpcService({}, 'tls-grpc-wrong-san')), tls, { headers: { 'x-decision': 'allow' } });
      assert.deepEqual([bad.kind, bad.status, bad.s.info.details], ['answered', 403, 'ext_authz_error']);
    } finally {
      good.close();
      wrong.close();
    }
  });
});

describe('ext_authz filter_enabled_metadata (Istio CUSTOM)', () => {
  const cases: { name: string; metadata: Record<string, Record<string, unknown>>; called: boolean }[] = [
    { name: 'no RBAC metadata: the authorizer is never called', metadata: {}, called: false },
    { name: 'another provider matched: never called', metadata: { 'envoy.filters.http.rbac': { istio_ext_authz_shadow_effective_policy_id: 'istio-ext-authz-other-ns[foo]-policy[p]-rule[0]' } }, called: false },
    { name: 'this provider matched: called', metadata: { 'envoy.filters.http.rbac': { istio_ext_authz_shadow_effective_policy_id: 'istio-ext-authz-sample-ns[foo]-policy[p]-rule[0]' } }, called: true },
  ];
  for (const c of cases)
    it(c.name, async () => {
      seenHttp.length = 0;
      const stats = new StatsStore();
      const o = await run(config(httpService({ filterEnabledMetadata: ISTIO_MATCHER })), clusters, { headers: { 'x-decision': 'deny' }, metadata: c.metadata, stats });
      assert.equal(seenHttp.length, c.called ? 1 : 0);
      assert.equal(o.kind, c.called ? 'answered' : 'continued');
      assert.equal(stats.counter('http.inbound_0.0.0.0_8080.ext_authz.disabled').value, c.called ? 0 : 1);
    });
});

describe('RBAC shadow rules publish the policy id that enables the authorizer (Istio CUSTOM pair)', () => {
  const rbac = compileRbacFilter(
    fromJson(RBACSchema, {
      shadowRules: { action: 'DENY', policies: { 'istio-ext-authz-sample-ns[foo]-policy[p]-rule[0]': { permissions: [{ urlPath: { path: { prefix: '/admin/' } } }], principals: [{ any: true }] } } },
      shadowRulesStatPrefix: 'istio_ext_authz_',
    }),
    'rbac',
  );
  if (!rbac.ok) assert.fail(rbac.problems.join('; '));
  const cases: { name: string; path: string; called: boolean; metadata: Record<string, unknown> }[] = [
    {
      name: 'a matching request: the policy id and `denied` are published, the authorizer decides',
      path: '/admin/x',
      called: true,
      metadata: { istio_ext_authz_shadow_effective_policy_id: 'istio-ext-authz-sample-ns[foo]-policy[p]-rule[0]', istio_ext_authz_shadow_engine_result: 'denied' },
    },
    { name: 'another request: only `allowed` is published, the authorizer is skipped', path: '/public', called: false, metadata: { istio_ext_authz_shadow_engine_result: 'allowed' } },
  ];
  for (const c of cases)
    it(c.name, async () => {
      seenHttp.length = 0;
      const o = await run(config(httpService({ filterEnabledMetadata: ISTIO_MATCHER })), clusters, {
        path: c.path,
        headers: { 'x-decision': 'deny' },
        before: (s) => assert.equal(runRbacFilter(rbac.value, s, { statPrefix: 'p', useRemoteAddress: false, xffNumTrustedHops: 0, skipXffAppend: false } as CompiledHcm, undefined), 'continue'),
      });
      assert.deepEqual(o.s.info.dynamicMetadata['envoy.filters.http.rbac'], c.metadata);
      assert.equal(seenHttp.length, c.called ? 1 : 0);
      assert.equal(o.kind, c.called ? 'answered' : 'continued');
    });
});

describe('ext_authz config problems', () => {
  it('names every bad field', () => {
    const r = compileExtAuthz(
      fromJson(ExtAuthzSchema, { transportApiVersion: 'V2', grpcService: { googleGrpc: { targetUri: 'x', statPrefix: 'x' } }, filterEnabled: { defaultValue: { numerator: 1 } } }, { registry: XDS_REGISTRY }),
      'typed_config',
    );
    assert.equal(r.ok, false);
    if (!r.ok)
      assert.deepEqual(r.problems, [
        'typed_config.transport_api_version: only V3 is supported',
        'typed_config.grpc_service: only envoy_grpc is supported',
        'typed_config.filter_enabled: runtime fractions are not supported',
      ]);
  });
  it('http_service needs a cluster and a timeout', () => {
    const r = compileExtAuthz(fromJson(ExtAuthzSchema, { transportApiVersion: 'V3', httpService: { serverUri: { uri: 'http://x' } } }, { registry: XDS_REGISTRY }), 'c');
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.problems, ['c.http_service.server_uri.cluster: value length must be at least 1 characters', 'c.http_service.server_uri.timeout: value is required']);
  });
});

describe('ext_authz in an HttpConnectionManager', () => {
  it('compiles to an ext_authz step before the router; a bad config is a problem naming the filter', () => {
    const hcm = (authz: JsonObject): ReturnType<typeof compileHcm> =>
      compileHcm(
        pack(
          HttpConnectionManagerSchema,
          fromJson(
            HttpConnectionManagerSchema,
            {
              statPrefix: 'x',
              rds: { routeConfigName: 'r' },
              httpFilters: [
                { name: 'envoy.filters.http.ext_authz', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz', ...authz } },
                { name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
              ],
            },
            { registry: XDS_REGISTRY },
          ),
        ),
        'hcm',
      );
    const ok = hcm({ transportApiVersion: 'V3', ...grpcService() });
    assert.ok(ok.ok);
    if (ok.ok) assert.deepEqual(ok.value.httpFilters.map((f) => f.kind), ['ext_authz', 'router']);
    const bad = hcm({ transportApiVersion: 'V2', ...grpcService() });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.deepEqual(bad.problems, ['hcm.http_filters[0](envoy.filters.http.ext_authz).typed_config.transport_api_version: only V3 is supported']);
  });
});
