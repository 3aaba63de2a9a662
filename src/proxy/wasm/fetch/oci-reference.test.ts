import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseOciReference } from './oci-reference.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseOciReference', () => {
  const cases = [
    { name: 'registry with port and tag', in: 'oci://127.0.0.1:5000/plugins/auth:v1', registry: '127.0.0.1:5000', repository: 'plugins/auth', tag: 'v1', canonical: 'oci://127.0.0.1:5000/plugins/auth:v1' },
    { name: 'no scheme, no tag: latest, not written', in: 'ghcr.io/acme/filter', registry: 'ghcr.io', repository: 'acme/filter', tag: 'latest', explicit: false },
    { name: 'Docker Hub single name gets library/', in: 'oci://basic-auth', registry: 'docker.io', apiHost: 'registry-1.docker.io', repository: 'library/basic-auth' },
    { name: 'Docker Hub user/repo', in: 'istio/wasm:1.0', registry: 'docker.io', repository: 'istio/wasm', tag: '1.0', explicit: true },
    { name: 'localhost is a registry', in: 'localhost/p:x', registry: 'localhost', repository: 'p' },
    { name: 'digest', in: `oci://gcr.io/p/q@${D}`, digest: D, canonical: `oci://gcr.io/p/q@${D}` },
    { name: 'tag and digest: digest wins', in: `gcr.io/p/q:v1@${D}`, digest: D, tag: 'v1' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseOciReference(c.in);
      assert.ok(typeof r !== 'string', String(r));
      if (c.registry) assert.equal(r.registry, c.registry);
      if (c.apiHost) assert.equal(r.apiHost, c.apiHost);
      if (c.repository) assert.equal(r.repository, c.repository);
      if (c.tag) assert.equal(r.tag, c.tag);
      if (c.explicit !== undefined) assert.equal(r.tagExplicit, c.explicit);
      if (c.digest) assert.equal(r.digest, c.digest);
      if (c.canonical) assert.equal(r.canonical, c.canonical);
    });
  }
  const bad = [
    { name: 'upper case repository', in: 'ghcr.io/Acme/x' },
    { name: 'short digest', in: 'ghcr.io/a/x@sha256:abc' },
    { name: 'empty', in: 'oci://' },
    { name: 'bad tag', in: 'ghcr.io/a/x:-v' },
  ];
  for (const c of bad) {
    it(`refuses: ${c.name}`, () => assert.equal(typeof parseOciReference(c.in), 'string'));
  }
});
