// PeerAuthentication on the inbound side (Istio's authn Builder ForPort / ForPassthrough and the
// filterchain options per mode): which virtualInbound chains terminate mTLS, which accept plain text, and
// what a client's auto mTLS sends when a namespace or the mesh disables mTLS (BestEffortInferServiceMTLSMode).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.js';
import { expectRoute, simulate } from '../../support/simulate.js';
import type { Call } from '../../support/simulate.js';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { DownstreamTlsContextSchema } from '../../../src/xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { buildFor, k8sService, listener, type Built } from './harness.js';
import { clusterNamed, podYaml, serviceYaml, translateYaml } from '../cluster/support.js';

const NO_CLUSTERS = { requireClusters: false } as const;
const IP = '10.1.0.5';

const SERVICES = [
  k8sService('reviews', [{ port: 9080, name: 'http' }]),
  k8sService('reviews-metrics', [{ port: 9100, name: 'metrics' }], { selector: { app: 'reviews' } }),
].join('\n');
const WORKLOAD = { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, ip: IP } as const;

function peerAuthn(namespace: string, name: string, spec: string, created = '2024-01-01T00:00:00Z'): string {
  return [
    'apiVersion: security.istio.io/v1',
    'kind: PeerAuthentication',
    `metadata: {name: ${name}, namespace: ${namespace}, creationTimestamp: "${created}"}`,
    'spec:',
    ...spec.split('\n').map((l) => `  ${l}`),
  ].join('\n');
}

const build = (...policies: string[]) => buildFor([SERVICES, policies.join('\n---\n')].join('\n'), WORKLOAD);

const inbound = (port: number, protocol: Call['protocol'], tls: Call['tls'] = 'plaintext'): Call => ({ port, address: IP, protocol, callMode: 'inbound', tls, host: `reviews:${port}` });

/** What a call to the port ends in: the chain it lands on, or the simulator's error. */
function outcome(b: Built, call: Call): string {
  const r = simulate(b.resources, call, NO_CLUSTERS);
  return r.error ?? `${r.filterChain ?? '?'} -> ${r.cluster ?? '?'}`;
}

function tlsChains(b: Built, port: number | undefined) {
  return listener(b, 'virtualInbound').filterChains.filter((c) => c.filterChainMatch?.destinationPort === port && c.transportSocket !== undefined);
}

