// The Wasm test plugins (test/wasm-plugins, compiled from AssemblyScript with two proxy-wasm SDKs) for the
// suites that run them: built once per process (the build skips unchanged plugins), then found by SDK and
// name.

import { pathToFileURL } from 'node:url';
import { ROOT } from './cli.js';

interface Builder {
  buildWasmPlugins(o: { quiet: boolean }): Promise<unknown>;
  wasmPluginPath(sdk: string, name: string): string;
}

export interface TestPlugins {
  /** Absolute path of a built plugin, e.g. path('gcore', 'add-header'). */
  path(sdk: 'gcore' | 'solo-io', name: string): string;
}

let built: Promise<TestPlugins> | undefined;

export function testPlugins(): Promise<TestPlugins> {
  built ??= (async () => {
    const b = (await import(pathToFileURL(`${ROOT}scripts/build-wasm-plugins.mjs`).href)) as Builder;
    await b.buildWasmPlugins({ quiet: true });
    return { path: (sdk, name) => b.wasmPluginPath(sdk, name) };
  })();
  return built;
}
