// Adapts the proxy's Logger to a plugin's WasmLogSink: plugin lines are logged with the plugin's name,
// at the Logger level mapped from proxy-wasm levels (trace/debug -> debug, critical -> error).

import type { Logger } from '../../lib/logger.js';
import { LogLevel } from './abi.js';
import type { WasmLogSink } from './host-types.js';

/** The proxy-wasm level matching the Logger's threshold (answers proxy_get_log_level). */
function thresholdOf(logger: Logger): LogLevel {
  if (logger.enabled('debug')) return LogLevel.TRACE;
  if (logger.enabled('info')) return LogLevel.INFO;
  if (logger.enabled('warn')) return LogLevel.WARN;
  if (logger.enabled('error')) return LogLevel.ERROR;
  return LogLevel.CRITICAL + 1;
}

export function loggerLogSink(logger: Logger, plugin: string): WasmLogSink {
  return {
    level: () => thresholdOf(logger),
    log(level, message) {
      const fields = { plugin };
      if (level <= LogLevel.DEBUG) logger.debug(`wasm: ${message}`, fields);
      else if (level === LogLevel.INFO) logger.info(`wasm: ${message}`, fields);
      else if (level === LogLevel.WARN) logger.warn(`wasm: ${message}`, fields);
      else logger.error(`wasm: ${message}`, fields);
    },
  };
}
