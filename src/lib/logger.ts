// A small leveled logger: structured fields, formatting only when the level is enabled.
// Composition roots (bin/) choose the sink and level; library code receives a Logger.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, off: 100 };

export interface Logger {
  readonly level: LogLevel;
  enabled(level: Exclude<LogLevel, 'off'>): boolean;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const enabled = (l: Exclude<LogLevel, 'off'>): boolean => RANK[l] >= RANK[level];
  const emit = (l: Exclude<LogLevel, 'off'>, msg: string, fields?: Record<string, unknown>): void => {
    if (!enabled(l)) return;
    const extra = fields === undefined ? '' : ' ' + Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
    write(`${new Date().toISOString()} ${l} ${msg}${extra}`);
  };
  return {
    level,
    enabled,
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = createLogger('off', () => undefined);

const LEVELS = new Set<string>(Object.keys(RANK));

/** A logger whose level can change at run time (Envoy's admin POST /logging?level=). */
export function createSwitchableLogger(level: LogLevel, write?: (line: string) => void): Logger & { setLevel(level: string): boolean } {
  let inner = createLogger(level, write);
  return {
    get level() {
      return inner.level;
    },
    enabled: (l) => inner.enabled(l),
    debug: (m, f) => inner.debug(m, f),
    info: (m, f) => inner.info(m, f),
    warn: (m, f) => inner.warn(m, f),
    error: (m, f) => inner.error(m, f),
    setLevel(l: string): boolean {
      // Envoy's names: trace, warning and critical map onto ours (istioctl sends `warning` for --reset).
      const mapped = l === 'trace' ? 'debug' : l === 'critical' ? 'error' : l === 'warning' ? 'warn' : l;
      if (!LEVELS.has(mapped)) return false;
      inner = createLogger(mapped as LogLevel, write);
      return true;
    },
  };
}
