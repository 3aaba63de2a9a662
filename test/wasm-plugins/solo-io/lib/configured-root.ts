// Root context base for the solo-io (@solo-io/proxy-runtime 0.1.8) plugins: reads the plugin
// configuration correctly and hands it to `configure()`.
// Why: the stock RootContext.onConfigure in 0.1.8 passes `configuration_size` where the host
// expects a pointer for the returned size (fixed upstream after 0.1.8, PR #69), so a host
// writes the size to a bogus address and an empty configuration traps. This base reads
// PLUGIN_CONFIGURATION with the SDK's get_buffer_bytes instead. Also `registerBoth` registers a
// root factory under "" and under the plugin's own root id: 0.1.8 picks the factory by the
// `plugin_root_id` property and aborts (proc_exit 255) on an unknown id.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
import {
  RootContext, registerRootContext, get_buffer_bytes, BufferTypeValues,
} from "@solo-io/proxy-runtime/runtime";

export class ConfiguredRoot extends RootContext {
  config: string = "";

  onConfigure(configuration_size: u32): bool {
    if (configuration_size == 0) {
      this.config = "";
    } else {
      const buf = get_buffer_bytes(BufferTypeValues.PluginConfiguration, 0, configuration_size);
      this.config = String.UTF8.decode(buf);
    }
    return this.configure(this.config);
  }

  /** Parse `config`; return false to reject it (proxy_on_configure returns 0). */
  configure(config: string): bool {
    return true;
  }
}

export function registerBoth(factory: (context_id: u32) => RootContext, rootId: string): void {
  registerRootContext(factory, "");
  registerRootContext(factory, rootId);
}
