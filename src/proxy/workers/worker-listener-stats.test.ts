import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { StatsStore } from '../stats/stats-store.js';
import { WorkerListenerStats } from './worker-listener-stats.js';
import { waitFor } from '../../../test/support/wait.js';

describe('per-worker listener stats', () => {
  it("counts connections the process accepts as listener.<address>.worker_<id>, active ones until they close", async (t) => {
    const accepted: Socket[] = [];
    const server = createServer((s) => accepted.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    t.after(() => server.close());
    const port = (server.address() as AddressInfo).port;
    const stats = new StatsStore();
    const named: string[] = [];
    const ls = new WorkerListenerStats(stats, 3, (a, p) => {
      named.push(`${a}:${p}`);
      return `0.0.0.0_${p}`;
    });
    ls.start();
    t.after(() => ls.stop());
    const clients = await Promise.all([1, 2].map(() => new Promise<Socket>((r) => { const c = connect(port, '127.0.0.1', () => r(c)); })));
    await waitFor(() => accepted.length === 2, 'both connections accepted');
    const total = stats.counter(`listener.0.0.0.0_${port}.worker_3.downstream_cx_total`);
    const active = stats.gauge(`listener.0.0.0.0_${port}.worker_3.downstream_cx_active`);
    assert.deepEqual([total.value, active.value], [2, 2]);
    assert.deepEqual(named, [`127.0.0.1:${port}`], 'the name is looked up once per local address');
    for (const c of clients) c.destroy();
    await waitFor(() => active.value === 0, 'active connections to close');
    assert.equal(total.value, 2);
  });
});
