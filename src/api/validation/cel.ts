// CEL (Common Expression Language) syntax checking, standing in for cel-go's `env.Parse` that Istio runs on
// Telemetry access-log filters (validateTelemetryFilter in istio/istio
// pkg/config/validation/validation_istiod.go). Parsing is done by @marcbachmann/cel-js; no type checking,
// as Parse does none. Errors are given in cel-go's shape, `ERROR: <input>:line:col: Syntax error: ...`,
// with the library's wording after the prefix.
//
// Known differences from cel-go: the library does not parse message construction (`pkg.Type{field: v}`),
// and it checks the argument of `has()` only when type checking, so that cel-go parse-time rule is
// applied here on the parsed tree.

import { parse, ParseError, type ASTNode } from '@marcbachmann/cel-js';

/** Returns the parse error for `expression` in cel-go's format, or undefined when it parses. */
export function celSyntaxError(expression: string): string | undefined {
  let ast: ASTNode;
  try {
    ast = parse(expression).ast;
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    const pos = e.range?.start ?? e.node?.pos ?? 0;
    return syntaxError(expression, pos, e.summary);
  }
  const bad = findInvalidHas(ast);
  // cel-go: "invalid argument to has() macro", reported at the argument.
  return bad === undefined ? undefined : syntaxError(expression, bad.pos, 'invalid argument to has() macro');
}

function syntaxError(src: string, pos: number, message: string): string {
  const before = src.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - (before.lastIndexOf('\n') + 1) + 1;
  return `ERROR: <input>:${line}:${col}: Syntax error: ${message}`;
}

/** The argument of the first `has(x)` call whose `x` is not a field selection (`a.b`), if any. */
function findInvalidHas(node: ASTNode): ASTNode | undefined {
  if (node.op === 'call' && node.args[0] === 'has') {
    const arg = node.args[1][0];
    if (arg !== undefined && arg.op !== '.') return arg;
  }
  for (const child of children(node)) {
    const bad = findInvalidHas(child);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

function children(node: ASTNode): readonly ASTNode[] {
  switch (node.op) {
    case 'value':
    case 'id':
      return [];
    case '.':
    case '.?':
      return [node.args[0]];
    case 'call':
      return node.args[1];
    case 'rcall':
      return [node.args[1], ...node.args[2]];
    case 'list':
      return node.args;
    case 'map':
      return node.args.flat();
    case '!_':
    case '-_':
      return [node.args];
    default:
      return node.args;
  }
}
