// Flag values of `proxy-config` and `dashboard envoy`, checked as istioctl checks them: `-o short|json|yaml`,
// ports, and pflag-style booleans (`--verbose` alone is true, `--verbose=false` false).

import { IsthmusError } from '../../lib/errors.js';

export type ProxyConfigFormat = 'short' | 'json' | 'yaml';

export function parseFormat(v: string): ProxyConfigFormat {
  if (v === 'short' || v === 'table') return 'short';
  if (v === 'json' || v === 'yaml') return v;
  throw new IsthmusError('ISM_USAGE', `invalid output format "${v}": must be one of short, json, yaml`);
}

export function parsePort(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || n > 65535) throw new IsthmusError('ISM_USAGE', `invalid ${flag} "${v}": must be a port number 0-65535`);
  return n;
}

export function parseBool(flag: string, v: string | boolean | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (v === true || v === 'true' || v === '1') return true;
  if (v === false || v === 'false' || v === '0') return false;
  throw new IsthmusError('ISM_USAGE', `invalid ${flag} "${String(v)}": must be true or false (as ${flag}=false)`);
}
