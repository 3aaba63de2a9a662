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
import { create } from '@bufbuild/protobuf';
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
      'common_http_protocol_options.max_requests_per_connection',
      'common_http_protocol_options.max_connection_duration',
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
