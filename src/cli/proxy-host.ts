// `isthmus proxies --spec <file.json>`: several proxies in one process, each exactly what `isthmus proxy`
// runs (its own bootstrap, node id, xDS stream, listeners, admin, readiness and Prometheus ports), sharing
// only the Node runtime. `isthmus up` runs its pods' sidecars and gateways this way: one process loads the
// proxy's code once instead of once per pod, which takes the demo's start from ~10 s to a few and its
// memory from ~1 GB to a few hundred MB (`isthmus up --isolate-proxies` gives each proxy its own process).
// The spec file is watched: proxies added to it start, removed ones drain and stop, changed ones restart.
// A proxy that cannot start (a port in use) is reported and the others keep running.
//   {"proxies": [{"name": "reviews-v1-x.default", "bootstrap": "/tmp/b.json", "captureAddress": "127.10.0.4",
//                 "appAddress": "127.11.0.4", "bindAddress": "127.0.0.1", "portMap": [[8080, 18080]]}]}

import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { watchFile, unwatchFile } from 'node:fs';
import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { IsthmusError } from '../lib/errors.js';
import { createSwitchableLogger } from '../lib/logger.js';
import { readBootstrap } from '../proxy/bootstrap.js';
import { startProxy, type ProxyIdentityOptions, type RunningProxy } from '../proxy/proxy.js';
import { defaultWasmCacheDir, identityOptions } from './proxy.js';
import type { CliIO } from './output.js';

export interface HostedProxySpec {
  readonly name: string;
  readonly bootstrap: string;
  readonly captureAddress?: string;
  readonly appAddress?: string;
  readonly bindAddress?: string;
  readonly portMap?: readonly (readonly [number, number])[];
  /** The workload token file: the proxy gets its mTLS certificate from the CA with it. */
  readonly tokenFile?: string;
}

/** The spec's problems as `proxies[i].field: reason` lines, or the entries. */
export function parseHostSpec(text: string, file: string): { ok: true; proxies: HostedProxySpec[] } | { ok: false; problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, problems: [`${file}: not JSON: ${e instanceof Error ? e.message : String(e)}`] };
  }
  const list = (raw as { proxies?: unknown } | null)?.proxies;
  if (!Array.isArray(list)) return { ok: false, problems: [`${file}: proxies: must be a list`] };
  const problems: string[] = [];
  const proxies: HostedProxySpec[] = [];
  const names = new Set<string>();
  list.forEach((p: unknown, i) => {
    const at = `${file}: proxies[${i}]`;
    const o = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
    const str = (k: string, required: boolean): string | undefined => {
      const v = o[k];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'string' || v === '') problems.push(`${at}.${k}: must be a non-empty string`);
      return typeof v === 'string' ? v : undefined;
    };
    const name = str('name', true);
    const bootstrap = str('bootstrap', true);
    const captureAddress = str('captureAddress', false);
    const appAddress = str('appAddress', false);
    const bindAddress = str('bindAddress', false);
    const tokenFile = str('tokenFile', false);
    const pm = o['portMap'];
    const portOk = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535;
    if (pm !== undefined && !(Array.isArray(pm) && pm.every((x) => Array.isArray(x) && x.length === 2 && portOk(x[0]) && portOk(x[1]))))
      problems.push(`${at}.portMap: must be a list of [listener port, bound port] pairs`);
    if (name !== undefined && names.has(name)) problems.push(`${at}.name: "${name}" appears twice`);
    if (name !== undefined) names.add(name);
    if (name !== undefined && bootstrap !== undefined)
      proxies.push({
        name,
        bootstrap,
        ...(captureAddress !== undefined ? { captureAddress } : {}),
        ...(appAddress !== undefined ? { appAddress } : {}),
        ...(bindAddress !== undefined ? { bindAddress } : {}),
        ...(tokenFile !== undefined ? { tokenFile } : {}),
        ...(Array.isArray(pm) ? { portMap: pm as [number, number][] } : {}),
      });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, proxies };
}

interface Hosted {
  readonly spec: HostedProxySpec;
  readonly running: Promise<RunningProxy | undefined>;
}

