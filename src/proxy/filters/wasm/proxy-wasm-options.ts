// How a proxy process (single, primary or worker) sets up its Wasm plugins from its flags: the module
// fetcher on the cache folder (none: remote modules cannot load, and say so), the node the `node.*`
// properties answer from, the proxy environment for host_env_keys, and the sandbox limits.

import type { JsonObject } from '@bufbuild/protobuf';
import type { Clock } from '../../../lib/clock.js';
import type { Logger } from '../../../lib/logger.js';
import type { ModuleFetcher, ModuleFetcherOptions } from '../../wasm/fetch/module-fetcher.js';
import type { WasmNodeInfo } from './plugin-env.js';

export interface ProxyWasmOptions {
  readonly cacheDir?: string;
  /** Registries reached over TLS without verification (Istio's --insecure-registry). */
  readonly insecureRegistries?: readonly string[];
  readonly cpuLimitMs?: number;
  readonly maxMemoryPages?: number;
  /** The proxy's environment for plugins' host_env_keys. */
  readonly hostEnv?: (key: string) => string | undefined;
}

/** What DataPlane takes (DataPlaneWasmOptions), built from the flags. */
export interface WasmSetup {
  readonly fetcher?: ModuleFetcher;
  readonly node: WasmNodeInfo;
  readonly hostEnv?: (key: string) => string | undefined;
  readonly cpuLimitMs?: number;
  readonly maxMemoryPages?: number;
}

/** The node as `node.*` properties show it: id, cluster, and the string-valued metadata. */
export function wasmNode(node: { id: string; cluster: string; metadata?: JsonObject | undefined }): WasmNodeInfo {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(node.metadata ?? {})) if (typeof v === 'string') metadata[k] = v;
  return { id: node.id, cluster: node.cluster, metadata };
}

/** A fetcher whose code (OCI client, tar reader, cache) loads with the first remote module. */
function lazyFetcher(opts: ModuleFetcherOptions): ModuleFetcher {
  let real: Promise<ModuleFetcher> | undefined;
  const get = (): Promise<ModuleFetcher> => (real ??= import('../../wasm/fetch/module-fetcher.js').then((m) => m.createModuleFetcher(opts)));
  return {
    fetch: async (req) => (await get()).fetch(req),
    close: async () => {
      if (real !== undefined) await (await real).close();
    },
  };
}

export function wasmSetup(o: ProxyWasmOptions | undefined, node: WasmNodeInfo, clock: Clock, logger: Logger): WasmSetup {
  const insecure = new Set(o?.insecureRegistries ?? []);
  const fetcher = o?.cacheDir === undefined ? undefined : lazyFetcher({ cacheDir: o.cacheDir, clock, insecureRegistries: (host) => insecure.has(host), log: (msg) => logger.info(msg) });
  return {
    node,
    ...(fetcher !== undefined ? { fetcher } : {}),
    ...(o?.hostEnv !== undefined ? { hostEnv: o.hostEnv } : {}),
    ...(o?.cpuLimitMs !== undefined ? { cpuLimitMs: o.cpuLimitMs } : {}),
    ...(o?.maxMemoryPages !== undefined ? { maxMemoryPages: o.maxMemoryPages } : {}),
  };
}