describe('inbound mTLS from PeerAuthentication', () => {
  it('no policy is PERMISSIVE: plain text and mTLS both reach the inbound cluster', () => {
    const b = build();
    assert.equal(outcome(b, inbound(9080, 'http')), '0.0.0.0_9080 -> inbound|9080||');
    assert.equal(outcome(b, inbound(9080, 'http', 'mtls')), '0.0.0.0_9080 -> inbound|9080||');
    assert.equal(outcome(b, inbound(8888, 'tcp')), 'virtualInbound -> InboundPassthroughClusterIpv4');
    assert.equal(outcome(b, inbound(8888, 'tcp', 'mtls')), 'virtualInbound -> InboundPassthroughClusterIpv4');
  });

  it('mesh-wide STRICT: every chain is TLS-only and requires a client certificate', () => {
    const b = build(peerAuthn('istio-system', 'default', 'mtls: {mode: STRICT}'));
    const chains = listener(b, 'virtualInbound').filterChains.filter((c) => c.name !== 'virtualInbound-blackhole');
    assert.ok(chains.length > 0);
    for (const c of chains) {
      assert.equal(c.filterChainMatch?.transportProtocol, 'tls', `${c.name} matches TLS only`);
      const ctx = c.transportSocket?.configType.case === 'typedConfig' ? anyUnpack(c.transportSocket.configType.value, DownstreamTlsContextSchema) : undefined;
      assert.equal(ctx?.requireClientCertificate, true, `${c.name} requires a client certificate`);
    }
    assert.equal(outcome(b, inbound(9080, 'http')), 'no filter chain');
    assert.equal(outcome(b, inbound(9080, 'http', 'mtls')), '0.0.0.0_9080 -> inbound|9080||');
    assert.equal(outcome(b, inbound(9100, 'tcp', 'mtls')), '0.0.0.0_9100 -> inbound|9100||');
    assert.equal(outcome(b, inbound(8888, 'tcp')), 'no filter chain');
    assert.equal(outcome(b, inbound(8888, 'tcp', 'mtls')), 'virtualInbound -> InboundPassthroughClusterIpv4');
  });

  it('HTTP chains advertise h2,http/1.1; TCP chains istio-peer-exchange first', () => {
    const b = build(peerAuthn('istio-system', 'default', 'mtls: {mode: STRICT}'));
    const alpns = (port: number) => tlsChains(b, port).map((c) => {
      const ctx = c.transportSocket?.configType.case === 'typedConfig' ? anyUnpack(c.transportSocket.configType.value, DownstreamTlsContextSchema) : undefined;
      return ctx?.commonTlsContext?.alpnProtocols.join(',');
    });
    assert.deepEqual(alpns(9080), ['h2,http/1.1']);
    assert.deepEqual(alpns(9100), ['h2,http/1.1', 'istio-peer-exchange,h2,http/1.1']);
  });

  it('a namespace DISABLE overrides mesh STRICT: plain-text chains only, no TLS inspector', () => {
    const b = build(peerAuthn('istio-system', 'default', 'mtls: {mode: STRICT}'), peerAuthn('default', 'default', 'mtls: {mode: DISABLE}'));
    assert.ok(listener(b, 'virtualInbound').filterChains.every((c) => c.transportSocket === undefined));
    assert.ok(!listener(b, 'virtualInbound').listenerFilters.some((f) => f.name === 'envoy.filters.listener.tls_inspector'));
    assert.equal(outcome(b, inbound(9080, 'http')), '0.0.0.0_9080 -> inbound|9080||');
  });

  it('a namespace policy elsewhere does not apply', () => {
    const b = build(peerAuthn('istio-system', 'default', 'mtls: {mode: STRICT}'), peerAuthn('other', 'default', 'mtls: {mode: DISABLE}'));
    assert.equal(outcome(b, inbound(9080, 'http')), 'no filter chain');
  });

  describe('workload selector STRICT with port-level DISABLE', () => {
    const policy = peerAuthn('default', 'reviews', ['selector: {matchLabels: {app: reviews}}', 'mtls: {mode: STRICT}', 'portLevelMtls:', '  9100: {mode: DISABLE}', '  8000: {mode: DISABLE}'].join('\n'));
    const b = build(policy);

    it('golden: STRICT chains on 9080, plain text on 9100, an extra passthrough chain for undeclared port 8000', () => {
      assertGolden('listener/sidecar-inbound-mtls-port-level', b.dump.listeners.filter((l) => (l as { name?: string }).name === 'virtualInbound'));
    });

    it('the workload-wide STRICT applies to 9080 and to passthrough', () => {
      assert.equal(outcome(b, inbound(9080, 'http')), 'no filter chain');
      assert.equal(outcome(b, inbound(9080, 'http', 'mtls')), '0.0.0.0_9080 -> inbound|9080||');
      assert.equal(outcome(b, inbound(8888, 'tcp')), 'no filter chain');
    });

    it('the port-level DISABLE makes 9100 plain text', () => {
      assert.equal(tlsChains(b, 9100).length, 0);
      assert.equal(outcome(b, inbound(9100, 'http')), '0.0.0.0_9100 -> inbound|9100||');
      assert.equal(outcome(b, inbound(9100, 'tcp')), '0.0.0.0_9100 -> inbound|9100||');
    });

    it('a port-level setting for a port no service declares gets its own passthrough chains', () => {
      const chains = listener(b, 'virtualInbound').filterChains.filter((c) => c.filterChainMatch?.destinationPort === 8000);
      assert.deepEqual(chains.map((c) => [c.name, c.filterChainMatch?.transportProtocol]), [
        ['virtualInbound-catchall-http', 'raw_buffer'],
        ['virtualInbound', 'raw_buffer'],
      ]);
      assert.equal(outcome(b, inbound(8000, 'tcp')), 'virtualInbound -> InboundPassthroughClusterIpv4');
      expectRoute(b.resources, inbound(8000, 'http'), { filterChain: 'virtualInbound-catchall-http', cluster: 'InboundPassthroughClusterIpv4' }, NO_CLUSTERS);
    });

    it('does not select other workloads', () => {
      const other = buildFor([SERVICES, policy].join('\n'), { labels: { app: 'ratings' }, ip: IP });
      assert.equal(outcome(other, inbound(8888, 'tcp')), 'virtualInbound -> InboundPassthroughClusterIpv4');
      assert.ok(!listener(other, 'virtualInbound').filterChains.some((c) => c.filterChainMatch?.destinationPort === 8000));
    });
  });

  it('UNSET inherits: workload and port UNSET take the namespace STRICT', () => {
    const b = build(
      peerAuthn('istio-system', 'default', 'mtls: {mode: DISABLE}'),
      peerAuthn('default', 'default', 'mtls: {mode: STRICT}'),
      peerAuthn('default', 'reviews', ['selector: {matchLabels: {app: reviews}}', 'mtls: {mode: UNSET}', 'portLevelMtls:', '  9100: {mode: UNSET}'].join('\n')),
    );
    assert.equal(outcome(b, inbound(9080, 'http')), 'no filter chain');
    assert.equal(outcome(b, inbound(9100, 'tcp')), 'no filter chain');
    assert.equal(outcome(b, inbound(9100, 'tcp', 'mtls')), '0.0.0.0_9100 -> inbound|9100||');
  });

  it('the oldest workload policy wins', () => {
    const b = build(
      peerAuthn('default', 'new', 'selector: {matchLabels: {app: reviews}}\nmtls: {mode: STRICT}', '2024-06-01T00:00:00Z'),
      peerAuthn('default', 'old', 'selector: {matchLabels: {app: reviews}}\nmtls: {mode: DISABLE}', '2024-01-01T00:00:00Z'),
    );
    assert.equal(outcome(b, inbound(9080, 'http')), '0.0.0.0_9080 -> inbound|9080||');
    assert.equal(tlsChains(b, 9080).length, 0);
  });
});

