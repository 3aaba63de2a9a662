// Root context base for the gcore (@gcoredev/proxy-wasm-sdk-as 1.2.3) plugins: reads the plugin
// configuration (an empty one resets it, unlike the stock onConfigure, which keeps the previous
// text) and hands it to `configure()`. The gcore SDK keeps a single root context and ignores the
// root id passed to registerRootContext, so every root id reaches the same factory.
// @ts-nocheck  (AssemblyScript source: not part of the Node TypeScript program)
import { RootContext, get_buffer_bytes, BufferTypeValues } from "@gcoredev/proxy-wasm-sdk-as/assembly";

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
