// What the proxy refuses in an HTTP connection manager rather than ignore (issue 4: "unsupported but required
// config is NACKed, never silently ignored"): settings that change what a request gets and that the proxy does
// not implement. Every problem is listed with its field path; the connection managers Istio's translation
// builds (sidecar and gateway) compile cleanly.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileListener } from '../../src/proxy/runtime/compile-listener.js';
import { filterChain, hcmFilter, listener, prefix, route, routeConfig, vhost, directResponse } from '../support/xds-fixtures.js';
import { translate } from '../../src/translate/translate.js';
import { meshFromYaml, testProxy } from '../support/mesh.js';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { RouterSchema } from '../../src/xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { HttpFilterSchema } from '../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { UuidRequestIdConfigSchema } from '../../src/xds/gen/envoy/extensions/request_id/uuid/v3/uuid_pb.js';

const routes = routeConfig('inline', [vhost('all', ['*'], [route('ok', prefix('/'), directResponse(200, 'ok'))])]);

function problemsOf(extra: Parameters<typeof hcmFilter>[1]): readonly string[] {
  const r = compileListener(listener({ name: 'l', address: '127.0.0.1', port: 0, chains: [filterChain({ name: 'c', filters: [hcmFilter({ routeConfig: routes }, extra)] })] }));
  return r.ok ? [] : r.problems;
}

