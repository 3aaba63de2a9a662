// VirtualService mirror / mirrorPercentage through an ingress gateway: the mirror upstream receives a copy
// of the request (method, path, headers, body) while the client's response comes from the primary and
// never waits for the copy. Istio sends disable_shadow_host_suffix_append (its DISABLE_SHADOW_HOST_SUFFIX
// defaults to true), so the copy keeps the request's Host; Envoy's `-shadow` suffix is covered by
// src/proxy/http/mirror.test.ts.
// https://istio.io/latest/docs/tasks/traffic-management/mirroring/

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../src/proxy/lib/random.js';
import { startUpstream } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import { load, serviceEntryYaml, startGateway, virtualServiceYaml } from './resilience-mesh.js';

function mirrored(prefix: string, percentage: number): string {
  return `  - match: [{uri: {prefix: ${prefix}}}]
    route: [{destination: {host: primary.example.internal, port: {number: 80}}}]
    mirror: {host: shadow.example.internal, port: {number: 80}}
    mirrorPercentage: {value: ${percentage}}
`;
}

it('mirroring (VirtualService mirror through an ingress gateway)', async (t) => {
  const primary = await startUpstream(t, 'primary', '127.0.0.1', 0, (_req, res, body) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(body === '' ? 'primary' : `primary got ${body}`);
  });
  const shadow = await startUpstream(t, 'shadow', '127.0.0.1', 0, (req, res) => {
    if ((req.url ?? '').includes('/hang')) return; // a shadow that never answers
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('the shadow fails; nobody notices');
  });
  const gw = await startGateway(
    t,
    () => ({
      'primary.yaml': serviceEntryYaml('primary', [{ port: primary.port }]),
      'shadow.yaml': serviceEntryYaml('shadow', [{ port: shadow.port }]),
      'vs.yaml': virtualServiceYaml(mirrored('/all', 100) + mirrored('/half', 50)),
    }),
    { random: seededRandom(3) },
  );
  const shadowSaw = (url: string) => shadow.seen.filter((s) => s.url === url);

  await t.test('the mirror receives a copy with the same Host and request id; the client gets the primary response', async () => {
    const r = await gw.get('/all/item?x=1', { headers: { 'x-custom': 'kept' } });
    assert.deepEqual([r.status, r.body], [200, 'primary']);
    const [copy] = await waitFor(() => (shadowSaw('/all/item?x=1').length === 1 ? shadowSaw('/all/item?x=1') : undefined), 'the mirrored copy');
    const original = primary.seen.find((s) => s.url === '/all/item?x=1');
    assert.equal(copy?.method, 'GET');
    assert.equal(copy?.headers['host'], 'app.example.com');
    assert.equal(copy?.headers['x-custom'], 'kept');
    assert.equal(copy?.headers['x-request-id'], original?.headers['x-request-id']);
    const log = await gw.logFor('/all/item?x=1');
    assert.deepEqual([log.status, log.upstreamHost], [200, `127.0.0.1:${primary.port}`]);
  });

  await t.test('a POST body is copied to the mirror', async () => {
    const r = await gw.get('/all/post', { method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' } });
    assert.deepEqual([r.status, r.body], [200, 'primary got payload']);
    const copy = await waitFor(() => shadowSaw('/all/post')[0], 'the mirrored POST');
    assert.deepEqual([copy.method, copy.body], ['POST', 'payload']);
  });

  await t.test('a mirror that never answers does not hold up the response', async () => {
    const r = await gw.get('/all/hang');
    assert.deepEqual([r.status, r.body], [200, 'primary']);
    await waitFor(() => shadowSaw('/all/hang').length === 1, 'the mirror to hold its copy');
  });

  await t.test('mirrorPercentage 50: about half of 200 requests are copied', async () => {
    const replies = await load(200, 4, (i) => gw.get(`/half/${i}`));
    assert.deepEqual(new Set(replies.map((r) => r.body)), new Set(['primary']));
    // Copies arrive on their own: wait until the count stops moving.
    let last = -1;
    const copies = await waitFor(
      () => {
        const n = shadow.seen.filter((s) => s.url.startsWith('/half/')).length;
        const settled = n === last;
        last = n;
        return settled ? n : undefined;
      },
      'the mirrored copies to settle',
      5000,
      250,
    );
    assert.ok(Math.abs(copies - 100) <= 15, `${copies} of 200 mirrored`);
  });
});
