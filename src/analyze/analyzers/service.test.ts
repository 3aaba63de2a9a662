// Scenario tests for service.PortNameAnalyzer (IST0118, IST0150), modelled on Istio's analyzer testdata
// service-no-port-name*.yaml and {correct,incorrect}-port-name-external-name-service-type.yaml (our own
// fixtures), with the corrected or exempt Services that must stay quiet.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeLines } from '../../../test/support/analyze.js';
import { SERVICE } from '../../api/core/service.js';
import type { AnyKind } from '../../api/kind.js';
import { portNameAnalyzer } from './service.js';

const KINDS: readonly AnyKind[] = [SERVICE];
const run = (yaml: string): string[] => analyzeLines(yaml, KINDS, [portNameAnalyzer]);

const SERVICES = `apiVersion: v1
kind: Service
metadata:
  name: legacy-db
  namespace: data
spec:
  type: ExternalName
  externalName: db.legacy.example
  ports:
  - name: tcp
    port: 5432
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: data
spec:
  selector: {app: web}
  ports:
  - name: web
    port: 8080
  - name: admin
    port: 8443
    targetPort: 15000
  - name: metrics
    port: 9090
    appProtocol: http
`;

describe('service.PortNameAnalyzer scenarios', () => {
  it('reports a tcp-named ExternalName port (IST0150) and ports that name no protocol (IST0118)', () => {
    assert.deepEqual(run(SERVICES), [
      'Warning [IST0150] (Service data/legacy-db test.yaml:11) Port name for ExternalName service is invalid. Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly',
      "Info [IST0118] (Service data/web test.yaml:22) Port name web (port: 8080, targetPort: 8080) doesn't follow the naming convention of Istio port.",
      "Info [IST0118] (Service data/web test.yaml:24) Port name admin (port: 8443, targetPort: 15000) doesn't follow the naming convention of Istio port.",
    ]);
  });

  it('stays quiet with protocol-named ports, including on ExternalName Services', () => {
    const fixed = SERVICES.replace('  - name: tcp\n    port: 5432', '  - name: tcp-postgres\n    port: 5432')
      .replace('  - name: web\n    port: 8080', '  - name: http-web\n    port: 8080')
      .replace('  - name: admin\n', '  - name: http-admin\n');
    assert.deepEqual(run(fixed), []);
  });

  it('exempts Istio control-plane Services', () => {
    const yaml = `apiVersion: v1
kind: Service
metadata:
  name: istiod
  namespace: istio-system
  labels: {istio: pilot}
spec:
  selector: {istio: pilot}
  ports:
  - name: grpc-xds
    port: 15010
  - name: webhook
    port: 443
    targetPort: 15017
`;
    assert.deepEqual(run(yaml), []);
  });
});
