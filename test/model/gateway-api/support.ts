// Test support for the Gateway API conversion: inline YAML (validated with every kind, failing loudly on an
// invalid fixture) converted the way the snapshot does, with the registry built from the same entries.

import { ALL_KINDS } from '../../../src/api/kinds.js';
import { buildRegistry } from '../../../src/registry/build-registry.js';
import { DEFAULT_MESH_CONFIG } from '../../../src/model/mesh-config.js';
import { convertGatewayApi, type GatewayApiConfig } from '../../../src/model/gateway-api/convert.js';
import type { GatewayView, VirtualServiceView } from '../../../src/model/snapshot.js';
import { loadFixture } from '../../support/analyze.js';

export interface Converted extends GatewayApiConfig {
  /** The generated VirtualService named `name`; throws listing the names when absent. */
  vs(name: string): VirtualServiceView;
  gateway(key: string): GatewayView;
  /** Problems as `path: message` lines, for exact assertions. */
  readonly messages: readonly string[];
}

export function convertYaml(yaml: string): Converted {
  const { entries, invalid } = loadFixture(yaml, ALL_KINDS);
  if (invalid.length > 0) throw new Error(`fixture does not validate: ${invalid.map((i) => `${i.kind ?? '?'} ${i.name ?? '?'}: ${i.issues.map((x) => x.message).join('; ')}`).join('\n')}`);
  const registry = buildRegistry(entries, [], DEFAULT_MESH_CONFIG.domainSuffix);
  const out = convertGatewayApi({ entries, services: registry.services, mesh: DEFAULT_MESH_CONFIG });
  return {
    ...out,
    messages: out.problems.map((p) => `${p.path}: ${p.message}`),
    vs(name) {
      const v = out.virtualServices.find((x) => x.name === name);
      if (v === undefined) throw new Error(`no VirtualService ${name}; have ${out.virtualServices.map((x) => x.name).join(', ')}`);
      return v;
    },
    gateway(key) {
      const g = out.gateways.find((x) => x.key === key);
      if (g === undefined) throw new Error(`no Gateway ${key}; have ${out.gateways.map((x) => x.key).join(', ')}`);
      return g;
    },
  };
}

/** A Kubernetes Service `name` in `ns` selecting `app: name`, ports as numbers. */
export function svc(name: string, ns = 'default', ports: readonly number[] = [80]): string {
  return `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {app: ${name}}
  ports:
${ports.map((p) => `  - {name: http-${p}, port: ${p}}`).join('\n')}
`;
}

export const GATEWAY_CLASS = `---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: istio}
spec: {controllerName: istio.io/gateway-controller}
`;
