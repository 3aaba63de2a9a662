// `isthmus proxy --bootstrap <file>`: the data plane. Reads an Envoy bootstrap (what `isthmus bootstrap`
// prints), fetches its config over ADS, and serves Envoy's admin (config_dump, clusters, listeners,
// ready, server_info) and istio-agent's readiness (/healthz/ready). No traffic listeners yet.

import type { Command } from 'commander';
import { resolve } from 'node:path';
import { IsthmusError } from '../lib/errors.js';
import { readBootstrap } from '../proxy/bootstrap.js';
import { startProxy } from '../proxy/proxy.js';
import type { CliIO } from './output.js';

function port(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new IsthmusError('ISM_USAGE', `invalid ${name} "${v}": must be a port number 0-65535`);
  return n;
}

export interface ProxyDeps {
  readonly io: CliIO;
  readonly stopSignal: () => Promise<void>;
}

export function registerProxy(program: Command, deps: ProxyDeps): void {
  const { io } = deps;
  program
    .command('proxy')
    .description('Run the Isthmus proxy: fetch config over xDS (ADS) and serve the admin and readiness endpoints')
    .requiredOption('--bootstrap <file>', 'an Envoy bootstrap JSON file (isthmus bootstrap prints one)')
    .option('--admin-port <port>', "admin port (default: the bootstrap's admin address; 0 picks a free one)")
    .option('--readiness-port <port>', 'readiness port for /healthz/ready (0 picks a free one)', '15021')
    .addHelpText(
      'after',
      `
Admin endpoints: /config_dump /clusters /listeners /ready /server_info
Readiness: /healthz/ready answers 200 once the first config is applied, 503 before.
This version does not serve traffic yet: it fetches, validates (NACKing what is invalid) and shows config.

Examples:
  isthmus bootstrap --node productpage-v1 --labels app=productpage,version=v1 > bootstrap.json
  isthmus proxy --bootstrap bootstrap.json
  isthmus proxy --bootstrap bootstrap.json --admin-port 0 --readiness-port 0`,
    )
    .action(async (opts: { bootstrap: string; adminPort?: string; readinessPort: string }) => {
      const bootstrap = await readBootstrap(resolve(io.cwd, opts.bootstrap));
      const stopped = deps.stopSignal();
      const proxy = await startProxy({
        bootstrap,
        ...(opts.adminPort !== undefined ? { adminPort: port('--admin-port', opts.adminPort) } : {}),
        readinessPort: port('--readiness-port', opts.readinessPort),
      });
      io.stdout(`proxy ${bootstrap.nodeId} fetching config from ${bootstrap.xdsAddress}\n`);
      io.stdout(`  admin      ${proxy.adminUrl}\n`);
      io.stdout(`  readiness  ${proxy.readinessUrl}\n`);
      await stopped;
      await proxy.close();
      io.stdout('stopped\n');
    });
}
