// ConfigApi over a real ConfigStore that already holds a folder's file: kubectl-style apply and delete,
// validation with `isthmus validate`'s lines, dry runs, ifAbsent, and the HTTP handler on a real server.

import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createKindRegistry } from '../api/kind.js';
import { ALL_KINDS } from '../api/kinds.js';
import { loadText } from '../api/load.js';
import { resourceKey } from '../api/resource.js';
import { ConfigStore } from '../config/store.js';
import { validateDocuments } from '../config/validate-documents.js';
import { APPLIED_SOURCE, ConfigApi } from './config-api.js';

const REGISTRY = createKindRegistry(ALL_KINDS);
const FOLDER_FILE = '/cfg/vs.yaml';

function vs(name: string, host: string, opts: { namespace?: string; subset?: string; annotations?: string } = {}): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${name}
${opts.namespace !== undefined ? `  namespace: ${opts.namespace}\n` : ''}${opts.annotations !== undefined ? `  annotations: ${opts.annotations}\n` : ''}spec:
  hosts: [${host}]
  http:
  - route:
    - destination: {host: ${host}${opts.subset !== undefined ? `, subset: ${opts.subset}` : ''}}
`;
}

const FOLDER_REVIEWS = vs('reviews', 'reviews', { subset: 'v1' });
const FOLDER_RATINGS = vs('ratings', 'ratings');

function vsKey(name: string, namespace = 'default'): string {
  return resourceKey('networking.istio.io', 'VirtualService', namespace, name);
}

/** The route destination subset of the store's VirtualService `name`, to tell versions apart. */
function subsetOf(store: ConfigStore, name: string): string | undefined {
  const spec = store.get(vsKey(name))?.resource as { spec?: { http?: { route?: { destination?: { subset?: string } }[] }[] } } | undefined;
  return spec?.spec?.http?.[0]?.route?.[0]?.destination?.subset;
}

function folderStore(): ConfigStore {
  const store = new ConfigStore();
  const loaded = loadText(`${FOLDER_REVIEWS}---\n${FOLDER_RATINGS}`, FOLDER_FILE);
  const v = validateDocuments(loaded.documents, REGISTRY, { defaultNamespace: 'default' }, loaded.problems);
  assert.deepEqual(v.invalid, []);
  store.replaceSource(FOLDER_FILE, v.entries);
  return store;
}

describe('ConfigApi', () => {
  let store: ConfigStore;
  let api: ConfigApi;
  beforeEach(() => {
    store = folderStore();
    api = new ConfigApi(store, REGISTRY);
  });

  describe('apply', () => {
    it('creates a new object and the store has it', () => {
      const r = api.apply(vs('x', 'x.example.com'), 'x.yaml', false);
      assert.deepEqual(r, { status: 200, lines: ['virtualservice.networking.istio.io/x created'] });
      const e = store.get(vsKey('x'));
      assert.equal(e?.resource.metadata.name, 'x');
      assert.equal(e?.origin.file, 'x.yaml');
      assert.deepEqual(
        store.entriesOf(APPLIED_SOURCE).map((a) => a.resource.metadata.name),
        ['x'],
      );
    });

    it('answers unchanged when the same object is applied again, and the store does not change', () => {
      api.apply(vs('x', 'x.example.com'), 'x.yaml', false);
      const revision = store.revision;
      assert.deepEqual(api.apply(vs('x', 'x.example.com'), 'x.yaml', false), { status: 200, lines: ['virtualservice.networking.istio.io/x unchanged'] });
      assert.equal(store.revision, revision);
    });

    it("answers unchanged when applying the folder's own version", () => {
      assert.deepEqual(api.apply(FOLDER_REVIEWS, 'reviews.yaml', false).lines, ['virtualservice.networking.istio.io/reviews unchanged']);
      assert.equal(subsetOf(store, 'reviews'), 'v1');
    });

    it("answers configured for a changed spec, and the applied version wins over the folder's", () => {
      const r = api.apply(vs('reviews', 'reviews', { subset: 'v2' }), 'reviews-v2.yaml', false);
      assert.deepEqual(r, { status: 200, lines: ['virtualservice.networking.istio.io/reviews configured'] });
      assert.equal(subsetOf(store, 'reviews'), 'v2');
      assert.equal(store.get(vsKey('reviews'))?.origin.file, 'reviews-v2.yaml');
      assert.deepEqual(
        store.conflicts().map((c) => [c.key, c.ignored.origin.file]),
        [[vsKey('reviews'), FOLDER_FILE]],
      );
      // Applying a change to an applied object is also configured.
      assert.deepEqual(api.apply(vs('reviews', 'reviews', { subset: 'v3' }), 'reviews-v3.yaml', false).lines, ['virtualservice.networking.istio.io/reviews configured']);
      assert.equal(subsetOf(store, 'reviews'), 'v3');
    });

    it(
      'answers configured when only the annotations change',
      () => {
        api.apply(vs('x', 'x.example.com'), 'x.yaml', false);
        const revision = store.revision;
        const r = api.apply(vs('x', 'x.example.com', { annotations: '{note: changed}' }), 'x.yaml', false);
        assert.notEqual(store.revision, revision, 'the store took the change');
        assert.deepEqual(r.lines, ['virtualservice.networking.istio.io/x configured']);
      },
    );

    it('answers one line per document, keeping objects applied before', () => {
      api.apply(vs('a', 'a.example.com'), 'a.yaml', false);
      const r = api.apply(`${vs('b', 'b.example.com')}---\n${vs('ratings', 'ratings', { subset: 'v2' })}`, 'two.yaml', false);
      assert.deepEqual(r.lines, ['virtualservice.networking.istio.io/b created', 'virtualservice.networking.istio.io/ratings configured']);
      assert.deepEqual(
        store
          .entriesOf(APPLIED_SOURCE)
          .map((e) => e.resource.metadata.name)
          .sort(),
        ['a', 'b', 'ratings'],
      );
    });

    it("names objects as kubectl does: kind.group/name, without the group for the core group", () => {
      const svc = 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80, name: http}]\n  selector: {app: web}\n';
      const route = 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web}\nspec:\n  rules:\n  - backendRefs: [{name: web, port: 80}]\n';
      assert.deepEqual(api.apply(`${svc}---\n${route}`, 'web.yaml', false), { status: 200, lines: ['service/web created', 'httproute.gateway.networking.k8s.io/web created'] });
    });

    it('rejects an invalid document with validate\'s lines and changes nothing', () => {
      const before = store.revision;
      const bad = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bad
spec:
  hosts: [a.example.com]
  gateways: [ns1/*]
  http:
  - route:
    - destination: {host: a}
`;
      // A valid object next to the invalid one is not applied either.
      const r = api.apply(`${vs('good', 'good.example.com')}---\n${bad}`, 'bad.yaml', false);
      assert.equal(r.status, 400);
      // `bad` starts on line 11 of the input (after 9 lines of `good` and the separator); gateways[0] is 7 lines further.
      assert.deepEqual(r.lines, ['bad.yaml:17 VirtualService default/bad spec.gateways[0]: invalid value for gateway name: "*"']);
      assert.equal(store.revision, before);
      assert.equal(store.get(vsKey('good')), undefined);
      assert.deepEqual(store.entriesOf(APPLIED_SOURCE), []);
    });

    it('rejects YAML that does not parse, naming the file and line', () => {
      const r = api.apply('apiVersion: v1\nkind: Service\nmetadata: {name: x\n', 'broken.yaml', false);
      assert.equal(r.status, 400);
      assert.equal(r.lines.length >= 1, true);
      for (const line of r.lines) assert.match(line, /^broken\.yaml:\d+ yaml: /);
    });

    const empty: { name: string; text: string }[] = [
      { name: 'nothing', text: '' },
      { name: 'blank lines', text: '\n\n' },
      { name: 'a comment and separators', text: '# nothing here\n---\n---\n' },
    ];
    for (const c of empty)
      it(`rejects empty input (${c.name}) with 400`, () => {
        assert.deepEqual(api.apply(c.text, 'empty.yaml', false), { status: 400, lines: ['empty.yaml: no objects in the input'] });
        assert.deepEqual(api.delete(c.text, 'empty.yaml', false).status, 400);
      });

    it('with dryRun answers as it would but changes nothing', () => {
      const before = store.revision;
      const r = api.apply(`${vs('x', 'x.example.com')}---\n${vs('reviews', 'reviews', { subset: 'v2' })}---\n${FOLDER_RATINGS}`, 'x.yaml', true);
      assert.deepEqual(r, {
        status: 200,
        lines: [
          'virtualservice.networking.istio.io/x created (dry run)',
          'virtualservice.networking.istio.io/reviews configured (dry run)',
          'virtualservice.networking.istio.io/ratings unchanged (dry run)',
        ],
      });
      assert.equal(store.revision, before);
      assert.equal(store.get(vsKey('x')), undefined);
      assert.equal(subsetOf(store, 'reviews'), 'v1');
    });

    it('with ifAbsent leaves existing objects as they are and creates the others', () => {
      api.apply(vs('x', 'x.example.com', { subset: 'one' }), 'x.yaml', false);
      const r = api.apply(`${vs('reviews', 'reviews', { subset: 'v2' })}---\n${vs('x', 'x.example.com', { subset: 'two' })}---\n${vs('y', 'y.example.com')}`, 'more.yaml', false, true);
      assert.deepEqual(r, {
        status: 200,
        lines: ['virtualservice.networking.istio.io/reviews exists', 'virtualservice.networking.istio.io/x exists', 'virtualservice.networking.istio.io/y created'],
      });
      assert.equal(subsetOf(store, 'reviews'), 'v1');
      assert.equal(subsetOf(store, 'x'), 'one');
      assert.ok(store.get(vsKey('y')) !== undefined);
    });
  });

  describe('delete', () => {
    it("deletes an applied object and the folder's version applies again, naming the file", () => {
      api.apply(vs('reviews', 'reviews', { subset: 'v2' }), 'reviews-v2.yaml', false);
      assert.equal(subsetOf(store, 'reviews'), 'v2');
      const r = api.delete(vs('reviews', 'reviews', { subset: 'v2' }), 'reviews-v2.yaml', false);
      assert.deepEqual(r, { status: 200, lines: [`virtualservice.networking.istio.io/reviews deleted (the folder's version in ${FOLDER_FILE} applies again)`] });
      assert.equal(subsetOf(store, 'reviews'), 'v1');
      assert.equal(store.get(vsKey('reviews'))?.origin.file, FOLDER_FILE);
      assert.deepEqual(store.entriesOf(APPLIED_SOURCE), []);
    });

    it('deletes an object only applied here, whatever its spec in the request', () => {
      api.apply(vs('x', 'x.example.com'), 'x.yaml', false);
      const r = api.delete(vs('x', 'other.example.com'), 'x.yaml', false);
      assert.deepEqual(r, { status: 200, lines: ['virtualservice.networking.istio.io/x deleted'] });
      assert.equal(store.get(vsKey('x')), undefined);
    });

    it('refuses to delete an object only the folder defines, naming the file (404)', () => {
      const before = store.revision;
      const r = api.delete(FOLDER_RATINGS, 'ratings.yaml', false);
      assert.equal(r.status, 404);
      assert.deepEqual(r.lines, [`VirtualService default/ratings: defined in ${FOLDER_FILE}; remove it from that file (changes there apply live)`]);
      assert.equal(store.revision, before);
      assert.ok(store.get(vsKey('ratings')) !== undefined);
    });

    it('answers 404 not found for an unknown object', () => {
      assert.deepEqual(api.delete(vs('nope', 'nope.example.com', { namespace: 'shop' }), 'nope.yaml', false), { status: 404, lines: ['VirtualService shop/nope: not found'] });
    });

    it('deletes nothing when any object of the request cannot be deleted', () => {
      api.apply(vs('x', 'x.example.com'), 'x.yaml', false);
      const before = store.revision;
      const r = api.delete(`${vs('x', 'x.example.com')}---\n${vs('nope', 'nope.example.com')}`, 'both.yaml', false);
      assert.deepEqual(r, { status: 404, lines: ['VirtualService default/nope: not found'] });
      assert.equal(store.revision, before);
      assert.ok(store.get(vsKey('x')) !== undefined);
    });

    it('with dryRun answers as it would but keeps the object', () => {
      api.apply(vs('x', 'x.example.com'), 'x.yaml', false);
      const before = store.revision;
      assert.deepEqual(api.delete(vs('x', 'x.example.com'), 'x.yaml', true), { status: 200, lines: ['virtualservice.networking.istio.io/x deleted (dry run)'] });
      assert.equal(store.revision, before);
      assert.ok(store.get(vsKey('x')) !== undefined);
    });

    it('rejects an invalid document with 400', () => {
      const r = api.delete('apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: x}\nspec:\n  hosts: [x]\n', 'x.yaml', false);
      assert.equal(r.status, 400);
      assert.deepEqual(r.lines, ['x.yaml:4 VirtualService default/x spec: http, tcp or tls must be provided in virtual service']);
    });
  });
});