describe('client auto mTLS and PeerAuthentication (BestEffortInferServiceMTLSMode)', () => {
  const HOST = 'reviews.default.svc.cluster.local';
  const base = [serviceYaml('reviews', [{ name: 'http', port: 9080 }]), podYaml({ name: 'reviews-v1', ip: '10.0.0.1', labels: { app: 'reviews' }, serviceAccount: 'reviews' })].join('\n---\n');
  const cluster = (...policies: string[]) => clusterNamed(translateYaml([base, ...policies].join('\n---\n'), { labels: { app: 'productpage' } }), `outbound|9080||${HOST}`);

  const cases: { name: string; policies: string[]; autoMtls: boolean }[] = [
    { name: 'no policy: auto mTLS to sidecar endpoints', policies: [], autoMtls: true },
    { name: 'mesh STRICT: auto mTLS', policies: [peerAuthn('istio-system', 'default', 'mtls: {mode: STRICT}')], autoMtls: true },
    { name: 'mesh DISABLE: plain text', policies: [peerAuthn('istio-system', 'default', 'mtls: {mode: DISABLE}')], autoMtls: false },
    { name: "DISABLE in the service's namespace: plain text", policies: [peerAuthn('default', 'default', 'mtls: {mode: DISABLE}')], autoMtls: false },
    { name: 'namespace PERMISSIVE over mesh DISABLE: auto mTLS', policies: [peerAuthn('istio-system', 'default', 'mtls: {mode: DISABLE}'), peerAuthn('default', 'default', 'mtls: {mode: PERMISSIVE}')], autoMtls: true },
    { name: 'DISABLE in another namespace: auto mTLS', policies: [peerAuthn('other', 'default', 'mtls: {mode: DISABLE}')], autoMtls: true },
    { name: 'a workload-selector DISABLE is not inferred for the service', policies: [peerAuthn('default', 'reviews', 'selector: {matchLabels: {app: reviews}}\nmtls: {mode: DISABLE}')], autoMtls: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = cluster(...c.policies);
      assert.equal(got.transportSocketMatches.length > 0, c.autoMtls);
    });
  }
});
