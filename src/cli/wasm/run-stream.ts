// The one HTTP stream `isthmus wasm run` drives through a plugin, held in memory (the host's
// WasmHttpStreamHost): request headers with the pseudo-headers the proxy shows (:authority, :path,
// :method, :scheme), response headers with :status, both bodies, filter state, and what the plugin asked
// for — a local reply, a continue, a close — recorded and signalled to the runner. It does no I/O and
// never calls into the plugin; the host calls it only after the guest returned.
// Writability follows the proxy: request headers and body can change until the request goes upstream,
// the response until it goes downstream; a local reply is refused once the response was sent.

import { int64Value as int64 } from '../../proxy/filters/wasm/property-values.js';
import { BufferType, MapType, StreamType, WasmResult } from '../../proxy/wasm/abi.js';
import type { WasmBuffer, WasmHeaderMap, WasmHttpStreamHost, WasmLocalReply } from '../../proxy/wasm/host-types.js';
import { ByteBuffer, HeaderList } from '../../proxy/wasm/memory-stream.js';
import { serializePairs } from '../../proxy/wasm/pairs.js';

const enc = new TextEncoder();

/** What the stream tells the runner while it waits for a paused plugin. */
export type StreamEvent = 'continue-request' | 'continue-response' | 'local-reply' | 'closed';

export class RunStream implements WasmHttpStreamHost {
  readonly requestHeaders: HeaderList;
  readonly requestBody: ByteBuffer;
  responseHeaders: HeaderList | undefined;
  readonly responseBody = new ByteBuffer(new Uint8Array(0), false);
  /** Set when the plugin answered locally (at most one: later ones are refused). */
  localReply: WasmLocalReply | undefined;
  /** Directions the plugin closed (proxy_close_stream). */
  readonly closed: StreamType[] = [];
  /** The response head went downstream: no local reply any more. */
  responseSent = false;
  /** Called on every event; the runner resolves its waits from here. */
  onEvent: (e: StreamEvent) => void = () => undefined;
  private readonly filterState = new Map<string, Uint8Array>();

  constructor(requestHeaders: ReadonlyArray<readonly [string, string]>, requestBody: Uint8Array) {
    this.requestHeaders = HeaderList.of(requestHeaders);
    this.requestBody = new ByteBuffer(requestBody, false);
  }

  /** The simulated upstream answered: its head becomes visible to the plugin. */
  setResponse(headers: ReadonlyArray<readonly [string, string]>, body: Uint8Array): void {
    this.responseHeaders = HeaderList.of(headers);
    this.responseBody.writable = true;
    this.responseBody.splice(0, this.responseBody.length, body);
    this.responseBody.writable = false;
  }

  getMap(type: MapType): WasmHeaderMap | undefined {
    if (type === MapType.HTTP_REQUEST_HEADERS) return this.requestHeaders;
    if (type === MapType.HTTP_RESPONSE_HEADERS) return this.responseHeaders;
    return undefined;
  }

  getBuffer(type: BufferType): WasmBuffer | undefined {
    if (type === BufferType.HTTP_REQUEST_BODY) return this.requestBody;
    if (type === BufferType.HTTP_RESPONSE_BODY) return this.responseHeaders === undefined ? undefined : this.responseBody;
    return undefined;
  }

  getProperty(path: readonly string[]): Uint8Array | undefined {
    const state = this.filterState.get(path.join('.'));
    if (state !== undefined) return state;
    const [root, key, sub] = path;
    if (root === 'request') return this.requestProperty(key, sub);
    if (root === 'response') return this.responseProperty(key, sub);
    return undefined;
  }

  private requestProperty(key: string | undefined, sub: string | undefined): Uint8Array | undefined {
    const h = this.requestHeaders;
    const path = new TextDecoder().decode(h.get(':path') ?? new Uint8Array(0));
    const q = path.indexOf('?');
    switch (key) {
      case 'path':
        return h.get(':path');
      case 'url_path':
        return enc.encode(q < 0 ? path : path.slice(0, q));
      case 'query':
        return enc.encode(q < 0 ? '' : path.slice(q + 1));
      case 'host':
        return h.get(':authority');
      case 'scheme':
        return h.get(':scheme');
      case 'method':
        return h.get(':method');
      case 'protocol':
        return enc.encode('HTTP/1.1');
      case 'headers':
        return sub === undefined ? serializePairs(h.pairs()) : h.get(sub.toLowerCase());
      case 'referer':
        return h.get('referer');
      case 'useragent':
        return h.get('user-agent');
      case 'id':
        return h.get('x-request-id');
      case 'size':
      case 'total_size':
        return int64(this.requestBody.length);
      default:
        return undefined;
    }
  }

  private responseProperty(key: string | undefined, sub: string | undefined): Uint8Array | undefined {
    const h = this.responseHeaders;
    if (h === undefined) return undefined;
    switch (key) {
      case 'code': {
        const status = Number(new TextDecoder().decode(h.get(':status') ?? new Uint8Array(0)));
        return Number.isInteger(status) ? int64(status) : undefined;
      }
      case 'headers':
        return sub === undefined ? serializePairs(h.pairs()) : h.get(sub.toLowerCase());
      case 'size':
      case 'total_size':
        return int64(this.responseBody.length);
      default:
        return undefined;
    }
  }

  setProperty(path: readonly string[], value: Uint8Array): WasmResult {
    this.filterState.set(path.join('.'), value);
    return WasmResult.OK;
  }

  continueStream(type: StreamType): WasmResult {
    if (type === StreamType.HTTP_REQUEST) this.onEvent('continue-request');
    else if (type === StreamType.HTTP_RESPONSE) this.onEvent('continue-response');
    else return WasmResult.BAD_ARGUMENT;
    return WasmResult.OK;
  }

  closeStream(type: StreamType): WasmResult {
    if (type !== StreamType.HTTP_REQUEST && type !== StreamType.HTTP_RESPONSE) return WasmResult.BAD_ARGUMENT;
    this.closed.push(type);
    this.onEvent('closed');
    return WasmResult.OK;
  }

  sendLocalResponse(reply: WasmLocalReply): WasmResult {
    if (this.responseSent || this.localReply !== undefined) return WasmResult.BAD_ARGUMENT;
    this.localReply = reply;
    this.onEvent('local-reply');
    return WasmResult.OK;
  }
}
