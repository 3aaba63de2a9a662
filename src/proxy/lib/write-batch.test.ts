// batchedWrite on real loopback sockets: bytes leave only after the loop iteration's I/O callbacks, in the
// order they were written whoever wrote them, and an end() right after still sends them before the FIN.
// A Buffer written to an idle socket waits outside node's stream and goes to the handle directly: the same
// guarantees hold for it (later writes, end(), destroy(), bytesWritten, a failed write's error).

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

  it('sends a held Buffer before anything written after it in the same turn, and before the FIN', async () => {
    const s = await dial();
    assert.equal(batchedWrite(s, Buffer.from('HTTP/1.1 200 OK\r\n\r\n')), true);
    assert.equal(s.writableLength, 0, 'the head waits outside the stream');
    s.write('body;'); // through node's stream, behind the held head
    batchedWrite(s, Buffer.from('more;')); // the socket is corked now: this one queues in the stream
    s.end('end');
    await turn();
    assert.equal(await received.at(-1), 'HTTP/1.1 200 OK\r\n\r\nbody;more;end');
    assert.equal(s.bytesWritten, 'HTTP/1.1 200 OK\r\n\r\nbody;more;end'.length, 'the handle counted the held bytes');
  });

  it('sends a held Buffer before the FIN of an end() with nothing else to write', async () => {
    const s = await dial();
    batchedWrite(s, Buffer.from('only the head'));
    s.end();
    assert.equal(await received.at(-1), 'only the head');
  });

  it('drops a held Buffer when the socket is destroyed first, as the stream drops what it buffered', async () => {
    const s = await dial();
    batchedWrite(s, Buffer.from('never sent'));
    s.destroy();
    await turn();
    assert.equal(await received.at(-1), '');
  });

  it("destroys the socket with node's write error when the held write fails", async () => {
    const resetter = createServer();
    resetter.listen(0, '127.0.0.1');
    await once(resetter, 'listening');
    const port = (resetter.address() as { port: number }).port;
    const accepted = once(resetter, 'connection') as Promise<[Socket]>;
    const s = connect({ port, host: '127.0.0.1' });
    sockets.push(s);
    await once(s, 'connect');
    s.pause(); // no reads: the reset is found by the write, not by a read
    const [peer] = await accepted;
    peer.resetAndDestroy();
    const failed = once(s, 'error') as Promise<[NodeJS.ErrnoException]>;
    // Each write to a reset connection fails (EPIPE or ECONNRESET); the first may still reach the kernel
    // before the RST has arrived, so write until one fails.
    for (let i = 0; i < 50 && !s.destroyed; i++) {
      batchedWrite(s, Buffer.from('after the reset'));
      await turn();
      await new Promise((r) => setTimeout(r, 10));
    }
    const [err] = await failed;
    assert.ok(err.code === 'EPIPE' || err.code === 'ECONNRESET', String(err.code));
    assert.equal(err.syscall, 'write');
    assert.match(err.message, /^write E/);
    assert.equal(s.destroyed, true);
    resetter.close();
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
