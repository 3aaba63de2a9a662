// Libraries only some configs need, loaded the first time a config uses them rather than when the proxy
// starts: re2js (a route, CORS or fault matcher with a safe_regex) and cel-js (a CEL stats dimension or
// access log filter). Each costs the proxy's heap a few hundred KB for as long as it runs, and most configs
// never need them. Config compiles synchronously (validate -> compile -> ACK/NACK in one step), so they
// load through require(), which Node (>= 20.19) also allows for an ES module such as cel-js; both
// packages are external to the bundle, so the same call works from dist/bin and dist/bundle.

import { createRequire } from 'node:module';
import type * as Re2jsModule from 're2js';
import type * as CelJsModule from '@marcbachmann/cel-js';

const requireFromHere = createRequire(import.meta.url);

let re2: typeof Re2jsModule | undefined;
let cel: typeof CelJsModule | undefined;

/** re2js (RE2's semantics for safe_regex), loaded on first call. */
export function re2js(): typeof Re2jsModule {
  return (re2 ??= requireFromHere('re2js') as typeof Re2jsModule);
}

/** @marcbachmann/cel-js (CEL parsing and evaluation), loaded on first call. */
export function celJs(): typeof CelJsModule {
  return (cel ??= requireFromHere('@marcbachmann/cel-js') as typeof CelJsModule);
}
