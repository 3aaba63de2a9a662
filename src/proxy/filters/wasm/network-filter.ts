// envoy.filters.network.wasm: runs a listener filter chain's network Wasm plugins on one downstream
// connection (Envoy's Context as a read and write filter, source/extensions/common/wasm/context.cc).
// - New connection: each plugin's proxy_on_new_connection, in order, before the terminal filter sees the
//   connection; a plugin that pauses holds the connection until it calls proxy_continue_stream(DOWNSTREAM),
//   and a plugin whose module is still loading is waited for.
// - tcp_proxy chains: downstream chunks go through the plugins in order (proxy_on_downstream_data with
//   BufferType.DOWNSTREAM_DATA), upstream chunks in reverse order (write filters; proxy_on_upstream_data
//   with UPSTREAM_DATA). A plugin may rewrite the buffer; CONTINUE passes it on, PAUSE keeps it (the next
//   callback sees it plus the new chunk, data_size = all held) until the plugin continues the direction
//   or the direction ends (then it is passed on whatever the plugin says). The upstream's half-close is
//   also its close callback (Envoy calls onUpstreamConnectionClose from onWrite(end_stream)); the
//   connection's end delivers proxy_on_downstream_connection_close with REMOTE when the client closed
//   first, LOCAL when the proxy did, then done, log, delete.
// - HTTP connection manager chains: the plugins get the new-connection and close callbacks only, not the
//   bytes, which the HTTP codec owns (DOWNSTREAM_DATA / UPSTREAM_DATA answer NOT_FOUND there).
// Failures follow the plugin's policy as the HTTP filter (filter.ts) applies it: a module that could not
// be fetched or started allows the connection under FAIL_OPEN and otherwise closes it, as Istio's RBAC
// deny-all stand-in would (pkg/wasm/convert.go); a plugin that fails at run time is skipped under FAIL_OPEN
// and otherwise closes the connection (Envoy's failStream for Downstream/Upstream). proxy_close_stream
// (DOWNSTREAM or UPSTREAM) closes the connection. Envoy answers UNIMPLEMENTED to
// proxy_continue_stream(UPSTREAM); here it resumes held upstream data, a superset.

import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionFacts } from '../../http/hcm-env.js';
import type { ClosePeer, TcpConnectionFilters, TcpFilterIo } from '../../network/tcp-proxy.js';
import { BufferType, PeerType, StreamType, WasmResult } from '../../wasm/abi.js';
import type { WasmBuffer, WasmHeaderMap, WasmStreamHost } from '../../wasm/host-types.js';
import type { PluginHandle } from '../../wasm/plugin-handle.js';
import type { WasmNetworkContext } from '../../wasm/stream-context.js';
import { BodyBuffer } from './body-buffer.js';
import type { WasmFilterConfig } from './config.js';
import { connectionProperty, type WasmConnectionInfo } from './connection-properties.js';
import type { WasmPluginRegistry } from './plugin-registry.js';

/** Session details when a plugin's failure closed the connection (Envoy's failStream). */
export const WASM_FAIL_CONNECTION_DETAILS = 'wasm_fail_stream';
/** Session details when an unavailable plugin denied the connection (Istio's RBAC deny-all stand-in). */
export const WASM_UNAVAILABLE_DETAILS = 'rbac_access_denied_matched_policy[none]';

/** 'tcp': the plugins see the bytes; 'http': only open and close (the HTTP codec owns the bytes). */
export type WasmNetworkMode = 'tcp' | 'http';

/** One plugin on the connection: the host it sees and what it holds back. */
class PluginStage implements WasmStreamHost {
  ctx: WasmNetworkContext | undefined;
  handle: PluginHandle | undefined;
  readonly down = new BodyBuffer();
  readonly up = new BodyBuffer();
  /** Paused in proxy_on_new_connection: the connection waits for proxy_continue_stream(DOWNSTREAM). */
  startPaused = false;
  downPaused = false;
  upPaused = false;
  /** Passed over: unavailable or failed under FAIL_OPEN. */
  skip = false;
  upstreamCloseSent = false;
  #filterState: Map<string, Uint8Array> | undefined;

  constructor(
    private readonly chain: WasmNetworkChain,
    readonly index: number,
  ) {}

  getMap(): WasmHeaderMap | undefined {
    return undefined;
  }

  getBuffer(type: BufferType): WasmBuffer | undefined {
    if (this.chain.mode !== 'tcp') return undefined;
    if (type === BufferType.DOWNSTREAM_DATA) return this.down;
    if (type === BufferType.UPSTREAM_DATA) return this.up;
    return undefined;
  }

