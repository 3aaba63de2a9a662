import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { celJs, re2js } from './on-demand-libraries.js';

const PROXY_DIR = fileURLToPath(new URL('..', import.meta.url));
const ON_DEMAND = ['re2js', '@marcbachmann/cel-js'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

test('the libraries load on first use and work', () => {
  assert.equal(re2js(), re2js());
  assert.equal(re2js().RE2JS.compile('a+b').matches('aab'), true);
  assert.equal(celJs(), celJs());
  assert.equal(celJs().parse('x > 1')({ x: 2 }), true);
  assert.throws(() => celJs().parse('x >'), celJs().ParseError);
});

test('no proxy module imports them at load time (only types), so a config without them never loads them', () => {
  const eager: string[] = [];
  for (const file of sourceFiles(PROXY_DIR)) {
    if (file.endsWith('on-demand-libraries.ts')) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) {
      if (m[2] === undefined && ON_DEMAND.includes(m[3] ?? '')) eager.push(`${relative(PROXY_DIR, file)}: ${m[3]}`);
    }
    for (const m of text.matchAll(/^import\s+'([^']+)'/gm)) if (ON_DEMAND.includes(m[1] ?? '')) eager.push(`${relative(PROXY_DIR, file)}: ${m[1]}`);
  }
  assert.deepEqual(eager, []);
});
