import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { activeLoggers, loggingQueries } from './log-levels.js';

const ENVOY_LOGGERS = 'active loggers:\n  admin: warning\n  http: info\n  upstream: warning\n';

describe('proxy-config log --level', () => {
  it("reads the logger names of Envoy's /logging answer", () => {
    assert.deepEqual(activeLoggers(ENVOY_LOGGERS), ['admin', 'http', 'upstream']);
  });

  const cases: { name: string; spec: string; want: string[] }[] = [
    { name: 'one level for all', spec: 'debug', want: ['level=debug'] },
    { name: "istioctl's warn alias", spec: 'warn', want: ['level=warning'] },
    { name: 'per logger, after the global level', spec: 'http:debug,level:info,upstream=trace', want: ['level=info', 'http=debug', 'upstream=trace'] },
    { name: 'a namespaced logger name', spec: 'envoy::http:debug', want: ['http=debug'] },
    { name: 'a bare level replaces what came before', spec: 'http:debug,off', want: ['level=off'] },
  ];
  for (const c of cases) {
    it(`turns "${c.spec}" into POST /logging queries: ${c.name}`, () => assert.deepEqual(loggingQueries(c.spec, activeLoggers(ENVOY_LOGGERS)), c.want));
  }

  const bad: { spec: string; error: RegExp }[] = [
    { spec: 'loud', error: /unrecognized logging level: loud/ },
    { spec: 'http:loud', error: /unrecognized logging level: loud/ },
    { spec: 'redis:debug', error: /unrecognized logger name: redis \(the proxy has: admin, http, upstream\)/ },
  ];
  for (const c of bad) {
    it(`rejects "${c.spec}"`, () => assert.throws(() => loggingQueries(c.spec, activeLoggers(ENVOY_LOGGERS)), c.error));
  }
});
