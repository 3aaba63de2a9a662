// Writes held to the end of the event loop's poll phase, then sent one after another.
//
// Why. Every write to a loopback socket wakes the process reading the other end, and on this kind of VM a
// wake-up of a process that went to sleep costs more than the write itself (`perf`: the paravirtualized
// interrupt enable under `sock_def_readable` was the largest single symbol of the proxy). One poll phase
// delivers the reads of many connections; written as each is handled, the requests and responses leave
// tens of microseconds apart and the upstream and the clients sleep and are woken again in between. Held
// until the phase's I/O callbacks are over (a setImmediate runs right after them, in the same loop
// iteration), they leave back to back: the first write wakes a peer and the following ones find it awake.
// Measured with bench/data-plane/ab.ts (wrk -c50 through the gateway, the proxy pinned to one core, 6
// alternating rounds): 1.107x the requests/s (per-round range 1.06-1.17) at 12% less CPU per request.
//
// How. The socket is corked and the write goes into its buffer; the batch uncorks every socket it corked,
// in order. Corking keeps every later write to the same socket (a body, a pipelined response, `end()`)
// behind the held one, whoever makes it, and nests with the socket's other cork() calls. What a request
// waits for is one loop phase, not a timer.

import type { Socket } from 'node:net';

let corked: Socket[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  const ss = corked;
  corked = [];
  for (let i = 0; i < ss.length; i++) (ss[i] as Socket).uncork();
}

/**
 * Writes `data` to `s` once the I/O callbacks of this loop iteration are over, in order with every other
 * write to `s`. Returns what `s.write` returned (false: above the socket's high-water mark, wait for 'drain').
 */
export function batchedWrite(s: Socket, data: string | Buffer, encoding?: BufferEncoding): boolean {
  s.cork();
  corked.push(s);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
  return encoding !== undefined ? s.write(data, encoding) : s.write(data);
}
