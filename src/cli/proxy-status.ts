// `isthmus proxy-status [proxy]`: istioctl proxy-status against the control plane's monitoring port
// (:15014). Without a proxy it prints istioctl's classic per-type table (istioctl/pkg/writer/pilot/
// status.go before the "SUBSCRIBED TYPES" layout): NAME CLUSTER CDS LDS EDS RDS ECDS ISTIOD VERSION,
// each type SYNCED / STALE / NOT SENT / ERROR with the age of the last push, IGNORED when the proxy does
// not subscribe to it (an SDS column is added when any proxy uses SDS over ADS). It reads /debug/syncz,
// whose entries follow istiod's SyncStatus, so it also works with istiod's own JSON.
// With a proxy it prints, per type, whether what the proxy acknowledged matches what the control plane
// would send it now ("Clusters Match" / "Listeners Don't Match") and the resource names that differ.

import type { ProxySyncDetail, ResourceSyncStatus, SyncStatus, TypeSyncDetail } from '../xds-server/sync-status.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE } from '../xds/type-urls.js';
import type { Command } from 'commander';
import { parseOutputFormat, renderData, renderTable, type CliIO, type OutputFormat } from './output.js';

const ECDS_TYPE = 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig';
const IGNORED = 'IGNORED';

export interface ProxyStatusOptions {
  /** host:port (or a URL) of the control plane's monitoring server. */
  readonly controlPlane: string;
  /** `pod.namespace` or a full node id: show acked-vs-expected for this proxy. */
  readonly proxy?: string;
  readonly output: OutputFormat;
  /** For ages in the table; defaults to the current time. */
  readonly now?: number;
}

function baseUrl(controlPlane: string): string {
  return /^https?:\/\//.test(controlPlane) ? controlPlane.replace(/\/+$/, '') : `http://${controlPlane}`;
}

async function getJson(url: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    throw new Error(`cannot reach the control plane at ${url}: ${cause}`);
  }
  const body = await res.text();
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}: ${body.trim()}`);
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new Error(`${url}: the response is not JSON`);
  }
}

/** k8s.io/apimachinery duration.HumanDuration, as istioctl prints ages. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

/** istiod's debugSyncStatus when the entry carries no status (istiod's own syncz). */
function statusOf(r: Partial<ResourceSyncStatus>): string {
  if (r.status !== undefined) return r.status;
  if (r.lastError !== undefined && r.lastError !== '') return 'ERROR';
  if (r.sent === undefined || r.sent === '') return 'NOT SENT';
  return r.sent === r.acked ? 'SYNCED' : 'STALE';
}

function formatStatus(r: Partial<ResourceSyncStatus> | undefined, now: number): string {
  if (r === undefined) return IGNORED;
  const s = statusOf(r);
  if (s === 'NOT SENT' || r.sentTime === undefined) return s;
  const t = Date.parse(r.sentTime);
  return Number.isNaN(t) ? s : `${s} (${humanDuration(now - t)})`;
}

function asSyncz(v: unknown, url: string): SyncStatus[] {
  if (!Array.isArray(v)) throw new Error(`${url}: expected a JSON array of proxy sync statuses`);
  return v as SyncStatus[];
}

export function renderStatusTable(entries: readonly SyncStatus[], now: number, istiodFallback: string): string {
  const withSds = entries.some((e) => e.resources?.[SECRET_TYPE] !== undefined);
  const types = [CLUSTER_TYPE, LISTENER_TYPE, ENDPOINT_TYPE, ROUTE_TYPE, ECDS_TYPE, ...(withSds ? [SECRET_TYPE] : [])];
  const headers = ['NAME', 'CLUSTER', 'CDS', 'LDS', 'EDS', 'RDS', 'ECDS', ...(withSds ? ['SDS'] : []), 'ISTIOD', 'VERSION'];
  const rows = [...entries]
    .sort((a, b) => (a.proxy < b.proxy ? -1 : a.proxy > b.proxy ? 1 : 0))
    .map((e) => [e.proxy, e.cluster_id ?? '', ...types.map((t) => formatStatus(e.resources?.[t], now)), e.istiod ?? istiodFallback, e.istio_version ?? '']);
  return renderTable(headers, rows);
}

const TITLES: Readonly<Record<string, string>> = { CDS: 'Clusters', LDS: 'Listeners', RDS: 'Routes', EDS: 'Endpoints', SDS: 'Secrets' };
const DIFF_ORDER = ['CDS', 'LDS', 'RDS', 'EDS', 'SDS'];

function describeType(t: TypeSyncDetail): string {
  const title = TITLES[t.type] ?? t.type;
  const lines: string[] = [];
  if (t.expected === null) {
    lines.push(`${title}: the control plane has no config to compare with`);
  } else {
    const acked = new Map(Object.entries(t.acked));
    const expected = new Map(Object.entries(t.expected));
    const names = [...new Set([...acked.keys(), ...expected.keys()])].sort();
    const diffs: string[] = [];
    for (const n of names) {
      const a = acked.get(n);
      const x = expected.get(n);
      if (a === x) continue;
      if (a === undefined) diffs.push(`   + ${n} (expected ${x ?? ''}, not acknowledged)`);
      else if (x === undefined) diffs.push(`   - ${n} (acknowledged ${a}, no longer expected)`);
      else diffs.push(`   ~ ${n} (acknowledged ${a}, expected ${x})`);
    }
    lines.push(diffs.length === 0 ? `${title} Match` : `${title} Don't Match`, ...diffs);
  }
  if (t.last_error !== undefined) lines.push(`   last push rejected (nonce ${t.last_error.nonce}, ${t.last_error.code}): ${t.last_error.message}`);
  else if (t.status === 'STALE') lines.push(`   waiting for the proxy to acknowledge nonce ${t.nonce_sent}`);
  return lines.join('\n') + '\n';
}

