import { describe, it } from 'node:test';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { GATEWAY_CLASS } from './gateway-class.js';

const K = [GATEWAY_CLASS];
const doc = (spec: string, meta = '{name: istio}'): string =>
  `apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: ${meta}\nspec:\n${spec}`;

describe('GatewayClass', () => {
  it("accepts Istio's classes and a parametersRef", () => {
    expectValid(doc('  controllerName: istio.io/gateway-controller\n'), K);
    expectValid(doc('  controllerName: istio.io/mesh-controller\n  description: The default Istio waypoint GatewayClass\n', '{name: istio-waypoint}'), K);
    expectValid(
      doc('  controllerName: example.com/gw\n  parametersRef: {group: "", kind: ConfigMap, name: gw-options, namespace: istio-system}\n'),
      K,
    );
  });

  it('accepts the v1beta1 alias', () => {
    expectValid('apiVersion: gateway.networking.k8s.io/v1beta1\nkind: GatewayClass\nmetadata: {name: c}\nspec: {controllerName: a.io/b}\n', K);
  });

  const invalid: { name: string; yaml: string; path: string; message: string }[] = [
    { name: 'missing spec', yaml: 'apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: c}\n', path: 'spec', message: 'required field is missing' },
    { name: 'missing controllerName', yaml: doc('  description: x\n'), path: 'spec.controllerName', message: 'required field is missing' },
    { name: 'controllerName without a domain path', yaml: doc('  controllerName: istio\n'), path: 'spec.controllerName', message: 'should match' },
    { name: 'description too long', yaml: doc(`  controllerName: a.io/b\n  description: ${'x'.repeat(65)}\n`), path: 'spec.description', message: 'must have at most 64 characters' },
    { name: 'parametersRef without kind', yaml: doc('  controllerName: a.io/b\n  parametersRef: {group: "", name: p}\n'), path: 'spec.parametersRef.kind', message: 'required field is missing' },
    { name: 'namespace set on a cluster-scoped kind', yaml: doc('  controllerName: a.io/b\n', '{name: c, namespace: default}'), path: 'metadata.namespace', message: 'cluster-scoped' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => void expectInvalid(c.yaml, K, [{ path: c.path, message: c.message }]));
});
