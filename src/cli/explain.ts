// `isthmus explain --from <workload> <url>`: the path a request would take through a workload's
// sidecar, step by step, and why it would be routed or rejected (404 NR, 503 UH, a fault abort, a
// direct response ...), naming the Envoy resource and the Istio resource that decided each step. It
// reads the sidecar's real config from its admin (/config_dump, /clusters?format=json, and the breakers'
// live state from /stats) and decides with the proxy's own compiled matchers (src/cli/explain/). --send
// also sends the request (request.ts) and reports what came back.

import type { Command } from 'commander';
import { IsthmusError } from '../lib/errors.js';
import { renderData, type CliIO } from './output.js';
import { listProxies, resolveProxy, targetOf, type ProxyTarget } from './proxy-target.js';
import {
  collect,
  headerRecord,
  parseDataFormat,
  parseHeaderFlags,
  parseMethod,
  parseTargetUrl,
  parseTimeout,
  readBody,
  responseData,
  sendThroughSidecar,
} from './request.js';
import { explainRequest } from './explain/explain-request.js';
import { BREAKER_STATS_FILTER, parseBreakerStats, parseClusterStatus, parseConfigDump, type ProxyConfig } from './explain/proxy-config.js';
import { renderExplainText } from './explain/render-text.js';
import { inferResponseFlag } from './explain/response-flag.js';
import type { ExplainReport } from './explain/types.js';
import { explainInboundAuthz, sendsMtls } from './explain/inbound-authz.js';

async function adminGet(target: ProxyTarget, path: string): Promise<string> {
  const url = `${target.adminUrl}${path}`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    throw new IsthmusError('ISM_CONNECT', `cannot reach the admin of proxy ${target.id} at ${url}: ${cause} (--admin sets the address)`);
  }
  const body = await res.text();
  if (!res.ok) throw new IsthmusError('ISM_CONNECT', `${url}: HTTP ${res.status}: ${body.trim()}`);
  return body;
}

