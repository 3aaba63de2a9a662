// Istio's istio.alpn filter: its config as istiod packs it (and as a TypedStruct), the list it picks for the
// protocol a cluster speaks, clusters that keep their own ALPN, and, on real TLS connections, what the upstream
// sees offered: the override in pools of its own, and never the TCP metadata exchange's protocol for HTTP.

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromJson, type JsonObject } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { createServer as createHttpsServer } from 'node:https';
import { XDS_REGISTRY } from '../../../xds/codec.js';
import { ClusterSchema } from '../../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { FilterConfig_AlpnOverrideSchema, FilterConfig_Protocol as Protocol, FilterConfigSchema } from '../../../xds/gen/istio/envoy/config/filter/http/alpn/v2alpha1/config_pb.js';
import { selfSigned } from '../../../../test/translate/secret/certs.js';
import { systemClock } from '../../../lib/clock.js';
import { seededRandom } from '../../lib/random.js';
import { compileCluster, type CompiledCluster } from '../../runtime/compile-cluster.js';
import { NO_SECRETS } from '../../upstream/connection-pools.js';
import { UpstreamCluster } from '../../upstream/upstream-cluster.js';
import type { UpstreamDispatcher } from '../../upstream/cluster-handle.js';
import { compileAlpnFilter, type AlpnFilterConfig } from './config.js';
import { alpnOverrideFor } from './filter.js';

/** xds/filters Alpn, as istiod packs it. */
const ISTIOD = anyPack(
  FilterConfigSchema,
  create(FilterConfigSchema, {
    alpnOverride: [
      create(FilterConfig_AlpnOverrideSchema, { upstreamProtocol: Protocol.HTTP10, alpnOverride: ['istio-http/1.0', 'istio', 'http/1.0'] }),
      create(FilterConfig_AlpnOverrideSchema, { upstreamProtocol: Protocol.HTTP11, alpnOverride: ['istio-http/1.1', 'istio', 'http/1.1'] }),
      create(FilterConfig_AlpnOverrideSchema, { upstreamProtocol: Protocol.HTTP2, alpnOverride: ['istio-h2', 'istio', 'h2'] }),
    ],
  }),
);

function compiled(): AlpnFilterConfig {
  const problems: string[] = [];
  const c = compileAlpnFilter(ISTIOD, undefined, 'f', problems);
  assert.deepEqual(problems, []);
  return c;
}

function cluster(json: JsonObject): CompiledCluster {
  const r = compileCluster(fromJson(ClusterSchema, { name: 'outbound|9080||reviews', type: 'STATIC', connectTimeout: '1s', ...json }, { registry: XDS_REGISTRY }));
  if (!r.ok) assert.fail(r.problems.join('; '));
  return r.value;
}

const H2 = { http2ProtocolOptions: {} };
const DOWNSTREAM = {
  typedExtensionProtocolOptions: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', useDownstreamProtocolConfig: { httpProtocolOptions: {}, http2ProtocolOptions: {} } },
  },
};

