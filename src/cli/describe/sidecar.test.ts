// What `x describe` reads from a sidecar's config dump (the DestinationRule on each outbound cluster, the
// VirtualServices on each outbound virtual host, the node's metadata) and how it compares that with the
// config: agreement is silent, a difference is a warning naming both sides.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DUMP_SECTIONS, parseConfigDump, type ConfigDump } from '../proxy-config/config-dump.js';
import { sidecarChecks, sidecarRefs, sidecarWarnings, workloadFromNode } from './sidecar.js';
import type { DestinationRuleSummary, VirtualServiceSummary } from './types.js';

const REVIEWS = 'reviews.default.svc.cluster.local';
const istio = (kind: string, name: string): Record<string, unknown> => ({ filter_metadata: { istio: { config: `/apis/networking.istio.io/v1/namespaces/default/${kind}/${name}` } } });

function dump(): ConfigDump {
  const d = parseConfigDump({
    configs: [
      {
        '@type': DUMP_SECTIONS.bootstrap,
        bootstrap: { node: { id: 'sidecar~127.0.0.5~details-v1-abc.default~default.svc.cluster.local', metadata: { NAMESPACE: 'default', LABELS: { app: 'details', version: 'v1' }, SERVICE_ACCOUNT: 'bookinfo-details' } } },
      },
      {
        '@type': DUMP_SECTIONS.clusters,
        dynamic_active_clusters: [
          { cluster: { name: `outbound|9080||${REVIEWS}`, metadata: istio('destination-rule', 'reviews') } },
          { cluster: { name: `outbound|9080|v1|${REVIEWS}`, metadata: istio('destination-rule', 'reviews') } },
          // The JSON name spelling (filterMetadata) reads the same.
          { cluster: { name: 'outbound|9080||ratings.default.svc.cluster.local', metadata: { filterMetadata: { istio: {} } } } },
          { cluster: { name: 'inbound|9080||' } },
          { cluster: { name: 'BlackHoleCluster' } },
        ],
      },
      {
        '@type': DUMP_SECTIONS.routes,
        dynamic_route_configs: [
          {
            route_config: {
              name: '9080',
              virtual_hosts: [
                { name: `${REVIEWS}:9080`, routes: [{ metadata: istio('virtual-service', 'reviews') }, { metadata: istio('virtual-service', 'reviews') }] },
                { name: 'ratings.default.svc.cluster.local:9080', routes: [{ name: 'default' }] },
                { name: 'allow_any', routes: [{}] },
              ],
            },
          },
        ],
      },
    ],
  });
  assert.ok(d !== undefined);
  return d;
}

const DR: DestinationRuleSummary = { name: 'reviews', namespace: 'default', host: 'reviews', mergedWith: [], matchingSubsets: ['v1'], nonMatchingSubsets: [], notes: [] };
const vs = (name: string, protocol: 'http' | 'tcp' = 'http'): VirtualServiceSummary => ({ name, namespace: 'default', hosts: ['reviews'], gateways: ['mesh'], routes: [{ protocol, index: 0, reachesWorkload: true, match: [], destinations: [] }] });

describe('sidecarRefs', () => {
  it('reads the DestinationRule of each outbound service cluster and the VirtualServices of each outbound virtual host', () => {
    assert.deepEqual(sidecarRefs(dump()), {
      clusters: { [`${REVIEWS}:9080`]: 'reviews.default', 'ratings.default.svc.cluster.local:9080': '' },
      virtualHosts: { [`${REVIEWS}:9080`]: ['reviews.default'], 'ratings.default.svc.cluster.local:9080': [] },
    });
  });
});

describe('sidecarChecks', () => {
  const refs = sidecarRefs(dump());
  const cases: { name: string; fqdn: string; ports: number[]; dr: DestinationRuleSummary | undefined; vss: VirtualServiceSummary[]; agrees: boolean[]; warnings: string[] }[] = [
    { name: 'the sidecar has what the config says', fqdn: REVIEWS, ports: [9080], dr: DR, vss: [vs('reviews')], agrees: [true], warnings: [] },
    { name: 'a TCP-only VirtualService has no virtual host to compare', fqdn: 'ratings.default.svc.cluster.local', ports: [9080], dr: undefined, vss: [vs('ratings-tcp', 'tcp')], agrees: [true], warnings: [] },
    {
      name: 'a DestinationRule the sidecar does not have yet',
      fqdn: 'ratings.default.svc.cluster.local',
      ports: [9080],
      dr: { ...DR, name: 'ratings' },
      vss: [],
      agrees: [false],
      warnings: ['WARNING: Proxy is stale: the sidecar\'s cluster for ratings.default.svc.cluster.local:9080 uses DestinationRule <none>, the config has ratings.default'],
    },
    {
      name: 'a VirtualService the config no longer has',
      fqdn: REVIEWS,
      ports: [9080],
      dr: DR,
      vss: [],
      agrees: [false],
      warnings: [`WARNING: Proxy is stale: the sidecar's routes for ${REVIEWS}:9080 come from VirtualService reviews.default, the config has <none>`],
    },
    {
      name: 'a port the sidecar has no cluster for',
      fqdn: REVIEWS,
      ports: [9080, 9090],
      dr: DR,
      vss: [vs('reviews')],
      agrees: [true, false],
      warnings: [`WARNING: the sidecar has no cluster for ${REVIEWS}:9090 (not pushed yet, or a Sidecar resource leaves the Service out)`],
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const checks = sidecarChecks(refs, c.fqdn, c.ports, c.dr, c.vss);
      assert.deepEqual(checks.map((x) => x.agrees), c.agrees);
      assert.deepEqual(sidecarWarnings(c.fqdn, checks), c.warnings);
    });
});

describe('workloadFromNode', () => {
  it("describes a proxy's workload from its node metadata", () => {
    assert.deepEqual(workloadFromNode(dump(), { id: 'details-v1-abc.default', ip: '127.0.0.5' }), {
      name: 'details-v1-abc',
      namespace: 'default',
      labels: { app: 'details', version: 'v1' },
      address: '127.0.0.5',
      serviceAccount: 'bookinfo-details',
      ports: {},
      source: 'proxy',
    });
  });

  it('is undefined without a bootstrap section', () => {
    const d = parseConfigDump({ configs: [] });
    assert.ok(d !== undefined);
    assert.equal(workloadFromNode(d, { id: 'x.default', ip: '' }), undefined);
  });
});
