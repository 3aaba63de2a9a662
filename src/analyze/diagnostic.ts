// Diagnostics: one analysis finding (an IST-coded message about a resource), how istioctl prints it
// (`<Level> [<Code>] (<Kind> <ns>/<name> <file:line>) <message>`), and its deterministic ordering.
// Source: istio/istio pkg/config/analysis/diag/message.go (String, Origin) and messages.go (Sort).

import type { Origin } from '../api/resource.js';
import type { MessageLevel } from './messages.js';

/** The resource a diagnostic is about; `namespace` is absent for cluster-scoped kinds. */
export interface DiagnosticResource {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

export interface Diagnostic {
  readonly code: string;
  /** The message type's name, e.g. `ReferencedResourceNotFound`. */
  readonly name: string;
  readonly level: MessageLevel;
  readonly message: string;
  readonly resource?: DiagnosticResource;
  /** File and 1-based line of the field the message is about (the resource's line when no field applies). */
  readonly origin?: Origin;
  readonly documentationUrl: string;
  /** The analyzer that reported it (e.g. `virtualservice.DestinationHostAnalyzer`). */
  readonly analyzer: string;
}

/** istioctl's friendly name: `Kind ns/name`, or `Kind name` for cluster-scoped objects (kube origin.go). */
export function friendlyName(r: DiagnosticResource): string {
  return r.namespace === undefined || r.namespace === '' ? `${r.kind} ${r.name}` : `${r.kind} ${r.namespace}/${r.name}`;
}

function originText(d: Diagnostic): string {
  const loc = d.origin === undefined ? '' : d.origin.line > 0 ? `${d.origin.file}:${d.origin.line}` : d.origin.file;
  if (d.resource === undefined) return loc === '' ? '' : ` (${loc})`;
  return ` (${friendlyName(d.resource)}${loc === '' ? '' : ' ' + loc})`;
}

/** One line as `istioctl analyze` prints it: `Error [IST0101] (VirtualService default/reviews a.yaml:12) Referenced host not found: "x"`. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.level} [${d.code}]${originText(d)} ${d.message}`;
}

const LEVEL_ORDER: Record<MessageLevel, number> = { Error: 0, Warning: 1, Info: 2 };

/** True when `level` is at least as severe as `threshold` (Error > Warning > Info). */
export function isWorseThanOrEqual(level: MessageLevel, threshold: MessageLevel): boolean {
  return LEVEL_ORDER[level] <= LEVEL_ORDER[threshold];
}

function comparator(r: DiagnosticResource): string {
  return `${r.kind}/${r.name}/${r.namespace ?? ''}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Istio's order: level (Error first), code, resource (none first, then Kind/name/namespace), file, line, text. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.level !== b.level) return LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level];
  if (a.code !== b.code) return cmp(a.code, b.code);
  if (a.resource === undefined && b.resource !== undefined) return -1;
  if (a.resource !== undefined && b.resource === undefined) return 1;
  if (a.resource !== undefined && b.resource !== undefined) {
    const c = cmp(comparator(a.resource), comparator(b.resource));
    if (c !== 0) return c;
  }
  const fa = a.origin?.file ?? '';
  const fb = b.origin?.file ?? '';
  if (fa !== fb) return cmp(fa, fb);
  const la = a.origin?.line ?? 0;
  const lb = b.origin?.line ?? 0;
  if (la !== lb) return la - lb;
  return cmp(formatDiagnostic(a), formatDiagnostic(b));
}

/** Sorted copy without duplicates (two diagnostics are duplicates when they print the same). */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  const sorted = [...ds].sort(compareDiagnostics);
  const out: Diagnostic[] = [];
  for (const d of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && formatDiagnostic(last) === formatDiagnostic(d)) continue;
    out.push(d);
  }
  return out;
}
