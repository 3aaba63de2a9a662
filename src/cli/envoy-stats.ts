// `isthmus x envoy-stats <proxy>` (alias `es`): istioctl experimental envoy-stats (istioctl/pkg/proxyconfig,
// StatsConfigCmd): a proxy's Envoy stats straight from its admin. `--type server` (the default) reads
// `/stats` (`-o json|yaml`: `/stats?format=json`; `-o prom`: `/stats/prometheus`), `--type clusters` reads
// `/clusters` (`-o json|yaml`: `/clusters?format=json`). As istioctl, the answer follows a line naming the
// proxy, JSON is indented and YAML converted from it. The proxy is found as proxy-config finds it: by name
// through the control plane, or at `--admin`.

import type { Command } from 'commander';
import { experimentalCommand } from './experimental.js';
import { stringify } from 'yaml';
import { IsthmusError } from '../lib/errors.js';
import type { CliIO } from './output.js';
import { adminGet, findTarget } from './proxy-config/proxy-admin.js';
import { proxyLocatorOptions } from './proxy-target.js';

const SERVER_FORMATS = ['short', 'json', 'yaml', 'prom'] as const;
const CLUSTER_FORMATS = ['short', 'json', 'yaml'] as const;

/** The admin path istioctl asks for a stats type and output format; errors in istioctl's words. */
export function statsPath(type: string, output: string): string {
  switch (type) {
    case '':
    case 'server':
      if (output === 'short') return '/stats';
      if (output === 'json' || output === 'yaml') return '/stats?format=json';
      if (output === 'prom') return '/stats/prometheus';
      throw new IsthmusError('ISM_USAGE', `unable to match a printer suitable for the output format ${output}, allowed formats are: ${SERVER_FORMATS.join(',')}`);
    case 'cluster':
    case 'clusters':
      if (output === 'short') return '/clusters';
      if (output === 'json' || output === 'yaml') return '/clusters?format=json';
      throw new IsthmusError('ISM_USAGE', `unable to match a printer suitable for the output format ${output}, allowed formats are: ${CLUSTER_FORMATS.join(',')}`);
    default:
      throw new IsthmusError('ISM_USAGE', `unknown stats type ${type}: one of server|clusters`);
  }
}

/** What istioctl prints for one proxy: a line naming it, then the admin's answer (JSON indented, or as YAML). */
export function renderStats(id: string, output: string, body: string, source: string): string {
  const head = `\nThe result of pod ${id}:\n\n`;
  if (output !== 'json' && output !== 'yaml') return head + body;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    throw new IsthmusError('ISM_CONNECT', `${source} did not answer JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return head + (output === 'json' ? `${JSON.stringify(value, null, 4)}\n` : stringify(value, { lineWidth: 0 }));
}

export function registerEnvoyStats(program: Command, io: CliIO): void {
  const x = experimentalCommand(program);
  proxyLocatorOptions(x.command('envoy-stats').alias('es').description("Retrieves Envoy metrics of the specified proxy: its admin's /stats (--type server) or /clusters (--type clusters)"))
    .option('-t, --type <type>', 'Where to grab the stats: one of server|clusters', 'server')
    .option('-o, --output <format>', 'Output format: one of json|yaml|short|prom (prom: server only)', 'short')
    .addHelpText(
      'after',
      `
Envoy's stats of one proxy: counters and gauges by Envoy's names (cluster.<name>.upstream_rq_retry,
upstream_rq_pending_overflow, outlier_detection.ejections_active, cluster_manager.cds.update_rejected, ...),
as \`curl <admin>/stats\` would print them; --type clusters prints /clusters (each host's address, health
flags and rq_active).

Examples:
  # Retrieve Envoy emitted metrics for the specified proxy.
  isthmus x envoy-stats productpage-v1

  # Retrieve Envoy server metrics in prometheus format
  isthmus x envoy-stats productpage-v1 --output prom

  # Retrieve Envoy cluster metrics
  isthmus x envoy-stats productpage-v1 --type clusters

  # Only the pending-request stats of one cluster (Istio's circuit-breaking task)
  isthmus x envoy-stats productpage-v1 | grep 'reviews.*pending'`,
    )
    .action(async (proxy: string | undefined, f: { type: string; output: string; controlPlane: string; admin?: string; namespace: string }) => {
      const path = statsPath(f.type, f.output);
      const target = await findTarget(proxy, { controlPlane: f.controlPlane, namespace: f.namespace, ...(f.admin !== undefined ? { admin: f.admin } : {}) });
      io.stdout(renderStats(target.id, f.output, await adminGet(target, path), `${target.adminUrl}${path}`));
    });
}
