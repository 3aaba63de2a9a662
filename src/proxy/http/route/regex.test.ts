import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRegex, parseRewrite, type CompiledRegex } from './regex.js';

function regex(p: string): CompiledRegex {
  const r = compileRegex(p);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.regex;
}

const engineCases: { name: string; pattern: string; native: boolean; yes: string[]; no: string[] }[] = [
  { name: 'plain pattern runs natively', pattern: '/api/v[0-9]+/.*', native: true, yes: ['/api/v1/x'], no: ['/api/v/x', 'x/api/v1/x'] },
  { name: 'Python-style named group runs natively', pattern: '/(?P<id>[a-z]+)', native: true, yes: ['/abc'], no: ['/ABC'] },
  { name: 'inline flags run on re2js', pattern: '(?i)/abc', native: false, yes: ['/ABC', '/abc'], no: ['/abd'] },
  { name: 'POSIX classes run on re2js', pattern: '[[:digit:]]+', native: false, yes: ['123'], no: ['12a'] },
  { name: 'Unicode classes run on re2js', pattern: '\\pL+', native: false, yes: ['abc'], no: ['ab1'] },
  { name: '\\s runs on re2js (RE2 excludes \\v)', pattern: 'a\\sb', native: false, yes: ['a b', 'a\tb'], no: ['a\u000bb'] },
  { name: '\\z runs on re2js', pattern: 'abc\\z', native: false, yes: ['abc'], no: ['abcd'] },
  { name: 'a class starting with ] runs on re2js', pattern: '[]a]+', native: false, yes: [']a]'], no: ['b'] },
  { name: 'escaped punctuation runs natively', pattern: '\\.\\-\\/\\?', native: true, yes: ['.-/?'], no: ['a-/?'] },
  { name: 'full match, not search', pattern: 'b', native: true, yes: ['b'], no: ['abc'] },
  { name: 'alternation is grouped under the anchors', pattern: 'a|b', native: true, yes: ['a', 'b'], no: ['ab'] },
];

for (const c of engineCases) {
  test(`regex engine: ${c.name}`, () => {
    const r = regex(c.pattern);
    assert.equal(r.native, c.native);
    for (const s of c.yes) assert.equal(r.fullMatch(s), true, s);
    for (const s of c.no) assert.equal(r.fullMatch(s), false, s);
  });
}

const rejected = ['(?=a)', '(?!a)', '(?<=a)b', '(a)\\1', 'a**', 'a{1001}', '[z-a]', '('];

for (const p of rejected) {
  test(`regex: RE2 rejects ${JSON.stringify(p)}`, () => {
    assert.equal(compileRegex(p).ok, false);
  });
}

const replaceCases: { name: string; pattern: string; sub: string; input: string; want: string }[] = [
  { name: 'groups', pattern: '^/v2/(.*)$', sub: '/api/\\1', input: '/v2/a/b', want: '/api/a/b' },
  { name: 'every match', pattern: 'o', sub: '0', input: 'foo/boo', want: 'f00/b00' },
  { name: 'no match returns the input', pattern: 'x', sub: 'y', input: 'abc', want: 'abc' },
  { name: '.* replaces once (no empty match at the end of a match)', pattern: '.*', sub: 'x', input: 'abc', want: 'x' },
  { name: 'empty matches between characters', pattern: 'x*', sub: '-', input: 'abc', want: '-a-b-c-' },
  { name: 'an unmatched group is empty', pattern: '(a)|(b)', sub: '[\\1\\2]', input: 'ab', want: '[a][b]' },
  { name: '\\0 is the whole match and \\\\ a backslash', pattern: 'b', sub: '\\\\\\0', input: 'abc', want: 'a\\bc' },
];

for (const c of replaceCases) {
  test(`regex replace: ${c.name}`, () => {
    const rw = parseRewrite(c.sub, regex(c.pattern).groupCount);
    assert.ok(rw.ok);
    assert.equal(regex(c.pattern).replaceAll(c.input, rw.rewrite), c.want);
  });
}

test('regex replace: re2js gives the same answers as the native engine', () => {
  const native = regex('x*');
  const fallback = regex('(?s)x*');
  assert.equal(native.native, true);
  assert.equal(fallback.native, false);
  const rw = parseRewrite('-', 0);
  assert.ok(rw.ok);
  for (const input of ['abc', 'xax', '', 'xx']) assert.equal(fallback.replaceAll(input, rw.rewrite), native.replaceAll(input, rw.rewrite), input);
});

const badRewrites: { name: string; sub: string; groups: number }[] = [
  { name: 'a group beyond the count', sub: '\\2', groups: 1 },
  { name: 'a backslash before a letter', sub: '\\n', groups: 0 },
  { name: 'a trailing backslash', sub: 'a\\', groups: 0 },
];

for (const c of badRewrites) {
  test(`rewrite string problem: ${c.name}`, () => {
    assert.equal(parseRewrite(c.sub, c.groups).ok, false);
  });
}
