// auto_sni and auto_san_validation take the upstream name from the request (Envoy's Router::Filter::
// decodeHeaders): the host, or the header override_auto_sni_header names when the request has it and it is
// not empty; an IP address is checked against the certificate but never sent as SNI. Through a real listener
// to a real HTTPS upstream on 127.0.0.1 that records the SNI of each connection. Upstream HTTP filters
// (HttpProtocolOptions.http_filters), which the proxy does not run, are refused, and so is auto_config
// without TLS (no ALPN to negotiate with, as Envoy's ClusterImplBase refuses it).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { JsonObject } from '@bufbuild/protobuf';
import { compileCluster } from '../runtime/compile-cluster.js';
import { clusterManagerOf, prefix, route, routeConfig, staticCluster, vhost, toCluster } from '../../../test/support/xds-fixtures.js';
import { closeAll, startHcmListener } from '../../../test/support/hcm-listener.js';
import { ask } from '../../../test/support/http-ask.js';
import { selfSigned, signedBy } from '../../../test/translate/secret/certs.js';
import type { ClusterManager } from './cluster-manager.js';
import type { ListenerManager } from '../network/listener-manager.js';

const ca = selfSigned('auto-sni-ca.example.com');
const server = signedBy('backend.example.com', ca, ['DNS:backend.example.com', 'DNS:override.example.com', 'IP:127.0.0.1']);
const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

let upstream: Server;
let clusters: ClusterManager;
let manager: ListenerManager;
let port = 0;
/** The SNI of each TLS connection the upstream accepted ('' without one). */
const sni: string[] = [];

function autoSniCluster(name: string, upstreamPort: number, options: JsonObject): ReturnType<typeof staticCluster> {
  return staticCluster(name, upstreamPort, {
    transportSocket: {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        commonTlsContext: { validationContext: { trustedCa: { inlineString: ca.cert.toString() } } },
      },
    },
    typedExtensionProtocolOptions: {
      [HTTP_OPTIONS]: { '@type': `type.googleapis.com/${HTTP_OPTIONS}`, explicitHttpConfig: { httpProtocolOptions: {} }, upstreamHttpProtocolOptions: options },
    },
  });
}

before(async () => {
  upstream = createHttpsServer({ cert: server.cert, key: server.key }, (_req, res) => void res.writeHead(200, { 'content-length': '2' }).end('ok'));
  upstream.on('secureConnection', (s: TLSSocket) => sni.push((s as TLSSocket & { servername?: string | false }).servername || ''));
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  clusters = clusterManagerOf([
    autoSniCluster('auto', upstreamPort, { autoSni: true, autoSanValidation: true }),
    autoSniCluster('override', upstreamPort, { autoSni: true, autoSanValidation: true, overrideAutoSniHeader: 'X-Upstream-Name' }),
  ]);
  const routes = routeConfig('inline', [vhost('all', ['*'], [route('override', prefix('/override'), toCluster('override')), route('auto', prefix('/'), toCluster('auto'))])]);
  const l = await startHcmListener('auto-sni', { routes, clusters });
  manager = l.manager;
  port = l.port;
});

after(() => closeAll([manager, clusters], upstream));

describe('auto_sni and override_auto_sni_header', () => {
  it('sends the host as SNI and checks the certificate against it', async () => {
    const r = await ask(port, { path: '/a', authority: 'backend.example.com:443' });
    assert.equal(r.status, 200);
    assert.equal(sni.at(-1), 'backend.example.com');
    const wrong = await ask(port, { path: '/b', authority: 'wrong.example.com' });
    assert.equal(wrong.status, 503, 'the certificate is not valid for the host');
  });

  it('sends no SNI for an IP address, and still checks the certificate against it', async () => {
    const before = sni.length;
    const r = await ask(port, { path: '/ip', authority: '127.0.0.1:443' });
    assert.equal(r.status, 200);
    assert.equal(sni.length, before + 1);
    assert.equal(sni.at(-1), '', 'no server name for an IP address');
  });

  it('takes the name from the override header when the request has it', async () => {
    const r = await ask(port, { path: '/override/1', authority: 'wrong.example.com', headers: { 'x-upstream-name': 'override.example.com' } });
    assert.equal(r.status, 200, 'checked against the header, not the host');
    assert.equal(sni.at(-1), 'override.example.com');
  });

  it('falls back to the host when the override header is absent or empty', async () => {
    const absent = await ask(port, { path: '/override/2', authority: 'backend.example.com' });
    assert.equal(absent.status, 200);
    assert.equal(sni.at(-1), 'backend.example.com');
    const empty = await ask(port, { path: '/override/3', authority: 'wrong.example.com', headers: { 'x-upstream-name': '' } });
    assert.equal(empty.status, 503, 'an empty header leaves the host, which the certificate does not name');
  });
});

describe('cluster protocol options that are refused', () => {
  const compile = (httpFilters: JsonObject[]): readonly string[] => {
    const c = staticCluster('f', 1, { typedExtensionProtocolOptions: { [HTTP_OPTIONS]: { '@type': `type.googleapis.com/${HTTP_OPTIONS}`, explicitHttpConfig: { httpProtocolOptions: {} }, httpFilters } } });
    const r = compileCluster(c);
    return r.ok ? [] : r.problems;
  };

  it('refuses filters the proxy would not run, and accepts the codec alone', () => {
    // Names only: the generated protos do not carry these filters' config types, and only the names are read.
    const codec = { name: 'envoy.filters.http.upstream_codec' };
    const header = { name: 'envoy.filters.http.header_mutation' };
    assert.deepEqual(compile([codec]), []);
    assert.deepEqual(compile([header, codec]), [
      `typed_extension_protocol_options["${HTTP_OPTIONS}"].http_filters: upstream HTTP filters are not supported (envoy.filters.http.header_mutation)`,
    ]);
  });

  it('auto_config needs TLS (ALPN), as Envoy requires', () => {
    const auto = (extra: JsonObject): readonly string[] => {
      const r = compileCluster(staticCluster('plain', 1, { typedExtensionProtocolOptions: { [HTTP_OPTIONS]: { '@type': `type.googleapis.com/${HTTP_OPTIONS}`, autoConfig: {} } }, ...extra }));
      return r.ok ? [] : r.problems;
    };
    assert.deepEqual(auto({}), [`typed_extension_protocol_options["${HTTP_OPTIONS}"].auto_config: ALPN configured for cluster plain which has a non-ALPN transport socket`]);
    const tls = { name: 'envoy.transport_sockets.tls', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext' } };
    assert.deepEqual(auto({ transportSocket: tls }), []);
  });
});
