// `isthmus watch` (what `npm start` runs) in a real child process over a real folder: live edits, a
// mistake that keeps the last good config, analyzer messages appearing and resolving, and a clean stop.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIsthmus } from '../support/cli.js';
import { waitFor } from '../support/wait.js';

const service = `apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
`;
const vs = (host: string, timeout = '2s'): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - timeout: ${timeout}
    route:
    - destination: {host: ${host}}
`;

describe('isthmus watch', () => {
  it('follows edits live, keeps the last good config on a mistake, and stops cleanly on SIGINT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-watch-'));
    await writeFile(join(dir, 'svc.yaml'), service);
    await writeFile(join(dir, 'vs.yaml'), vs('reviews'));
    const child = startIsthmus(['watch', '--debounce', '50', dir]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      await waitFor(() => out.includes('no validation or analysis issues'), 'the first load', 15000);
      assert.match(out, /Watching .*: 2 resources from 2 files \(revision 1\)/);

      // A reference to a host that does not exist: the update applies and the analyzer says so.
      await writeFile(join(dir, 'vs.yaml'), vs('reviews-bogus'));
      await waitFor(() => out.includes('Referenced host not found: "reviews-bogus"'), 'IST0101', 10000);
      assert.match(out, /revision 2:\n {2}updated VirtualService default\/reviews/);
      assert.match(out, /\+ Error \[IST0101\] \(VirtualService default\/reviews .*vs\.yaml:9\) Referenced host not found: "reviews-bogus"/);

      // A mistake: the edit is refused with the file, line and field; nothing is applied.
      await writeFile(join(dir, 'vs.yaml'), vs('reviews', '1.5ms'));
      await waitFor(() => out.includes('only durations to ms precision are supported'), 'the validation error', 10000);
      assert.match(out, /no change applied:\n {2}! .*vs\.yaml:7 VirtualService default\/reviews spec\.http\[0\]\.timeout: only durations to ms precision are supported/);
      assert.doesNotMatch(out, /revision 3/);

      // Fixed: applied, and the analyzer message is resolved.
      await writeFile(join(dir, 'vs.yaml'), vs('reviews'));
      await waitFor(() => out.includes('resolved: Error [IST0101]'), 'the resolution', 10000);
      assert.match(out, /revision 3:\n {2}updated VirtualService default\/reviews/);

      child.kill('SIGINT');
      assert.equal(await exited, 0);
      assert.match(out, /stopped\n$/);
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
