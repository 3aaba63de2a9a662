import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileTagProducer,
  ENVOY_DEFAULT_TAG_SPECIFIERS,
  ISTIO_TAG_SPECIFIERS,
  regexPrefixToken,
  translatePosixClasses,
  type TaggedName,
} from './tag-extractor.js';

function producer(specs: Parameters<typeof compileTagProducer>[0]) {
  const r = compileTagProducer(specs, false);
  assert.ok(r.ok, r.ok ? '' : r.problems.join('; '));
  return r.value;
}

describe('tag extraction with Envoy default tags', () => {
  const p = producer(ENVOY_DEFAULT_TAG_SPECIFIERS);
  const cases: { name: string; stat: string; want: TaggedName }[] = [
    {
      name: 'cluster name and response code',
      stat: 'cluster.xds-grpc.upstream_rq_200',
      want: {
        extractedName: 'cluster.upstream_rq',
        tags: [
          { name: 'envoy.response_code', value: '200' },
          { name: 'envoy.cluster_name', value: 'xds-grpc' },
        ],
      },
    },
    {
      name: 'response code class keeps only the digit',
      stat: 'cluster.xds-grpc.upstream_rq_5xx',
      want: {
        extractedName: 'cluster.upstream_rq_xx',
        tags: [
          { name: 'envoy.response_code_class', value: '5' },
          { name: 'envoy.cluster_name', value: 'xds-grpc' },
        ],
      },
    },
    {
      name: 'a dotted cluster name is cut at its first dot (why Istio appends ;)',
      stat: 'cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_200',
      want: {
        extractedName: 'cluster.default.svc.cluster.local.upstream_rq',
        tags: [
          { name: 'envoy.response_code', value: '200' },
          { name: 'envoy.cluster_name', value: 'outbound|9080||reviews' },
        ],
      },
    },
    {
      name: 'http connection manager prefix',
      stat: 'http.admin.downstream_rq_404',
      want: {
        extractedName: 'http.downstream_rq',
        tags: [
          { name: 'envoy.response_code', value: '404' },
          { name: 'envoy.http_conn_manager_prefix', value: 'admin' },
        ],
      },
    },
    {
      name: 'listener address',
      stat: 'listener.0.0.0.0_15006.downstream_cx_total',
      want: {
        extractedName: 'listener.downstream_cx_total',
        tags: [{ name: 'envoy.listener_address', value: '0.0.0.0_15006' }],
      },
    },
    {
      name: 'listener address and http prefix',
      stat: 'listener.0.0.0.0_15006.http.inbound.downstream_rq_2xx',
      want: {
        extractedName: 'listener.http.downstream_rq_xx',
        tags: [
          { name: 'envoy.response_code_class', value: '2' },
          { name: 'envoy.http_conn_manager_prefix', value: 'inbound' },
          { name: 'envoy.listener_address', value: '0.0.0.0_15006' },
        ],
      },
    },
    {
      name: 'tcp proxy prefix may contain dots',
      stat: 'tcp.outbound|3306||db.svc.downstream_cx_total',
      want: {
        extractedName: 'tcp.downstream_cx_total',
        tags: [{ name: 'envoy.tcp_prefix', value: 'outbound|3306||db.svc' }],
      },
    },
    {
      name: 'a name no extractor matches is unchanged',
      stat: 'server.live',
      want: { extractedName: 'server.live', tags: [] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(p.produce(c.stat), c.want));
  }
});

describe("tag extraction with Istio's bootstrap tags", () => {
  const p = producer(ISTIO_TAG_SPECIFIERS);
  const cases: { name: string; stat: string; want: TaggedName }[] = [
    {
      name: 'whole cluster name up to the ; delimiter',
      stat: 'cluster.outbound|9080||reviews.default.svc.cluster.local;.upstream_rq_200',
      want: {
        extractedName: 'cluster.upstream_rq',
        tags: [
          { name: 'cluster_name', value: 'outbound|9080||reviews.default.svc.cluster.local' },
          { name: 'response_code', value: '200' },
        ],
      },
    },
    {
      name: 'response code class keeps the xx',
      stat: 'cluster.xds-grpc;.upstream_rq_2xx',
      want: {
        extractedName: 'cluster.upstream_rq',
        tags: [
          { name: 'cluster_name', value: 'xds-grpc' },
          { name: 'response_code_class', value: '2xx' },
        ],
      },
    },
    {
      name: 'http stat prefix with an address',
      stat: 'http.10.0.0.1_8080;.downstream_rq_503',
      want: {
        extractedName: 'http.downstream_rq',
        // `^http\.` has a prefix token, so it runs after the prefix-less extractors.
        tags: [
          { name: 'response_code', value: '503' },
          { name: 'http_conn_manager_prefix', value: '10.0.0.1_8080' },
        ],
      },
    },
    {
      name: 'rbac result',
      stat: 'http.inbound_0.0.0.0_9080;.rbac.allowed',
      want: {
        extractedName: 'http.rbac',
        tags: [
          { name: 'authz_enforce_result', value: 'allowed' },
          { name: 'http_conn_manager_prefix', value: 'inbound_0.0.0.0_9080' },
        ],
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(p.produce(c.stat), c.want));
  }
});

describe('tag extractor compilation', () => {
  it('reports every bad specifier', () => {
    const r = compileTagProducer(
      [
        { tagName: 'a', regex: '(' },
        { tagName: '', regex: 'x' },
        { tagName: 'b', regex: '' },
      ],
      false,
    );
    assert.equal(r.ok, false);
    assert.equal(r.ok ? 0 : r.problems.length, 3);
  });

  it('runs Envoy defaults before custom tags when use_all_default_tags is on', () => {
    const r = compileTagProducer([{ tagName: 'route', regex: '^vhost\\.((.*?)\\.)' }], true);
    assert.ok(r.ok);
    assert.deepEqual(r.value.produce('vhost.reviews.vcluster.other.upstream_rq_200'), {
      extractedName: 'vhost.vcluster.other.upstream_rq',
      tags: [
        { name: 'envoy.response_code', value: '200' },
        { name: 'route', value: 'reviews' },
      ],
    });
  });

  it('lets only the first of several same-named extractors tag a stat', () => {
    const p = producer([
      { tagName: 'code', regex: '_rq(_(\\d{3}))$' },
      { tagName: 'code', regex: '_(\\d)\\d\\d$' },
    ]);
    assert.deepEqual(p.produce('x.upstream_rq_200').tags, [{ name: 'code', value: '200' }]);
  });

  const prefixes: [string, string][] = [
    ['^cluster\\.((.*?)\\.)', 'cluster'],
    ['^listener(?=\\.).*?\\.http\\.', 'listener'],
    ['^cluster(\\.(.+);)', ''],
    ['_rq(_(\\d{3}))$', ''],
    ['^server$', 'server'],
  ];
  for (const [re, want] of prefixes) {
    it(`prefix token of ${re} is '${want}'`, () => assert.equal(regexPrefixToken(re), want));
  }

  it('translates POSIX classes', () => {
    assert.equal(translatePosixClasses('[_.[:digit:]]*'), '[_.\\d]*');
  });
});
