// The life cycle both ADS stream kinds share: the first request's node makes the Connection (a bad node
// ends the stream with INVALID_ARGUMENT before anything is registered), the stream is registered with
// the server for pushes and unregistered when the peer ends, cancels or fails it; writes are timed into
// istiod's pilot_xds_push_time / pilot_xds_send_time. What to answer is the subclass's business.

import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { Node } from '../xds/gen/envoy/config/core/v3/base_pb.js';
import type { ProxyGeneration } from './generation.js';
import { Connection, type AdsStream, type StreamHost, type WatchState, type XdsMode } from './connection.js';
import { PUSH_ORDER } from '../xds/type-urls.js';
import { proxyFromNode } from './node.js';

export abstract class StreamBase<Req extends { node?: Node | undefined }, Res> implements AdsStream {
  private conn: Connection | undefined;
  private finished = false;

  constructor(
    protected readonly host: StreamHost,
    private readonly call: ServerDuplexStream<Req, Res>,
    private readonly mode: XdsMode,
  ) {
    call.on('data', (req: Req) => this.onData(req));
    call.on('end', () => {
      this.finish();
      call.end();
    });
    call.on('error', () => this.finish());
    call.on('cancelled', () => this.finish());
    call.on('close', () => this.finish());
  }

  get connection(): Connection {
    if (this.conn === undefined) throw new Error('ADS stream has no connection before its first request');
    return this.conn;
  }

  /** Sends each watched type whose content changed in `generation`, in PUSH_ORDER; returns the responses sent. */
  push(generation: ProxyGeneration): number {
    let sent = 0;
    for (const typeUrl of PUSH_ORDER) {
      const w = this.connection.watches.get(typeUrl);
      if (w !== undefined && this.respond(w, generation)) sent++;
    }
    return sent;
  }

  /** Answers one watch from `generation` (or the current one); false when there was nothing new to send. */
  protected abstract respond(w: WatchState, generation?: ProxyGeneration): boolean;

  /** Handles one request of an established connection. */
  protected abstract handle(req: Req, conn: Connection): void;

  close(): void {
    if (this.finished) return;
    this.finish();
    this.call.end();
  }

  /** Writes a response, recording push time (since `startedAt`) and, once flushed, send time. */
  protected write(res: Res, typeUrl: string, startedAt: number): void {
    const { clock, metrics } = this.host;
    const t0 = clock.now();
    this.call.write(res, () => metrics.sendTime.observe((clock.now() - t0) / 1000));
    metrics.pushed(typeUrl, (clock.now() - startedAt) / 1000);
  }

  private onData(req: Req): void {
    if (this.finished) return;
    if (this.conn === undefined) {
      const r = proxyFromNode(req.node);
      if (!r.ok) {
        this.host.logger.warn('ADS: refusing stream with an invalid node', { peer: this.call.getPeer(), error: r.message });
        this.finished = true;
        this.call.emit('error', Object.assign(new Error(r.message), { code: status.INVALID_ARGUMENT, details: r.message }));
        return;
      }
      this.conn = new Connection(this.host.nextConnectionId(r.proxy), r.proxy, this.mode, this.call.getPeer(), this.host.clock.now());
      this.host.register(this);
    }
    try {
      this.handle(req, this.conn);
    } catch (e) {
      // A bug here must not take the server down; the stream is ended so the proxy reconnects cleanly.
      const message = e instanceof Error ? e.message : String(e);
      this.host.logger.error('ADS: request handling failed; closing the stream', { connection: this.conn.id, error: message });
      this.finish();
      this.call.emit('error', Object.assign(new Error(message), { code: status.INTERNAL, details: message }));
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.conn !== undefined) this.host.unregister(this);
  }
}