  getProperty(path: readonly string[]): Uint8Array | undefined {
    return this.#filterState?.get(path.join('.')) ?? connectionProperty(this.chain.info, path);
  }

  setProperty(path: readonly string[], value: Uint8Array): WasmResult {
    (this.#filterState ??= new Map()).set(path.join('.'), value);
    return WasmResult.OK;
  }

  continueStream(type: StreamType): WasmResult {
    if (type === StreamType.DOWNSTREAM) this.chain.resumeDownstream(this.index);
    else if (type === StreamType.UPSTREAM) this.chain.resumeUpstream(this.index);
    else return WasmResult.BAD_ARGUMENT;
    return WasmResult.OK;
  }

  closeStream(type: StreamType): WasmResult {
    if (type !== StreamType.DOWNSTREAM && type !== StreamType.UPSTREAM) return WasmResult.BAD_ARGUMENT;
    this.chain.close(type === StreamType.DOWNSTREAM ? 'wasm_downstream_close' : 'wasm_upstream_close');
    return WasmResult.OK;
  }
}

type Opened = 'next' | 'wait' | 'closed';

/** The network Wasm plugins of one filter chain on one connection. */
export class WasmNetworkChain implements TcpConnectionFilters {
  readonly info: WasmConnectionInfo;
  readonly #stages: PluginStage[];
  #io: TcpFilterIo | undefined;
  #proceed: (() => void) | undefined;
  /** No more callbacks with data: the connection is closing. */
  #over = false;
  /** The close callbacks were delivered. */
  #ended = false;

