// timer (gcore SDK): periodic work in the root context.
// Config (JSON): {"tick_ms": 1000} (default 1000; 0 disables the timer). Any root id.
// proxy_on_configure calls proxy_set_tick_period_milliseconds(tick_ms).
// proxy_on_tick increments shared-data key "ticks" (decimal text, CAS) and logs (info)
// "tick <n>" with the new value.
// Logs go through WASI fd_write on stdout, prefixed "[INFO]: " / "[WARN]: " (gcore SDK log()).
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import { RootContext, Context, registerRootContext, log, LogLevelValues, set_tick_period_milliseconds } from "@gcoredev/proxy-wasm-sdk-as/assembly";
import { ConfiguredRoot } from "./lib/configured-root";
import { isJsonObject, jsonInt } from "../common/json";
import { incrementSharedCounter } from "./lib/shared-counter";

class TimerRoot extends ConfiguredRoot {
  configure(config: string): bool {
    if (config.length > 0 && !isJsonObject(config)) return false;
    set_tick_period_milliseconds(<u32>jsonInt(config, "tick_ms", 1000));
    return true;
  }
  onTick(): void {
    log(LogLevelValues.info, "tick " + incrementSharedCounter("ticks").toString());
  }
  createContext(context_id: u32): Context {
    return new Context(context_id, this);
  }
}

registerRootContext((context_id: u32): RootContext => new TimerRoot(context_id), "timer");
