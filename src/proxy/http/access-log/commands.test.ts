import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCommand, truncate, valueToText } from './commands.js';

describe('command syntax', () => {
  const cases: { name: string; command: string; arg: string; len?: number; ok: boolean }[] = [
    { name: 'command-only without anything', command: 'DURATION', arg: '', ok: true },
    { name: 'command-only with an argument', command: 'DURATION', arg: 'x', ok: false },
    { name: 'optional argument given', command: 'START_TIME', arg: '%s', ok: true },
    { name: 'optional argument absent', command: 'START_TIME', arg: '', ok: true },
    { name: 'required argument absent', command: 'RESP', arg: '', ok: false },
    { name: 'length where allowed', command: 'RESP', arg: 'server', len: 3, ok: true },
    { name: 'length on filter state', command: 'FILTER_STATE', arg: 'k:PLAIN', len: 3, ok: true },
    { name: 'bad filter state mode', command: 'FILTER_STATE', arg: 'k:XML', ok: false },
    { name: 'bad gRPC status mode', command: 'GRPC_STATUS', arg: 'HEX', ok: false },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(compileCommand(c.command, c.arg, c.len, {}).ok, c.ok));
  }
});

describe('value helpers', () => {
  it('truncates only when longer', () => {
    assert.equal(truncate('abcdef', 3), 'abc');
    assert.equal(truncate('ab', 3), 'ab');
    assert.equal(truncate('ab', undefined), 'ab');
  });

  it('prints values as text, unspecified as undefined', () => {
    assert.equal(valueToText(undefined), undefined);
    assert.equal(valueToText(null), undefined);
    assert.equal(valueToText(0), '0');
    assert.equal(valueToText(false), 'false');
    assert.equal(valueToText({ a: [1] }), '{"a":[1]}');
  });
});
