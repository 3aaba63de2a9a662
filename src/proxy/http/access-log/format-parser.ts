// Tokenizes an Envoy substitution format string into literal text and `%COMMAND(ARG):LENGTH%` operators
// (source/common/formatter/substitution_formatter.cc, SubstitutionFormatParser::parse):
//  - a command name is [A-Z0-9_]+; `(ARG)` is optional and ends at the first `)` after which `:LENGTH` and
//    `%` can follow, so an argument may contain `%` (START_TIME(%Y/%m/%d)) but not `)...%`;
//  - `%%` is a literal `%`;
//  - a `%` that does not start a valid operator is an error ("Couldn't find valid command at position N").
// Parsing is compile time only. Every problem is reported; after a bad `%` scanning resumes past the next `%`.

export interface LiteralToken {
  readonly kind: 'literal';
  readonly text: string;
}

export interface CommandToken {
  readonly kind: 'command';
  readonly command: string;
  /** The text between the parentheses; '' when there were none (Envoy treats `()` the same). */
  readonly arg: string;
  readonly maxLength: number | undefined;
  /** Offset of the opening `%` in the format string. */
  readonly position: number;
}

export type FormatToken = LiteralToken | CommandToken;

export interface ParsedFormat {
  readonly tokens: readonly FormatToken[];
  readonly problems: readonly string[];
}

const COMMAND = /%((?:[A-Z]|[0-9]|_)+)(?:\((.*?)\))?(?::([0-9]+))?%/y;

export function parseFormat(format: string): ParsedFormat {
  const tokens: FormatToken[] = [];
  const problems: string[] = [];
  let literal = '';
  let pos = 0;
  while (pos < format.length) {
    const c = format.charAt(pos);
    if (c !== '%') {
      literal += c;
      pos++;
      continue;
    }
    if (format.charAt(pos + 1) === '%') {
      literal += '%';
      pos += 2;
      continue;
    }
    COMMAND.lastIndex = pos;
    const m = COMMAND.exec(format);
    if (m === null) {
      problems.push(`Incorrect configuration: ${format}. Couldn't find valid command at position ${pos}`);
      // Most bad operators are mistyped ones (`%protocol%`): skip to past the closing `%` so it is
      // reported once, not again at its closing `%`.
      const close = format.indexOf('%', pos + 1);
      pos = close < 0 ? format.length : close + 1;
      continue;
    }
    if (literal !== '') {
      tokens.push({ kind: 'literal', text: literal });
      literal = '';
    }
    tokens.push({
      kind: 'command',
      command: m[1] ?? '',
      arg: m[2] ?? '',
      maxLength: m[3] === undefined ? undefined : Number(m[3]),
      position: pos,
    });
    pos += m[0].length;
  }
  if (literal !== '') tokens.push({ kind: 'literal', text: literal });
  return { tokens, problems };
}