export function registerProxyHost(program: Command, deps: { readonly io: CliIO; readonly stopSignal: () => Promise<void> }): void {
  const { io } = deps;
  program
    .command('proxies')
    .description('Run several proxies in one process, from a spec file that is watched (isthmus up runs its pods\' proxies this way)')
    .requiredOption('--spec <file>', 'JSON: {"proxies": [{name, bootstrap, captureAddress?, appAddress?, bindAddress?, portMap?}]}')
    .option('--drain-time <seconds>', 'how long a removed or stopping proxy may take to finish its requests', '5')
    .option('--log-level <level>', 'debug, info, warn, error or off', 'warn')
    .addHelpText(
      'after',
      `
Each entry is what \`isthmus proxy --bootstrap <file> [--capture-address] [--app-address] [--bind-address]
[--port-map]\` would run; admin, readiness and Prometheus listen on the bootstrap's admin address with
ports 15000, 15021 and 15090. Entries added to the file start, removed ones drain, changed ones restart.

Example:
  isthmus proxies --spec proxies.json`,
    )
    .action(async (opts: { spec: string; drainTime: string; logLevel: string }) => {
      const file = resolve(io.cwd, opts.spec);
      const drainMs = Number(opts.drainTime) * 1000;
      if (!Number.isFinite(drainMs) || drainMs < 0) throw new IsthmusError('ISM_USAGE', `invalid --drain-time "${opts.drainTime}": must be a number of seconds`);
      const logger = createSwitchableLogger('warn', (l) => io.stderr(l + '\n'));
      if (!logger.setLevel(opts.logLevel)) throw new IsthmusError('ISM_USAGE', `invalid --log-level "${opts.logLevel}": must be one of debug, info, warn, error, off`);
      const first = await readFile(file, 'utf8').catch((e: unknown) => {
        throw new IsthmusError('ISM_FILE_READ', `cannot read ${opts.spec}: ${e instanceof Error ? e.message : String(e)}`);
      });
      const parsed = parseHostSpec(first, opts.spec);
      if (!parsed.ok) throw new IsthmusError('ISM_USAGE', parsed.problems.join('\n'));
      const stopped = deps.stopSignal();
      const hosted = new Map<string, Hosted>();

      const start = (spec: HostedProxySpec): Hosted => ({
        spec,
        running: (async () => {
          try {
            const proxy = await startProxy({
              bootstrap: await readBootstrap(spec.bootstrap),
              logger,
              setLogLevel: (l: string) => logger.setLevel(l),
              ...(spec.captureAddress !== undefined ? { captureAddress: spec.captureAddress } : {}),
              ...(spec.appAddress !== undefined ? { appAddress: spec.appAddress } : {}),
              ...(spec.bindAddress !== undefined ? { bindAddress: spec.bindAddress } : {}),
              ...(spec.portMap !== undefined ? { portMap: spec.portMap } : {}),
              ...(spec.tokenFile !== undefined ? { identity: identityOptions(io.cwd, { tokenFile: spec.tokenFile }) as ProxyIdentityOptions } : {}),
              wasm: { cacheDir: defaultWasmCacheDir(), hostEnv: (k: string) => process.env[k] },
            });
            io.stdout(`proxy ${spec.name}: admin ${proxy.adminUrl}\n`);
            return proxy;
          } catch (e) {
            io.stderr(`proxy ${spec.name} cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
            return undefined;
          }
        })(),
      });
      const stop = async (h: Hosted): Promise<void> => {
        const p = await h.running;
        await p?.drain(drainMs);
      };

      let applying: Promise<void> = Promise.resolve();
      const apply = (specs: readonly HostedProxySpec[]): Promise<void> =>
        (applying = applying.then(async () => {
          const want = new Map(specs.map((s) => [s.name, s]));
          const leaving = [...hosted.values()].filter((h) => !isDeepStrictEqual(want.get(h.spec.name), h.spec));
          for (const h of leaving) hosted.delete(h.spec.name);
          await Promise.all(leaving.map(stop));
          for (const s of specs) if (!hosted.has(s.name)) hosted.set(s.name, start(s));
          await Promise.all([...hosted.values()].map((h) => h.running));
        }));

      await apply(parsed.proxies);
      watchFile(file, { interval: 200 }, () => {
        void readFile(file, 'utf8').then((text) => {
          const next = parseHostSpec(text, opts.spec);
          if (next.ok) return apply(next.proxies);
          for (const p of next.problems) io.stderr(`${p} (the running proxies are kept)\n`);
          return undefined;
        }, (e: unknown) => io.stderr(`cannot read ${opts.spec}: ${e instanceof Error ? e.message : String(e)}\n`));
      });
      await stopped;
      unwatchFile(file);
      await applying;
      io.stdout('draining\n');
      await Promise.all([...hosted.values()].map(stop));
      io.stdout('stopped\n');
    });
}
