// The TCP metadata exchange's config as istiod sends it (a TypedStruct on listener chains and on clusters), and
// what the proxy refuses (NACKs) with a message naming the field: no protocol, additional labels, unknown
// fields, a second exchange, an exchange after a Wasm network filter, other upstream filters.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { compileCluster } from '../runtime/compile-cluster.js';
import { compileListener } from '../runtime/compile-listener.js';
import { compilePeerExchangeConfig } from './peer-exchange-config.js';

const ISTIOD = { enable_discovery: true, protocol: 'istio-peer-exchange' };

function mx(value: JsonObject = ISTIOD, name = 'istio.metadata_exchange'): JsonObject {
  return { name, typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange', value } };
}

const TCP_PROXY = { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: 'x', cluster: 'c' } };
const WASM = {
  name: 'wasm',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm', config: { name: 'p', vm_config: { runtime: 'envoy.wasm.runtime.v8', code: { local: { inline_string: 'x' } } } } },
};

function listenerWith(filters: readonly JsonObject[]) {
  return compileListener(fromJson(ListenerSchema, { name: 'l', address: { socket_address: { address: '0.0.0.0', port_value: 1 } }, filter_chains: [{ filters: [...filters] }] }, { registry: XDS_REGISTRY }));
}

function clusterWith(filters: readonly JsonObject[]) {
  return compileCluster(fromJson(ClusterSchema, { name: 'outbound|9000||echo', type: 'EDS', filters: [...filters] }, { registry: XDS_REGISTRY }));
}

function problems(r: { ok: true } | { ok: false; problems: readonly string[] }): string {
  return r.ok ? '' : r.problems.join('\n');
}

describe('TCP metadata exchange config', () => {
  it('reads istiod’s TCPListenerMx / TCPClusterMx', () => {
    const p: string[] = [];
    assert.deepEqual(compilePeerExchangeConfig(ISTIOD, 'f', p), { protocol: 'istio-peer-exchange' });
    assert.deepEqual(p, []);
    const l = listenerWith([mx(), TCP_PROXY]);
    assert.ok(l.ok);
    assert.deepEqual(l.ok ? l.value.chains[0]?.value.peerExchange : undefined, { protocol: 'istio-peer-exchange' });
    const c = clusterWith([mx()]);
    assert.ok(c.ok);
    assert.deepEqual(c.ok ? c.value.peerExchange : undefined, { protocol: 'istio-peer-exchange' });
    const plain = listenerWith([TCP_PROXY]);
    assert.equal(plain.ok ? plain.value.chains[0]?.value.peerExchange : 'refused', undefined);
  });

  const refused: readonly { name: string; value: JsonObject; message: RegExp }[] = [
    { name: 'no protocol', value: { enable_discovery: true }, message: /protocol: must be a non-empty string/ },
    { name: 'an empty protocol', value: { protocol: '' }, message: /protocol: must be a non-empty string/ },
    { name: 'additional labels', value: { protocol: 'istio-peer-exchange', additional_labels: ['role'] }, message: /additional_labels: exchanging additional labels is not supported/ },
    { name: 'labels that are not strings', value: { protocol: 'istio-peer-exchange', additional_labels: [1] }, message: /additional_labels: must be a list of strings/ },
    { name: 'an unknown field', value: { protocol: 'istio-peer-exchange', max_size: 10 }, message: /max_size: unknown field of envoy\.tcp\.metadataexchange\.config\.MetadataExchange/ },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}, on a chain and on a cluster`, () => {
      assert.match(problems(listenerWith([mx(c.value), TCP_PROXY])), new RegExp(`filter_chains\\[0\\]\\.filters\\[0\\]\\(istio\\.metadata_exchange\\)\\.typed_config\\.value\\.${c.message.source}`));
      assert.match(problems(clusterWith([mx(c.value)])), new RegExp(`filters\\[0\\]\\(istio\\.metadata_exchange\\)\\.typed_config\\.value\\.${c.message.source}`));
    });
  }

  it('refuses an exchange after a Wasm network filter, and a second one', () => {
    assert.match(problems(listenerWith([WASM, mx(), TCP_PROXY])), /must come before the Wasm network filters/);
    assert.match(problems(listenerWith([mx(), mx(), TCP_PROXY])), /a second metadata exchange filter on the chain/);
    assert.match(problems(clusterWith([mx(), mx()])), /a second metadata exchange filter on the cluster/);
  });

  it('refuses upstream filters it does not run', () => {
    const other = { name: 'upstream_hbone_peer_metadata', typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/envoy.extensions.network_filters.peer_metadata.UpstreamConfig', value: {} } };
    assert.match(problems(clusterWith([other])), /filters\[0\]\(upstream_hbone_peer_metadata\): unsupported upstream network filter envoy\.extensions\.network_filters\.peer_metadata\.UpstreamConfig/);
  });
});
