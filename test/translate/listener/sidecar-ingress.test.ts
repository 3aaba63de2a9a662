// Sidecar `ingress` listeners replace the inbound chains derived from services (Istio's
// buildInboundChainConfigs with a Sidecar): one chain per listener port, to the `inbound|<port>||` cluster,
// which sends to the listener's defaultEndpoint.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { meshFromYaml, testProxy } from '../../support/mesh.js';
import { expectRoute } from '../../support/simulate.js';
import { translate } from '../../../src/translate/translate.js';

const CONFIG = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}, {name: tcp-admin, port: 9090}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: reviews-ingress, namespace: default}
spec:
  workloadSelector: {labels: {app: reviews}}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    defaultEndpoint: 127.0.0.1:18080
`;

describe('Sidecar ingress listeners', () => {
  const { snapshot } = meshFromYaml(CONFIG);
  const resources = translate(snapshot, testProxy({ name: 'reviews-v1', ip: '10.1.0.5', labels: { app: 'reviews' } }));

  it('route the listener port to its inbound cluster, which targets the defaultEndpoint', () => {
    expectRoute(resources, { port: 9080, address: '10.1.0.5', protocol: 'http', callMode: 'inbound', host: 'reviews:9080', path: '/' }, {
      listener: 'virtualInbound',
      routeConfig: 'inbound|9080||',
      cluster: 'inbound|9080||',
    });
    const cluster = resources.clusters.find((c) => c.name === 'inbound|9080||');
    const ep = cluster?.loadAssignment?.endpoints[0]?.lbEndpoints[0]?.hostIdentifier;
    const addr = ep?.case === 'endpoint' ? ep.value.address?.address : undefined;
    assert.deepEqual(addr?.case === 'socketAddress' ? [addr.value.address, addr.value.portSpecifier.value] : undefined, ['127.0.0.1', 18080]);
  });

  it('give service ports the Sidecar does not list no inbound chain of their own', () => {
    assert.equal(resources.clusters.some((c) => c.name === 'inbound|9090||'), false);
    expectRoute(resources, { port: 9090, address: '10.1.0.5', protocol: 'tcp', callMode: 'inbound' }, { tcpCluster: 'InboundPassthroughClusterIpv4' });
  });
});