export function renderProxyDiff(d: ProxySyncDetail): string {
  const byType = new Map(d.types.map((t) => [t.type, t]));
  let out = '';
  if (d.generation_error !== undefined) out += `The control plane cannot generate config for ${d.proxy}: ${d.generation_error}\n`;
  for (const type of DIFF_ORDER) {
    const t = byType.get(type);
    if (t !== undefined) out += describeType(t);
  }
  if (d.types.length === 0) out += `${d.proxy} has not subscribed to any resource type yet\n`;
  if (d.translation_issues !== undefined && d.translation_issues.length > 0) {
    out += `Config skipped for ${d.proxy}:\n` + d.translation_issues.map((i) => `   ${i}\n`).join('');
  }
  return out;
}

export async function proxyStatus(io: CliIO, opts: ProxyStatusOptions): Promise<void> {
  const base = baseUrl(opts.controlPlane);
  const now = opts.now ?? Date.now();
  if (opts.proxy !== undefined && opts.proxy !== '') {
    const url = `${base}/debug/proxy_status?proxyID=${encodeURIComponent(opts.proxy)}`;
    const detail = (await getJson(url)) as ProxySyncDetail;
    if (opts.output === 'table') io.stdout(renderProxyDiff(detail));
    else io.stdout(renderData(detail, opts.output));
    return;
  }
  const url = `${base}/debug/syncz`;
  const entries = asSyncz(await getJson(url), url);
  if (opts.output !== 'table') {
    io.stdout(renderData(entries, opts.output));
    return;
  }
  if (entries.length === 0) {
    io.stderr(`no proxies connected to the control plane at ${opts.controlPlane}\n`);
    return;
  }
  io.stdout(renderStatusTable(entries, now, new URL(base).host));
}

export function registerProxyStatus(program: Command, io: CliIO): void {
  program
    .command('proxy-status')
    .description('Show whether each connected proxy has the config the control plane would send it now')
    .argument('[proxy]', 'a proxy (`pod.namespace` or full node id): compare what it acknowledged with what it should have')
    .option('--control-plane <host:port>', 'the control plane monitoring address', '127.0.0.1:15014')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .addHelpText(
      'after',
      `
Columns are istioctl's: per xDS type SYNCED (acknowledged the last push), STALE (sent, not yet
acknowledged), NOT SENT, ERROR (rejected: NACK, with the proxy's message), IGNORED (not subscribed).

Examples:
  isthmus proxy-status
  isthmus proxy-status client.default`,
    )
    .action(async (proxy: string | undefined, opts: { controlPlane: string; output: string }) => {
      await proxyStatus(io, { controlPlane: opts.controlPlane, output: parseOutputFormat(opts.output), ...(proxy !== undefined ? { proxy } : {}) });
    });
}
