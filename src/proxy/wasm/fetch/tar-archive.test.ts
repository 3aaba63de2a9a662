import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findFile, firstFile, isTar } from './tar-archive.js';

/** One tar entry: a 512-byte header (name, octal size, type, ustar magic, checksum) and padded data. */
function entry(name: string, data: Uint8Array | string, type = '0', prefix = ''): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(type, 156, 'latin1');
  h.write('ustar\u000000', 257, 'latin1');
  h.write(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}
const end = Buffer.alloc(1024);
const tar = (...parts: Buffer[]): Uint8Array => new Uint8Array(Buffer.concat([...parts, end]));
const pax = (path: string): string => {
  const rec = ` path=${path}\n`;
  let len = rec.length + 2;
  if (`${len}${rec}`.length !== len) len++;
  return `${len}${rec}`;
};

describe('findFile(plugin.wasm)', () => {
  const wasm = 'WASMBYTES';
  const long = `${'d'.repeat(120)}/plugin.wasm`;
  const cases = [
    { name: 'at the root', t: tar(entry('README', 'x'), entry('plugin.wasm', wasm)), want: wasm },
    { name: 'in a directory, ./ prefixed', t: tar(entry('./plugin/', '', '5'), entry('./plugin/plugin.wasm', wasm)), want: wasm },
    { name: 'ustar prefix field', t: tar(entry('plugin.wasm', wasm, '0', 'opt/filters')), want: wasm },
    { name: 'pax long path', t: tar(entry('PaxHeaders/x', pax(long), 'x'), entry('truncated', wasm)), want: wasm },
    { name: 'GNU long name', t: tar(entry('././@LongLink', long, 'L'), entry('truncated', wasm)), want: wasm },
    { name: 'a directory named plugin.wasm is not the file', t: tar(entry('plugin.wasm/', '', '5')), want: undefined },
    { name: 'absent', t: tar(entry('filter.wasm', wasm)), want: undefined },
    { name: 'similar name', t: tar(entry('myplugin.wasm', wasm)), want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = findFile(c.t, 'plugin.wasm');
      assert.equal(got === undefined ? undefined : Buffer.from(got).toString(), c.want);
    });
  }
  it('recognises a tar and reads its first file', () => {
    const t = tar(entry('a', 'first'), entry('b', 'second'));
    assert.ok(isTar(t));
    assert.equal(Buffer.from(firstFile(t) ?? []).toString(), 'first');
  });
  it('refuses a truncated archive', () => {
    const t = entry('plugin.wasm', 'x'.repeat(1000)).subarray(0, 700);
    assert.throws(() => findFile(new Uint8Array(t), 'plugin.wasm'), { code: 'BAD_IMAGE' });
  });
});
