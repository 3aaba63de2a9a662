// The stateful session filter (envoy.filters.http.stateful_session) on a request: the most specific
// per-route config replaces the listener's (or disables the filter); the session state names the upstream
// address from the request's cookie or header and the router is asked for that host (the cluster takes it
// when it is one of its hosts in a status override_host_status accepts; strict: that host or 503). When the
// response comes from another host, or the request named none, the response carries the new session.
// Envoy: StatefulSession::decodeHeaders and encodeHeaders (source/extensions/filters/http/stateful_session).

import type { HttpStream } from '../../http/http-stream.js';
import type { RouteSelection } from '../../http/route/types.js';
import { perRouteStatefulSession, type StatefulSessionConfig } from './config.js';
import { monotonicSeconds, sessionAddress, writeSession } from './session-state.js';

export function runStatefulSessionFilter(name: string, listener: StatefulSessionConfig, s: HttpStream, sel: RouteSelection | undefined): 'continue' {
  let config = listener;
  const a = sel?.perFilterConfig(name);
  if (a !== undefined) {
    const r = perRouteStatefulSession(a);
    if (r.ok) {
      if (r.value.disabled) return 'continue';
      config = r.value.config;
    }
  }
  const state = config.state;
  if (state === undefined) return 'continue';
  if (state.kind === 'cookie' && !state.matchesPath(s.request.path)) return 'continue';
  const requested = sessionAddress(state, s.request.headers, monotonicSeconds());
  if (requested !== undefined) s.upstreamOverrideHost = { address: requested, strict: config.strict };
  s.encodeHooks.push((_status, h) => {
    const host = s.info.upstreamHost;
    if (host !== '') writeSession(state, requested, host, h, monotonicSeconds());
  });
  return 'continue';
}
