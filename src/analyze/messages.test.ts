// Keeps docs/analysis-messages.md and the message registry identical (both directions), and checks that
// templates render the way Go's fmt.Sprintf does.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { documentationUrl, formatMessage, formatTemplate, MESSAGES, messageByCode, messageByName } from './messages.js';

interface DocEntry {
  code: string;
  name: string;
  level: string;
  description: string;
  template: string;
}

/** A CommonMark code span: a run of backticks, the content, the same run; one padding space each side is dropped. */
function codeSpan(s: string): string {
  const m = /^(`+)(.*)\1$/.exec(s);
  if (m === null) throw new Error(`not a code span: ${s}`);
  const inner = m[2] ?? '';
  return inner.length >= 2 && inner.startsWith(' ') && inner.endsWith(' ') ? inner.slice(1, -1) : inner;
}

function parseDoc(text: string): DocEntry[] {
  const out: DocEntry[] = [];
  let cur: Partial<DocEntry> | undefined;
  for (const line of text.split('\n')) {
    const h = /^## (IST\d{4}) (\w+)$/.exec(line);
    if (h !== null) {
      cur = { code: h[1] as string, name: h[2] as string };
      out.push(cur as DocEntry);
      continue;
    }
    if (cur === undefined) continue;
    const f = /^- (Level|Description|Template): (.*)$/.exec(line);
    if (f === null) continue;
    const value = f[2] as string;
    if (f[1] === 'Level') cur.level = value;
    else if (f[1] === 'Description') cur.description = value;
    else cur.template = codeSpan(value);
  }
  return out;
}

describe('analysis message registry', () => {
  const doc = parseDoc(readFileSync(new URL('../../docs/analysis-messages.md', import.meta.url), 'utf8'));

  it('documents every registered message exactly', () => {
    for (const m of MESSAGES) {
      const d = doc.find((e) => e.code === m.code);
      assert.ok(d, `${m.code} is not in docs/analysis-messages.md`);
      assert.deepEqual(d, { code: m.code, name: m.name, level: m.level, description: m.description, template: m.template });
    }
  });

  it('registers every documented message', () => {
    for (const d of doc) assert.ok(messageByCode(d.code), `${d.code} is documented but not registered`);
    assert.equal(doc.length, MESSAGES.length);
  });

  it('has unique codes and names, ordered by code', () => {
    const codes = MESSAGES.map((m) => m.code);
    assert.equal(new Set(codes).size, codes.length);
    assert.equal(new Set(MESSAGES.map((m) => m.name)).size, MESSAGES.length);
    assert.deepEqual([...codes].sort(), codes);
    assert.equal(messageByName('ReferencedResourceNotFound')?.code, 'IST0101');
  });

  it('declares as many arguments as each template has verbs', () => {
    for (const m of MESSAGES) {
      const verbs = (m.template.replace(/%%/g, '').match(/%[a-z]/g) ?? []).length;
      assert.equal(verbs, m.args.length, m.code);
    }
  });
});

describe('formatMessage', () => {
  const cases: { name: string; got: string; want: string }[] = [
    { name: '%s and %q', got: formatMessage('IST0101', ['host', 'reviews-bogus']), want: 'Referenced host not found: "reviews-bogus"' },
    { name: '%q escapes', got: formatTemplate('%q', ['a"b\\c']), want: '"a\\"b\\\\c"' },
    { name: '%v of a list', got: formatMessage('IST0111', [['a', 'b'], 'default']), want: 'The Sidecars [a b] in namespace "default" have no workload selector, which can lead to undefined behavior.' },
    { name: '%v of ints', got: formatMessage('IST0112', ['reviews.default.svc.cluster.local', [9080, 9090]]), want: 'This VirtualService routes to a service "reviews.default.svc.cluster.local" that exposes multiple ports [9080 9090]. Specifying a port in the destination is required to disambiguate.' },
    { name: '%d', got: formatMessage('IST0118', ['foo', 8080, '8080']), want: "Port name foo (port: 8080, targetPort: 8080) doesn't follow the naming convention of Istio port." },
    { name: 'missing argument', got: formatTemplate('a %s b %d', ['x']), want: 'a x b %!d(MISSING)' },
    { name: 'extra argument', got: formatTemplate('a %s', ['x', 'y']), want: 'a x%!(EXTRA string=y)' },
    { name: 'literal percent', got: formatTemplate('100%% %s', ['ok']), want: '100% ok' },
    { name: '%q of a list', got: formatTemplate('%q', [['a', 'b']]), want: '["a" "b"]' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(c.got, c.want));

  it('links to Istio documentation with a lowercase code', () => {
    assert.equal(documentationUrl('IST0101'), 'https://istio.io/latest/docs/reference/config/analysis/ist0101/');
  });
});
