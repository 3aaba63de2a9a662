// The connection manager's http2_protocol_options reach HTTP/2 clients as the SETTINGS and window the proxy
// announces (max_concurrent_streams, initial_stream_window_size, hpack_table_size,
// initial_connection_window_size), through a real listener and node's HTTP/2 client; what the proxy does not
// implement is refused (test/proxy/hcm-refusals.test.ts).

import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { connect, type ClientHttp2Session, type Settings } from 'node:http2';
import { directResponse, prefix, route, routeConfig, vhost } from '../../../test/support/xds-fixtures.js';
import { startHcmListener } from '../../../test/support/hcm-listener.js';
import type { ListenerManager } from '../network/listener-manager.js';

let manager: ListenerManager;
let port = 0;

before(async () => {
  const routes = routeConfig('inline', [vhost('all', ['*'], [route('ok', prefix('/'), directResponse(200, 'ok'))])]);
  const l = await startHcmListener('h2-options', {
    routes,
    hcm: { http2ProtocolOptions: { maxConcurrentStreams: 100, initialStreamWindowSize: 65536, initialConnectionWindowSize: 1048576, hpackTableSize: 8192 } },
  });
  manager = l.manager;
  port = l.port;
});

after(() => manager.close());

it("a client sees the connection manager's SETTINGS and connection window, and is answered", async () => {
  const session: ClientHttp2Session = connect(`http://127.0.0.1:${port}`);
  try {
    const settings = await new Promise<Settings>((ok) => session.once('remoteSettings', ok));
    assert.deepEqual([settings.maxConcurrentStreams, settings.initialWindowSize, settings.headerTableSize], [100, 65536, 8192]);
    const answer = await new Promise<string>((ok, fail) => {
      const req = session.request({ ':path': '/', ':authority': 'app.example' });
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => ok(body));
      req.on('error', fail);
    });
    assert.equal(answer, 'ok');
    // The connection window is announced with a WINDOW_UPDATE: the client's view of what it may send.
    assert.equal(session.state.remoteWindowSize, 1048576);
  } finally {
    session.close();
  }
});
