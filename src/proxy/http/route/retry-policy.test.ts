import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '../../../xds/gen/envoy/config/route/v3/route_pb.js';
import { XDS_REGISTRY } from '../../../xds/codec.js';
import { seededRandom } from '../../lib/random.js';
import { compileRouteConfig } from './compile-route-config.js';
import type { CompiledRetryPolicy, ForwardSelection } from './types.js';

function policy(vhostRetry: JsonObject | undefined, routeRetry: JsonObject | undefined): CompiledRetryPolicy | undefined {
  const rc = fromJson(
    RouteConfigurationSchema,
    {
      virtualHosts: [
        {
          name: 'vh',
          domains: ['*'],
          ...(vhostRetry === undefined ? {} : { retryPolicy: vhostRetry }),
          routes: [{ match: { prefix: '/' }, route: { cluster: 'c', ...(routeRetry === undefined ? {} : { retryPolicy: routeRetry }) } }],
        },
      ],
    },
    { registry: XDS_REGISTRY },
  );
  const c = compileRouteConfig(rc);
  assert.ok(c.ok, c.ok ? '' : c.problems.join('\n'));
  const s = c.value.select({ authority: 'a', path: '/', method: 'GET', scheme: 'http', headers: {} }, seededRandom(1)) as ForwardSelection;
  return s.action.retryPolicy;
}

test('retry policy: none configured', () => {
  assert.equal(policy(undefined, undefined), undefined);
});

test('retry policy: defaults when a policy exists', () => {
  const p = policy(undefined, { retryOn: '5xx' });
  assert.ok(p);
  assert.deepEqual([...p.retryOn], ['5xx']);
  assert.equal(p.numRetries, 1);
  assert.equal(p.perTryTimeoutMs, 0);
  assert.equal(p.baseIntervalMs, 25);
  assert.equal(p.maxIntervalMs, 250);
  assert.equal(p.hostSelectionMaxAttempts, 1);
  assert.deepEqual([...p.retriableStatusCodes], []);
  assert.equal(p.avoidPreviousHosts, false);
});

test('retry policy: Istio-style policy', () => {
  const p = policy(undefined, {
    retryOn: 'connect-failure, refused-stream,unavailable,cancelled,retriable-status-codes,',
    numRetries: 2,
    perTryTimeout: '2.5s',
    retriableStatusCodes: [503, 502],
    retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' } }],
    hostSelectionRetryMaxAttempts: '5',
    retryPriority: { name: 'envoy.retry_priorities.previous_priorities', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig', updateFrequency: 2 } },
  });
  assert.ok(p);
  assert.deepEqual([...p.retryOn], ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes']);
  assert.equal(p.numRetries, 2);
  assert.equal(p.perTryTimeoutMs, 2500);
  assert.deepEqual([...p.retriableStatusCodes].sort(), [502, 503]);
  assert.deepEqual(p.retryHostPredicates, ['envoy.retry_host_predicates.previous_hosts']);
  assert.equal(p.avoidPreviousHosts, true);
  assert.equal(p.hostSelectionMaxAttempts, 5);
  assert.equal(p.previousPrioritiesUpdateFrequency, 2);
});

const backOffCases: { name: string; backOff: JsonObject; base: number; max: number }[] = [
  { name: 'base only: max is 10x', backOff: { baseInterval: '0.1s' }, base: 100, max: 1000 },
  { name: 'base and max', backOff: { baseInterval: '0.1s', maxInterval: '0.3s' }, base: 100, max: 300 },
  { name: 'sub-millisecond base rounds up to 1 ms', backOff: { baseInterval: '0.000100s' }, base: 1, max: 10 },
];

for (const c of backOffCases) {
  test(`retry back-off: ${c.name}`, () => {
    const p = policy(undefined, { retryOn: '5xx', retryBackOff: c.backOff });
    assert.equal(p?.baseIntervalMs, c.base);
    assert.equal(p?.maxIntervalMs, c.max);
  });
}

test('retry policy: the route policy replaces the virtual host policy entirely', () => {
  const p = policy({ retryOn: 'gateway-error', numRetries: 5, perTryTimeout: '1s' }, { retryOn: 'reset' });
  assert.deepEqual([...(p?.retryOn ?? [])], ['reset']);
  assert.equal(p?.numRetries, 1);
  assert.equal(p?.perTryTimeoutMs, 0);
});

test('retry policy: the virtual host policy applies when the route has none', () => {
  const p = policy({ retryOn: 'gateway-error', numRetries: 5 }, undefined);
  assert.deepEqual([...(p?.retryOn ?? [])], ['gateway-error']);
  assert.equal(p?.numRetries, 5);
});

test('retry policy: retriable headers match response header maps', () => {
  const p = policy(undefined, { retryOn: 'retriable-headers', retriableHeaders: [{ name: 'x-retry', stringMatch: { exact: 'yes' } }] });
  assert.equal(p?.retriableHeaders[0]?.matchesMap({ 'x-retry': 'yes' }), true);
  assert.equal(p?.retriableHeaders[0]?.matchesMap({}), false);
});

test('retry policy: max_interval below base_interval is a problem', () => {
  const rc = fromJson(
    RouteConfigurationSchema,
    { virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c', retryPolicy: { retryOn: '5xx', retryBackOff: { baseInterval: '1s', maxInterval: '0.5s' } } } }] }] },
    { registry: XDS_REGISTRY },
  );
  const r = compileRouteConfig(rc);
  assert.equal(r.ok, false);
  assert.deepEqual(r.ok ? [] : r.problems, ['virtual_hosts[0].routes[0].route.retry_policy.retry_back_off.max_interval: must be greater than or equal to the base_interval']);
});

test('retry policy: retry extensions this proxy has no implementation of are refused, as Envoy refuses them', () => {
  const problems = (retry: JsonObject): string[] => {
    const rc = fromJson(RouteConfigurationSchema, { name: 'r', virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c', retryPolicy: retry } }] }] }, { registry: XDS_REGISTRY });
    const c = compileRouteConfig(rc);
    return c.ok ? [] : [...c.problems];
  };
  const at = 'virtual_hosts[0].routes[0].route.retry_policy';
  assert.deepEqual(problems({ retryOn: '5xx', retryHostPredicate: [{ name: 'envoy.retry_host_predicates.omit_canary_hosts' }] }), [
    `${at}.retry_host_predicate[0]: unsupported retry host predicate envoy.retry_host_predicates.omit_canary_hosts; supported: envoy.retry_host_predicates.previous_hosts`,
  ]);
  assert.deepEqual(problems({ retryOn: '5xx', retryPriority: { name: 'custom.priority' } }), [`${at}.retry_priority: unsupported retry priority custom.priority; supported: envoy.retry_priorities.previous_priorities`]);
  assert.deepEqual(
    problems({ retryOn: '5xx', retryPriority: { name: 'envoy.retry_priorities.previous_priorities', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig' } } }),
    [`${at}.retry_priority.typed_config.update_frequency: value must be greater than 0`],
  );
});
