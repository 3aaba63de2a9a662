import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { LocalWorkloads } from './local-workloads.js';
import { handleWorkloadRequest, parseWorkloadSpec } from './workload-api.js';

describe('workload API', () => {
  const local = new LocalWorkloads();
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((req, res) => {
      if (!handleWorkloadRequest(local, req, res)) {
        res.writeHead(418);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('registers, lists, changes health and deregisters', async () => {
    const reg = await fetch(`${base}/v1/workloads`, { method: 'POST', body: JSON.stringify({ name: 'api', namespace: 'shop', address: '127.0.0.9', labels: { app: 'api' }, ports: { http: 3000 } }) });
    assert.equal(reg.status, 200);
    assert.equal(((await reg.json()) as { health: string }).health, 'HEALTHY');
    assert.deepEqual(((await (await fetch(`${base}/v1/workloads`)).json()) as { name: string }[]).map((w) => w.name), ['api']);
    const h = await fetch(`${base}/v1/workloads/shop/api/health`, { method: 'PUT', body: JSON.stringify({ health: 'DRAINING' }) });
    assert.equal(((await h.json()) as { health: string }).health, 'DRAINING');
    assert.equal(local.get('shop', 'api')?.health, 'DRAINING');
    assert.equal((await fetch(`${base}/v1/workloads/shop/api`, { method: 'DELETE' })).status, 200);
    assert.equal((await fetch(`${base}/v1/workloads/shop/api`, { method: 'DELETE' })).status, 404);
    assert.deepEqual(local.list(), []);
  });

  it('refuses bad input with the field and reason, changing nothing', async () => {
    const bad = await fetch(`${base}/v1/workloads`, { method: 'POST', body: JSON.stringify({ name: 'ok', address: '127.0.0.1', ports: { http: 70000 }, tlsMode: 'maybe' }) });
    assert.equal(bad.status, 400);
    assert.equal(await bad.text(), 'invalid workload: ports.http: must be a port number 1-65535; tlsMode: must be "istio" or "disabled"\n');
    const notJson = await fetch(`${base}/v1/workloads`, { method: 'POST', body: '{' });
    assert.equal(notJson.status, 400);
    assert.match(await notJson.text(), /^invalid request body: /);
    const health = await fetch(`${base}/v1/workloads/default/missing/health`, { method: 'PUT', body: JSON.stringify({ health: 'SICK' }) });
    assert.equal(health.status, 400);
    assert.match(await health.text(), /invalid health "SICK": must be one of HEALTHY, UNHEALTHY, DRAINING/);
    assert.equal((await fetch(`${base}/v1/workloads/x`, { method: 'PATCH' })).status, 405);
    assert.equal((await fetch(`${base}/other`)).status, 418, 'other paths are not this API');
    assert.deepEqual(local.list(), []);
    assert.deepEqual(parseWorkloadSpec([]), { ok: false, problems: ['body: must be a JSON object'] });
  });
});
