// Hostcalls on the stream the plugin is acting on (the effective context, see VmRuntime.streamTarget):
// header maps, buffers, local replies, continue/close, plus ABI 0.1.0's continue_request/response and
// clear_route_cache. Callout results (HTTP_CALL_RESPONSE_*, gRPC metadata/message) and configuration are
// served from the callback scope, read-only. Stream actions that could run plugin callbacks (local reply,
// continue, close) are queued to run after the guest returns (Envoy's addAfterVmCallAction).

import type { AbiVersion } from './abi.js';
import { BufferType, MAX_BUFFER_TYPE, MAX_MAP_TYPE, MapType, StreamType, WasmResult, isAbi02 } from './abi.js';
import type { WasmBuffer, WasmHeaderMap, WasmHttpStreamHost, WasmStreamHost } from './host-types.js';
import { ByteBuffer, HeaderList } from './memory-stream.js';
import { parsePairs, serializePairs, serializedPairsSize } from './pairs.js';
import type { VmRuntime } from './vm-runtime.js';
import type { HostFunction } from './wasi.js';

const NO_GRPC_STATUS = 0xffffffff;

function isHttpHost(h: WasmStreamHost): h is WasmHttpStreamHost {
  return typeof (h as Partial<WasmHttpStreamHost>).sendLocalResponse === 'function';
}

