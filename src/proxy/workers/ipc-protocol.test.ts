import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLUSTER_TYPE } from '../../xds/type-urls.js';
import { StatsStore } from '../stats/stats-store.js';
import { parseFromWorker, parseToWorker } from './ipc-protocol.js';
import { snapshotStats } from './stats-merge.js';

const store = new StatsStore();
store.counter('c').inc();
store.histogram('h').record(3);

describe('IPC messages are checked on arrival', () => {
  const toWorker: [string, unknown, boolean][] = [
    ['init', { t: 'init', settings: { slot: 1, logLevel: 'warn', bindAddress: '127.0.0.1' } }, true],
    ['init without a slot', { t: 'init', settings: { logLevel: 'warn' } }, false],
    ['config', { t: 'config', generation: 3, initialized: true, tables: [{ type: CLUSTER_TYPE, entries: [{ name: 'a', version: '1', lastUpdated: 'x', bytes: new Uint8Array([8, 1]) }] }] }, true],
    ['config of a type the proxy does not know', { t: 'config', generation: 3, initialized: true, tables: [{ type: 'type.googleapis.com/x.Y', entries: [] }] }, false],
    ['config with base64 instead of bytes', { t: 'config', generation: 3, initialized: true, tables: [{ type: CLUSTER_TYPE, entries: [{ name: 'a', version: '1', lastUpdated: 'x', bytes: 'CAE=' }] }] }, false],
    ['stats request', { t: 'stats', id: 7 }, true],
    ['log level', { t: 'log-level', level: 'debug' }, true],
    ['drain', { t: 'drain', timeoutMs: 5000 }, true],
    ['drain without a timeout', { t: 'drain' }, false],
    ['outlier state', { t: 'outlier-state', cluster: 'outbound|80||a', ejected: ['127.0.0.1:8080'] }, true],
    ['outlier state with a host that is not a string', { t: 'outlier-state', cluster: 'outbound|80||a', ejected: [8080] }, false],
    ['DNS hosts', { t: 'dns-hosts', cluster: 'outbound|443||api.example.com', assignment: new Uint8Array([10, 3, 97, 112, 105]) }, true],
    ['DNS hosts as base64 rather than bytes', { t: 'dns-hosts', cluster: 'outbound|443||api.example.com', assignment: 'CgNhcGk=' }, false],
    ['health state', { t: 'health-state', cluster: 'outbound|80||a', hosts: [['127.0.0.1:8080', 1], ['127.0.0.2:8080', 0]] }, true],
    ['health state with flags past the known bits', { t: 'health-state', cluster: 'outbound|80||a', hosts: [['127.0.0.1:8080', 64]] }, false],
    ['health state with a host without flags', { t: 'health-state', cluster: 'outbound|80||a', hosts: [['127.0.0.1:8080']] }, false],
    ['unknown kind', { t: 'reboot' }, false],
    ['not an object', 'drain', false],
  ];
  for (const [name, m, ok] of toWorker) {
    it(`to a worker: ${name} is ${ok ? 'accepted' : 'refused'}`, () => {
      assert.equal(parseToWorker(structuredClone(m)) !== undefined, ok);
    });
  }

  const fromWorker: [string, unknown, boolean][] = [
    ['hello', { t: 'hello' }, true],
    ['applied', { t: 'applied', generation: 2, initialized: false }, true],
    ['applied without a generation', { t: 'applied', initialized: true }, false],
    ['stats', { t: 'stats', id: 1, snapshot: snapshotStats(store) }, true],
    ['stats with a malformed counter', { t: 'stats', id: 1, snapshot: { counters: [{ name: 'c', value: '1', used: true }], gauges: [], histograms: [] } }, false],
    ['outlier results', { t: 'outlier-results', results: [{ cluster: 'c', host: '127.0.0.1:1', runs: [0, 12, 1, 2] }] }, true],
    ['outlier results with an unknown kind', { t: 'outlier-results', results: [{ cluster: 'c', host: '127.0.0.1:1', runs: [9, 1] }] }, false],
    ['outlier results with a run of none', { t: 'outlier-results', results: [{ cluster: 'c', host: '127.0.0.1:1', runs: [0, 0] }] }, false],
    ['outlier results with a kind and no count', { t: 'outlier-results', results: [{ cluster: 'c', host: '127.0.0.1:1', runs: [1] }] }, false],
    ['health traffic', { t: 'health-traffic', cluster: 'outbound|80||a' }, true],
    ['health traffic without a cluster', { t: 'health-traffic' }, false],
    ['health fail', { t: 'health-fail', cluster: 'outbound|80||a', host: '127.0.0.1:8080' }, true],
    ['health fail without a host', { t: 'health-fail', cluster: 'outbound|80||a' }, false],
    ['null', null, false],
  ];
  for (const [name, m, ok] of fromWorker) {
    it(`from a worker: ${name} is ${ok ? 'accepted' : 'refused'}`, () => {
      assert.equal(parseFromWorker(structuredClone(m)) !== undefined, ok);
    });
  }
});
