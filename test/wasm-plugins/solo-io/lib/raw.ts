// Raw proxy-wasm imports for what @solo-io/proxy-runtime 0.1.8 lacks or gets wrong, with small
// typed wrappers. SDK defects worked around here:
//   - get_shared_data(key, value) passes an ArrayBuffer as the out-pointer and its byteLength as
//     the size out-pointer; set_shared_data(key) takes no value; neither exposes CAS.
//   - register_shared_queue(name, token) passes the token VALUE where the ABI wants a pointer.
//   - there is no set_buffer_bytes wrapper, and imports.ts binds `proxy_set_buffer_status` to the
//     host name "proxy_get_buffer_status".
// Host-allocated results come back through the module's exported `malloc` (0.1.8 returns a
// retained ArrayBuffer); `take()` adopts it and drops the extra reference like the SDK does.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
import { free } from "@solo-io/proxy-runtime/malloc";

@external("env", "proxy_get_shared_data")
declare function proxy_get_shared_data(key: usize, key_size: usize, value_out: usize, size_out: usize, cas_out: usize): u32;
@external("env", "proxy_set_shared_data")
declare function proxy_set_shared_data(key: usize, key_size: usize, value: usize, value_size: usize, cas: u32): u32;
@external("env", "proxy_register_shared_queue")
declare function proxy_register_shared_queue(name: usize, name_size: usize, token_out: usize): u32;
@external("env", "proxy_enqueue_shared_queue")
declare function proxy_enqueue_shared_queue(token: u32, data: usize, data_size: usize): u32;
@external("env", "proxy_dequeue_shared_queue")
declare function proxy_dequeue_shared_queue(token: u32, data_out: usize, size_out: usize): u32;
@external("env", "proxy_set_buffer_bytes")
declare function proxy_set_buffer_bytes(buffer_type: u32, start: u32, size: u32, data: usize, data_size: usize): u32;

/** Out-parameter block the host writes into (pointer, size, cas/token). */
class Out {
  ptr: usize = 0;
  size: usize = 0;
  word: u32 = 0;
  ptrAt(): usize { return changetype<usize>(this) + offsetof<Out>("ptr"); }
  sizeAt(): usize { return changetype<usize>(this) + offsetof<Out>("size"); }
  wordAt(): usize { return changetype<usize>(this) + offsetof<Out>("word"); }
  take(): ArrayBuffer {
    if (this.size == 0) return new ArrayBuffer(0);
    const data = changetype<ArrayBuffer>(this.ptr);
    free(this.ptr);
    return data;
  }
}
const out = new Out();

export class SharedValue {
  status: u32 = 0;
  value: string = "";
  cas: u32 = 0;
}

export function getSharedData(key: string): SharedValue {
  const k = String.UTF8.encode(key);
  const r = new SharedValue();
  out.ptr = 0; out.size = 0; out.word = 0;
  r.status = proxy_get_shared_data(changetype<usize>(k), k.byteLength, out.ptrAt(), out.sizeAt(), out.wordAt());
  if (r.status == 0) {
    r.value = String.UTF8.decode(out.take());
    r.cas = out.word;
  }
  return r;
}

export function setSharedData(key: string, value: string, cas: u32): u32 {
  const k = String.UTF8.encode(key);
  const v = String.UTF8.encode(value);
  return proxy_set_shared_data(changetype<usize>(k), k.byteLength, changetype<usize>(v), v.byteLength, cas);
}

/** Registers the queue; returns the token, or 0xFFFFFFFF on failure. */
export function registerSharedQueue(name: string): u32 {
  const n = String.UTF8.encode(name);
  out.word = 0;
  const status = proxy_register_shared_queue(changetype<usize>(n), n.byteLength, out.wordAt());
  return status == 0 ? out.word : 0xFFFFFFFF;
}

export function enqueueSharedQueue(token: u32, data: string): u32 {
  const d = String.UTF8.encode(data);
  return proxy_enqueue_shared_queue(token, changetype<usize>(d), d.byteLength);
}

export class Dequeued {
  status: u32 = 0;
  data: string = "";
}

export function dequeueSharedQueue(token: u32): Dequeued {
  const r = new Dequeued();
  out.ptr = 0; out.size = 0;
  r.status = proxy_dequeue_shared_queue(token, out.ptrAt(), out.sizeAt());
  if (r.status == 0) r.data = String.UTF8.decode(out.take());
  return r;
}

export function setBufferBytes(bufferType: u32, start: u32, size: u32, data: ArrayBuffer): u32 {
  return proxy_set_buffer_bytes(bufferType, start, size, changetype<usize>(data), data.byteLength);
}