/** The proxy's config dump and endpoint health, read from its admin. */
export async function readProxyConfig(target: ProxyTarget): Promise<ProxyConfig> {
  const text = await adminGet(target, '/config_dump?include_eds'); // Envoy leaves EDS out unless asked
  let dump: unknown;
  try {
    dump = JSON.parse(text) as unknown;
  } catch {
    throw new IsthmusError('ISM_CONNECT', `${target.adminUrl}/config_dump: the answer is not JSON`);
  }
  const problems: string[] = [];
  const cfg = parseConfigDump(dump, problems);
  let hostFlags: ProxyConfig['hostFlags'];
  try {
    hostFlags = parseClusterStatus(await adminGet(target, '/clusters?format=json'));
  } catch (e) {
    problems.push(`endpoint health from /clusters is not available: ${e instanceof Error ? e.message : String(e)}`);
  }
  let breakers: ProxyConfig['breakers'];
  try {
    breakers = parseBreakerStats(await adminGet(target, `/stats?format=json&filter=${encodeURIComponent(BREAKER_STATS_FILTER)}`));
  } catch (e) {
    problems.push(`circuit breaker state from /stats is not available: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { ...cfg, hostFlags, breakers, problems };
}

/**
 * When the chosen endpoint is another sidecar the control plane knows, its inbound authorization is run too
 * (inbound-authz.ts); a destination that cannot be read is noted, never an error.
 */
async function followIntoDestination(controlPlane: string, cfg: ProxyConfig, callerIp: string, report: ExplainReport): Promise<ExplainReport> {
  const v = report.verdict;
  if (v.outcome !== 'routed' || v.endpoint === undefined) return report;
  const endpoint = v.endpoint;
  const ip = endpoint.slice(0, endpoint.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  const dest = (await listProxies(controlPlane).catch(() => [])).map((s) => targetOf(s)).find((t) => t.ip === ip);
  if (dest === undefined) return report;
  let destCfg: ProxyConfig;
  try {
    destCfg = await readProxyConfig(dest);
  } catch (e) {
    return { ...report, problems: [...report.problems, `the destination sidecar ${dest.id} cannot be read: ${e instanceof Error ? e.message : String(e)}`] };
  }
  const steps = [...report.steps];
  const mtls = sendsMtls(cfg, v.cluster !== undefined ? cfg.clusters.get(v.cluster) : undefined, endpoint);
  const r = report.request;
  const denied = explainInboundAuthz(destCfg, dest.id, endpoint, { method: r.method, path: r.path, authority: r.authority, headers: r.headers }, { ip: callerIp, principal: cfg.identity }, mtls, steps);
  return { ...report, steps, verdict: denied ?? v };
}

interface ExplainFlags {
  readonly from: string;
  readonly request?: string;
  readonly header: string[];
  readonly data?: string;
  readonly output?: string;
  readonly send?: boolean;
  readonly timeout: string;
  readonly insecure?: boolean;
  readonly controlPlane: string;
  readonly namespace: string;
  readonly admin?: string;
}

export function registerExplain(program: Command, io: CliIO): void {
  program
    .command('explain')
    .description("Explain the path a request would take through a workload's sidecar, and why it would be routed or rejected")
    .argument('<url>', 'the request, e.g. http://reviews:9080/reviews/0 (http:// may be left out)')
    .requiredOption('--from <workload>', 'the workload whose sidecar sends it: a proxy `pod.namespace`, node id or unique pod-name prefix')
    .option('-X, --request <method>', 'the method (default GET, or POST with -d)')
    .option('-H, --header <header>', "a request header 'name: value' (repeatable)", collect, [])
    .option('-d, --data <body>', 'a request body (sent with --send); @file reads a file, @- reads stdin')
    .option('-o, --output <format>', 'json or yaml: {proxy, request, steps: [{step, resource, istioResource, decision, detail}], verdict}')
    .option('--send', 'also send the request and report the actual status and response flag')
    .option('--timeout <duration>', 'with --send: how long to wait for the answer', '30s')
    .option('-k, --insecure', 'with --send, https://: do not verify the server certificate')
    .option('--control-plane <host:port>', 'the control plane monitoring address', '127.0.0.1:15014')
    .option('-n, --namespace <ns>', 'namespace of the workload', 'default')
    .option('--admin <host:port>', "the sidecar's admin address (default: what the proxy reports)")
    .addHelpText(
      'after',
      `
Reads the sidecar's live config (admin /config_dump and /clusters) and follows the request the way the
proxy does: listener, filter chain, route configuration, virtual host, route (and why earlier routes did
not match), HTTP filters (fault, CORS, router), route action, cluster, endpoints, and when the endpoint is
another sidecar, that sidecar's inbound chain and authorization (the policy that denies). A request that would
fail says where: 404 NR (no route), 503 UH (no healthy endpoint), 503 NC (no cluster), a fault abort,
a direct response or redirect. Nothing is sent unless --send is given.

Examples:
  isthmus explain --from productpage http://reviews:9080/reviews/0
  isthmus explain --from productpage -H 'end-user: jason' http://reviews:9080/reviews/0 --send
  isthmus explain --from productpage http://ratings:9080/ratings/0 -o yaml`,
    )
    .action(async (rawUrl: string, f: ExplainFlags) => {
      const format = parseDataFormat(f.output);
      const url = parseTargetUrl(rawUrl);
      const headers = parseHeaderFlags(f.header);
      const timeoutMs = parseTimeout(f.timeout);
      const body = f.send === true ? await readBody(f.data, io) : undefined;
      const method = parseMethod(f.request, f.data !== undefined);
      const target = await resolveProxy(f.controlPlane, f.from, { namespace: f.namespace, ...(f.admin !== undefined ? { admin: f.admin } : {}) });
      if (target.ip === '') throw new IsthmusError('ISM_NOT_FOUND', `proxy ${target.id} reports no IP address: cannot tell its capture address`);
      const cfg = await readProxyConfig(target);
      let report: ExplainReport = explainRequest(cfg, { id: target.id, ip: target.ip, adminUrl: target.adminUrl }, { method, url, headers: headerRecord(headers) });
      report = await followIntoDestination(f.controlPlane, cfg, target.ip, report);
      if (f.send === true) {
        const res = await sendThroughSidecar(target.ip, { method, url, headers, body }, { timeoutMs, insecure: f.insecure === true });
        const data = responseData(res);
        const flag = inferResponseFlag(data);
        const v = report.verdict;
        const asExplained = v.outcome === 'rejected' ? v.status === undefined || v.status === res.status : flag === undefined;
        report = { ...report, sent: { status: res.status, ...(flag !== undefined ? { responseFlag: flag } : {}), durationMs: res.durationMs, asExplained } };
      }
      io.stdout(format === undefined ? renderExplainText(report) : renderData(report, format));
    });
}
