// expectRoute(): simulate and assert in one step, failing with the call, each differing field (want/got),
// the whole summary and the decision trace. describeCall() renders a call for such messages.

import { AssertionError } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import type { ProxyResources } from '../../../src/translate/resources.js';
import { simulate } from './run.js';
import { DEFAULT_ADDRESS, type Call, type Result, type SimulateOptions } from './types.js';

type Summary = Omit<Result, 'trace' | 'raw'>;
/** Fields to check; a field given as undefined must be absent. `error` is always checked (absent: no error). */
export type Expectation = { [K in keyof Summary]?: Summary[K] | undefined };

/** Simulates `call` and fails with a readable message when any expected field differs. Returns the result. */
export function expectRoute(resources: ProxyResources, call: Call, expected: Expectation, opts: SimulateOptions = {}): Result {
  const got = simulate(resources, call, opts);
  const problems: string[] = [];
  const keys = new Set<keyof Summary>([...(Object.keys(expected) as (keyof Summary)[]), 'error']);
  for (const k of keys) {
    if (!isDeepStrictEqual(got[k], expected[k])) problems.push(`  ${k}: want ${show(expected[k])}, got ${show(got[k])}`);
  }
  if (problems.length > 0) {
    const { trace, raw: _raw, ...summary } = got;
    throw new AssertionError({
      message: [
        `simulate ${describeCall(call)}:`,
        ...problems,
        `result: ${JSON.stringify(summary)}`,
        'trace:',
        ...trace.map((t) => `  ${t}`),
      ].join('\n'),
    });
  }
  return got;
}

function show(v: unknown): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}

export function describeCall(c: Call): string {
  const mode = c.callMode ?? 'outbound';
  const target = mode === 'proxyless' ? `xds:///${c.host ?? ''}:${c.port}` : `${c.address ?? DEFAULT_ADDRESS}:${c.port}`;
  const parts = [`${mode} ${c.protocol}${c.tls !== undefined && c.tls !== 'plaintext' ? `+${c.tls}` : ''} to ${target}`];
  if (c.host !== undefined && mode !== 'proxyless') parts.push(`host=${c.host}`);
  if (c.sni !== undefined) parts.push(`sni=${c.sni}`);
  if (c.protocol !== 'tcp' && c.protocol !== 'tls') parts.push(`${c.method ?? 'GET'} ${c.path ?? '/'}`);
  if (c.headers !== undefined) parts.push(`headers=${JSON.stringify(c.headers)}`);
  return parts.join(' ');
}