describe('istio.alpn config', () => {
  it('reads istiod’s packed FilterConfig and the same as a TypedStruct', () => {
    assert.deepEqual(compiled(), { http10: ['istio-http/1.0', 'istio', 'http/1.0'], http11: ['istio-http/1.1', 'istio', 'http/1.1'], http2: ['istio-h2', 'istio', 'h2'] });
    const problems: string[] = [];
    const ts = compileAlpnFilter(undefined, { alpn_override: [{ upstream_protocol: 'HTTP2', alpn_override: ['istio-h2'] }, { upstream_protocol: 'HTTP2', alpn_override: ['later'] }, { alpn_override: [] }] }, 'f', problems);
    assert.deepEqual(problems, []);
    // The first entry per protocol wins (Envoy's map insert); an empty list overrides nothing.
    assert.deepEqual(ts, { http10: undefined, http11: undefined, http2: ['istio-h2'] });
  });

  const refused: readonly { name: string; value: JsonObject; message: RegExp }[] = [
    { name: 'an unknown upstream protocol', value: { alpn_override: [{ upstream_protocol: 7, alpn_override: ['x'] }] }, message: /^f\.alpn_override\[0\]\.upstream_protocol: unknown protocol 7$/ },
    { name: 'an empty protocol name', value: { alpn_override: [{ upstream_protocol: 'HTTP11', alpn_override: [''] }] }, message: /^f\.alpn_override\[0\]\.alpn_override: ALPN protocol names are 1 to 255 bytes$/ },
    { name: 'an unknown field', value: { overrides: [] }, message: /^f: cannot decode istio\.envoy\.config\.filter\.http\.alpn\.v2alpha1\.FilterConfig/ },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}`, () => {
      const problems: string[] = [];
      compileAlpnFilter(undefined, c.value, 'f', problems);
      assert.equal(problems.length, 1);
      assert.match(problems[0] ?? '', c.message);
    });
  }
});

describe('istio.alpn picks the list of the protocol the cluster speaks', () => {
  const cases: readonly { name: string; cluster: JsonObject; downstream: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2'; want: readonly string[] | undefined }[] = [
    { name: 'an HTTP/1.1 cluster, whatever the client spoke', cluster: {}, downstream: 'HTTP/2', want: ['istio-http/1.1', 'istio', 'http/1.1'] },
    { name: 'an HTTP/2 cluster', cluster: H2, downstream: 'HTTP/1.1', want: ['istio-h2', 'istio', 'h2'] },
    { name: 'use_downstream_protocol with an HTTP/2 client', cluster: DOWNSTREAM, downstream: 'HTTP/2', want: ['istio-h2', 'istio', 'h2'] },
    { name: 'use_downstream_protocol with an HTTP/1.0 client', cluster: DOWNSTREAM, downstream: 'HTTP/1.0', want: ['istio-http/1.0', 'istio', 'http/1.0'] },
    { name: 'use_downstream_protocol with an HTTP/1.1 client', cluster: DOWNSTREAM, downstream: 'HTTP/1.1', want: ['istio-http/1.1', 'istio', 'http/1.1'] },
    { name: 'a cluster originating its own TLS (istio.alpn_override "false"): none', cluster: { metadata: { filterMetadata: { istio: { alpn_override: 'false' } } } }, downstream: 'HTTP/1.1', want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(alpnOverrideFor(compiled(), cluster(c.cluster), c.downstream), c.want));
  }
});

const MX_FILTER = { name: 'istio.metadata_exchange', typedConfig: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', typeUrl: 'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange', value: { protocol: 'istio-peer-exchange' } } };

/** An HTTPS upstream that records the ALPN list each connection's ClientHello offered. */
async function upstream(t: TestContext): Promise<{ port: number; offered: string[][] }> {
  const cert = selfSigned('alpn.test');
  const offered: string[][] = [];
  const server = createHttpsServer({ cert: cert.cert, key: cert.key, ALPNCallback: ({ protocols }) => (offered.push([...protocols]), protocols.includes('http/1.1') ? 'http/1.1' : undefined) }, (_req, res) => res.end('ok'));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as { port: number }).port, offered };
}

function get(d: UpstreamDispatcher): Promise<number> {
  return new Promise((ok, fail) => {
    let status = 0;
    d.dispatch(
      { path: '/', method: 'GET', headers: { host: 'reviews' }, body: null },
      {
        onRequestStart: () => undefined,
        onResponseStart: (_c, s) => void (status = s),
        onResponseData: () => undefined,
        onResponseEnd: () => ok(status),
        onResponseError: (_c, e) => fail(e),
      },
    );
  });
}

describe('HTTP pools and ALPN on an in-mesh mTLS cluster with the metadata exchange', () => {
  it('offer the override in pools of their own, and never istio-peer-exchange', async (t) => {
    const up = await upstream(t);
    const c = cluster({
      loadAssignment: { clusterName: 'x', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: up.port } } } }] }] },
      transportSocket: { name: 'tls', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', commonTlsContext: { alpnProtocols: ['istio-peer-exchange', 'istio', 'http/1.1'] } } },
      filters: [MX_FILTER],
    });
    const u = new UpstreamCluster(c, { clock: systemClock, random: seededRandom(1), secrets: NO_SECRETS }, undefined);
    t.after(() => u.close());
    const host = u.pick({ hash: undefined, avoid: undefined, originalDestination: undefined });
    assert.ok(host !== undefined);
    const pool = (alpn?: readonly string[]): UpstreamDispatcher => {
      const p = u.pool(host, 'http1', undefined, alpn);
      if (!p.ok) assert.fail(p.transportFailure);
      return p.dispatcher;
    };
    const override = ['istio-http/1.1', 'istio', 'http/1.1'];
    assert.equal(await get(pool()), 200);
    assert.equal(await get(pool(override)), 200);
    assert.deepEqual(up.offered, [['istio', 'http/1.1'], override]);
    assert.notEqual(pool(), pool(override), 'an overridden ALPN gets connections of its own');
    assert.equal(pool([...override]), pool(override), 'the same list shares them');
  });
});
