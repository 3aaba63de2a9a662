// A syntax-only checker for CEL (Common Expression Language) expressions, standing in for cel-go's
// `env.Parse` that Istio runs on Telemetry access-log filters (validateTelemetryFilter in
// pkg/config/validation/validation_istiod.go). It follows the grammar of cel-spec's langdef.md
// (conditional, ||, &&, relations incl. `in`, arithmetic, unary, member/index/call, lists, maps, message
// construction, literals incl. raw/bytes/triple-quoted strings) and cel-go's parse-time macro checks
// (`has()` needs a field selection, comprehension variables must be simple names). No type checking, as
// Parse does none. Errors are reported as cel-go prints them: `ERROR: <input>:line:col: Syntax error: ...`.

type Tok =
  | { k: 'id'; v: string; pos: number }
  | { k: 'lit'; v: string; pos: number }
  | { k: 'op'; v: string; pos: number }
  | { k: 'eof'; v: '<EOF>'; pos: number };

const RESERVED = new Set([
  'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while',
]);
const LITERAL_WORDS = new Set(['true', 'false', 'null']);
const OPS = ['&&', '||', '<=', '>=', '==', '!=', '<', '>', '+', '-', '*', '/', '%', '!', '?', ':', '.', ',', '(', ')', '[', ']', '{', '}'];
const PRIMARY_START = "{'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}";
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

