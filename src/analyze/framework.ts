// The analysis framework: what an analyzer is, the context it reads resources from and reports
// diagnostics to, and the runner that executes a set of analyzers over loaded entries, then filters
// (namespaces, suppressions, resource annotations), sorts and de-duplicates the findings.
// Modelled on istio/istio pkg/config/analysis (analyzer.go, context.go, local/istiod_analyze.go).

import type { InvalidEntry, ResourceEntry } from '../api/entry.js';
import { isKind, kindId, type KindDescriptor } from '../api/kind.js';
import { groupOf, type Resource } from '../api/resource.js';
import { friendlyName, isWorseThanOrEqual, sortDiagnostics, type Diagnostic, type DiagnosticResource } from './diagnostic.js';
import { documentationUrl, formatMessage, messageByCode, type MessageCode, type MessageLevel, type MessageParam } from './messages.js';

/** A loaded entry whose resource is known to be of body type `B`. */
export type TypedEntry<B> = ResourceEntry & { readonly resource: Resource<B> };

/** What a diagnostic is about: a valid entry, or a document that failed validation. */
export type Subject = ResourceEntry | InvalidEntry;

/** The parts of Istio's MeshConfig analyzers read (istioctl's `--meshConfigFile`). */
export interface MeshConfigView {
  /** Default `istio-system`. */
  readonly rootNamespace?: string;
  readonly defaultProviders?: { readonly accessLogging?: readonly string[] };
  readonly defaultConfig?: { readonly proxyMetadata?: Readonly<Record<string, string>> };
}

export interface AnalysisContext {
  readonly entries: readonly ResourceEntry[];
  readonly meshConfig: MeshConfigView;
  readonly invalid: readonly InvalidEntry[];
  /** Every entry of `kind` (any served version), in load order. */
  list<B>(kind: KindDescriptor<B>): readonly TypedEntry<B>[];
  /** The entry of `kind` named `name` in `namespace` (undefined namespace for cluster-scoped kinds). */
  get<B>(kind: KindDescriptor<B>, namespace: string | undefined, name: string): TypedEntry<B> | undefined;
  /**
   * Whether the configuration source can hold objects of this kind at all (e.g. Secrets). Analyzers that
   * report a missing referenced object of a kind the source cannot provide would only produce noise, so
   * they skip it (Istio skips analyzers whose input collections are unavailable).
   */
  kindAvailable(group: string, kind: string): boolean;
  /** Reports `code` about `subject`; `path` (e.g. `spec.http[0].route[0].destination.host`) picks the line. */
  report(code: MessageCode, subject: Subject | undefined, params: readonly MessageParam[], path?: string): void;
}

export interface Analyzer {
  /** Istio's analyzer name, e.g. `virtualservice.DestinationHostAnalyzer`. */
  readonly name: string;
  readonly description: string;
  /** Kind ids (`group/Kind`, core group empty: `/Service`) the analyzer reads. */
  readonly inputs: readonly string[];
  analyze(ctx: AnalysisContext): void;
}

export interface Suppression {
  readonly code: string;
  /** Glob (`*` only) on the friendly name, e.g. `Namespace frod`, `Pod *.baz`, `VirtualService default/*`. */
  readonly resource: string;
}

export interface RunOptions {
  /** Run only analyzers with these names (`--analyzer`); default all. */
  readonly only?: readonly string[];
  /** Kinds the configuration source can provide (`group/Kind` ids); default: the kinds present in `entries`. */
  readonly availableKinds?: readonly string[];
  /** Keep only diagnostics about resources in these namespaces (cluster-scoped ones are kept); default all. */
  readonly namespaces?: readonly string[];
  /** `-S CODE=Kind ns/name` suppressions. */
  readonly suppress?: readonly Suppression[];
  /** Drop diagnostics less severe than this level (`--output-threshold`); default Info (keep everything). */
  readonly outputThreshold?: MessageLevel;
  /** Mesh configuration; default Istio's (root namespace `istio-system`, no default providers). */
  readonly meshConfig?: MeshConfigView;
}

/** Annotation listing codes (comma separated, `*` for all) not to report for the annotated resource. */
export const ANALYZE_SUPPRESS_ANNOTATION = 'galley.istio.io/analyze-suppress';

function subjectResource(s: Subject): DiagnosticResource | undefined {
  if ('resource' in s) {
    const m = s.resource.metadata;
    return { kind: s.resource.kind, name: m.name, ...(s.kind.namespaced && m.namespace !== undefined ? { namespace: m.namespace } : {}) };
  }
  if (s.kind === undefined || s.name === undefined) return undefined;
  return { kind: s.kind, name: s.name, ...(s.namespace !== undefined ? { namespace: s.namespace } : {}) };
}

function subjectLine(s: Subject, path: string | undefined): number {
  if (path !== undefined && path !== '' && s.locate !== undefined) return s.locate(path);
  return s.origin.line;
}

