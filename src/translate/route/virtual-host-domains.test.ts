// Domain generation against Istio's own cases (pilot/pkg/networking/core/httproute_test.go
// TestGenerateVirtualHostDomains), with the absolute-FQDN variants Istio adds by default.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../../registry/types.js';
import { altVirtualHosts, domainName, virtualHostDomains } from './virtual-host-domains.js';

function svc(hostname: string, extra: Partial<Service> = {}): Service {
  return {
    hostname,
    namespace: 'default',
    name: hostname.split('.')[0] ?? hostname,
    source: 'ServiceEntry',
    ports: [],
    addresses: [],
    resolution: 'STATIC',
    location: 'MESH_INTERNAL',
    exportTo: ['*'],
    labels: {},
    creationTimestamp: '',
    ...extra,
  };
}

describe('virtualHostDomains (Istio TestGenerateVirtualHostDomains)', () => {
  const cases: [string, Service, string, string[]][] = [
    ['same domain', svc('foo.local.campus.net'), 'local.campus.net', ['foo.local.campus.net', 'foo.local.campus.net.', 'foo']],
    ['different domains with some shared dns', svc('foo.local.campus.net'), 'remote.campus.net', ['foo.local.campus.net', 'foo.local.campus.net.', 'foo.local', 'foo.local.campus']],
    ['different domains with no shared dns', svc('foo.local.campus.net'), 'example.com', ['foo.local.campus.net', 'foo.local.campus.net.']],
    ['k8s service with default domain', svc('echo.default.svc.cluster.local'), 'default.svc.cluster.local', ['echo.default.svc.cluster.local', 'echo.default.svc.cluster.local.', 'echo', 'echo.default.svc', 'echo.default']],
    ['non-k8s service', svc('foo.default.svc.bar.baz'), 'default.svc.cluster.local', ['foo.default.svc.bar.baz', 'foo.default.svc.bar.baz.']],
    ['k8s service in another namespace has no bare short name', svc('echo.default.svc.cluster.local'), 'mesh.svc.cluster.local', ['echo.default.svc.cluster.local', 'echo.default.svc.cluster.local.', 'echo.default', 'echo.default.svc']],
    ['custom domain', svc('google.local'), 'foo.svc.custom.k8s.local', ['google.local', 'google.local.']],
    ['ipv4 host', svc('1.2.3.4'), 'example.com', ['1.2.3.4']],
    ['ipv6 host in brackets', svc('2406:3003:2064:35b8:864:a648:4b96:e37d'), 'example.com', ['[2406:3003:2064:35b8:864:a648:4b96:e37d]']],
  ];
  for (const [name, s, domain, want] of cases) {
    it(name, () => assert.deepEqual(virtualHostDomains(s, 0, domain).domains, want));
  }

  it('adds the VIPs, skipping 0.0.0.0', () => {
    const s = svc('reviews.default.svc.cluster.local', { source: 'Kubernetes', addresses: ['10.96.0.7', '0.0.0.0'] });
    assert.deepEqual(virtualHostDomains(s, 0, 'default.svc.cluster.local').domains.slice(-1), ['10.96.0.7']);
  });

  it('adds *. forms for headless Kubernetes services only', () => {
    const headless = svc('db.default.svc.cluster.local', { source: 'Kubernetes', resolution: 'NONE' });
    assert.deepEqual(virtualHostDomains(headless, 0, 'other.svc.cluster.local').domains, [
      'db.default.svc.cluster.local',
      'db.default.svc.cluster.local.',
      'db.default',
      'db.default.svc',
      '*.db.default.svc.cluster.local',
      '*.db.default.svc.cluster.local.',
      '*.db.default',
      '*.db.default.svc',
    ]);
    const entry = svc('db.example.com', { resolution: 'NONE' });
    assert.deepEqual(virtualHostDomains(entry, 0, 'other.svc.cluster.local').domains, ['db.example.com', 'db.example.com.']);
  });

  it('lists every name with and without the port when the port is kept (proxyless gRPC)', () => {
    const s = svc('reviews.default.svc.cluster.local', { source: 'Kubernetes', addresses: ['10.96.0.7'] });
    assert.deepEqual(virtualHostDomains(s, 9080, 'default.svc.cluster.local').domains, [
      'reviews.default.svc.cluster.local',
      'reviews.default.svc.cluster.local:9080',
      'reviews.default.svc.cluster.local.',
      'reviews.default.svc.cluster.local.:9080',
      'reviews',
      'reviews:9080',
      'reviews.default.svc',
      'reviews.default.svc:9080',
      'reviews.default',
      'reviews.default:9080',
      '10.96.0.7',
      '10.96.0.7:9080',
    ]);
  });

  it('reports the expanded names separately', () => {
    assert.deepEqual(altVirtualHosts('echo.default.svc.cluster.local', 0, 'default.svc.cluster.local'), ['echo.default.svc.cluster.local.', 'echo', 'echo.default.svc', 'echo.default']);
  });

  it('domainName brackets IPv6 literals', () => {
    assert.equal(domainName('::1', 80), '[::1]:80');
    assert.equal(domainName('a.b', 80), 'a.b:80');
  });
});
