// Hostcalls that start outbound calls: proxy_http_call and the gRPC family (call, stream, send, cancel,
// close). The proxy performs the I/O (WasmPluginEnv.httpCall/grpcCall/grpcStream); results come back
// through VmRuntime.guest, which delivers them to the ROOT context once the guest is idle. A callout is
// owned by the stream that started it and is cancelled when that stream's context is deleted, so
// callbacks for a stream that ended are never delivered (Envoy cancels a context's requests on destroy).
// Statuses are limited to what the SDKs accept: http_call OK/BAD_ARGUMENT/INTERNAL_FAILURE, grpc_call
// and grpc_stream OK/PARSE_FAILURE/INTERNAL_FAILURE.

import { WasmResult } from './abi.js';
import type { WasmGrpcHandlers, WasmGrpcRequest } from './host-types.js';
import type { HeaderPairs } from './pairs.js';
import { parsePairs } from './pairs.js';
import type { PendingCallout, VmRuntime } from './vm-runtime.js';
import type { HostFunction } from './wasi.js';

export function calloutHostcalls(rt: VmRuntime): Record<string, HostFunction> {
  const { mem, env } = rt;

  const pairsAt = (ptr: number, len: number): HeaderPairs | 'memory' | 'parse' => {
    const raw = mem.view(ptr, len);
    if (raw === undefined) return 'memory';
    return parsePairs(raw) ?? 'parse';
  };

  const grpcHandlers = (token: number): WasmGrpcHandlers => ({
    onInitialMetadata: (md) => rt.guest.grpcEvent(token, 'onInitialMetadata', md),
    onMessage: (msg) => rt.guest.grpcEvent(token, 'onMessage', msg),
    onTrailingMetadata: (md) => rt.guest.grpcEvent(token, 'onTrailingMetadata', md),
    onClose: (status, message) => rt.guest.grpcEvent(token, 'onClose', status, message),
  });

  const grpcRequest = (
    upPtr: number, upLen: number, svcPtr: number, svcLen: number, mPtr: number, mLen: number, mdPtr: number, mdLen: number, timeout: number,
  ): WasmGrpcRequest | WasmResult => {
    const upstream = mem.copy(upPtr, upLen);
    const service = mem.string(svcPtr, svcLen);
    const method = mem.string(mPtr, mLen);
    const md = pairsAt(mdPtr, mdLen);
    if (upstream === undefined || service === undefined || method === undefined || md === 'memory') return WasmResult.INVALID_MEMORY_ACCESS;
    if (md === 'parse') return WasmResult.PARSE_FAILURE;
    return { upstream, service, method, initialMetadata: md, timeoutMs: timeout >>> 0 };
  };

  const grpcStatus = (s: WasmResult): WasmResult => (s === WasmResult.PARSE_FAILURE ? s : WasmResult.INTERNAL_FAILURE);

  return {
    proxy_http_call(
      upPtr: number, upLen: number, hPtr: number, hLen: number, bPtr: number, bLen: number, tPtr: number, tLen: number, timeout: number, retToken: number,
    ): number {
      const cluster = mem.string(upPtr, upLen);
      const headers = pairsAt(hPtr, hLen);
      const body = mem.copy(bPtr, bLen);
      const trailers = pairsAt(tPtr, tLen);
      if (cluster === undefined || body === undefined || headers === 'memory' || trailers === 'memory' || !mem.inBounds(retToken, 4)) {
        return WasmResult.INVALID_MEMORY_ACCESS;
      }
      if (headers === 'parse' || trailers === 'parse') return WasmResult.BAD_ARGUMENT;
      const token = rt.newToken();
      const owner = rt.calloutOwnerForNewCall();
      const start = env.httpCall({ cluster, headers, body, trailers, timeoutMs: timeout >>> 0 }, (response) =>
        rt.guest.httpCallResponse(token, response),
      );
      if (!start.ok) return start.status === WasmResult.BAD_ARGUMENT ? WasmResult.BAD_ARGUMENT : WasmResult.INTERNAL_FAILURE;
      rt.addCallout({ token, owner, cancel: start.cancel });
      mem.writeU32(retToken, token);
      return WasmResult.OK;
    },
    proxy_grpc_call(
      upPtr: number, upLen: number, svcPtr: number, svcLen: number, mPtr: number, mLen: number, mdPtr: number, mdLen: number,
      msgPtr: number, msgLen: number, timeout: number, retToken: number,
    ): number {
      const req = grpcRequest(upPtr, upLen, svcPtr, svcLen, mPtr, mLen, mdPtr, mdLen, timeout);
      const message = mem.copy(msgPtr, msgLen);
      if (message === undefined || !mem.inBounds(retToken, 4)) return WasmResult.INVALID_MEMORY_ACCESS;
      if (typeof req === 'number') return req;
      const token = rt.newToken();
      const owner = rt.calloutOwnerForNewCall();
      const start = env.grpcCall(req, message, grpcHandlers(token));
      if (!start.ok) return grpcStatus(start.status);
      rt.addCallout({ token, owner, cancel: start.cancel });
      mem.writeU32(retToken, token);
      return WasmResult.OK;
    },
    proxy_grpc_stream(
      upPtr: number, upLen: number, svcPtr: number, svcLen: number, mPtr: number, mLen: number, mdPtr: number, mdLen: number, retToken: number,
    ): number {
      const req = grpcRequest(upPtr, upLen, svcPtr, svcLen, mPtr, mLen, mdPtr, mdLen, 0);
      if (!mem.inBounds(retToken, 4)) return WasmResult.INVALID_MEMORY_ACCESS;
      if (typeof req === 'number') return req;
      const token = rt.newToken();
      const owner = rt.calloutOwnerForNewCall();
      const start = env.grpcStream(req, grpcHandlers(token));
      if (!start.ok) return grpcStatus(start.status);
      const callout: PendingCallout = { token, owner, cancel: start.cancel, send: start.send, close: start.close };
      rt.addCallout(callout);
      mem.writeU32(retToken, token);
      return WasmResult.OK;
    },
    proxy_grpc_send(token: number, msgPtr: number, msgLen: number, endStream: number): number {
      const c = rt.callouts.get(token >>> 0);
      if (c === undefined) return WasmResult.NOT_FOUND;
      if (c.send === undefined) return WasmResult.BAD_ARGUMENT;
      const message = mem.copy(msgPtr, msgLen);
      if (message === undefined) return WasmResult.INVALID_MEMORY_ACCESS;
      const r = c.send(message, endStream !== 0);
      return r === WasmResult.OK ? WasmResult.OK : WasmResult.BAD_ARGUMENT;
    },
    proxy_grpc_cancel(token: number): number {
      const c = rt.takeCallout(token >>> 0);
      if (c === undefined) return WasmResult.NOT_FOUND;
      c.cancel();
      return WasmResult.OK;
    },
    proxy_grpc_close(token: number): number {
      const c = rt.callouts.get(token >>> 0);
      if (c === undefined) return WasmResult.NOT_FOUND;
      if (c.close !== undefined) {
        // Half-close a stream: the server may still answer; the callout stays until onClose.
        c.close();
        return WasmResult.OK;
      }
      rt.takeCallout(c.token);
      c.cancel();
      return WasmResult.OK;
    },
  };
}
