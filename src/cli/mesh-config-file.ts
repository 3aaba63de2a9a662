// `--mesh-config <file>`: the mesh-wide settings istiod reads from its `istio` ConfigMap (istiod's --meshConfig
// file). The file is either the MeshConfig document itself (what `data.mesh` holds) or the ConfigMap as
// Istio ships it (`kind: ConfigMap`, `data.mesh: |` with the YAML inside). Every problem is reported with the
// field it concerns, and nothing starts with a mesh config that has one.

import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { IsthmusError } from '../lib/errors.js';
import { DEFAULT_MESH_CONFIG, parseMeshConfig, type MeshConfig } from '../model/mesh-config.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The mesh config a file declares; throws ISM_FILE_READ or ISM_USAGE naming the file and field. */
export async function readMeshConfigFile(file: string | undefined): Promise<MeshConfig> {
  if (file === undefined) return DEFAULT_MESH_CONFIG;
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new IsthmusError('ISM_FILE_READ', `cannot read mesh config ${file}: ${e.code ?? e.message}`);
  });
  let doc: unknown;
  try {
    doc = parse(text);
    if (isObject(doc) && doc['kind'] === 'ConfigMap') {
      const data = doc['data'];
      const mesh = isObject(data) ? data['mesh'] : undefined;
      if (typeof mesh !== 'string') throw new Error('a ConfigMap must hold the mesh config as data.mesh');
      doc = parse(mesh);
    }
  } catch (e) {
    throw new IsthmusError('ISM_USAGE', `mesh config ${file}: ${(e as Error).message}`);
  }
  const r = parseMeshConfig(doc ?? {});
  if (!r.ok) throw new IsthmusError('ISM_USAGE', r.issues.map((i) => `mesh config ${file}: ${i.path === '' ? '' : `${i.path}: `}${i.message}`).join('\n'));
  return r.value;
}