describe('connection manager settings the proxy refuses', () => {
  it('names each one it does not implement, all at once', () => {
    const problems = problemsOf({
      statPrefix: 'x',
      localReplyConfig: { mappers: [{ filter: { filterSpecifier: { case: 'statusCodeFilter', value: { comparison: { op: 0, value: { defaultValue: 503, runtimeKey: 'k' } } } } }, statusCode: 500 }] },
      stripMatchingHostPort: true,
      stripTrailingHostDot: true,
      commonHttpProtocolOptions: { headersWithUnderscoresAction: 1, maxRequestsPerConnection: 100, maxConnectionDuration: { seconds: 60n } },
    });
    const fields = problems.map((p) => p.replace(/^.*?\.typed_config\./, '').replace(/:.*$/, ''));
    assert.deepEqual(fields, [
      'local_reply_config',
      'strip_matching_host_port',
      'strip_trailing_host_dot',
      'common_http_protocol_options.headers_with_underscores_action',
    ]);
  });

  it('refuses the extensions and variants it does not run, and accepts the UUID request ids it makes', () => {
    const problems = problemsOf({
      statPrefix: 'x',
      codecType: 3,
      originalIpDetectionExtensions: [{ name: 'xff', typedConfig: { typeUrl: 'type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig', value: new Uint8Array() } }],
      earlyHeaderMutationExtensions: [{ name: 'm', typedConfig: { typeUrl: 'type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation', value: new Uint8Array() } }],
      representIpv4RemoteAddressAsIpv4MappedIpv6: true,
      addUserAgent: true,
      proxyStatusConfig: {},
      streamErrorOnInvalidHttpMessage: true,
      accessLogOptions: { flushAccessLogOnNewRequest: true },
      requestIdExtension: { typedConfig: anyPack(UuidRequestIdConfigSchema, create(UuidRequestIdConfigSchema, { packTraceReason: false })) },
    });
    const fields = problems.map((p) => p.replace(/^.*?\.typed_config\./, '').replace(/:.*$/, ''));
    assert.deepEqual(fields, [
      'codec_type',
      'original_ip_detection_extensions',
      'early_header_mutation_extensions',
      'represent_ipv4_remote_address_as_ipv4_mapped_ipv6',
      'add_user_agent',
      'proxy_status_config',
      'stream_error_on_invalid_http_message',
      'access_log_options',
      'request_id_extension',
    ]);
    // Istio's request id extension (UuidRequestIdConfig, sampling by request id): what the proxy does anyway.
    const uuid = anyPack(UuidRequestIdConfigSchema, create(UuidRequestIdConfigSchema, { useRequestIdForTraceSampling: true }));
    assert.deepEqual(problemsOf({ statPrefix: 'x', requestIdExtension: { typedConfig: uuid } }), []);
  });

  it('refuses the HTTP/2 options it does not implement, and values outside their ranges', () => {
    const problems = problemsOf({
      statPrefix: 'x',
      http2ProtocolOptions: {
        maxConcurrentStreams: 0,
        initialStreamWindowSize: 1024,
        allowConnect: true,
        allowMetadata: true,
        customSettingsParameters: [{ identifier: 9, value: 1 }],
        connectionKeepalive: { interval: { seconds: 10n } },
        overrideStreamErrorOnInvalidHttpMessage: true,
        maxOutboundFrames: 1000,
      },
    });
    assert.deepEqual(
      problems.map((p) => p.replace(/^.*?\.typed_config\./, '')),
      [
        'http2_protocol_options.max_concurrent_streams: value must be greater than or equal to 1',
        'http2_protocol_options.initial_stream_window_size: value must be greater than or equal to 65535',
        'http2_protocol_options.allow_connect: CONNECT over HTTP/2 is not supported',
        'http2_protocol_options.allow_metadata: METADATA frames are not supported',
        'http2_protocol_options.custom_settings_parameters: custom SETTINGS are not supported',
        'http2_protocol_options.connection_keepalive: keepalive PINGs to clients are not supported',
        'http2_protocol_options.override_stream_error_on_invalid_http_message: stream errors on invalid messages are not supported',
      ],
    );
    assert.deepEqual(problemsOf({ statPrefix: 'x', http2ProtocolOptions: { maxConcurrentStreams: 100, initialStreamWindowSize: 65536, initialConnectionWindowSize: 1048576, maxOutboundFrames: 1000 } }), []);
  });

  it("refuses the router filter's options it does not implement, and accepts Istio's (start_child_span, suppress_envoy_headers)", () => {
    const routerWith = (r: MessageInitShape<typeof RouterSchema>): Parameters<typeof hcmFilter>[1] => ({
      statPrefix: 'x',
      httpFilters: [create(HttpFilterSchema, { name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema, r)) } })],
    });
    const problems = problemsOf(
      routerWith({
        dynamicStats: false,
        upstreamLog: [{ name: 'envoy.access_loggers.stdout' }],
        upstreamHttpFilters: [{ name: 'envoy.filters.http.upstream_codec' }],
        suppressGrpcRequestFailureCodeStats: true,
        strictCheckHeaders: ['x-envoy-max-retries', 'x-envoy-upstream-rq-timeout-alt-response'],
      }),
    );
    assert.deepEqual(
      problems.map((p) => p.replace(/^.*?\(envoy\.filters\.http\.router\)\.typed_config\./, '')),
      [
        'dynamic_stats: false is not supported',
        'upstream_log: upstream access logs are not supported',
        'upstream_http_filters: upstream HTTP filters are not supported',
        'suppress_grpc_request_failure_code_stats: not supported',
        'strict_check_headers[1]: value must be in list [x-envoy-upstream-rq-timeout-ms x-envoy-upstream-rq-per-try-timeout-ms x-envoy-max-retries x-envoy-retry-grpc-on x-envoy-retry-on]',
      ],
    );
    assert.deepEqual(problemsOf(routerWith({ startChildSpan: true, suppressEnvoyHeaders: true, respectExpectedRqTimeout: true, dynamicStats: true })), []);
  });

  it('accepts what Istio sends: the connection managers of a sidecar and a gateway compile', () => {
    const { snapshot } = meshFromYaml(`apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec: {selector: {app: reviews}, ports: [{port: 9080, name: http}]}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
`);
    for (const p of [testProxy({ name: 'reviews-v1', labels: { app: 'reviews' } }), testProxy({ type: 'router', name: 'ingress', namespace: 'istio-system', labels: { istio: 'ingressgateway' } })]) {
      const listeners = translate(snapshot, p).listeners;
      assert.ok(listeners.length > 0);
      for (const l of listeners) {
        const r = compileListener(l);
        assert.deepEqual(r.ok ? [] : r.problems, [], l.name);
      }
    }
  });
});
