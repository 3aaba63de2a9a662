;; The add-header plugin written straight against the proxy-wasm ABI (0.2.1), with no SDK and no allocation:
;; on request headers it adds `x-wasm-request: hello` and removes `x-remove-me`, on response headers it adds
;; `x-wasm-response: hello`. What it costs per request is the host's own bookkeeping (context create, the
;; callbacks, three hostcalls, done/log/delete); bench/wasm.ts compares it with the SDK-built plugins.
(module
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_remove_header_map_value" (func $remove (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "x-wasm-request")
  (data (i32.const 32) "hello")
  (data (i32.const 48) "x-remove-me")
  (data (i32.const 64) "x-wasm-response")
  (global $heap (mut i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_1"))
  ;; The host hands results through this allocator; this plugin never asks for any.
  (func (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $n)))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $add (i32.const 0) (i32.const 16) (i32.const 14) (i32.const 32) (i32.const 5)))
    (drop (call $remove (i32.const 0) (i32.const 48) (i32.const 11)))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $add (i32.const 2) (i32.const 64) (i32.const 15) (i32.const 32) (i32.const 5)))
    (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32)))
