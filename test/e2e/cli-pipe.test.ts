// `isthmus ... | head`: a reader that closes the pipe early (head, less quit) ends the output, not the command
// with a stack trace. The binary runs as `npm start` runs it (the bundle), its stdout closed before it writes.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startIsthmus } from '../support/cli.js';

it('a closed stdout pipe (isthmus --help | head) ends quietly with the command\'s own exit status', async () => {
  const child = startIsthmus(['x', 'envoy-stats', '--help']);
  child.stdout.destroy(); // the reader is gone before the first write
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end();
  const code = await new Promise<number | null>((ok) => child.on('close', ok));
  assert.doesNotMatch(stderr, /EPIPE|Unhandled 'error' event/, stderr);
  assert.equal(code, 0);
});
