// Runs a request through the connection manager's HTTP filters in their configured order. Each filter
// returns 'continue' or 'stop' (Envoy's FilterHeadersStatus); a stopped filter either answered the request
// or resumes the chain later (a fault delay). The router is always last: it answers what has no route,
// redirects and direct responses, and forwards the rest.

import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { Any } from '@bufbuild/protobuf/wkt';
import { HTTPFaultSchema } from '../../xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { CorsPolicySchema } from '../../xds/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import type { CompiledHcm, CompiledHttpFilter } from '../runtime/compile-hcm.js';
import { compileFault, resolveFaultConfig, type FaultConfig } from '../filters/fault/config.js';
import { decideFault, FAULT_ABORT_BODY, FAULT_ABORT_DETAILS } from '../filters/fault/engine.js';
import { compileCorsPolicy, type CorsPolicyConfig } from '../filters/cors/config.js';
import { corsPreflight, corsResponseHeaders, CORS_RESPONSE_CODE_DETAILS } from '../filters/cors/engine.js';
import { runRbacFilter } from '../filters/rbac/filter.js';
import { runExtAuthzFilter } from '../filters/ext-authz/filter.js';
import { runJwtAuthnFilter } from '../filters/jwt-authn/filter.js';
import { runWasmFilter } from '../filters/wasm/filter.js';
import type { CorsSource, RouteSelection } from './route/types.js';
import type { HcmEnv } from './hcm-env.js';
import type { HttpStream } from './http-stream.js';
import { ResponseFlag } from './response-flags.js';
import { forward } from './forward.js';
import { grpcMessage } from './local-reply.js';
import { runPeerMetadataFilter } from '../telemetry/peer-metadata-filter.js';
import { runAlpnFilter } from '../filters/alpn/filter.js';
import { runGrpcWebFilter } from '../filters/grpc-web/filter.js';
import { runStatefulSessionFilter } from '../filters/stateful-session/filter.js';

type FilterStatus = 'continue' | 'stop';

/** Per-route configs compiled once per Any (RDS resources are immutable once accepted). */
const faultPerRoute = new WeakMap<Any, FaultConfig | null>();
const corsPolicies = new WeakMap<object, CorsPolicyConfig | null>();
let activeFaults = 0;

function perRouteFault(a: Any | undefined): FaultConfig | undefined {
  if (a === undefined) return undefined;
  let c = faultPerRoute.get(a);
  if (c === undefined) {
    const m = anyUnpack(a, HTTPFaultSchema);
    const r = m !== undefined ? compileFault(m) : undefined;
    c = r?.ok === true ? r.value : null; // invalid per-route configs are refused by RDS validation
    faultPerRoute.set(a, c);
  }
  return c ?? undefined;
}

function corsPolicyOf(src: CorsSource | undefined): CorsPolicyConfig | undefined {
  if (src === undefined) return undefined;
  const key = src.kind === 'typed' ? src.config : src.policy;
  let c = corsPolicies.get(key);
  if (c === undefined) {
    const policy = src.kind === 'typed' ? anyUnpack(src.config, CorsPolicySchema) : src.policy;
    const r = policy !== undefined ? compileCorsPolicy(policy) : undefined;
    c = r?.ok === true ? r.value : null;
    corsPolicies.set(key, c);
  }
  return c ?? undefined;
}

function faultFilter(f: Extract<CompiledHttpFilter, { kind: 'fault' }>, s: HttpStream, sel: RouteSelection | undefined, resume: () => void): FilterStatus {
  const cfg = resolveFaultConfig(f.config, perRouteFault(sel?.perFilterConfig(f.name)));
  const d = decideFault(cfg, s.request.headers, s.random, activeFaults, sel?.kind === 'route' ? sel.cluster : undefined);
  if (d.delayMs === undefined && d.abort === undefined) return 'continue';
  const abort = (): void => {
    const a = d.abort;
    if (a === undefined) return resume();
    s.info.flags |= ResponseFlag.FI;
    if ('status' in a) s.localReply({ status: a.status, body: FAULT_ABORT_BODY, flag: ResponseFlag.FI, details: FAULT_ABORT_DETAILS });
    else s.respond(200, { 'content-type': 'application/grpc', 'grpc-status': String(a.grpcStatus), 'grpc-message': grpcMessage(FAULT_ABORT_BODY) }, '', FAULT_ABORT_DETAILS);
  };
  if (d.delayMs !== undefined && d.delayMs > 0) {
    s.info.flags |= ResponseFlag.DI;
    activeFaults++;
    let done = false;
    const t = setTimeout(() => {
      if (done) return;
      done = true;
      activeFaults--;
      abort();
    }, d.delayMs);
    s.onDownstreamReset(() => {
      if (done) return;
      done = true;
      activeFaults--;
      clearTimeout(t);
    });
    return 'stop';
  }
  abort();
  return 'stop';
}

function corsFilter(s: HttpStream, sel: RouteSelection | undefined): FilterStatus {
  const policy = corsPolicyOf(sel?.cors);
  if (policy === undefined) return 'continue';
  const h = s.request.headers;
  const pre = corsPreflight(policy, s.request.method, h, s.random);
  if (pre !== undefined) {
    s.respond(pre.status, { ...pre.headers }, '', CORS_RESPONSE_CODE_DETAILS);
    return 'stop';
  }
  const add = corsResponseHeaders(policy, h, s.random);
  let any = false;
  for (const _ in add) {
    any = true;
    break;
  }
  if (any)
    s.responseHooks.push((_st, rh) => {
      for (const k in add) rh[k] = add[k];
    });
  return 'continue';
}

/**
 * How a filter that stopped the chain resumes it. Made here rather than as an arrow inside runFilters' loop,
 * which would give every iteration its own closure context, for every filter of every request.
 */
function resumeAt(s: HttpStream, sel: RouteSelection | undefined, hcm: CompiledHcm, env: HcmEnv, from: number): () => void {
  return () => runFilters(s, sel, hcm, env, from);
}

export function runFilters(s: HttpStream, sel: RouteSelection | undefined, hcm: CompiledHcm, env: HcmEnv, from = 0): void {
  const fs = hcm.httpFilters;
  for (let i = from; i < fs.length; i++) {
    const f = fs[i] as CompiledHttpFilter;
    let st: FilterStatus;
    switch (f.kind) {
      case 'fault':
        st = faultFilter(f, s, sel, resumeAt(s, sel, hcm, env, i + 1));
        break;
      case 'cors':
        st = corsFilter(s, sel);
        break;
      case 'grpc_web':
        st = runGrpcWebFilter(s);
        break;
      case 'rbac':
        st = runRbacFilter(f.config, s, hcm, env.stats);
        break;
      case 'ext_authz':
        st = runExtAuthzFilter(f.name, f.config, s, hcm, env, resumeAt(s, sel, hcm, env, i + 1));
        break;
      case 'jwt_authn':
        st = runJwtAuthnFilter(f.config, s, resumeAt(s, sel, hcm, env, i + 1));
        break;
      case 'wasm':
        st = runWasmFilter(f.config, s, env, resumeAt(s, sel, hcm, env, i + 1));
        break;
      case 'peer_metadata':
        runPeerMetadataFilter(f.config, s, sel, env);
        st = 'continue';
        break;
      case 'alpn':
        runAlpnFilter(f.config, s, sel, env);
        st = 'continue';
        break;
      case 'stateful_session':
        st = runStatefulSessionFilter(f.name, f.config, s, sel);
        break;
      case 'router':
        forward(s, sel, env, f.config);
        return;
    }
    if (st === 'stop') return;
  }
}
