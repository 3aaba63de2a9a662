// `--mesh-config`: the MeshConfig YAML or Istio's `istio` ConfigMap; every bad field named with the file.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMeshConfigFile } from './mesh-config-file.js';
import { DEFAULT_MESH_CONFIG } from '../model/mesh-config.js';
import { IsthmusError } from '../lib/errors.js';
import { tokenRequestProblems } from './ca-api.js';

describe('readMeshConfigFile', () => {
  it('reads the MeshConfig document, Istio\'s ConfigMap, and nothing (the defaults)', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-mesh-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'mesh.yaml'), 'trustDomain: example.org\naccessLogFile: /dev/stdout\n');
    await writeFile(
      join(dir, 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |-\n    rootNamespace: mesh-root\n    extensionProviders:\n    - name: authz\n      envoyExtAuthzHttp: {service: authz.foo.svc.cluster.local, port: 8000}\n',
    );
    assert.equal((await readMeshConfigFile(join(dir, 'mesh.yaml'))).trustDomain, 'example.org');
    const cm = await readMeshConfigFile(join(dir, 'cm.yaml'));
    assert.equal(cm.rootNamespace, 'mesh-root');
    assert.equal(cm.extensionProviders?.[0]?.name, 'authz');
    assert.equal(await readMeshConfigFile(undefined), DEFAULT_MESH_CONFIG);
  });

  it('names the file and field of each problem, and a file it cannot read', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-mesh-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const cases: [string, string, string, RegExp][] = [
      ['bad mode', 'bad.yaml', 'outboundTrafficPolicy: {mode: SOMETIMES}\n', /^mesh config .*bad\.yaml: outboundTrafficPolicy\.mode: must be ALLOW_ANY or REGISTRY_ONLY, found "SOMETIMES"$/],
      ['ConfigMap without data.mesh', 'cm.yaml', 'kind: ConfigMap\ndata: {}\n', /^mesh config .*cm\.yaml: a ConfigMap must hold the mesh config as data\.mesh$/],
      ['not YAML', 'broken.yaml', 'a: [\n', /^mesh config .*broken\.yaml: /],
    ];
    for (const [name, file, text, message] of cases) {
      await writeFile(join(dir, file), text);
      await assert.rejects(readMeshConfigFile(join(dir, file)), (e: unknown) => e instanceof IsthmusError && e.code === 'ISM_USAGE' && message.test(e.message), name);
    }
    await assert.rejects(readMeshConfigFile(join(dir, 'missing.yaml')), (e: unknown) => e instanceof IsthmusError && e.code === 'ISM_FILE_READ' && /ENOENT/.test(e.message));
  });
});

describe('POST /v1/tokens body', () => {
  it('needs a namespace and a service account that are Kubernetes names', () => {
    assert.deepEqual(tokenRequestProblems({ namespace: 'default', serviceAccount: 'reviews' }), []);
    assert.deepEqual(tokenRequestProblems({ namespace: 'Default' }), ['namespace: "Default" is not a valid Kubernetes name', 'serviceAccount: required']);
    assert.deepEqual(tokenRequestProblems([]), ['body: must be a JSON object']);
  });
});
