// `proxy-config log --level`: istioctl's level argument (`<level>` for every logger, or
// `<logger>:<level>,...`), checked against Envoy's level names and the proxy's active loggers, turned into
// the admin's POST /logging queries (`level=<l>` first, then `<logger>=<l>`). `--reset` is `level=warning`
// (istioctl's default when it cannot read the injector's ConfigMap).

import { IsthmusError } from '../../lib/errors.js';

/** Envoy's level names, with istioctl's `warn` alias. */
const LEVELS: Readonly<Record<string, string>> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warning: 'warning',
  warn: 'warning',
  error: 'error',
  critical: 'critical',
  off: 'off',
};

export const LEVEL_NAMES = 'trace, debug, info, warning, error, critical, off';
export const RESET_LEVEL = 'warning';

function level(l: string): string {
  const v = LEVELS[l];
  if (v === undefined) throw new IsthmusError('ISM_USAGE', `unrecognized logging level: ${l} (one of ${LEVEL_NAMES})`);
  return v;
}

/** The logger names of a /logging response (`active loggers:` then `  <name>: <level>` lines). */
export function activeLoggers(body: string): string[] {
  return body
    .split('\n')
    .map((l) => /^\s+([^:\s]+):\s*\S+\s*$/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

/** The POST /logging queries `spec` asks for, in order; `loggers` is what the proxy has. */
export function loggingQueries(spec: string, loggers: readonly string[]): string[] {
  const wanted = new Map<string, string>();
  for (const item of spec.split(',')) {
    if (!item.includes(':') && !item.includes('=')) {
      // A bare level sets every logger and drops what came before, as istioctl does.
      wanted.clear();
      wanted.set('level', level(item));
      continue;
    }
    const parts = item.split('::');
    const last = parts[parts.length - 1] ?? '';
    const at = last.search(/[:=]/);
    const name = last.slice(0, at);
    if (name !== 'level' && !loggers.some((l) => l.includes(name))) {
      throw new IsthmusError('ISM_USAGE', `unrecognized logger name: ${name} (the proxy has: ${loggers.join(', ') || 'none'})`);
    }
    wanted.set(name, level(last.slice(at + 1)));
  }
  const out: string[] = [];
  const all = wanted.get('level');
  if (all !== undefined) out.push(`level=${encodeURIComponent(all)}`);
  for (const [name, l] of wanted) if (name !== 'level') out.push(`${encodeURIComponent(name)}=${encodeURIComponent(l)}`);
  return out;
}
