import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFormat, type FormatToken } from './format-parser.js';

const cmd = (command: string, arg = '', maxLength?: number, position = 0): FormatToken => ({
  kind: 'command',
  command,
  arg,
  maxLength,
  position,
});
const lit = (text: string): FormatToken => ({ kind: 'literal', text });

describe('format string tokens', () => {
  const cases: { name: string; format: string; tokens: FormatToken[] }[] = [
    { name: 'bare command', format: '%PROTOCOL%', tokens: [cmd('PROTOCOL')] },
    { name: 'argument and length', format: '%REQ(X?Y):10%', tokens: [cmd('REQ', 'X?Y', 10)] },
    { name: 'empty parentheses are no argument', format: '%START_TIME()%', tokens: [cmd('START_TIME')] },
    { name: 'argument containing %', format: '%START_TIME(%Y-%m)%', tokens: [cmd('START_TIME', '%Y-%m')] },
    { name: 'digits in the name', format: '%DOWNSTREAM_PEER_FINGERPRINT_256%', tokens: [cmd('DOWNSTREAM_PEER_FINGERPRINT_256')] },
    {
      name: 'literals around commands keep their positions',
      format: 'a %B% c %D(e)%\n',
      tokens: [lit('a '), cmd('B', '', undefined, 2), lit(' c '), cmd('D', 'e', undefined, 8), lit('\n')],
    },
    { name: '%% joins the literal', format: 'x%%y', tokens: [lit('x%y')] },
    { name: 'adjacent commands', format: '%A%%B%', tokens: [cmd('A'), cmd('B', '', undefined, 3)] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseFormat(c.format);
      assert.deepEqual(r.problems, []);
      assert.deepEqual(r.tokens, c.tokens);
    });
  }

  const bad: { name: string; format: string; positions: number[] }[] = [
    { name: 'lone %', format: 'a % b', positions: [2] },
    { name: 'lower case', format: '%req(x)%', positions: [0] },
    { name: 'missing closing %', format: 'x %PROTOCOL', positions: [2] },
    { name: 'bad length', format: '%REQ(X):abc%', positions: [0] },
    { name: 'two bad operators', format: '%a% ok %b%', positions: [0, 7] },
  ];
  for (const c of bad) {
    it(`reports ${c.name}`, () => {
      const r = parseFormat(c.format);
      assert.deepEqual(
        r.problems,
        c.positions.map((p) => `Incorrect configuration: ${c.format}. Couldn't find valid command at position ${p}`),
      );
    });
  }
});
