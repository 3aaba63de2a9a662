// `isthmus x describe [pod] <workload>` (`experimental describe`): istioctl's x describe pod for a local
// mesh. It asks the control plane's monitoring port for the workloads (/v1/workloads), the config
// (GET /v1/config, re-validated here: what crosses the wire is untrusted) and the connected proxies
// (/debug/syncz), reads the workload's sidecar config dump from its admin, and prints the Services the
// workload belongs to with their DestinationRule and VirtualServices as they concern it, the effective
// mTLS mode, the AuthorizationPolicies that select it and the ingress gateways that expose it
// (src/cli/describe/). A workload no registry knows but whose proxy is connected is described from the
// proxy's node metadata. `-o json|yaml` prints the structured description.

import type { Command } from 'commander';
import { experimentalCommand } from './experimental.js';
import { createKindRegistry, type KindRegistry } from '../api/kind.js';
import { ALL_KINDS } from '../api/kinds.js';
import { validateObject } from '../api/validate.js';
import { IsthmusError } from '../lib/errors.js';
import type { SyncStatus } from '../xds-server/sync-status.js';
import { renderData, type CliIO } from './output.js';
import { controlPlaneFetch, controlPlaneUrl, listProxies, pickProxy, targetOf, type ProxyTarget } from './proxy-target.js';
import { adminGet, dumpFromText } from './proxy-config/proxy-admin.js';
import type { ConfigDump } from './proxy-config/config-dump.js';
import { parseDataFormat } from './request.js';
import { DEFAULT_ROOT_NAMESPACE, describeWorkload } from './describe/describe-workload.js';
import { renderDescribeText } from './describe/render-text.js';
import { sidecarRefs, workloadFromNode } from './describe/sidecar.js';
import type { ConfigInput, ProxyInfo, WorkloadInfo } from './describe/types.js';
import { configWorkloads, parseWorkloadList, pickWorkload, unknownWorkload } from './describe/workloads.js';

const POD_KINDS = new Set(['pod', 'pods', 'po']);

/** `pod <name>`, `pod/<name>` or `<name>`: the workload name. */
export function workloadArgument(first: string, second: string | undefined): string {
  if (second !== undefined) {
    if (POD_KINDS.has(first.toLowerCase())) return second;
    throw new IsthmusError('ISM_USAGE', `unknown resource type "${first}": describe a pod (isthmus x describe pod <name>[.<namespace>])`);
  }
  const slash = /^(pods?|po)\/(.+)$/i.exec(first);
  return slash !== null ? (slash[2] ?? first) : first;
}

async function getJson(controlPlane: string, path: string): Promise<unknown> {
  const url = `${controlPlaneUrl(controlPlane)}${path}`;
  const res = await controlPlaneFetch(controlPlane, path);
  const text = await res.text();
  if (!res.ok) throw new IsthmusError('ISM_CONNECT', `GET ${url}: HTTP ${res.status}: ${text.trim()}`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new IsthmusError('ISM_CONNECT', `GET ${url}: the answer is not JSON`);
  }
}

/** The config objects of GET /v1/config, validated again; invalid ones are reported and left out. */
export function configFromJson(body: unknown, registry: KindRegistry, report: (line: string) => void): ConfigInput[] {
  if (!Array.isArray(body)) throw new IsthmusError('ISM_CONNECT', 'GET /v1/config: not a list of objects');
  const out: ConfigInput[] = [];
  for (const item of body) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
    const { origin, ...raw } = item as Record<string, unknown>;
    const v = validateObject(raw, registry);
    if (!v.ok) {
      report(`warning: skipping ${String(raw['kind'])} ${String((raw['metadata'] as { name?: unknown } | undefined)?.name)}: ${v.issues.map((i) => i.message).join('; ')}`);
      continue;
    }
    const o = origin as { file?: unknown; line?: unknown } | undefined;
    out.push({ resource: v.resource, ...(typeof o?.file === 'string' && typeof o.line === 'number' ? { origin: { file: o.file, line: o.line } } : {}) });
  }
  return out;
}

const STATUS_ORDER = ['ERROR', 'STALE', 'NOT SENT'];

function proxyInfo(s: SyncStatus, t: ProxyTarget): ProxyInfo {
  const statuses = Object.values(s.resources ?? {}).map((r) => r.status as string);
  const status = statuses.length === 0 ? 'NOT SENT' : (STATUS_ORDER.find((x) => statuses.includes(x)) ?? 'SYNCED');
  return { id: t.id, type: t.type, status, adminUrl: t.adminUrl };
}

