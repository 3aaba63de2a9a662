// The bench's gateway config is valid Istio and gives the ingress gateway what the bench sends traffic
// through: a listener on the listen port and the upstream's address behind the route. Run with
// `node --import tsx --test bench/data-plane/isthmus-target.test.ts` (`npm test` runs it too).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKindRegistry } from '../../src/api/kind.js';
import { ALL_KINDS } from '../../src/api/kinds.js';
import { loadText } from '../../src/api/load.js';
import { validateDocuments } from '../../src/config/validate-documents.js';
import { snapshotFromConfig } from '../../src/model/build-snapshot.js';
import type { LbEndpoint } from '../../src/xds/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { parseProxy } from '../../src/model/proxy.js';
import { translate } from '../../src/translate/translate.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayConfig } from './isthmus-target.js';
import { makeBenchCert } from './tls-cert.js';

const GATEWAY_NODE = {
  id: 'router~127.0.0.1~ingressgateway.istio-system~istio-system.svc.cluster.local',
  metadata: { NAMESPACE: 'istio-system', LABELS: { istio: 'ingressgateway' }, SERVICE_ACCOUNT: 'default' },
};

function portOf(lb: LbEndpoint): number | undefined {
  if (lb.hostIdentifier.case !== 'endpoint') return undefined;
  const a = lb.hostIdentifier.value.address?.address;
  return a?.case === 'socketAddress' && a.value.portSpecifier.case === 'portValue' ? a.value.portSpecifier.value : undefined;
}

describe('gatewayConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-bench-cert-'));
  const cert = makeBenchCert(dir);
  rmSync(dir, { recursive: true, force: true });
  for (const kind of ['http', 'https', 'tcp'] as const) {
    it(`${kind}: valid, and routes the listen port to the upstream`, () => {
      const loaded = loadText(gatewayConfig(kind, 18081, 18080, cert), 'bench.yaml');
      assert.deepEqual(loaded.problems, []);
      const { entries, invalid } = validateDocuments(loaded.documents, createKindRegistry(ALL_KINDS));
      assert.deepEqual(invalid, []);
      assert.deepEqual(entries.map((e) => e.kind.kind).sort(), ['Gateway', 'ServiceEntry', 'VirtualService', ...(kind === 'https' ? ['Secret'] : [])].sort());
      assert.deepEqual(entries.flatMap((e) => e.warnings), []);

      const proxy = parseProxy(GATEWAY_NODE);
      assert.ok(proxy.ok);
      const out = translate(snapshotFromConfig(entries, { version: '1' }), proxy.value);
      assert.deepEqual(out.issues, []);
      assert.ok(out.listeners.some((l) => l.name.endsWith('_18080')), `listeners: ${out.listeners.map((l) => l.name).join(', ')}`);
      const upstream = out.endpoints.find((e) => e.clusterName === 'outbound|80||upstream.bench.svc');
      assert.deepEqual(upstream?.endpoints.flatMap((le) => le.lbEndpoints.map(portOf)), [18081]);
      if (kind === 'https') assert.deepEqual(out.secrets.map((x) => x.name), ['kubernetes://bench-cred'], 'the listener terminates TLS with the Secret');
    });
  }
});
