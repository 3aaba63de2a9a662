// Istio's Telemetries.AccessLogging (pilot/pkg/model/telemetry.go) for one proxy and listener class: the
// Telemetries in scope (applicableTelemetries, effective-metrics.ts), merged per mode (merge-access-logs.ts),
// each provider looked up by name in the mesh's access-log providers (case-insensitively, as fetchProvider
// does) and turned into Envoy loggers sorted by provider name, a CEL filter attached when the entry has one.
// `undefined` means no Telemetry and no defaultProviders.accessLogging say anything for this class: the caller
// falls back to meshConfig.accessLogFile, as Istio's accessLogBuilder does. Disabled providers count as
// configured but log nothing (so a workload can turn mesh-wide logging off).
// envoyHttpAls / envoyTcpAls / envoyOtelAls providers are not run by Isthmus: they count as configured (Istio
// would log through them instead of the mesh file) and each reference is reported as a warning, as are names
// that are not access-log providers (Istio ignores those silently). Pure.

import type { Issue } from '../../lib/issue.js';
import { warning } from '../../lib/issue.js';
import type { AccessLog } from '../../xds/gen/envoy/config/accesslog/v3/accesslog_pb.js';
import type { AccessLogProvider, MeshConfig } from '../../model/mesh-config.js';
import type { Telemetry } from '../../api/telemetry/telemetry.js';
import type { ListenerClass } from '../listener/http-filters.js';
import { applicableTelemetries, type TelemetryLookup, type TelemetryWorkload } from './effective-metrics.js';
import { mergeAccessLogs, type LogMode } from './merge-access-logs.js';
import { celAccessLogFilter, fileAccessLogFromProvider, withFilter } from './file-access-log.js';

/** workloadMode: inbound listeners log as the server, outbound listeners and gateways as the client. */
export function logModeForClass(cls: ListenerClass): LogMode {
  return cls === 'sidecar-inbound' ? 'SERVER' : 'CLIENT';
}

function fetchProvider(mesh: MeshConfig, name: string): AccessLogProvider | undefined {
  const lower = name.toLowerCase();
  return (mesh.accessLogProviders ?? []).find((p) => p.name.toLowerCase() === lower);
}

/**
 * The Envoy loggers Telemetry configures for the class, or undefined when none is configured (use the mesh's
 * accessLogFile). An empty list means logging is configured and off.
 */
export function telemetryAccessLogs(telemetries: readonly Telemetry[], mesh: MeshConfig, cls: ListenerClass): AccessLog[] | undefined {
  const levels = telemetries.map((t) => t.spec.accessLogging ?? []).filter((l) => l.length > 0);
  const defaults = mesh.defaultProviders?.accessLogging ?? [];
  if (levels.length === 0 && defaults.length === 0) return undefined;
  const merged = mergeAccessLogs(levels, defaults, logModeForClass(cls));
  const found: { readonly provider: AccessLogProvider; readonly disabled: boolean; readonly filter: string | undefined }[] = [];
  for (const [name, logging] of merged) {
    const provider = fetchProvider(mesh, name);
    if (provider === undefined) continue;
    found.push({ provider, disabled: logging.disabled, filter: logging.filter });
  }
  if (found.length === 0) return undefined;
  found.sort((a, b) => (a.provider.name < b.provider.name ? -1 : a.provider.name > b.provider.name ? 1 : 0));
  const out: AccessLog[] = [];
  for (const f of found) {
    if (f.disabled || f.provider.kind !== 'envoyFileAccessLog') continue;
    const log = fileAccessLogFromProvider(f.provider.name, f.provider.envoyFileAccessLog, mesh);
    out.push(withFilter(log, f.filter !== undefined ? celAccessLogFilter(f.filter) : undefined));
  }
  return out;
}

function providerProblem(mesh: MeshConfig, name: string): string | undefined {
  const p = fetchProvider(mesh, name);
  if (p === undefined) return `access log provider ${JSON.stringify(name)} is not an access log provider of meshConfig.extensionProviders; it is ignored`;
  if (p.kind !== 'envoyFileAccessLog') return `access log provider ${JSON.stringify(name)} is of kind ${p.kind}, which Isthmus does not support (only envoyFileAccessLog); nothing is logged through it`;
  return undefined;
}

/** Warnings for every provider the proxy's access logging names that Isthmus cannot log through. */
export function accessLogIssues(telemetries: readonly Telemetry[], mesh: MeshConfig): Issue[] {
  const issues: Issue[] = [];
  for (const t of telemetries) {
    (t.spec.accessLogging ?? []).forEach((l, i) => {
      (l.providers ?? []).forEach((p, j) => {
        const problem = providerProblem(mesh, p.name ?? '');
        if (problem !== undefined) issues.push(warning(`Telemetry ${t.metadata.namespace ?? ''}/${t.metadata.name} spec.accessLogging[${i}].providers[${j}]`, problem));
      });
    });
  }
  (mesh.defaultProviders?.accessLogging ?? []).forEach((name, i) => {
    const problem = providerProblem(mesh, name);
    if (problem !== undefined) issues.push(warning(`meshConfig.defaultProviders.accessLogging[${i}]`, problem));
  });
  return issues;
}

/** The Telemetries in scope for the workload (root namespace, namespace, selecting ones), for the two functions above. */
export function telemetriesInScope(lookup: TelemetryLookup, mesh: MeshConfig, w: TelemetryWorkload): Telemetry[] {
  return applicableTelemetries(lookup, mesh.rootNamespace, w);
}
