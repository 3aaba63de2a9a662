// The config browser's list: every resource with its validation issues and the analyzer messages
// `isthmus analyze` gives (same codes), invalid documents included, Secrets without their data.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKindRegistry } from '../../api/kind.js';
import { ALL_KINDS } from '../../api/kinds.js';
import { loadText } from '../../api/load.js';
import { validateDocuments } from '../../config/validate-documents.js';
import { buildConfigView } from './config-view.js';

const REGISTRY = createKindRegistry(ALL_KINDS);

function view(yaml: string): ReturnType<typeof buildConfigView> {
  const loaded = loadText(yaml, 'mesh.yaml');
  const v = validateDocuments(loaded.documents, REGISTRY, { defaultNamespace: 'default' }, loaded.problems);
  return buildConfigView(v.entries, v.invalid);
}

const CONFIG = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: broken-route, namespace: default}
spec:
  hosts: [broken.example.com]
  http:
  - route:
    - destination: {host: no-such-service}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad-weight, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
      weight: -1
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: default}
stringData: {password: hunter2}
`;

describe('config view', () => {
  const v = view(CONFIG);
  const byName = (name: string) => v.resources.find((r) => r.name === name);

  it("attaches the analyzer's messages, with their IST codes, to the resource they are about", () => {
    const broken = byName('broken-route');
    assert.ok(broken?.valid);
    const m = broken.messages.find((x) => x.code === 'IST0101');
    assert.ok(m !== undefined, JSON.stringify(broken.messages));
    assert.equal(m.level, 'Error');
    assert.match(m.message, /no-such-service/);
    assert.match(m.where ?? '', /^mesh\.yaml:\d+$/);
    assert.deepEqual(byName('reviews')?.messages, []);
  });

  it('lists an invalid document with its validation errors', () => {
    const bad = byName('bad-weight');
    assert.ok(bad !== undefined && !bad.valid);
    assert.ok(bad.messages.some((m) => m.level === 'Error' && m.where?.includes('weight') === true), JSON.stringify(bad.messages));
  });

  it('shows YAML, without a Secret\'s data', () => {
    assert.match(byName('broken-route')?.yaml ?? '', /host: no-such-service/);
    assert.doesNotMatch(byName('creds')?.yaml ?? '', /hunter2/);
  });

  it('sorts by kind, namespace and name, each with a unique id', () => {
    assert.deepEqual(v.resources.map((r) => `${r.kind}/${r.name}`), ['Secret/creds', 'Service/reviews', 'VirtualService/bad-weight', 'VirtualService/broken-route']);
    assert.equal(new Set(v.resources.map((r) => r.id)).size, v.resources.length);
    assert.equal(byName('broken-route')?.id, 'networking.istio.io/VirtualService/default/broken-route');
  });
});
