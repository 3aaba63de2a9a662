import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '../../../xds/gen/envoy/config/route/v3/route_pb.js';
import { XDS_REGISTRY } from '../../../xds/codec.js';
import { seededRandom } from '../../lib/random.js';
import { compileRouteConfig } from './compile-route-config.js';
import { buildVirtualHostIndex } from './virtual-host-index.js';

const VHOSTS = [
  { domains: ['www.foo.com', 'reviews', 'reviews:9080', '[::1]'], value: 'exact' },
  { domains: ['*.foo.com'], value: 'suffix' },
  { domains: ['*-bar.foo.com'], value: 'longer-suffix' },
  { domains: ['foo.*'], value: 'prefix' },
  { domains: ['foo.bar.*'], value: 'longer-prefix' },
  { domains: ['*'], value: 'default' },
];

function index(ignorePort: boolean, entries = VHOSTS) {
  const problems: string[] = [];
  const idx = buildVirtualHostIndex(entries, ignorePort, 'virtual_hosts', problems);
  assert.deepEqual(problems, []);
  return idx;
}

const cases: { name: string; host: string; ignorePort?: boolean; want: string | undefined }[] = [
  { name: 'exact', host: 'www.foo.com', want: 'exact' },
  { name: 'exact, case-insensitive', host: 'WWW.Foo.COM', want: 'exact' },
  { name: 'suffix wildcard', host: 'a.foo.com', want: 'suffix' },
  { name: 'longest suffix wildcard first', host: 'baz-bar.foo.com', want: 'longer-suffix' },
  { name: 'a wildcard does not match the empty string', host: '-bar.foo.com', want: 'suffix' },
  { name: '*.foo.com does not match .foo.com', host: '.foo.com', want: 'default' },
  { name: 'suffix before prefix', host: 'foo.foo.com', want: 'suffix' },
  { name: 'prefix wildcard', host: 'foo.com', want: 'prefix' },
  { name: 'longest prefix wildcard first', host: 'foo.bar.baz', want: 'longer-prefix' },
  { name: 'default', host: 'other.org', want: 'default' },
  { name: 'a domain with a port matches host:port', host: 'reviews:9080', want: 'exact' },
  { name: 'the port is part of the host by default', host: 'reviews:9081', want: 'default' },
  { name: 'a wildcard sees the port too', host: 'www.foo.com:80', want: 'default' },
  { name: 'ignore_port_in_host_matching strips the port', host: 'reviews:9081', ignorePort: true, want: 'exact' },
  { name: 'ignore_port_in_host_matching before wildcards', host: 'a.foo.com:8443', ignorePort: true, want: 'suffix' },
  { name: 'ignore_port_in_host_matching keeps IPv6 brackets', host: '[::1]:8080', ignorePort: true, want: 'exact' },
  { name: 'an IPv6 literal without port is left alone', host: '[::1]', ignorePort: true, want: 'exact' },
];

for (const c of cases) {
  test(`domains: ${c.name}`, () => {
    assert.equal(index(c.ignorePort ?? false).find(c.host), c.want);
  });
}

test('domains: no virtual host without a default', () => {
  assert.equal(index(false, VHOSTS.slice(0, 2)).find('other.org'), undefined);
});

test('domains: only a default virtual host takes every authority', () => {
  assert.equal(index(false, [{ domains: ['*'], value: 'all' }]).find('anything:1234'), 'all');
});

const badDomains: { name: string; domains: string[][]; problem: string }[] = [
  { name: 'duplicate after lower-casing', domains: [['a.com'], ['A.com']], problem: 'virtual_hosts[1].domains[0]: only unique values for domains are permitted; duplicate entry of domain "a.com"' },
  { name: 'two defaults', domains: [['*'], ['x', '*']], problem: 'virtual_hosts[1].domains[1]: only a single wildcard domain (*) is permitted' },
  { name: 'duplicate suffix wildcard', domains: [['*.a.com', '*.A.com']], problem: 'virtual_hosts[0].domains[1]: only unique values for domains are permitted; duplicate entry of domain "*.a.com"' },
  { name: 'no domains', domains: [[]], problem: 'virtual_hosts[0].domains: must have at least 1 item' },
];

for (const c of badDomains) {
  test(`domains problem: ${c.name}`, () => {
    const problems: string[] = [];
    buildVirtualHostIndex(
      c.domains.map((domains, i) => ({ domains, value: i })),
      false,
      'virtual_hosts',
      problems,
    );
    assert.deepEqual(problems, [c.problem]);
  });
}

test('domains: Istio-style sidecar route configuration picks by service name and port', () => {
  const rc = fromJson(
    RouteConfigurationSchema,
    {
      name: '9080',
      ignorePortInHostMatching: true,
      virtualHosts: [
        { name: 'reviews.default.svc.cluster.local:9080', domains: ['reviews.default.svc.cluster.local', 'reviews', 'reviews.default'], routes: [{ match: { prefix: '/' }, route: { cluster: 'outbound|9080||reviews.default.svc.cluster.local' } }] },
        { name: 'allow_any', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }] },
      ],
    },
    { registry: XDS_REGISTRY },
  );
  const c = compileRouteConfig(rc);
  assert.ok(c.ok);
  const pick = (authority: string) => {
    const s = c.value.select({ authority, path: '/', method: 'GET', scheme: 'http', headers: {} }, seededRandom(1));
    return s?.virtualHost.name;
  };
  assert.equal(pick('reviews:9080'), 'reviews.default.svc.cluster.local:9080');
  assert.equal(pick('Reviews.Default'), 'reviews.default.svc.cluster.local:9080');
  assert.equal(pick('ratings:9080'), 'allow_any');
});