/** The connected proxy of the workload: its `pod.namespace` id, else its address. */
function proxyOf(proxies: readonly SyncStatus[], w: WorkloadInfo): SyncStatus | undefined {
  const id = `${w.name}.${w.namespace}`;
  return proxies.find((p) => p.proxy === id) ?? (w.address !== '' ? proxies.find((p) => targetOf(p).ip === w.address) : undefined);
}

async function readDump(t: ProxyTarget): Promise<ConfigDump> {
  return dumpFromText(await adminGet({ id: t.id, adminUrl: t.adminUrl }, '/config_dump'), `the config dump of ${t.id} (${t.adminUrl}/config_dump)`);
}

interface DescribeFlags {
  readonly controlPlane: string;
  readonly namespace: string;
  readonly output?: string;
  readonly rootNamespace: string;
}

export function registerDescribe(program: Command, io: CliIO): void {
  const x = experimentalCommand(program);
  let registry: KindRegistry | undefined;
  x.command('describe')
    .alias('des')
    .description("Describe a workload and the Istio config that affects it: Services, DestinationRules, VirtualServices, mTLS, authorization, ingress")
    .argument('<pod|workload>', 'the workload: <name>[.<namespace>] or a unique name prefix; `pod <name>` as istioctl takes it works too')
    .argument('[workload]', 'the workload, after `pod`')
    .option('--control-plane <host:port>', 'the control plane monitoring address', '127.0.0.1:15014')
    .option('-n, --namespace <ns>', 'namespace of a workload name that carries none', 'default')
    .option('-o, --output <format>', 'json or yaml: the structured description')
    .option('--root-namespace <ns>', "the mesh's root namespace (mesh-wide PeerAuthentication and AuthorizationPolicy)", DEFAULT_ROOT_NAMESPACE)
    .addHelpText(
      'after',
      `
Analyzes the workload, its Services, DestinationRules and VirtualServices and reports the config that
affects it, as istioctl x describe pod does: which subsets it belongs to, which routes reach it (and
which do not, and why), the effective PeerAuthentication mTLS mode, the AuthorizationPolicies that
select it, and the ingress gateways that expose it. When its sidecar is connected, what the sidecar
really has is checked against the config.

Examples:
  isthmus x describe pod reviews-v2
  isthmus x describe productpage-v1 -n default
  isthmus experimental describe reviews-v1 -o yaml`,
    )
    .action(async (first: string, second: string | undefined, f: DescribeFlags) => {
      const format = parseDataFormat(f.output);
      const name = workloadArgument(first, second);
      const [workloadBody, configBody, proxies] = await Promise.all([getJson(f.controlPlane, '/v1/workloads'), getJson(f.controlPlane, '/v1/config'), listProxies(f.controlPlane)]);
      registry ??= createKindRegistry(ALL_KINDS);
      const config = configFromJson(configBody, registry, (l) => io.stderr(`${l}\n`));
      const workloads = [...parseWorkloadList(workloadBody), ...configWorkloads(config)];

      let workload = pickWorkload(workloads, name, f.namespace);
      let status = workload !== undefined ? proxyOf(proxies, workload) : undefined;
      let dump: ConfigDump | undefined;
      if (workload === undefined) {
        // Not registered: a connected proxy of that name can still say who it is.
        try {
          status = pickProxy(proxies, name, f.namespace);
        } catch {
          throw unknownWorkload(workloads, name, f.namespace);
        }
        const t = targetOf(status);
        dump = await readDump(t);
        workload = workloadFromNode(dump, t);
        if (workload === undefined) throw new IsthmusError('ISM_NOT_FOUND', `no workload "${name}" is registered, and the config dump of proxy ${t.id} has no bootstrap node to describe it from`);
        workloads.push(workload);
      }

      const target = status !== undefined ? targetOf(status) : undefined;
      if (target !== undefined && dump === undefined) {
        try {
          dump = await readDump(target);
        } catch (e) {
          io.stderr(`warning: ${e instanceof Error ? e.message : String(e)}; describing from the control plane's config only\n`);
        }
      }
      const description = describeWorkload({
        workload,
        config,
        workloads,
        ...(status !== undefined && target !== undefined ? { proxy: proxyInfo(status, target) } : {}),
        ...(dump !== undefined && target?.type === 'sidecar' ? { sidecar: sidecarRefs(dump) } : {}),
        rootNamespace: f.rootNamespace,
      });
      io.stdout(format === undefined ? renderDescribeText(description) : renderData(description, format));
    });
}