/** go-glob semantics: `*` matches any run of characters, nothing else is special. */
export function globMatch(pattern: string, s: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === s;
  const first = parts[0] ?? '';
  const last = parts[parts.length - 1] ?? '';
  if (!s.startsWith(first)) return false;
  let pos = first.length;
  for (const mid of parts.slice(1, -1)) {
    const i = s.indexOf(mid, pos);
    if (i < 0) return false;
    pos = i + mid.length;
  }
  return s.length - last.length >= pos && s.endsWith(last);
}

class Context implements AnalysisContext {
  readonly diagnostics: Diagnostic[] = [];
  analyzer = '';
  private readonly byKind = new Map<string, ResourceEntry[]>();
  private readonly available: ReadonlySet<string>;
  /** Annotations of each reported subject, for the suppression annotation. */
  readonly annotations = new Map<Diagnostic, Readonly<Record<string, string>>>();

  constructor(
    readonly entries: readonly ResourceEntry[],
    readonly invalid: readonly InvalidEntry[],
    availableKinds: readonly string[] | undefined,
    readonly meshConfig: MeshConfigView,
  ) {
    for (const e of entries) {
      const id = kindId(groupOf(e.resource.apiVersion), e.resource.kind);
      let list = this.byKind.get(id);
      if (list === undefined) this.byKind.set(id, (list = []));
      list.push(e);
    }
    this.available = new Set(availableKinds ?? [...this.byKind.keys()]);
  }

  list<B>(kind: KindDescriptor<B>): readonly TypedEntry<B>[] {
    const list = this.byKind.get(kindId(kind.group, kind.kind)) ?? [];
    return list.filter((e): e is TypedEntry<B> => isKind(e.resource, kind));
  }

  get<B>(kind: KindDescriptor<B>, namespace: string | undefined, name: string): TypedEntry<B> | undefined {
    return this.list(kind).find(
      (e) => e.resource.metadata.name === name && (!kind.namespaced || e.resource.metadata.namespace === namespace),
    );
  }

  kindAvailable(group: string, kind: string): boolean {
    return this.available.has(kindId(group, kind));
  }

  report(code: MessageCode, subject: Subject | undefined, params: readonly MessageParam[], path?: string): void {
    const type = messageByCode(code);
    if (type === undefined) throw new Error(`unknown analysis message code ${code}`);
    const resource = subject === undefined ? undefined : subjectResource(subject);
    const d: Diagnostic = {
      code,
      name: type.name,
      level: type.level,
      message: formatMessage(code, params),
      ...(resource !== undefined ? { resource } : {}),
      ...(subject !== undefined ? { origin: { file: subject.origin.file, line: subjectLine(subject, path) } } : {}),
      documentationUrl: documentationUrl(code),
      analyzer: this.analyzer,
    };
    this.diagnostics.push(d);
    if (subject !== undefined && 'resource' in subject && subject.resource.metadata.annotations !== undefined) {
      this.annotations.set(d, subject.resource.metadata.annotations);
    }
  }
}

function diagnosticNamespace(d: Diagnostic): string | undefined {
  if (d.resource === undefined) return undefined;
  // The namespace of a Namespace is its own name (kube origin.go).
  if (d.resource.kind === 'Namespace') return d.resource.name;
  return d.resource.namespace;
}

/** Runs `analyzers` over the entries and returns the filtered, sorted, de-duplicated diagnostics. */
export function runAnalyzersWith(
  analyzers: readonly Analyzer[],
  entries: readonly ResourceEntry[],
  invalid: readonly InvalidEntry[],
  opts: RunOptions = {},
): Diagnostic[] {
  const ctx = new Context(entries, invalid, opts.availableKinds, opts.meshConfig ?? {});
  const selected = opts.only === undefined ? analyzers : analyzers.filter((a) => opts.only?.includes(a.name) === true);
  for (const a of selected) {
    ctx.analyzer = a.name;
    try {
      a.analyze(ctx);
    } catch (e) {
      ctx.report('IST0001', undefined, [`analyzer ${a.name} failed: ${e instanceof Error ? e.message : String(e)}`]);
    }
  }
  const kept = ctx.diagnostics.filter((d) => {
    const ns = diagnosticNamespace(d);
    if (opts.namespaces !== undefined && opts.namespaces.length > 0 && ns !== undefined && ns !== '' && !opts.namespaces.includes(ns)) return false;
    const codes = ctx.annotations.get(d)?.[ANALYZE_SUPPRESS_ANNOTATION];
    if (codes !== undefined && codes !== '' && codes.split(',').some((c) => c === '*' || c === d.code)) return false;
    for (const s of opts.suppress ?? []) {
      if (d.resource !== undefined && s.code === d.code && globMatch(s.resource, friendlyName(d.resource))) return false;
    }
    return opts.outputThreshold === undefined || isWorseThanOrEqual(d.level, opts.outputThreshold);
  });
  return sortDiagnostics(kept);
}
