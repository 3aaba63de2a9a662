// The shapes `isthmus explain` produces: a request as the sidecar would see it, the numbered steps of
// its path through the sidecar's config (each naming the Envoy resource that decided it and, when the
// config carries it, the Istio resource behind it) and the verdict. Plain data: rendered as text, JSON
// or YAML by the command; nothing here does I/O.

/** One HTTP request as the workload would send it through its sidecar's HTTP proxy. */
export interface ExplainRequest {
  readonly method: string;
  readonly url: URL;
  /** Lower-case names; `host` is derived from the URL. */
  readonly headers: Readonly<Record<string, string>>;
}

export type StepKind =
  | 'proxy'
  | 'listener'
  | 'filter-chain'
  | 'path'
  | 'route-config'
  | 'virtual-host'
  | 'route'
  | 'route-action'
  | 'http-filter'
  | 'cluster'
  | 'circuit-breakers'
  | 'endpoints'
  | 'inbound'
  | 'inbound-authz';

export interface ExplainStep {
  readonly step: StepKind;
  /** The Envoy resource: listener, filter chain, route configuration, virtual host, route, cluster name. */
  readonly resource: string;
  /** Istio's config path for it (`/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews`). */
  readonly istioResource?: string;
  /** What this step decided, in a few words: `matched`, `no match`, `aborts`, `selected` ... */
  readonly decision: string;
  /** Why, for humans. */
  readonly detail: string;
}

export interface WeightedTarget {
  readonly cluster: string;
  readonly weight: number;
}

export interface Verdict {
  readonly outcome: 'routed' | 'rejected';
  /** The status the proxy itself answers with (rejected), when it answers. */
  readonly status?: number;
  /** Envoy's response flag for the access log (NR, UH, NC, FI ...). */
  readonly responseFlag?: string;
  readonly cluster?: string;
  /** Weighted clusters, when the route splits traffic. */
  readonly weightedClusters?: readonly WeightedTarget[];
  /** The endpoint when only one can be picked. */
  readonly endpoint?: string;
  /** One line for humans. */
  readonly summary: string;
}

export interface SentResult {
  readonly status: number;
  /** Envoy's response flag as the local reply shows it (its body and headers), when it shows one. */
  readonly responseFlag?: string;
  readonly durationMs: number;
  /** Whether the actual status is the one the explanation predicted. */
  readonly asExplained: boolean;
}

export interface ExplainReport {
  readonly proxy: string;
  readonly request: { readonly method: string; readonly url: string; readonly authority: string; readonly path: string; readonly headers: Readonly<Record<string, string>> };
  readonly steps: readonly ExplainStep[];
  readonly verdict: Verdict;
  /** Config the explanation could not read (undecodable resources); usually empty. */
  readonly problems: readonly string[];
  readonly sent?: SentResult;
}
