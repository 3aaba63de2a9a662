// readInto(): an accepted socket's reads go to a caller's buffer and callback, as net.connect's `onread`
// gives them (real sockets on 127.0.0.1). Bytes the socket read before the switch come first; a false from
// the callback stops the reads until resume(); the end of input still comes as 'end'; where the switch
// cannot be made nothing changes.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { ACCEPTED_READS_AVAILABLE, readInto, type UserReads } from './accepted-reads.js';

let server: Server;
let port = 0;
const accepted: Socket[] = [];
const waiting: ((s: Socket) => void)[] = [];

before(async () => {
  server = createServer((s) => {
    const w = waiting.shift();
    if (w !== undefined) w(s);
    else accepted.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

/** A client connected to the server, and the server's side of it. */
async function pair(): Promise<{ client: Socket; server: Socket }> {
  const got = new Promise<Socket>((r) => {
    const s = accepted.shift();
    if (s !== undefined) r(s);
    else waiting.push(r);
  });
  const client = connect(port, '127.0.0.1');
  await once(client, 'connect');
  return { client, server: await got };
}

/** Reads into one reused 64-byte buffer, copying out what each read brought. */
function collector(answer: () => boolean = () => true): UserReads & { text(): string; reads(): number } {
  const buf = Buffer.alloc(64);
  const chunks: Buffer[] = [];
  return {
    buffer: () => buf,
    // Node calls it with the socket as `this`, as it calls onread's callback: nothing here may use `this`.
    callback: (n, b) => {
      chunks.push(Buffer.from(b.subarray(0, n)));
      return answer();
    },
    text: () => Buffer.concat(chunks).toString(),
    reads: () => chunks.length,
  };
}

async function until(what: string, cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('readInto (onread for accepted sockets)', () => {
  it('is available on this Node', () => {
    assert.equal(ACCEPTED_READS_AVAILABLE, true, 'the fields net.connect({ onread }) sets were found on a probe socket');
  });

  it('hands every read to the callback in order, the bytes read before the switch first, then ends', async () => {
    const { client, server: s } = await pair();
    s.pause();
    client.write('hello, ');
    await until('the first bytes to be held by the stream', () => s.readableLength === 7);
    const c = collector();
    assert.equal(readInto(s, c), true);
    assert.equal(c.text(), 'hello, ', 'the held bytes went to the callback at once');
    const ended = once(s, 'end');
    s.resume();
    // More than the 64-byte buffer: several reads into the same buffer, each copied out before the next.
    const rest = 'world '.repeat(50);
    client.end(rest);
    await ended;
    assert.equal(c.text(), 'hello, ' + rest);
    assert.ok(c.reads() >= 2, `reads: ${c.reads()}`);
    assert.equal(s.bytesRead, 7 + rest.length, 'bytesRead still counts every byte');
    s.destroy();
  });

  it('stops reading when the callback returns false and reads on after resume()', async () => {
    const { client, server: s } = await pair();
    let answer = false;
    const c = collector(() => answer);
    assert.equal(readInto(s, c), true);
    s.resume();
    client.write('first');
    await until('the first read', () => c.reads() === 1);
    client.write('second');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(c.text(), 'first', 'nothing is read while stopped');
    answer = true;
    s.resume();
    await until('the bytes sent while stopped', () => c.text() === 'firstsecond');
    client.destroy();
    s.destroy();
  });

  it('changes nothing where the socket already has a data listener', async () => {
    const { client, server: s } = await pair();
    const heard: Buffer[] = [];
    s.on('data', (d: Buffer) => heard.push(d));
    const c = collector();
    assert.equal(readInto(s, c), false);
    client.write('still data events');
    await until('the data event', () => Buffer.concat(heard).toString() === 'still data events');
    assert.equal(c.reads(), 0);
    client.destroy();
    s.destroy();
  });

  it('changes nothing on a destroyed socket or one whose reads were already redirected', async () => {
    const { client, server: s } = await pair();
    assert.equal(readInto(s, collector()), true);
    assert.equal(readInto(s, collector()), false, 'a second switch is refused');
    const other = await pair();
    other.server.destroy();
    assert.equal(readInto(other.server, collector()), false);
    for (const x of [client, s, other.client]) x.destroy();
  });
});
