// Stateful session configuration: compiles Envoy's StatefulSession (the listener's
// envoy.filters.http.stateful_session typed_config, empty as Istio emits it) and StatefulSessionPerRoute (the
// per-route and per-virtual-host override Istio puts in typed_per_filter_config for a service labelled
// istio.io/persistent-session or istio.io/persistent-session-header) into immutable configs, once per update.
// The session state is an extension: envoy.http.stateful_session.cookie (CookieBasedSessionState) or
// envoy.http.stateful_session.header (HeaderBasedSessionState); any other is refused.
// Envoy: source/extensions/filters/http/stateful_session/stateful_session.cc (StatefulSessionConfig,
// PerRouteStatefulSession), source/extensions/http/stateful_session/cookie/cookie.cc and header/header.cc.

import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import {
  StatefulSessionPerRouteSchema,
  StatefulSessionSchema,
  type StatefulSession,
  type StatefulSessionPerRoute,
} from '../../../xds/gen/envoy/extensions/filters/http/stateful_session/v3/stateful_session_pb.js';
import { CookieBasedSessionStateSchema } from '../../../xds/gen/envoy/extensions/http/stateful_session/cookie/v3/cookie_pb.js';
import { HeaderBasedSessionStateSchema } from '../../../xds/gen/envoy/extensions/http/stateful_session/header/v3/header_pb.js';
import type { CompileResult } from '../cors/config.js';

export type SessionStateConfig =
  | {
      readonly kind: 'cookie';
      readonly name: string;
      /** Cookie.path: the Set-Cookie's Path, and which request paths the session applies to. */
      readonly path: string;
      /** Cookie.ttl in whole seconds (0: a session cookie without Max-Age and without an expiry inside). */
      readonly ttlSeconds: number;
      /** Whether a request path (with its query) is under the cookie's path. */
      readonly matchesPath: (requestPath: string) => boolean;
    }
  | {
      readonly kind: 'header';
      /** Lower-case header name. */
      readonly name: string;
    };

export interface StatefulSessionConfig {
  /** Undefined: no session state configured (Istio's empty listener filter); requests pass untouched. */
  readonly state: SessionStateConfig | undefined;
  /** The session's host or nothing: a request whose host is gone gets 503 instead of another host. */
  readonly strict: boolean;
}

export type PerRouteStatefulSession = { readonly disabled: true } | { readonly disabled: false; readonly config: StatefulSessionConfig };

const COOKIE_STATE = 'envoy.extensions.http.stateful_session.cookie.v3.CookieBasedSessionState';
const HEADER_STATE = 'envoy.extensions.http.stateful_session.header.v3.HeaderBasedSessionState';

/**
 * CookieBasedSessionStateFactory's path matcher: '' or '/' matches every path; a path ending in '/' matches
 * paths starting with it; any other matches itself and paths continuing with '/', '?' or '#'.
 */
export function cookiePathMatcher(path: string): (requestPath: string) => boolean {
  if (path === '' || path === '/') return () => true;
  if (path.endsWith('/')) return (p) => p.startsWith(path);
  return (p) => {
    if (!p.startsWith(path)) return false;
    if (p.length === path.length) return true;
    const next = p[path.length];
    return next === '/' || next === '?' || next === '#';
  };
}

function typeName(a: Any): string {
  return a.typeUrl.slice(a.typeUrl.lastIndexOf('/') + 1);
}

function compileSessionState(a: Any | undefined, at: string, problems: string[]): SessionStateConfig | undefined {
  const t = a !== undefined ? typeName(a) : '';
  if (a !== undefined && t === COOKIE_STATE) {
    const m = anyUnpack(a, CookieBasedSessionStateSchema);
    if (m === undefined) return void problems.push(`${at}: cannot decode ${t}`);
    const cookie = m.cookie;
    // Envoy's messages (the factory's EnvoyException; PGV for the required cookie).
    if (cookie === undefined) return void problems.push(`${at}.cookie: value is required`);
    if (cookie.name === '') return void problems.push(`${at}.cookie.name: Cookie key cannot be empty for cookie based stateful sessions`);
    const ttl = cookie.ttl;
    if (ttl !== undefined && (ttl.seconds < 0n || ttl.nanos < 0)) return void problems.push(`${at}.cookie.ttl: must be non-negative`);
    return Object.freeze({ kind: 'cookie', name: cookie.name, path: cookie.path, ttlSeconds: Number(ttl?.seconds ?? 0n), matchesPath: cookiePathMatcher(cookie.path) });
  }
  if (a !== undefined && t === HEADER_STATE) {
    const m = anyUnpack(a, HeaderBasedSessionStateSchema);
    if (m === undefined) return void problems.push(`${at}: cannot decode ${t}`);
    if (m.name === '') return void problems.push(`${at}.name: Header name cannot be empty for header based stateful sessions`);
    return Object.freeze({ kind: 'header', name: m.name.toLowerCase() });
  }
  problems.push(`${at}: unsupported session state ${t || '(no typed_config)'} (envoy.http.stateful_session.cookie and envoy.http.stateful_session.header are)`);
  return undefined;
}

/** A StatefulSession: its session_state (none: an empty filter that Istio's routes configure) and strict. */
export function compileStatefulSession(m: StatefulSession, path: string): CompileResult<StatefulSessionConfig> {
  const problems: string[] = [];
  const ext = m.sessionState;
  const state = ext === undefined ? undefined : compileSessionState(ext.typedConfig, `${path}.session_state.typed_config`, problems);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: Object.freeze({ state, strict: m.strict }) };
}

export function compileStatefulSessionPerRoute(m: StatefulSessionPerRoute, path: string): CompileResult<PerRouteStatefulSession> {
  const o = m.override;
  if (o.case === 'disabled') return o.value ? { ok: true, value: { disabled: true } } : { ok: false, problems: [`${path}.disabled: value must equal true`] };
  if (o.case !== 'statefulSession') return { ok: false, problems: [`${path}.override: value is required (disabled or stateful_session)`] };
  const r = compileStatefulSession(o.value, `${path}.stateful_session`);
  return r.ok ? { ok: true, value: Object.freeze({ disabled: false, config: r.value }) } : r;
}

/** Whether a typed_per_filter_config Any is a StatefulSessionPerRoute (whatever filter name it is under). */
export function isStatefulSessionPerRoute(a: Any): boolean {
  return typeName(a) === StatefulSessionPerRouteSchema.typeName;
}

/** Compiled per-route configs by Any (route tables are immutable once accepted): checked by RDS, reused per request. */
const perRoute = new WeakMap<Any, CompileResult<PerRouteStatefulSession>>();

/** The compiled per-route config in `a`, compiled once; a config RDS refused never reaches a request. */
export function perRouteStatefulSession(a: Any, path = 'typed_per_filter_config'): CompileResult<PerRouteStatefulSession> {
  let r = perRoute.get(a);
  if (r === undefined) {
    const m = anyUnpack(a, StatefulSessionPerRouteSchema);
    r = m === undefined ? { ok: false, problems: [`${path}: cannot decode ${typeName(a)}`] } : compileStatefulSessionPerRoute(m, path);
    perRoute.set(a, r);
  }
  return r;
}

/** The listener filter's typed_config (an Any holding a StatefulSession). */
export function compileStatefulSessionFilter(a: Any, path: string): CompileResult<StatefulSessionConfig> {
  const m = anyUnpack(a, StatefulSessionSchema);
  return m === undefined ? { ok: false, problems: [`${path}: cannot decode ${typeName(a)}`] } : compileStatefulSession(m, path);
}
