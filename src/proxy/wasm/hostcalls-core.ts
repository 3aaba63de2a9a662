// Hostcalls that do not touch a stream's headers or bodies: logging and log level, time, ticks,
// effective context and proxy_done, properties, proxy_get_status, foreign functions, metrics, shared data
// and shared queues, and ABI 0.1.0's proxy_get_configuration. Each returns exactly the statuses the spec
// lists for it (SDKs panic on others) and never throws for bad guest pointers.

import { LogLevel, MetricType, WasmResult } from './abi.js';
import { decodeUtf8, encodeUtf8 } from './guest-memory.js';
import type { VmRuntime } from './vm-runtime.js';
import type { HostFunction } from './wasi.js';

const PROPERTY_MAP_PREFIXES = new Set(['request.headers', 'response.headers', 'response.trailers', 'request.trailers']);

/**
 * Splits a property path. SDKs send NUL-separated segments ("request\0path\0"); AssemblyScript sends a
 * plain string; docs write dotted paths ("request.path"). A single dotted segment is split on dots,
 * keeping header names and metadata keys (which may contain dots) whole.
 */
export function parsePropertyPath(raw: string): string[] {
  const segs = raw.split('\0').filter((s) => s !== '');
  if (segs.length !== 1) return segs;
  const only = segs[0] as string;
  if (!only.includes('.')) return segs;
  const parts = only.split('.');
  const head = `${parts[0]}.${parts[1]}`;
  if (parts.length > 3 && (PROPERTY_MAP_PREFIXES.has(head) || head === 'node.metadata')) {
    return [parts[0] as string, parts[1] as string, parts.slice(2).join('.')];
  }
  return parts;
}

