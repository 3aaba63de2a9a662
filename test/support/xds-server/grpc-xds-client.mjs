// Test support: a real proxyless gRPC client (@grpc/grpc-js-xds) in its own process (its bootstrap is
// read once per process from GRPC_XDS_BOOTSTRAP_CONFIG). Calls /test.Echo/Echo on xds:///<argv[2]> once
// per `call` line on stdin and prints one JSON line per result: {"ok":true,"reply":"..."} or
// {"ok":false,"error":"..."}. `exit` ends it.

import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
require('@grpc/grpc-js-xds').register();

const id = (b) => b;
const Echo = grpc.makeGenericClientConstructor(
  { Echo: { path: '/test.Echo/Echo', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } },
  'Echo',
);
const client = new Echo(`xds:///${process.argv[2]}`, grpc.credentials.createInsecure());

function call() {
  client.Echo(Buffer.from('ping'), { deadline: Date.now() + 10_000, waitForReady: true }, (err, reply) => {
    process.stdout.write(JSON.stringify(err ? { ok: false, error: err.message } : { ok: true, reply: reply.toString() }) + '\n');
  });
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'call') call();
  if (line === 'exit') {
    client.close();
    process.exit(0);
  }
});
