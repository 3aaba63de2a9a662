import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { equals, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds/type-urls.js';
import { createLogger, silentLogger } from '../../lib/logger.js';
import { compileResource } from '../runtime/compile-resource.js';
import type { ResourceEntry, ResourceTable } from '../xds-client/ads-client.js';
import { PROXY_TYPES, SCHEMAS, type ProxyTypeUrl, type ResourceByType, type ResourceCompiler } from '../xds-client/validate.js';
import type { WireTable } from './ipc-protocol.js';
import { TableEncoder } from './table-encoder.js';
import { WorkerTables } from './worker-tables.js';

const CLUSTER = { name: 'outbound|80||a.example.internal', type: 'EDS', connectTimeout: '1s', edsClusterConfig: { edsConfig: { ads: {} } } };
const ASSIGNMENT = { clusterName: 'outbound|80||a.example.internal', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 8080 } } } }] }] };
const ROUTES = { name: '80', virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: CLUSTER.name } }] }] };

type AnyEntry = ResourceEntry<ResourceByType[ProxyTypeUrl]>;

/** The primary's ADS client as the encoder sees it: tables replaced whole on each accepted update. */
class FakeTables {
  readonly tables = new Map<ProxyTypeUrl, ReadonlyMap<string, AnyEntry>>(PROXY_TYPES.map((t) => [t, new Map()]));

  table<T extends ProxyTypeUrl>(type: T): ResourceTable<ResourceByType[T]> {
    return this.tables.get(type) as ResourceTable<ResourceByType[T]>;
  }

  /** Accepts `resources` (name -> JSON) as one update of `type`, at `version`; `keep` carries entries over as EDS/RDS do. */
  accept(type: ProxyTypeUrl, version: string, resources: Record<string, JsonValue>, keep: string[] = []): void {
    const next = new Map<string, AnyEntry>();
    for (const n of keep) {
      const e = this.tables.get(type)?.get(n);
      if (e !== undefined) next.set(n, e);
    }
    for (const [n, json] of Object.entries(resources)) {
      const message = fromJson(SCHEMAS[type], json, { registry: XDS_REGISTRY }) as unknown as ResourceByType[ProxyTypeUrl];
      next.set(n, { message, compiled: undefined, version, lastUpdated: `t${version}` });
    }
    this.tables.set(type, next);
  }
}

/** What crosses the IPC channel. */
const overIpc = (tables: WireTable[]): WireTable[] => structuredClone(tables);

describe('config relay: primary tables -> worker tables', () => {
  it('gives the worker the same resources, compiled by the same path, with their versions', () => {
    const primary = new FakeTables();
    primary.accept(CLUSTER_TYPE, 'c1', { [CLUSTER.name]: CLUSTER });
    primary.accept(ENDPOINT_TYPE, 'e1', { [ASSIGNMENT.clusterName]: ASSIGNMENT });
    primary.accept(ROUTE_TYPE, 'r1', { '80': ROUTES });
    const worker = new WorkerTables(compileResource, silentLogger);
    worker.apply(overIpc(new TableEncoder(primary).changed()));
    for (const type of [CLUSTER_TYPE, ENDPOINT_TYPE, ROUTE_TYPE] as const) {
      const want = primary.table(type);
      const got = worker.table(type);
      assert.deepEqual([...got.keys()], [...want.keys()], type);
      for (const [n, e] of got) {
        const w = want.get(n) as AnyEntry;
        assert.ok(equals(SCHEMAS[type], e.message as never, w.message as never), `${type} ${n}`);
        assert.deepEqual([e.version, e.lastUpdated], [w.version, w.lastUpdated]);
      }
    }
    assert.ok(worker.table(CLUSTER_TYPE).get(CLUSTER.name)?.compiled !== undefined, 'clusters arrive compiled');
    assert.ok(worker.table(ROUTE_TYPE).get('80')?.compiled !== undefined, 'route tables arrive compiled');
    assert.equal(worker.table(LISTENER_TYPE).size, 0);
  });

  it('sends only the tables that changed, and nothing when none did', () => {
    const primary = new FakeTables();
    const enc = new TableEncoder(primary);
    assert.equal(enc.changed().length, PROXY_TYPES.length, 'the first call sends every table');
    assert.deepEqual(enc.changed(), []);
    primary.accept(ROUTE_TYPE, 'r1', { '80': ROUTES });
    assert.deepEqual(enc.changed().map((t) => t.type), [ROUTE_TYPE]);
    assert.equal(enc.all().length, PROXY_TYPES.length, 'a new worker gets every table');
  });

  it('keeps the objects of an entry carried over unchanged, and recompiles one delivered again at a new version', () => {
    const primary = new FakeTables();
    const enc = new TableEncoder(primary);
    const worker = new WorkerTables(compileResource, silentLogger);
    primary.accept(ROUTE_TYPE, 'r1', { '80': ROUTES, '9080': { ...ROUTES, name: '9080' } });
    worker.apply(overIpc(enc.changed()));
    const first = worker.table(ROUTE_TYPE).get('80');
    const other = worker.table(ROUTE_TYPE).get('9080');
    primary.accept(ROUTE_TYPE, 'r2', { '9080': { ...ROUTES, name: '9080' } }, ['80']);
    worker.apply(overIpc(enc.changed()));
    assert.equal(worker.table(ROUTE_TYPE).get('80'), first, 'carried over: same entry, same compiled table');
    assert.notEqual(worker.table(ROUTE_TYPE).get('9080'), other);
    assert.equal(worker.table(ROUTE_TYPE).get('9080')?.version, 'r2');
  });

  it('drops entries the primary dropped, and tells its listeners once per message', () => {
    const primary = new FakeTables();
    const enc = new TableEncoder(primary);
    const worker = new WorkerTables(compileResource, silentLogger);
    let updates = 0;
    worker.onUpdate(() => updates++);
    primary.accept(CLUSTER_TYPE, 'c1', { [CLUSTER.name]: CLUSTER, b: { ...CLUSTER, name: 'b' } });
    primary.accept(ROUTE_TYPE, 'r1', { '80': ROUTES });
    worker.apply(overIpc(enc.changed()));
    primary.accept(CLUSTER_TYPE, 'c2', { b: { ...CLUSTER, name: 'b' } });
    worker.apply(overIpc(enc.changed()));
    assert.deepEqual([...worker.table(CLUSTER_TYPE).keys()], ['b']);
    assert.equal(updates, 2);
  });

  it('keeps the last good entry, and logs, when a resource does not compile in the worker', () => {
    const primary = new FakeTables();
    const enc = new TableEncoder(primary);
    const lines: string[] = [];
    let refuse = false;
    const compile: ResourceCompiler = (type, m) => (refuse ? { ok: false, problems: ['refused by this build'] } : compileResource(type, m));
    const worker = new WorkerTables(compile, createLogger('error', (l) => lines.push(l)));
    primary.accept(ROUTE_TYPE, 'r1', { '80': ROUTES });
    worker.apply(overIpc(enc.changed()));
    const good = worker.table(ROUTE_TYPE).get('80');
    refuse = true;
    primary.accept(ROUTE_TYPE, 'r2', { '80': ROUTES });
    worker.apply(overIpc(enc.changed()));
    assert.equal(worker.table(ROUTE_TYPE).get('80'), good);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /does not compile in this worker.*80: refused by this build/);
  });
});