export function coreHostcalls(rt: VmRuntime): Record<string, HostFunction> {
  const { mem, env } = rt;
  const builtins = new Map<string, Uint8Array>([
    ['plugin_name', encodeUtf8(env.name)],
    ['plugin_root_id', encodeUtf8(env.rootId)],
    ['plugin_vm_id', encodeUtf8(env.vmId)],
  ]);

  const lookupProperty = (path: string[]): Uint8Array | undefined => {
    if (path.length === 1) {
      const b = builtins.get(path[0] as string);
      if (b !== undefined) return b;
    }
    const target = rt.streamTarget();
    const fromStream = target?.host?.getProperty(path);
    if (fromStream !== undefined) return fromStream;
    return env.getProperty(path);
  };

  return {
    proxy_log(level: number, ptr: number, len: number): number {
      const lvl = level >>> 0;
      if (lvl > LogLevel.CRITICAL) return WasmResult.BAD_ARGUMENT;
      // Below the log level the message is only bounds-checked, never decoded.
      if (lvl < env.log.level()) return len >>> 0 === 0 || mem.inBounds(ptr, len) ? WasmResult.OK : WasmResult.INVALID_MEMORY_ACCESS;
      const msg = mem.string(ptr, len);
      if (msg === undefined) return WasmResult.INVALID_MEMORY_ACCESS;
      env.log.log(lvl as LogLevel, msg);
      return WasmResult.OK;
    },
    proxy_get_log_level(retPtr: number): number {
      return mem.writeU32(retPtr, env.log.level()) ? WasmResult.OK : WasmResult.INVALID_MEMORY_ACCESS;
    },
    proxy_get_current_time_nanoseconds(retPtr: number): number {
      const ns = BigInt(Math.round(env.clock.now())) * 1_000_000n;
      return mem.writeU64(retPtr, ns) ? WasmResult.OK : WasmResult.INVALID_MEMORY_ACCESS;
    },
    proxy_set_tick_period_milliseconds(period: number): number {
      rt.setTick(period >>> 0);
      return WasmResult.OK;
    },
    proxy_set_effective_context(id: number): number {
      const rec = rt.contexts.get(id >>> 0);
      if (rec === undefined || rec.deleted) return WasmResult.BAD_ARGUMENT;
      rt.effectiveContextId = rec.id;
      return WasmResult.OK;
    },
    proxy_done(): number {
      const rec = rt.activeContext();
      if (rec === undefined || !rec.awaitingDone) return WasmResult.NOT_FOUND;
      rec.awaitingDone = false;
      rt.afterCall.push(() => rt.guest.contextDone(rec));
      return WasmResult.OK;
    },
    proxy_get_property(pathPtr: number, pathLen: number, retData: number, retSize: number): number {
      const raw = mem.view(pathPtr, pathLen);
      if (raw === undefined) return WasmResult.INVALID_MEMORY_ACCESS;
      const value = lookupProperty(parsePropertyPath(decodeUtf8(raw)));
      if (value === undefined) return WasmResult.NOT_FOUND;
      return mem.returnBytes(value, retData, retSize);
    },
    proxy_set_property(pathPtr: number, pathLen: number, valuePtr: number, valueLen: number): number {
      const raw = mem.view(pathPtr, pathLen);
      const value = mem.copy(valuePtr, valueLen);
      if (raw === undefined || value === undefined) return WasmResult.INVALID_MEMORY_ACCESS;
      const target = rt.streamTarget();
      if (target?.host === undefined) return WasmResult.NOT_FOUND;
      const r = target.host.setProperty(parsePropertyPath(decodeUtf8(raw)), value);
      return r === WasmResult.OK ? WasmResult.OK : WasmResult.NOT_FOUND;
    },
    proxy_get_status(codePtr: number, msgPtrPtr: number, msgSizePtr: number): number {
      if (!mem.writeU32(codePtr, rt.status.code)) return WasmResult.INVALID_MEMORY_ACCESS;
      return mem.returnBytes(encodeUtf8(rt.status.message), msgPtrPtr, msgSizePtr);
    },
    proxy_call_foreign_function(): number {
      // No foreign functions are registered (Envoy's are Envoy-specific, e.g. set_envoy_filter_state).
      return WasmResult.NOT_FOUND;
    },
    proxy_define_metric(type: number, namePtr: number, nameLen: number, retId: number): number {
      const t = type >>> 0;
      if (t > MetricType.HISTOGRAM) return WasmResult.BAD_ARGUMENT;
      const name = mem.string(namePtr, nameLen);
      if (name === undefined || !mem.inBounds(retId, 4)) return WasmResult.INVALID_MEMORY_ACCESS;
      const id = rt.defineMetric(t as MetricType, name);
      if (id === undefined) return WasmResult.BAD_ARGUMENT;
      mem.writeU32(retId, id);
      return WasmResult.OK;
    },
    proxy_record_metric(id: number, value: bigint): number {
      const m = rt.metrics.get(id >>> 0);
      if (m === undefined) return WasmResult.NOT_FOUND;
      m.metric.record(BigInt.asUintN(64, value));
      return WasmResult.OK;
    },
    proxy_increment_metric(id: number, delta: bigint): number {
      const m = rt.metrics.get(id >>> 0);
      if (m === undefined) return WasmResult.NOT_FOUND;
      if (m.type === MetricType.HISTOGRAM) return WasmResult.BAD_ARGUMENT;
      m.metric.increment(BigInt.asIntN(64, delta));
      return WasmResult.OK;
    },
    proxy_get_metric(id: number, retPtr: number): number {
      const m = rt.metrics.get(id >>> 0);
      if (m === undefined) return WasmResult.NOT_FOUND;
      return mem.writeU64(retPtr, m.metric.get()) ? WasmResult.OK : WasmResult.INVALID_MEMORY_ACCESS;
    },
    proxy_get_shared_data(keyPtr: number, keyLen: number, retData: number, retSize: number, retCas: number): number {
      const key = mem.string(keyPtr, keyLen);
      if (key === undefined) return WasmResult.INVALID_MEMORY_ACCESS;
      const entry = rt.sharedData.get(env.vmId, key);
      if (entry === undefined) return WasmResult.NOT_FOUND;
      if (!mem.inBounds(retCas, 4)) return WasmResult.INVALID_MEMORY_ACCESS;
      const r = mem.returnBytes(entry.value, retData, retSize);
      if (r !== WasmResult.OK) return r;
      mem.writeU32(retCas, entry.cas);
      return WasmResult.OK;
    },
    proxy_set_shared_data(keyPtr: number, keyLen: number, valuePtr: number, valueLen: number, cas: number): number {
      const key = mem.string(keyPtr, keyLen);
      const value = mem.view(valuePtr, valueLen);
      if (key === undefined || value === undefined) return WasmResult.INVALID_MEMORY_ACCESS;
      return rt.sharedData.set(env.vmId, key, value, cas >>> 0);
    },
    proxy_register_shared_queue(namePtr: number, nameLen: number, retId: number): number {
      const name = mem.string(namePtr, nameLen);
      if (name === undefined || !mem.inBounds(retId, 4)) return WasmResult.INVALID_MEMORY_ACCESS;
      mem.writeU32(retId, rt.queues.register(env.vmId, name, rt.queueListener));
      return WasmResult.OK;
    },
    proxy_resolve_shared_queue(vmPtr: number, vmLen: number, namePtr: number, nameLen: number, retId: number): number {
      const vmId = mem.string(vmPtr, vmLen);
      const name = mem.string(namePtr, nameLen);
      if (vmId === undefined || name === undefined || !mem.inBounds(retId, 4)) return WasmResult.INVALID_MEMORY_ACCESS;
      const id = rt.queues.resolve(vmId === '' ? env.vmId : vmId, name);
      if (id === undefined) return WasmResult.NOT_FOUND;
      mem.writeU32(retId, id);
      return WasmResult.OK;
    },
    proxy_enqueue_shared_queue(id: number, valuePtr: number, valueLen: number): number {
      const value = mem.view(valuePtr, valueLen);
      if (value === undefined) return WasmResult.INVALID_MEMORY_ACCESS;
      return rt.queues.enqueue(id >>> 0, value);
    },
    proxy_dequeue_shared_queue(id: number, retData: number, retSize: number): number {
      const r = rt.queues.dequeue(id >>> 0);
      if (r.status !== WasmResult.OK) return r.status;
      return mem.returnBytes(r.value, retData, retSize);
    },
    // ABI 0.1.0: the configuration of the running callback (vm config in on_vm_start, else plugin config).
    proxy_get_configuration(retData: number, retSize: number): number {
      const bytes = rt.scope.configuration?.bytes ?? env.pluginConfig;
      return mem.returnBytes(bytes, retData, retSize);
    },
    // Registered by cpp-host for Emscripten-built modules.
    emscripten_notify_memory_growth(): void {},
    pthread_equal(a: number, b: number): number {
      return a === b ? 1 : 0;
    },
  };
}
