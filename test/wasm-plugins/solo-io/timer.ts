// timer (solo-io SDK): periodic work in the root context.
// Config (JSON): {"tick_ms": 1000} (default 1000; 0 disables the timer). Root id "timer".
// proxy_on_configure calls proxy_set_tick_period_milliseconds(tick_ms).
// proxy_on_tick increments shared-data key "ticks" (decimal text, CAS) and logs (info)
// "tick <n>" with the new value.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
export * from "@solo-io/proxy-runtime/proxy";
import { RootContext, Context, log, LogLevelValues, set_tick_period_milliseconds } from "@solo-io/proxy-runtime/runtime";
import { ConfiguredRoot, registerBoth } from "./lib/configured-root";
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

registerBoth((context_id: u32): RootContext => new TimerRoot(context_id), "timer");
