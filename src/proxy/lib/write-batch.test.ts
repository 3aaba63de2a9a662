// batchedWrite on real loopback sockets: bytes leave only after the loop iteration's I/O callbacks, in the
// order they were written whoever wrote them, and an end() right after still sends them before the FIN.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { batchedWrite } from './write-batch.js';

let server: Server;
/** What each accepted connection received, in full, once it ended. */
const received: Promise<string>[] = [];
const sockets: Socket[] = [];

before(async () => {
  server = createServer((s) => {
    received.push(
      new Promise((resolve) => {
        let text = '';
        s.setEncoding('latin1');
        s.on('data', (d: string) => (text += d));
        s.on('end', () => {
          resolve(text);
          s.end();
        });
      }),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});

after(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

async function dial(): Promise<Socket> {
  const at = server.address();
  assert.ok(at !== null && typeof at === 'object');
  const s = connect(at.port, '127.0.0.1');
  sockets.push(s);
  await once(s, 'connect');
  return s;
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('batchedWrite', () => {
  it('holds bytes until the I/O callbacks are over, then sends them in write order with direct writes', async () => {
    const [a, b] = [await dial(), await dial()];
    batchedWrite(a, 'GET / HTTP/1.1\r\n', 'latin1');
    a.write('host: x\r\n'); // a direct write after a held one waits behind it
    batchedWrite(a, Buffer.from('\r\n'));
    batchedWrite(b, 'b1;');
    assert.equal(a.writableLength, 27, 'all 27 bytes wait in the socket, none went to the kernel');
    assert.equal(a.writableCorked, 2);
    await turn();
    assert.equal(a.writableCorked, 0, 'uncorked once per held write');
    assert.equal(a.writableLength, 0, 'and handed to the kernel');
    assert.equal(b.writableCorked, 0);
    a.end();
    b.end('b2');
    assert.deepEqual(await Promise.all(received.slice(-2)), ['GET / HTTP/1.1\r\nhost: x\r\n\r\n', 'b1;b2']);
  });

  it('sends what was held before the FIN of an end() in the same turn', async () => {
    const s = await dial();
    batchedWrite(s, 'last words');
    s.end();
    await turn();
    assert.equal(await received.at(-1), 'last words');
  });

  it("answers false above the socket's high-water mark, and 'drain' follows", async () => {
    const s = await dial();
    const big = Buffer.alloc(s.writableHighWaterMark + 1, 0x61);
    assert.equal(batchedWrite(s, big), false);
    await once(s, 'drain');
    s.end();
    assert.equal((await received.at(-1))?.length, big.length);
  });
});
