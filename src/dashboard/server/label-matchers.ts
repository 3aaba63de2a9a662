// Label filters of the metrics API, written as the inside of a PromQL selector:
//   reporter="destination",destination_workload=~"reviews.*",response_code!~"2.."
// Operators = != =~ !~ as in PromQL; regexes are fully anchored (RE2 in Prometheus, JavaScript here;
// the common subset behaves the same). A label a series lacks has the value "" (so `x=""` matches it).
// https://prometheus.io/docs/prometheus/latest/querying/basics/#time-series-selectors
// Matchers are compiled once per query, not per series.

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  matches(labels: Readonly<Record<string, string>>): boolean;
}

export function labelMatcher(name: string, op: MatchOp, value: string): LabelMatcher {
  let test: (v: string) => boolean;
  switch (op) {
    case '=':
      test = (v) => v === value;
      break;
    case '!=':
      test = (v) => v !== value;
      break;
    case '=~':
    case '!~': {
      const re = new RegExp(`^(?:${value})$`);
      test = op === '=~' ? (v) => re.test(v) : (v) => !re.test(v);
      break;
    }
  }
  return { name, op, value, matches: (labels) => test(labels[name] ?? '') };
}

export function matchesAll(matchers: readonly LabelMatcher[], labels: Readonly<Record<string, string>>): boolean {
  for (const m of matchers) if (!m.matches(labels)) return false;
  return true;
}

/** Parses `a="x",b=~"y.*"` (braces optional, values quoted with `\\` `\"` `\n` escapes). Throws Error with a message on bad input. */
export function parseLabelMatchers(text: string): LabelMatcher[] {
  let s = text.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  const out: LabelMatcher[] = [];
  let i = 0;
  const spaces = (): void => {
    while (s[i] === ' ' || s[i] === '\t') i++;
  };
  spaces();
  while (i < s.length) {
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i));
    if (m === null) throw new Error(`expected a label name at "${s.slice(i)}"`);
    const name = m[0];
    i += name.length;
    spaces();
    const op = (['=~', '!~', '!=', '='] as const).find((o) => s.startsWith(o, i));
    if (op === undefined) throw new Error(`expected =, !=, =~ or !~ after ${name}`);
    i += op.length;
    spaces();
    if (s[i] !== '"') throw new Error(`the value of ${name} must be quoted ("...")`);
    i++;
    let value = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new Error(`unterminated value for ${name}`);
      if (c === '"') break;
      if (c === '\\') {
        const n = s[i + 1];
        value += n === 'n' ? '\n' : (n ?? '');
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++;
    try {
      out.push(labelMatcher(name, op, value));
    } catch (e) {
      throw new Error(`invalid regular expression for ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    spaces();
    if (i >= s.length) break;
    if (s[i] !== ',') throw new Error(`expected "," after the matcher on ${name}`);
    i++;
    spaces();
  }
  return out;
}
