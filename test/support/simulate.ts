// Traffic simulation over generated xDS (Istio's pilot/pkg/simulation/traffic.go, in TypeScript): given the
// resources translation produced for one proxy and a described call, say which listener, filter chain, route
// config, virtual host, route and cluster Envoy would pick. It reads protobuf-es messages only and follows the
// Envoy API documentation (comments in src/xds/gen/envoy/**, copied from the .proto files) rule by rule:
// listener hand-off on original destination, FilterChainMatch narrowing, VirtualHost.domains search order,
// RouteMatch / HeaderMatcher semantics. It never runs a proxy and never mutates its input.
//
// This module is the public entry; the walk lives in ./simulate/, one step per file: run.ts (simulate, the
// walk itself), listener-select.ts, filter-chain.ts, http.ts (HCM, route config, virtual host), request.ts,
// route-match.ts, route-action.ts, check-clusters.ts, and expect.ts (expectRoute and its failure message).

export type {
  Call,
  CallMode,
  CallProtocol,
  MatchedMessages,
  RedirectResult,
  Result,
  SimulateOptions,
  SimulationError,
  TlsMode,
  WeightedTarget,
} from './simulate/types.js';
export { DEFAULT_ADDRESS } from './simulate/types.js';
export { simulate } from './simulate/run.js';
export { describeCall, expectRoute, type Expectation } from './simulate/expect.js';