class CelError extends Error {
  constructor(
    readonly pos: number,
    message: string,
  ) {
    super(message);
  }
}

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (src.startsWith('//', i)) {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const start = i;
    // string and bytes literals, with optional r/R and b/B prefixes
    const pre = /^([rR][bB]?|[bB][rR]?)?(\"\"\"|'''|"|')/.exec(src.slice(i));
    if (pre !== null && (pre[1] !== undefined || c === '"' || c === "'")) {
      const raw = /[rR]/.test(pre[1] ?? '');
      const quote = pre[2] as string;
      i += pre[0].length;
      let closed = false;
      while (i < src.length) {
        if (src.startsWith(quote, i)) {
          i += quote.length;
          closed = true;
          break;
        }
        const ch = src[i] as string;
        if (quote.length === 1 && (ch === '\n' || ch === '\r')) break;
        if (ch === '\\' && !raw) {
          const esc = src.slice(i + 1);
          const m = /^([abfnrtv\\?"'`]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-3][0-7]{2})/.exec(esc);
          if (m === null) throw new CelError(i, `token recognition error at: '${src.slice(start, i + 2)}'`);
          i += 1 + (m[0] as string).length;
          continue;
        }
        if (ch === '\\' && raw) {
          i += 2;
          continue;
        }
        i++;
      }
      if (!closed) throw new CelError(start, `token recognition error at: '${src.slice(start, i)}'`);
      out.push({ k: 'lit', v: src.slice(start, i), pos: start });
      continue;
    }
    const num = /^(0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[uU]?)/.exec(src.slice(i));
    if (num !== null && (/\d/.test(c) || (c === '.' && /\d/.test(src[i + 1] ?? '')))) {
      const v = num[0] as string;
      if (/[uU]$/.test(v) && /[.eE]/.test(v) && !/^0[xX]/.test(v)) throw new CelError(start, `token recognition error at: '${v}'`);
      i += v.length;
      out.push({ k: 'lit', v, pos: start });
      continue;
    }
    const id = /^[_a-zA-Z][_a-zA-Z0-9]*/.exec(src.slice(i));
    if (id !== null) {
      i += id[0].length;
      out.push(LITERAL_WORDS.has(id[0]) ? { k: 'lit', v: id[0], pos: start } : id[0] === 'in' ? { k: 'op', v: 'in', pos: start } : { k: 'id', v: id[0], pos: start });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op === undefined) throw new CelError(i, `token recognition error at: '${c}'`);
    i += op.length;
    out.push({ k: 'op', v: op, pos: start });
  }
  out.push({ k: 'eof', v: '<EOF>', pos: src.length });
  return out;
}

/** What an expression node is, as far as the macro checks need to know. */
type Node = 'ident' | 'select' | 'other';

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok {
    return this.toks[this.i] as Tok;
  }
  private next(): Tok {
    const t = this.peek();
    if (t.k !== 'eof') this.i++;
    return t;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.k === 'op' && t.v === v;
  }
  private fail(t: Tok, expecting?: string): never {
    const shown = t.k === 'eof' ? '<EOF>' : `'${t.v}'`;
    throw new CelError(t.pos, expecting === undefined ? `extraneous input ${shown}` : `mismatched input ${shown} expecting ${expecting}`);
  }
  private expect(v: string): void {
    const t = this.next();
    if (t.k !== 'op' || t.v !== v) this.fail(t, `'${v}'`);
  }

  parseAll(): void {
    this.expr();
    const t = this.peek();
    if (t.k !== 'eof') this.fail(t);
  }

  private expr(): Node {
    const n = this.or();
    if (this.isOp('?')) {
      this.next();
      this.or();
      this.expect(':');
      this.expr();
      return 'other';
    }
    return n;
  }
  private binary(sub: () => Node, ops: readonly string[]): Node {
    let n = sub();
    while (this.peek().k === 'op' && ops.includes(this.peek().v)) {
      this.next();
      sub();
      n = 'other';
    }
    return n;
  }
  private or(): Node {
    return this.binary(() => this.and(), ['||']);
  }
  private and(): Node {
    return this.binary(() => this.relation(), ['&&']);
  }
  private relation(): Node {
    return this.binary(() => this.addition(), ['<', '<=', '>=', '>', '==', '!=', 'in']);
  }
  private addition(): Node {
    return this.binary(() => this.multiplication(), ['+', '-']);
  }
  private multiplication(): Node {
    return this.binary(() => this.unary(), ['*', '/', '%']);
  }
  private unary(): Node {
    if (this.isOp('!') || this.isOp('-')) {
      while (this.isOp('!') || this.isOp('-')) this.next();
      this.member();
      return 'other';
    }
    return this.member();
  }

  private args(): Node[] {
    const out: Node[] = [];
    if (this.isOp(')')) {
      this.next();
      return out;
    }
    out.push(this.expr());
    while (this.isOp(',')) {
      this.next();
      out.push(this.expr());
    }
    this.expect(')');
    return out;
  }

  private member(): Node {
    let n = this.primary();
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const t = this.next();
        if (t.k !== 'id') this.fail(t, 'IDENTIFIER');
        if (this.isOp('(')) {
          const start = this.peek();
          this.next();
          const a = this.args();
          if (COMPREHENSIONS.has(t.v) && (a.length === 2 || a.length === 3) && a[0] !== 'ident')
            throw new CelError(start.pos, 'argument must be a simple name');
          n = 'other';
        } else n = 'select';
      } else if (this.isOp('[')) {
        this.next();
        this.expr();
        this.expect(']');
        n = 'other';
      } else if (this.isOp('{') && (n === 'ident' || n === 'select')) {
        this.next();
        this.fieldInits();
        n = 'other';
      } else return n;
    }
  }

  private fieldInits(): void {
    if (this.isOp('}')) {
      this.next();
      return;
    }
    for (;;) {
      const t = this.next();
      if (t.k !== 'id') this.fail(t, 'IDENTIFIER');
      this.expect(':');
      this.expr();
      if (this.isOp(',')) {
        this.next();
        if (this.isOp('}')) break;
        continue;
      }
      break;
    }
    this.expect('}');
  }

  private primary(): Node {
    const t = this.next();
    if (t.k === 'lit') return 'other';
    if (t.k === 'op' && t.v === '.') {
      const id = this.next();
      if (id.k !== 'id') this.fail(id, 'IDENTIFIER');
      return this.identTail(id);
    }
    if (t.k === 'id') return this.identTail(t);
    if (t.k === 'op' && t.v === '(') {
      this.expr();
      this.expect(')');
      return 'other';
    }
    if (t.k === 'op' && t.v === '[') {
      this.list(']');
      return 'other';
    }
    if (t.k === 'op' && t.v === '{') {
      this.mapInits();
      return 'other';
    }
    return this.fail(t, PRIMARY_START);
  }

  private identTail(t: Tok): Node {
    if (RESERVED.has(t.v)) throw new CelError(t.pos, `reserved identifier: ${t.v}`);
    if (this.isOp('(')) {
      const open = this.peek();
      this.next();
      const a = this.args();
      if (t.v === 'has' && (a.length !== 1 || a[0] !== 'select')) throw new CelError(open.pos, 'invalid argument to has() macro');
      return 'other';
    }
    return 'ident';
  }

  private list(close: string): void {
    if (this.isOp(close)) {
      this.next();
      return;
    }
    for (;;) {
      this.expr();
      if (this.isOp(',')) {
        this.next();
        if (this.isOp(close)) break;
        continue;
      }
      break;
    }
    this.expect(close);
  }

  private mapInits(): void {
    if (this.isOp('}')) {
      this.next();
      return;
    }
    for (;;) {
      this.expr();
      this.expect(':');
      this.expr();
      if (this.isOp(',')) {
        this.next();
        if (this.isOp('}')) break;
        continue;
      }
      break;
    }
    this.expect('}');
  }
}

function lineCol(src: string, pos: number): string {
  const before = src.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - (before.lastIndexOf('\n') + 1) + 1;
  return `${line}:${col}`;
}

/** Returns cel-go's parse error for `expression`, or undefined when it parses. */
export function celSyntaxError(expression: string): string | undefined {
  try {
    new Parser(lex(expression)).parseAll();
    return undefined;
  } catch (e) {
    if (e instanceof CelError) return `ERROR: <input>:${lineCol(expression, e.pos)}: Syntax error: ${e.message}`;
    throw e;
  }
}