describe('ConfigApi.handle over HTTP', () => {
  let server: Server;
  let base = '';
  let store: ConfigStore;
  beforeEach(async () => {
    store = folderStore();
    const api = new ConfigApi(store, REGISTRY);
    server = createServer((req, res) => {
      if (!api.handle(req, res)) res.writeHead(404, { 'content-type': 'text/plain' }).end('not the config api\n');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise<void>((ok, fail) => server.close((e) => (e ? fail(e) : ok())));
  });

  async function call(method: string, path: string, body?: string): Promise<{ status: number; text: string; headers: Headers }> {
    const r = await fetch(base + path, { method, ...(body !== undefined ? { body } : {}) });
    return { status: r.status, text: await r.text(), headers: r.headers };
  }

  const cases: { name: string; method: string; path: string; body?: string; status: number; text: string; has?: string; hasNot?: string }[] = [
    { name: 'POST applies', method: 'POST', path: '/v1/config', body: vs('x', 'x.example.com'), status: 200, text: 'virtualservice.networking.istio.io/x created\n', has: 'x' },
    { name: 'POST ?dryRun=true changes nothing', method: 'POST', path: '/v1/config?dryRun=true', body: vs('x', 'x.example.com'), status: 200, text: 'virtualservice.networking.istio.io/x created (dry run)\n', hasNot: 'x' },
    { name: 'POST ?ifAbsent=true keeps an existing object', method: 'POST', path: '/v1/config?ifAbsent=true', body: vs('reviews', 'reviews', { subset: 'v9' }), status: 200, text: 'virtualservice.networking.istio.io/reviews exists\n' },
    { name: 'POST invalid names ?file=', method: 'POST', path: '/v1/config?file=mine.yaml', body: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: x}\nspec:\n  hosts: [x]\n', status: 400, text: 'mine.yaml:4 VirtualService default/x spec: http, tcp or tls must be provided in virtual service\n', hasNot: 'x' },
    { name: 'POST empty body', method: 'POST', path: '/v1/config', body: '', status: 400, text: 'request: no objects in the input\n' },
    { name: 'DELETE a folder object', method: 'DELETE', path: '/v1/config', body: FOLDER_RATINGS, status: 404, text: `VirtualService default/ratings: defined in ${FOLDER_FILE}; remove it from that file (changes there apply live)\n`, has: 'ratings' },
    { name: 'DELETE unknown', method: 'DELETE', path: '/v1/config', body: vs('nope', 'nope.example.com'), status: 404, text: 'VirtualService default/nope: not found\n' },
    { name: 'PATCH is not allowed', method: 'PATCH', path: '/v1/config', body: vs('x', 'x.example.com'), status: 405, text: 'use GET to list, POST to apply or DELETE to delete YAML documents\n', hasNot: 'x' },
    { name: 'another path is not handled', method: 'POST', path: '/v1/other', body: vs('x', 'x.example.com'), status: 404, text: 'not the config api\n', hasNot: 'x' },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const r = await call(c.method, c.path, c.body);
      assert.equal(r.status, c.status);
      assert.equal(r.text, c.text);
      if (c.has !== undefined) assert.ok(store.get(vsKey(c.has)) !== undefined, `${c.has} in the store`);
      if (c.hasNot !== undefined) assert.equal(store.get(vsKey(c.hasNot)), undefined, `${c.hasNot} not in the store`);
    });

  it('answers 405 with an Allow header', async () => {
    const r = await call('PUT', '/v1/config', vs('x', 'x.example.com'));
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET, POST, DELETE');
  });

  describe('GET', () => {
    interface Listed {
      apiVersion: string;
      kind: string;
      metadata: { name: string; namespace?: string };
      spec?: { hosts?: string[]; http?: { route?: { destination?: { subset?: string } }[] }[] };
      data?: unknown;
      stringData?: unknown;
      type?: string;
      origin: { file: string; line: number };
    }
    async function list(query = ''): Promise<Listed[]> {
      const r = await fetch(`${base}/v1/config${query}`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      return (await r.json()) as Listed[];
    }
    const names = (l: readonly Listed[]): string[] => l.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);

    it('lists every object with apiVersion, kind, metadata, spec and the file and line it came from', async () => {
      const l = await list();
      assert.deepEqual(names(l), ['VirtualService default/ratings', 'VirtualService default/reviews']);
      const reviews = l[1];
      assert.equal(reviews?.apiVersion, 'networking.istio.io/v1');
      assert.deepEqual(reviews?.spec?.hosts, ['reviews']);
      assert.deepEqual(reviews?.origin, { file: FOLDER_FILE, line: 1 });
      // ratings is the second document of the folder's file, after reviews' 9 lines and the separator.
      assert.deepEqual(l[0]?.origin, { file: FOLDER_FILE, line: 11 });
    });

    it('shows the applied version in place of the folder\'s, with its origin', async () => {
      await call('POST', '/v1/config?file=reviews-v2.yaml', vs('reviews', 'reviews', { subset: 'v2' }));
      const reviews = (await list('?name=reviews'))[0];
      assert.equal(reviews?.spec?.http?.[0]?.route?.[0]?.destination?.subset, 'v2');
      assert.deepEqual(reviews?.origin, { file: 'reviews-v2.yaml', line: 1 });
    });

    const filters: { name: string; query: string; want: string[] }[] = [
      { name: 'by kind', query: '?kind=VirtualService', want: ['VirtualService default/ratings', 'VirtualService default/reviews', 'VirtualService shop/web'] },
      { name: 'by kind, any case', query: '?kind=virtualservice&name=web', want: ['VirtualService shop/web'] },
      { name: 'by Kind.group, another group has none', query: '?kind=Service.networking.istio.io', want: [] },
      { name: 'by core kind', query: '?kind=Service', want: ['Service shop/web'] },
      { name: 'by kind and namespace', query: '?kind=VirtualService&namespace=shop', want: ['VirtualService shop/web'] },
      { name: 'by namespace', query: '?namespace=shop', want: ['Service shop/web', 'VirtualService shop/web'] },
      { name: 'by name', query: '?name=ratings', want: ['VirtualService default/ratings'] },
      { name: 'nothing matches', query: '?kind=DestinationRule', want: [] },
    ];
    for (const c of filters)
      it(`filters ${c.name}`, async () => {
        const svc = 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  ports: [{port: 80, name: http}]\n  selector: {app: web}\n';
        await call('POST', '/v1/config', `${svc}---\n${vs('web', 'web', { namespace: 'shop' })}`);
        assert.deepEqual(names(await list(c.query)).sort(), c.want);
      });

    it('tells the Istio Gateway from the Gateway API one by Kind.group', async () => {
      const istio = 'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  selector: {istio: ingressgateway}\n  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]\n';
      const k8s = 'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  gatewayClassName: istio\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n';
      assert.equal((await call('POST', '/v1/config', `${istio}---\n${k8s}`)).status, 200);
      assert.deepEqual((await list('?kind=Gateway')).map((o) => o.apiVersion).sort(), ['gateway.networking.k8s.io/v1', 'networking.istio.io/v1']);
      assert.deepEqual((await list('?kind=Gateway.networking.istio.io')).map((o) => o.apiVersion), ['networking.istio.io/v1']);
    });

    it("leaves a Secret's data out", async () => {
      const secret = 'apiVersion: v1\nkind: Secret\nmetadata: {name: cert}\ntype: Opaque\ndata: {key: c2VjcmV0}\nstringData: {other: plain}\n';
      assert.equal((await call('POST', '/v1/config', secret)).status, 200);
      const [s] = await list('?kind=Secret');
      assert.equal(s?.metadata.name, 'cert');
      assert.equal(s?.type, 'Opaque');
      assert.equal(s?.data, undefined);
      assert.equal(s?.stringData, undefined);
    });
  });

  it('POST then DELETE brings the folder version back', async () => {
    const applied = await call('POST', '/v1/config', vs('reviews', 'reviews', { subset: 'v2' }));
    assert.deepEqual([applied.status, applied.text], [200, 'virtualservice.networking.istio.io/reviews configured\n']);
    assert.equal(subsetOf(store, 'reviews'), 'v2');
    const dry = await call('DELETE', '/v1/config?dryRun=true', vs('reviews', 'reviews', { subset: 'v2' }));
    assert.equal(dry.status, 200);
    assert.match(dry.text, /deleted .*\(dry run\)\n$/);
    assert.equal(subsetOf(store, 'reviews'), 'v2');
    const deleted = await call('DELETE', '/v1/config', vs('reviews', 'reviews', { subset: 'v2' }));
    assert.deepEqual([deleted.status, deleted.text], [200, `virtualservice.networking.istio.io/reviews deleted (the folder's version in ${FOLDER_FILE} applies again)\n`]);
    assert.equal(subsetOf(store, 'reviews'), 'v1');
  });
});