  constructor(
    private readonly configs: readonly WasmFilterConfig[],
    private readonly registry: WasmPluginRegistry | undefined,
    facts: ConnectionFacts,
    readonly mode: WasmNetworkMode,
  ) {
    this.info = { facts, upstreamHost: () => this.#io?.upstreamHost() ?? '' };
    this.#stages = configs.map((_, i) => new PluginStage(this, i));
  }

  start(io: TcpFilterIo, proceed: () => void): void {
    this.#io = io;
    this.#proceed = proceed;
    this.#startFrom(0);
  }

  #startFrom(from: number): void {
    for (let i = from; i < this.#stages.length; i++) {
      if (this.#over) return;
      const r = this.#open(this.#stages[i] as PluginStage, this.configs[i] as WasmFilterConfig);
      if (r !== 'next') return; // resumed by the module settling or the plugin continuing, or closed
    }
    if (this.#over) return;
    const p = this.#proceed;
    this.#proceed = undefined;
    p?.();
  }

  /** Starts one plugin on the connection: its context and proxy_on_new_connection. */
  #open(st: PluginStage, config: WasmFilterConfig): Opened {
    const entry = this.registry?.entry(config);
    entry?.retryIfDue();
    const state = entry?.state;
    if (entry !== undefined && state?.kind === 'loading') {
      entry.whenSettled(() => this.#startFrom(st.index));
      return 'wait';
    }
    if (state?.kind !== 'ready') return this.#unavailable(st, config.failurePolicy === 'FAIL_OPEN', WASM_UNAVAILABLE_DETAILS);
    const ctx = state.handle.networkContext(st);
    if (ctx.kind === 'failed') return this.#unavailable(st, ctx.failOpen, WASM_FAIL_CONNECTION_DETAILS);
    st.ctx = ctx;
    st.handle = state.handle;
    const r = ctx.onNewConnection();
    if (this.#over) return 'closed';
    if (r === 'failed') return this.#failed(st) ? 'next' : 'closed';
    if (r === 'pause') {
      st.startPaused = true;
      return 'wait';
    }
    return 'next';
  }

  #unavailable(st: PluginStage, failOpen: boolean, details: string): Opened {
    if (failOpen) {
      st.skip = true;
      return 'next';
    }
    this.close(details);
    return 'closed';
  }

  /** A plugin failed at run time: true when it is skipped (FAIL_OPEN), false when the connection closes. */
  #failed(st: PluginStage): boolean {
    if (st.handle?.failOpen === true) {
      st.skip = true;
      return true;
    }
    this.close(WASM_FAIL_CONNECTION_DETAILS);
    return false;
  }

  /** Runs one data callback over what the plugin holds plus `chunk`; the bytes to pass on, or undefined. */
  #data(st: PluginStage, ctx: WasmNetworkContext, downstream: boolean, chunk: Buffer, end: boolean): Buffer | undefined {
    const buf = downstream ? st.down : st.up;
    buf.append(chunk);
    buf.writableNow = true;
    const r = downstream ? ctx.onDownstreamData(buf.length, end) : ctx.onUpstreamData(buf.length, end);
    buf.writableNow = false;
    if (this.#over) return undefined;
    if (r === 'failed' && !this.#failed(st)) return undefined;
    if (r === 'pause' && !end) {
      if (downstream) st.downPaused = true;
      else st.upPaused = true;
      return undefined;
    }
    if (downstream) st.downPaused = false;
    else st.upPaused = false;
    return buf.take();
  }

  #pushDown(from: number, data: Buffer, end: boolean): void {
    for (let i = from; i < this.#stages.length; i++) {
      const st = this.#stages[i] as PluginStage;
      if (st.skip || st.ctx === undefined) continue;
      const out = this.#data(st, st.ctx, true, data, end);
      if (out === undefined) return;
      data = out;
    }
    if (!this.#over) this.#io?.toUpstream(data, end);
  }

  #pushUp(from: number, data: Buffer, end: boolean): void {
    for (let i = from; i >= 0; i--) {
      const st = this.#stages[i] as PluginStage;
      if (st.skip || st.ctx === undefined) continue;
      const out = this.#data(st, st.ctx, false, data, end);
      if (out === undefined) return;
      data = out;
    }
    if (!this.#over) this.#io?.toDownstream(data, end);
  }

  onDownstreamData(chunk: Buffer, end: boolean): void {
    if (!this.#over) this.#pushDown(0, chunk, end);
  }

  onUpstreamData(chunk: Buffer, end: boolean): void {
    if (this.#over) return;
    this.#pushUp(this.#stages.length - 1, chunk, end);
    if (!end) return;
    for (const st of this.#stages) {
      if (st.ctx === undefined || st.upstreamCloseSent || this.#over) continue;
      st.upstreamCloseSent = true;
      st.ctx.onUpstreamClose(PeerType.REMOTE);
    }
  }

  /** proxy_continue_stream(DOWNSTREAM) from plugin `i`: the connection goes on, or its held data does. */
  resumeDownstream(i: number): void {
    const st = this.#stages[i];
    if (this.#over || st === undefined) return;
    if (st.startPaused) {
      st.startPaused = false;
      this.#startFrom(i + 1);
    } else if (st.downPaused) {
      st.downPaused = false;
      this.#pushDown(i + 1, st.down.take(), false);
    }
  }

  /** proxy_continue_stream(UPSTREAM) from plugin `i`: its held upstream data goes on toward the client. */
  resumeUpstream(i: number): void {
    const st = this.#stages[i];
    if (this.#over || st === undefined || !st.upPaused) return;
    st.upPaused = false;
    this.#pushUp(i - 1, st.up.take(), false);
  }

  /** Closes the connection (a plugin asked, or failed under a closed policy). */
  close(details: string): void {
    if (this.#over) return;
    this.#over = true;
    this.#io?.close(details);
  }

  closed(downstream: ClosePeer, upstreamOpened: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#over = true;
    const peer = downstream === 'remote' ? PeerType.REMOTE : PeerType.LOCAL;
    for (const st of this.#stages) {
      const ctx = st.ctx;
      if (ctx === undefined) continue;
      if (upstreamOpened && !st.upstreamCloseSent) {
        st.upstreamCloseSent = true;
        ctx.onUpstreamClose(PeerType.LOCAL);
      }
      ctx.onDownstreamClose(peer);
      ctx.end();
    }
  }
}

/**
 * HTTP connection manager chains: runs the network plugins' new-connection callbacks, then `accept`
 * (never, when a plugin closed the connection); their close callbacks run when the socket closes.
 */
export function runWasmOnHttpConnection(configs: readonly WasmFilterConfig[], registry: WasmPluginRegistry | undefined, socket: Socket | Duplex, facts: ConnectionFacts, accept: () => void): void {
  const chain = new WasmNetworkChain(configs, registry, facts, 'http');
  let remoteFirst = false;
  const remote = (): void => {
    remoteFirst = true;
  };
  socket.once('end', remote);
  socket.once('error', remote);
  socket.once('close', () => chain.closed(remoteFirst ? 'remote' : 'local', false));
  const none = (): void => undefined;
  chain.start({ toUpstream: none, toDownstream: none, close: () => socket.destroy(), upstreamHost: () => '' }, accept);
}
