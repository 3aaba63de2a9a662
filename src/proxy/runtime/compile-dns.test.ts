// What a DNS cluster's settings compile to, and the configs refused (NACKed) with Envoy's reasons
// (dns_cluster.cc's constructor checks, the PGV rules on dns_refresh_rate and dns_failure_refresh_rate).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { compileCluster } from './compile-cluster.js';

const ep = (address: string, port = 80, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ endpoint: { address: { socketAddress: { address, portValue: port, ...extra } } } });
const CARES = 'type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig';

function compile(json: Record<string, unknown>): ReturnType<typeof compileCluster> {
  const full: Record<string, unknown> = { name: 'c', type: 'STRICT_DNS', connectTimeout: '1s', loadAssignment: { clusterName: 'c', endpoints: [{ lbEndpoints: [ep('svc.test')] }] }, ...json };
  if (full['loadAssignment'] === null) delete full['loadAssignment'];
  return compileCluster(fromJson(ClusterSchema, full as never, { registry: XDS_REGISTRY }));
}

describe('DNS cluster settings', () => {
  it("Envoy's defaults: refresh every 5 s, AUTO family, the system resolver, no failure back-off", () => {
    const c = compile({});
    assert.ok(c.ok);
    assert.deepEqual(c.value.dns, { refreshMs: 5000, failureBackoff: undefined, respectTtl: false, family: 'auto', resolver: { kind: 'system' }, logical: false });
  });

  it('what Istio sets for a ServiceEntry with resolution DNS', () => {
    const c = compile({ dnsRefreshRate: '60s', respectDnsTtl: true, dnsLookupFamily: 'V4_ONLY' });
    assert.ok(c.ok);
    assert.deepEqual([c.value.dns?.refreshMs, c.value.dns?.respectTtl, c.value.dns?.family], [60000, true, 'v4-only']);
  });

  it('resolvers: typed c-ares config, the deprecated dns_resolution_config and dns_resolvers, getaddrinfo', () => {
    const cases: [Record<string, unknown>, unknown][] = [
      [
        { typedDnsResolverConfig: { name: 'envoy.network.dns_resolver.cares', typedConfig: { '@type': CARES, resolvers: [{ socketAddress: { address: '10.0.0.2', portValue: 5353 } }, { socketAddress: { address: '::1' } }], filterUnroutableFamilies: true } } },
        { kind: 'cares', servers: ['10.0.0.2:5353', '[::1]:53'], fallbackOnly: false, filterUnroutableFamilies: true },
      ],
      [{ dnsResolutionConfig: { resolvers: [{ socketAddress: { address: '10.0.0.3', portValue: 53 } }] } }, { kind: 'cares', servers: ['10.0.0.3:53'], fallbackOnly: false, filterUnroutableFamilies: false }],
      [{ dnsResolvers: [{ socketAddress: { address: '10.0.0.4', portValue: 53 } }] }, { kind: 'cares', servers: ['10.0.0.4:53'], fallbackOnly: false, filterUnroutableFamilies: false }],
      [{ typedDnsResolverConfig: { name: 'envoy.network.dns_resolver.getaddrinfo', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.network.dns_resolver.getaddrinfo.v3.GetAddrInfoDnsResolverConfig' } } }, { kind: 'system' }],
    ];
    for (const [json, want] of cases) {
      const c = compile(json);
      assert.ok(c.ok, c.ok ? '' : c.problems.join('; '));
      assert.deepEqual(c.value.dns?.resolver, want, JSON.stringify(json));
    }
  });

  it('is undefined for other discovery types', () => {
    const c = compileCluster(fromJson(ClusterSchema, { name: 'e', type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} } } }, { registry: XDS_REGISTRY }));
    assert.ok(c.ok);
    assert.equal(c.value.dns, undefined);
  });

  it('refuses what Envoy refuses or this proxy cannot do, naming the field', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['two endpoints in a LOGICAL_DNS cluster', { type: 'LOGICAL_DNS', loadAssignment: { clusterName: 'c', endpoints: [{ lbEndpoints: [ep('a.test'), ep('b.test')] }] } }, 'load_assignment: LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint'],
      ['a LOGICAL_DNS cluster without hosts', { type: 'LOGICAL_DNS', loadAssignment: null }, 'LOGICAL_DNS clusters must have a single host'],
      ['a custom resolver name', { loadAssignment: { clusterName: 'c', endpoints: [{ lbEndpoints: [ep('svc.test', 80, { resolverName: 'custom' })] }] } }, 'load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.resolver_name: STRICT_DNS clusters must NOT have a custom resolver name set'],
      ['a pipe endpoint', { loadAssignment: { clusterName: 'c', endpoints: [{ lbEndpoints: [{ endpoint: { address: { pipe: { path: '/tmp/s' } } } }] }] } }, 'load_assignment.endpoints[0].lb_endpoints[0]: STRICT_DNS cluster endpoints must be socket addresses'],
      ['a refresh rate of 1 ms', { dnsRefreshRate: '0.001s' }, 'dns_refresh_rate: value must be greater than 1ms'],
      ['a failure back-off whose max is below its base', { dnsFailureRefreshRate: { baseInterval: '5s', maxInterval: '1s' } }, 'dns_failure_refresh_rate: max_interval must be greater than or equal to the base_interval'],
      ['a failure back-off without a base', { dnsFailureRefreshRate: { maxInterval: '1s' } }, 'dns_failure_refresh_rate.base_interval: value must be greater than 1ms'],
      ['TCP-only DNS', { useTcpForDnsLookups: true }, 'use_tcp_for_dns_lookups: DNS over TCP only is not supported'],
      [
        'TCP-only DNS in the c-ares config',
        { typedDnsResolverConfig: { name: 'cares', typedConfig: { '@type': CARES, resolvers: [{ socketAddress: { address: '10.0.0.2', portValue: 53 } }], dnsResolverOptions: { useTcpForDnsLookups: true } } } },
        'typed_dns_resolver_config(cares).typed_config.dns_resolver_options.use_tcp_for_dns_lookups: DNS over TCP only is not supported',
      ],
      [
        'the Apple resolver',
        { typedDnsResolverConfig: { name: 'apple', typedConfig: { '@type': 'type.googleapis.com/google.protobuf.Struct', value: {} } } },
        'typed_dns_resolver_config(apple): unsupported DNS resolver type.googleapis.com/google.protobuf.Struct; supported: c-ares (envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig) and getaddrinfo',
      ],
      ['a nameserver on a pipe', { dnsResolvers: [{ pipe: { path: '/run/dns' } }] }, 'dns_resolvers[0]: a DNS resolver must be an IP socket address'],
    ];
    for (const [name, json, problem] of cases) {
      const c = compile(json);
      assert.ok(!c.ok, `${name}: accepted`);
      assert.deepEqual(c.problems, [problem], name);
    }
  });
});
