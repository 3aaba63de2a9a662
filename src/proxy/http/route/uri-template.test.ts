import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyUriRewrite, parseUriRewrite, parseUriTemplate, type UriTemplate } from './uri-template.js';

function template(t: string): UriTemplate {
  const r = parseUriTemplate(t);
  assert.ok(typeof r !== 'string', String(r));
  return r;
}

const matchCases: { name: string; template: string; path: string; want: boolean }[] = [
  { name: 'literal', template: '/a/b', path: '/a/b', want: true },
  { name: '* is one segment', template: '/a/*', path: '/a/b', want: true },
  { name: '* is not two', template: '/a/*', path: '/a/b/c', want: false },
  { name: '** is zero or more segments', template: '/a/**', path: '/a/', want: true },
  { name: '** spans segments', template: '/a/**', path: '/a/b/c', want: true },
  { name: 'a variable with a nested pattern', template: '/{path=videos/*}/x', path: '/videos/1/x', want: true },
  { name: 'trailing slash is literal', template: '/a/{b}/', path: '/a/1/', want: true },
  { name: 'trailing slash is required', template: '/a/{b}/', path: '/a/1', want: false },
  { name: 'a segment may not hold = or *', template: '/{a}', path: '/x=y', want: false },
  { name: 'pchars are allowed', template: '/{a}', path: "/a-b.c_d~e%20!$&'()+,;:@", want: true },
  { name: 'literals are not patterns', template: '/a.b', path: '/aXb', want: false },
];

for (const c of matchCases) {
  test(`uri template match: ${c.name}`, () => {
    assert.equal(template(c.template).exec(c.path) !== null, c.want);
  });
}

const invalid: { name: string; template: string }[] = [
  { name: 'no leading /', template: 'a/{b}' },
  { name: 'space', template: '/a b' },
  { name: 'unmatched bracket', template: '/{a' },
  { name: 'bad variable name', template: '/{1a}' },
  { name: 'repeated variable', template: '/{a}/{a}' },
  { name: 'six variables', template: '/{a}/{b}/{c}/{d}/{e}/{f}' },
  { name: 'variable name over 16 characters', template: '/{abcdefghijklmnopq}' },
  { name: 'glob after **', template: '/**/*' },
  { name: 'implicit glob after **', template: '/{a=**}/{b}' },
  { name: 'empty segment', template: '/a//b' },
  { name: 'empty variable match', template: '/{a=}' },
];

for (const c of invalid) {
  test(`uri template invalid: ${c.name}`, () => {
    assert.equal(typeof parseUriTemplate(c.template), 'string');
  });
}

test('uri rewrite: substitutes variables by name', () => {
  const t = template('/{a}/{b=**}');
  const rw = parseUriRewrite('/x/{b}/y/{a}', t);
  assert.ok(typeof rw !== 'string');
  assert.equal(applyUriRewrite(t, rw, '/1/2/3'), '/x/2/3/y/1');
  assert.equal(applyUriRewrite(t, rw, '/only'), undefined);
});

const invalidRewrites: { name: string; rewrite: string }[] = [
  { name: 'no leading /', rewrite: '{a}' },
  { name: 'double slash', rewrite: '/x//{a}' },
  { name: 'unknown variable', rewrite: '/{c}' },
  { name: 'unmatched bracket', rewrite: '/{a' },
  { name: 'invalid literal', rewrite: '/a b' },
];

for (const c of invalidRewrites) {
  test(`uri rewrite invalid: ${c.name}`, () => {
    assert.equal(typeof parseUriRewrite(c.rewrite, template('/{a}/{b}')), 'string');
  });
}
