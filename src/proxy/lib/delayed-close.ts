// Envoy's delayed close (HttpConnectionManager.delayed_close_timeout, default 1 s): a connection this side
// closes (a response with `connection: close`, a codec error, a drain) sends its last bytes and a FIN, then
// waits for the client to close before closing the socket itself. Without the wait's end, a client that
// never closes would keep the socket (FIN-WAIT-2 on an open descriptor) for as long as it liked. As in
// Envoy, the wait counts from the close and starts again whenever the pending write made progress, so a
// slow reader still gets its whole response; 0 closes the socket as soon as the write has flushed.

import type { Duplex } from 'node:stream';

/** Ends `socket` (after `data`, if given) and closes it if the peer has not within `ms` of the last write progress. */
export function endWithDelayedClose(socket: Duplex, ms: number, data?: string): void {
  if (data === undefined) socket.end();
  else socket.end(data);
  if (socket.destroyed) return;
  if (ms <= 0) {
    socket.once('finish', () => socket.destroy());
    return;
  }
  let pending = socket.writableLength;
  const check = (): void => {
    if (socket.destroyed) return;
    const now = socket.writableLength;
    if (now > 0 && now < pending) {
      // The client is still reading the response: give it another period.
      pending = now;
      timer.refresh();
      return;
    }
    socket.destroy();
  };
  const timer = setTimeout(check, ms);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
