// mergeAccessLogs against the cases of Istio's TestAccessLogging and TestAccessLoggingWithFilter
// (pilot/pkg/model/telemetry_logging_test.go): levels are root namespace, namespace, workload.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessLogging } from '../../api/telemetry/telemetry.js';
import { mergeAccessLogs, type LogMode } from './merge-access-logs.js';

const envoy: AccessLogging[] = [{ providers: [{ name: 'envoy' }] }];
const json: AccessLogging[] = [{ providers: [{ name: 'envoy-json' }] }];
const client: AccessLogging[] = [{ match: { mode: 'CLIENT' }, providers: [{ name: 'envoy' }] }];
const clientDisabled: AccessLogging[] = [{ match: { mode: 'CLIENT' }, providers: [{ name: 'envoy' }], disabled: true }];
const server: AccessLogging[] = [{ match: { mode: 'SERVER' }, providers: [{ name: 'envoy' }] }];
const serverDisabled: AccessLogging[] = [{ match: { mode: 'SERVER' }, providers: [{ name: 'envoy' }], disabled: true }];
const empty: AccessLogging[] = [{}];
const disabled: AccessLogging[] = [{ disabled: true }];
const multi: AccessLogging[] = [{ providers: [{ name: 'envoy' }] }, { providers: [{ name: 'envoy-json' }] }];
const multiWithDisabled: AccessLogging[] = [{ providers: [{ name: 'envoy' }] }, { providers: [{ name: 'envoy-json' }], disabled: true }];
const multiFiltersDisabled: AccessLogging[] = [{ match: { mode: 'SERVER' }, providers: [{ name: 'envoy' }] }, { providers: [{ name: 'envoy' }], disabled: true }];
const serverAndClientDifferent: AccessLogging[] = [{ match: { mode: 'SERVER' }, providers: [{ name: 'envoy' }] }, { match: { mode: 'CLIENT' }, providers: [{ name: 'envoy-json' }] }];

/** The providers that log (not disabled), sorted, with their filters. */
function enabled(levels: AccessLogging[][], mode: LogMode, defaults: string[] = []): string[] {
  return [...mergeAccessLogs(levels, defaults, mode)]
    .filter(([, l]) => !l.disabled)
    .map(([p, l]) => (l.filter !== undefined ? `${p} if ${l.filter}` : p))
    .sort();
}

describe('mergeAccessLogs (Istio’s TestAccessLogging)', () => {
  const cases: { name: string; levels: AccessLogging[][]; mode?: LogMode; defaults?: string[]; want: string[] }[] = [
    { name: 'nothing configured', levels: [], want: [] },
    { name: 'default provider only', levels: [], defaults: ['envoy'], want: ['envoy'] },
    { name: 'provider only', levels: [envoy], want: ['envoy'] },
    { name: 'client - outbound', levels: [client], want: ['envoy'] },
    { name: 'client - inbound', levels: [client], mode: 'SERVER', want: [] },
    { name: 'client - disabled server', levels: [client, serverDisabled], want: ['envoy'] },
    { name: 'client - disabled client', levels: [client, clientDisabled], want: [] },
    { name: 'client - disabled - enabled by the workload', levels: [client, clientDisabled, client], want: ['envoy'] },
    { name: 'server - inbound', levels: [server], mode: 'SERVER', want: ['envoy'] },
    { name: 'server - outbound', levels: [server], want: [] },
    { name: 'override default', levels: [envoy], defaults: ['stackdriver'], want: ['envoy'] },
    { name: 'override namespace', levels: [envoy, json], want: ['envoy-json'] },
    { name: 'empty config inherits', levels: [envoy, empty], want: ['envoy'] },
    { name: 'disable config', levels: [envoy, disabled], want: [] },
    { name: 'disable default', levels: [disabled], defaults: ['envoy'], want: [] },
    { name: 'multi filters disabled', levels: [multiFiltersDisabled], want: [] },
    { name: 'multi accesslogging', levels: [envoy, multi], want: ['envoy', 'envoy-json'] },
    { name: 'multi accesslogging with disabled', levels: [envoy, multiWithDisabled], want: ['envoy'] },
    { name: 'server and client different - inbound', levels: [serverAndClientDifferent], mode: 'SERVER', want: ['envoy'] },
    { name: 'server and client different - outbound', levels: [serverAndClientDifferent], want: ['envoy-json'] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(enabled(c.levels, c.mode ?? 'CLIENT', c.defaults), c.want));
});

describe('mergeAccessLogs: filters', () => {
  const errors = 'response.code >= 400';
  const cases: { name: string; levels: AccessLogging[][]; mode?: LogMode; defaults?: string[]; want: string[] }[] = [
    { name: 'a filter on the provider', levels: [[{ providers: [{ name: 'envoy' }], filter: { expression: errors } }]], want: [`envoy if ${errors}`] },
    {
      name: 'a later level naming the provider without a filter clears it',
      levels: [[{ providers: [{ name: 'envoy' }], filter: { expression: errors } }], envoy],
      want: ['envoy'],
    },
    {
      name: 'a workload level adding a filter',
      levels: [envoy, [{ providers: [{ name: 'envoy' }], filter: { expression: 'response.code >= 500' } }]],
      want: ['envoy if response.code >= 500'],
    },
    {
      name: 'a filter for CLIENT only does not reach the server side',
      levels: [envoy, [{ match: { mode: 'CLIENT' }, providers: [{ name: 'envoy' }], filter: { expression: errors } }]],
      mode: 'SERVER',
      want: ['envoy'],
    },
    {
      name: 'an entry without providers does not bring its own filter (Istio: filters are keyed by named providers)',
      levels: [envoy, [{ filter: { expression: errors } }]],
      want: ['envoy'],
    },
    {
      name: 'default providers with a filter entry naming them',
      levels: [[{ providers: [{ name: 'envoy' }], filter: { expression: errors } }]],
      defaults: ['envoy'],
      want: [`envoy if ${errors}`],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(enabled(c.levels, c.mode ?? 'CLIENT', c.defaults), c.want));
});