export function streamHostcalls(rt: VmRuntime, abi: AbiVersion): Record<string, HostFunction> {
  const { mem } = rt;
  const missingIsNotFound = isAbi02(abi);

  const mapFor = (type: number): WasmHeaderMap | undefined => {
    switch (type) {
      case MapType.HTTP_REQUEST_HEADERS:
      case MapType.HTTP_REQUEST_TRAILERS:
      case MapType.HTTP_RESPONSE_HEADERS:
      case MapType.HTTP_RESPONSE_TRAILERS:
        return rt.streamTarget()?.host?.getMap(type);
      case MapType.GRPC_CALL_INITIAL_METADATA:
        return rt.scope.grpcInitialMetadata === undefined ? undefined : new HeaderList(rt.scope.grpcInitialMetadata, false);
      case MapType.GRPC_CALL_TRAILING_METADATA:
        return rt.scope.grpcTrailingMetadata === undefined ? undefined : new HeaderList(rt.scope.grpcTrailingMetadata, false);
      case MapType.HTTP_CALL_RESPONSE_HEADERS:
        return rt.scope.callResponse === undefined ? undefined : new HeaderList(rt.scope.callResponse.headers, false);
      case MapType.HTTP_CALL_RESPONSE_TRAILERS:
        return rt.scope.callResponse === undefined ? undefined : new HeaderList(rt.scope.callResponse.trailers, false);
      default:
        return undefined;
    }
  };

  const bufferFor = (type: number): WasmBuffer | undefined => {
    switch (type) {
      case BufferType.HTTP_REQUEST_BODY:
      case BufferType.HTTP_RESPONSE_BODY:
      case BufferType.DOWNSTREAM_DATA:
      case BufferType.UPSTREAM_DATA:
        return rt.streamTarget()?.host?.getBuffer(type);
      case BufferType.HTTP_CALL_RESPONSE_BODY:
        return rt.scope.callResponse === undefined ? undefined : new ByteBuffer(rt.scope.callResponse.body, false);
      case BufferType.GRPC_CALL_MESSAGE:
        return rt.scope.grpcMessage === undefined ? undefined : new ByteBuffer(rt.scope.grpcMessage, false);
      // Configuration stays readable outside on_vm_start/on_configure: SDK helpers read it lazily.
      case BufferType.VM_CONFIGURATION:
        return new ByteBuffer(rt.env.vmConfig, false);
      case BufferType.PLUGIN_CONFIGURATION:
        return new ByteBuffer(rt.env.pluginConfig, false);
      default:
        return undefined;
    }
  };

  const keyOf = (ptr: number, len: number): string | undefined => mem.string(ptr, len)?.toLowerCase();

  const continueStream = (type: number): number => {
    if (type > StreamType.UPSTREAM) return WasmResult.BAD_ARGUMENT;
    const target = rt.streamTarget();
    if (target?.host === undefined) return WasmResult.BAD_ARGUMENT;
    // Resuming the very callback that is running: the proxy learns it from the callback's result.
    if (rt.running !== undefined && rt.running.rec === target && rt.running.direction === type) {
      rt.running.continued = true;
      return WasmResult.OK;
    }
    const host = target.host;
    rt.afterCall.push(() => void host.continueStream(type as StreamType));
    return WasmResult.OK;
  };

  return {
    proxy_get_header_map_value(type: number, keyPtr: number, keyLen: number, retData: number, retSize: number): number {
      if (type >>> 0 > MAX_MAP_TYPE) return WasmResult.BAD_ARGUMENT;
      const map = mapFor(type >>> 0);
      if (map === undefined) return WasmResult.BAD_ARGUMENT;
      const key = keyOf(keyPtr, keyLen);
      if (key === undefined) return WasmResult.INVALID_MEMORY_ACCESS;
      const value = map.get(key);
      if (value === undefined) {
        // ABI 0.1.0 answered OK with an empty value; 0.2.x answers NOT_FOUND (spec CHANGELOG).
        if (missingIsNotFound) return WasmResult.NOT_FOUND;
        return mem.returnBytes(new Uint8Array(0), retData, retSize);
      }
      return mem.returnBytes(value, retData, retSize);
    },
    proxy_add_header_map_value(type: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): number {
      const map = mapFor(type >>> 0);
      if (map === undefined) return WasmResult.BAD_ARGUMENT;
      const key = keyOf(keyPtr, keyLen);
      const value = mem.copy(valuePtr, valueLen);
      if (key === undefined || value === undefined) return WasmResult.INVALID_MEMORY_ACCESS;
      return map.add(key, value) ? WasmResult.OK : WasmResult.BAD_ARGUMENT;
    },
    proxy_replace_header_map_value(type: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): number {
      const map = mapFor(type >>> 0);
      if (map === undefined) return WasmResult.BAD_ARGUMENT;
      const key = keyOf(keyPtr, keyLen);
      const value = mem.copy(valuePtr, valueLen);
      if (key === undefined || value === undefined) return WasmResult.INVALID_MEMORY_ACCESS;
      return map.replace(key, value) ? WasmResult.OK : WasmResult.BAD_ARGUMENT;
    },
    proxy_remove_header_map_value(type: number, keyPtr: number, keyLen: number): number {
      const map = mapFor(type >>> 0);
      if (map === undefined) return WasmResult.BAD_ARGUMENT;
      const key = keyOf(keyPtr, keyLen);
      if (key === undefined) return WasmResult.INVALID_MEMORY_ACCESS;
      // Removing an absent key is OK: the Rust SDK panics on anything else.
      return map.remove(key) ? WasmResult.OK : WasmResult.BAD_ARGUMENT;
    },
    proxy_get_header_map_pairs(type: number, retData: number, retSize: number): number {
      const map = mapFor(type >>> 0);
      if (map === undefined) return WasmResult.BAD_ARGUMENT;
      return mem.returnBytes(serializePairs(map.pairs()), retData, retSize);
    },
    proxy_get_header_map_size(type: number, retSize: number): number {
      const map = mapFor(type >>> 0);
      if (map === undefined) return WasmResult.BAD_ARGUMENT;
      return mem.writeU32(retSize, serializedPairsSize(map.pairs())) ? WasmResult.OK : WasmResult.INVALID_MEMORY_ACCESS;
    },
    proxy_set_header_map_pairs(type: number, ptr: number, len: number): number {
      const map = mapFor(type >>> 0);
      if (map === undefined) return WasmResult.BAD_ARGUMENT;
      const bytes = mem.view(ptr, len);
      if (bytes === undefined) return WasmResult.INVALID_MEMORY_ACCESS;
      const pairs = parsePairs(bytes);
      if (pairs === undefined) return WasmResult.BAD_ARGUMENT;
      return map.setPairs(pairs.map(([n, v]) => [n.toLowerCase(), v] as const)) ? WasmResult.OK : WasmResult.BAD_ARGUMENT;
    },
    proxy_get_buffer_bytes(type: number, start: number, maxSize: number, retData: number, retSize: number): number {
      if (type >>> 0 > MAX_BUFFER_TYPE) return WasmResult.BAD_ARGUMENT;
      const buf = bufferFor(type >>> 0);
      if (buf === undefined) return WasmResult.NOT_FOUND;
      const s = start >>> 0;
      if (s > buf.length) return WasmResult.BAD_ARGUMENT;
      // maxSize is often usize::MAX (-1 in JS): normalised, and no u32 overflow with JS numbers.
      const end = Math.min(buf.length, s + (maxSize >>> 0));
      return mem.returnBytes(buf.read(s, end), retData, retSize);
    },
    proxy_get_buffer_status(type: number, retSize: number, retFlags: number): number {
      if (type >>> 0 > MAX_BUFFER_TYPE) return WasmResult.BAD_ARGUMENT;
      const buf = bufferFor(type >>> 0);
      if (buf === undefined) return WasmResult.NOT_FOUND;
      if (!mem.writeU32(retSize, buf.length) || !mem.writeU32(retFlags, 0)) return WasmResult.INVALID_MEMORY_ACCESS;
      return WasmResult.OK;
    },
    proxy_set_buffer_bytes(type: number, start: number, size: number, dataPtr: number, dataLen: number): number {
      if (type >>> 0 > MAX_BUFFER_TYPE) return WasmResult.BAD_ARGUMENT;
      const buf = bufferFor(type >>> 0);
      if (buf === undefined) return WasmResult.NOT_FOUND;
      const data = mem.copy(dataPtr, dataLen);
      if (data === undefined) return WasmResult.INVALID_MEMORY_ACCESS;
      const s = start >>> 0;
      // Spec: (0,0) prepends, start >= length appends, start < length replaces [start, start+size).
      const ok = s >= buf.length ? buf.splice(buf.length, 0, data) : buf.splice(s, size >>> 0, data);
      return ok ? WasmResult.OK : WasmResult.BAD_ARGUMENT;
    },
    proxy_send_local_response(
      status: number,
      detailsPtr: number,
      detailsLen: number,
      bodyPtr: number,
      bodyLen: number,
      headersPtr: number,
      headersLen: number,
      grpcStatus: number,
    ): number {
      const details = mem.string(detailsPtr, detailsLen);
      const body = mem.copy(bodyPtr, bodyLen);
      const rawHeaders = mem.view(headersPtr, headersLen);
      if (details === undefined || body === undefined || rawHeaders === undefined) return WasmResult.INVALID_MEMORY_ACCESS;
      const headers = parsePairs(rawHeaders);
      if (headers === undefined) return WasmResult.BAD_ARGUMENT;
      const target = rt.streamTarget();
      // No HTTP stream to answer (root context outside a callout, or a TCP connection): say so rather
      // than succeed silently as Envoy does (envoy#39797).
      if (target?.host === undefined || !isHttpHost(target.host)) return WasmResult.BAD_ARGUMENT;
      const host = target.host;
      const g = grpcStatus >>> 0;
      const reply = { status: status >>> 0, details, body, headers, grpcStatus: g === NO_GRPC_STATUS ? undefined : g };
      rt.afterCall.push(() => void host.sendLocalResponse(reply));
      return WasmResult.OK;
    },
    proxy_continue_stream: continueStream,
    proxy_close_stream(type: number): number {
      if (type >>> 0 > StreamType.UPSTREAM) return WasmResult.BAD_ARGUMENT;
      const target = rt.streamTarget();
      if (target?.host === undefined) return WasmResult.BAD_ARGUMENT;
      const host = target.host;
      rt.afterCall.push(() => void host.closeStream(type as StreamType));
      return WasmResult.OK;
    },
    proxy_continue_request(): number {
      return continueStream(StreamType.HTTP_REQUEST);
    },
    proxy_continue_response(): number {
      return continueStream(StreamType.HTTP_RESPONSE);
    },
    proxy_clear_route_cache(): number {
      const host = rt.streamTarget()?.host;
      if (host !== undefined && isHttpHost(host)) host.clearRouteCache?.();
      return WasmResult.OK;
    },
  };
}
