// Preloaded into the proxy by bench/data-plane/alloc.ts (`node --import <this file> ...`): V8's sampling heap
// profiler, counting every sampled allocation, also those the young- and old-generation collections have
// already freed (what the scavenger pays for), started by the first SIGUSR2 and written to
// $ISTHMUS_ALLOC_PROFILE (a .heapprofile, which Chrome DevTools opens) by the second. Plain JavaScript: it
// runs inside the built proxy, without tsx.

import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const out = process.env['ISTHMUS_ALLOC_PROFILE'];
if (out !== undefined && out !== '') {
  const session = new Session();
  session.connect();
  let sampling = false;
  process.on('SIGUSR2', () => {
    if (!sampling) {
      session.post('HeapProfiler.enable');
      session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      sampling = true;
      return;
    }
    sampling = false;
    session.post('HeapProfiler.stopSampling', (err, result) => {
      writeFileSync(out, err ? JSON.stringify({ error: String(err) }) : JSON.stringify(result.profile));
    });
  });
}
