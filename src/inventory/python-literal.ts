/**
 * Python's `ast.literal_eval`, which Ansible's INI inventory applies to every
 * variable value: `port=22` is a number, `on=True` a boolean, `l=[1,'a']` a
 * list, `t=1,2` a list (a tuple), while `x=0644`, `y=yes` or `z=a b` stay
 * strings because Python cannot read them as literals.
 *
 * Tuples and sets become arrays and bytes become strings, as they do once
 * Ansible serialises them. Complex numbers (`1+2j`) are kept as strings.
 */

/** Returns the Python literal `text` denotes, or `text` itself when it is not one. */
export function pythonLiteral(text: string): unknown {
  try {
    const parser = new LiteralParser(tokenize(text.replace(/^[ \t]+/, '')));
    return parser.parseTop();
  } catch (err) {
    if (err instanceof NotALiteral) return text;
    throw err;
  }
}

class NotALiteral extends Error {}

type Token =
  | { kind: 'number'; value: number; imaginary: boolean }
  | { kind: 'string'; value: string; bytes: boolean; formatted: boolean }
  | { kind: 'name'; value: string }
  | { kind: 'op'; value: string }
  | { kind: 'end' };

const DIGITS = '(?:\\d(?:_?\\d)*)';
const NUMBER_RE = new RegExp(
  [
    '0[xX](?:_?[0-9a-fA-F])+',
    '0[oO](?:_?[0-7])+',
    '0[bB](?:_?[01])+',
    // floats before integers, so that `1.5` is not read as `1`
    `(?:${DIGITS}\\.(?:${DIGITS})?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?[jJ]?`,
    `${DIGITS}[eE][+-]?${DIGITS}[jJ]?`,
    `${DIGITS}[jJ]`,
    '[1-9](?:_?\\d)*',
    '0+(?:_?0)*',
  ]
    .map((alt) => `(?:${alt})`)
    .join('|'),
  'y',
);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\f' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '#') {
      const eol = text.indexOf('\n', i);
      i = eol === -1 ? text.length : eol;
      continue;
    }
    const stringStart = /^([rRbBuUfF]{0,2})(['"])/.exec(text.slice(i, i + 3));
    if (stringStart && isStringPrefix(stringStart[1]!)) {
      const [token, next] = readString(text, i, stringStart[1]!.toLowerCase());
      tokens.push(token);
      i = next;
      continue;
    }
    if (/[0-9.]/.test(ch) && (ch !== '.' || /[0-9]/.test(text[i + 1] ?? ''))) {
      NUMBER_RE.lastIndex = i;
      const m = NUMBER_RE.exec(text);
      if (!m) throw new NotALiteral();
      const raw = m[0];
      i += raw.length;
      // `0644` or `1abc`: Python's tokenizer refuses a number run into letters or digits.
      if (/[\w.]/.test(text[i] ?? '')) throw new NotALiteral();
      tokens.push(numberToken(raw));
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const m = /[A-Za-z_]\w*/y;
      m.lastIndex = i;
      const name = m.exec(text)![0];
      tokens.push({ kind: 'name', value: name });
      i += name.length;
      continue;
    }
    if ('()[]{},:+-'.includes(ch)) {
      tokens.push({ kind: 'op', value: ch });
      i++;
      continue;
    }
    throw new NotALiteral();
  }
  tokens.push({ kind: 'end' });
  return tokens;
}

function isStringPrefix(prefix: string): boolean {
  return ['', 'r', 'u', 'b', 'f', 'br', 'rb', 'fr', 'rf'].includes(prefix.toLowerCase());
}

function numberToken(raw: string): Token {
  const imaginary = /[jJ]$/.test(raw);
  const clean = raw.replace(/_/g, '').replace(/[jJ]$/, '');
  let value: number;
  if (/^0[xX]/.test(clean)) value = parseInt(clean.slice(2), 16);
  else if (/^0[oO]/.test(clean)) value = parseInt(clean.slice(2), 8);
  else if (/^0[bB]/.test(clean)) value = parseInt(clean.slice(2), 2);
  else value = Number(clean);
  return { kind: 'number', value, imaginary };
}

function readString(text: string, start: number, prefix: string): [Token, number] {
  let i = start + prefix.length;
  const quote = text[i]!;
  const triple = text.slice(i, i + 3) === quote.repeat(3);
  const delimiter = triple ? quote.repeat(3) : quote;
  i += delimiter.length;
  const raw = prefix.includes('r');
  let value = '';
  for (;;) {
    if (i >= text.length) throw new NotALiteral();
    if (text.startsWith(delimiter, i)) {
      i += delimiter.length;
      break;
    }
    const ch = text[i]!;
    if (ch === '\n' && !triple) throw new NotALiteral();
    if (ch !== '\\') {
      value += ch;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === undefined) throw new NotALiteral();
    if (raw) {
      // In raw strings a backslash still keeps the quote after it from ending the string.
      value += ch + next;
      i += 2;
      continue;
    }
    const [decoded, length] = decodeEscape(text, i, prefix.includes('b'));
    value += decoded;
    i += length;
  }
  return [{ kind: 'string', value, bytes: prefix.includes('b'), formatted: prefix.includes('f') }, i];
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\n': '',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** Decodes the escape at `text[i] === '\\'`; returns the text and how many characters it used. */
function decodeEscape(text: string, i: number, bytes: boolean): [string, number] {
  const next = text[i + 1]!;
  if (next in SIMPLE_ESCAPES) return [SIMPLE_ESCAPES[next]!, 2];
  const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4));
  if (octal) return [String.fromCharCode(parseInt(octal[0], 8)), 1 + octal[0].length];
  const hexLength = next === 'x' ? 2 : !bytes && next === 'u' ? 4 : !bytes && next === 'U' ? 8 : 0;
  if (hexLength) {
    const hex = text.slice(i + 2, i + 2 + hexLength);
    if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(hex)) throw new NotALiteral();
    const code = parseInt(hex, 16);
    if (code > 0x10ffff) throw new NotALiteral();
    return [String.fromCodePoint(code), 2 + hexLength];
  }
  if (!bytes && next === 'N') throw new NotALiteral(); // \N{NAME} needs Unicode's name table
  // Python keeps unknown escapes such as `\d` as they are.
  return ['\\' + next, 2];
}

class LiteralParser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private isOp(value: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.value === value;
  }

  private expectOp(value: string): void {
    if (!this.isOp(value)) throw new NotALiteral();
    this.pos++;
  }

  parseTop(): unknown {
    const value = this.parseExpressionList(['end']);
    if (this.peek().kind !== 'end') throw new NotALiteral();
    return value;
  }

  /** `a`, or `a, b, ...` which Python reads as a tuple. */
  private parseExpressionList(closers: string[]): unknown {
    const first = this.parseExpression();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.isOp(',')) {
      this.pos++;
      const t = this.peek();
      if (t.kind === 'end' || (t.kind === 'op' && closers.includes(t.value))) break;
      items.push(this.parseExpression());
    }
    return items;
  }

  private parseExpression(): unknown {
    const t = this.peek();
    if (t.kind === 'op' && (t.value === '+' || t.value === '-')) {
      this.pos++;
      const operand = this.peek();
      if (operand.kind !== 'number') throw new NotALiteral();
      this.pos++;
      if (operand.imaginary) throw new NotALiteral();
      this.refuseComplexSum();
      return t.value === '-' ? -operand.value : operand.value;
    }
    const value = this.parseAtom();
    if (typeof value === 'number') this.refuseComplexSum();
    return value;
  }

  /** `1+2j` is a complex literal, which JSON cannot hold: the whole value stays a string. */
  private refuseComplexSum(): void {
    if (this.isOp('+') || this.isOp('-')) throw new NotALiteral();
  }

  private parseAtom(): unknown {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.pos++;
        if (t.imaginary) throw new NotALiteral();
        return t.value;
      case 'string':
        return this.parseStrings();
      case 'name':
        this.pos++;
        if (t.value === 'True') return true;
        if (t.value === 'False') return false;
        if (t.value === 'None') return null;
        throw new NotALiteral();
      case 'op':
        if (t.value === '(') return this.parseTuple();
        if (t.value === '[') return this.parseList();
        if (t.value === '{') return this.parseBraces();
        throw new NotALiteral();
      default:
        throw new NotALiteral();
    }
  }

  /** Adjacent strings concatenate: `'a' 'b'` is `'ab'`. */
  private parseStrings(): string {
    let value = '';
    let bytes: boolean | undefined;
    while (this.peek().kind === 'string') {
      const t = this.peek() as Extract<Token, { kind: 'string' }>;
      if (t.formatted) throw new NotALiteral();
      if (bytes !== undefined && bytes !== t.bytes) throw new NotALiteral();
      bytes = t.bytes;
      value += t.value;
      this.pos++;
    }
    return value;
  }

  private parseTuple(): unknown {
    this.expectOp('(');
    if (this.isOp(')')) {
      this.pos++;
      return [];
    }
    const inner = this.parseExpressionList([')']);
    this.expectOp(')');
    return inner;
  }

  private parseList(): unknown[] {
    this.expectOp('[');
    const items: unknown[] = [];
    while (!this.isOp(']')) {
      items.push(this.parseExpression());
      if (!this.isOp(',')) break;
      this.pos++;
    }
    this.expectOp(']');
    return items;
  }

  private parseBraces(): unknown {
    this.expectOp('{');
    if (this.isOp('}')) {
      this.pos++;
      return {};
    }
    const first = this.parseExpression();
    if (this.isOp(':')) {
      const dict: Record<string, unknown> = {};
      let key = first;
      for (;;) {
        this.expectOp(':');
        dict[dictKey(key)] = this.parseExpression();
        if (!this.isOp(',')) break;
        this.pos++;
        if (this.isOp('}')) break;
        key = this.parseExpression();
      }
      this.expectOp('}');
      return dict;
    }
    const items = [first];
    while (this.isOp(',')) {
      this.pos++;
      if (this.isOp('}')) break;
      items.push(this.parseExpression());
    }
    this.expectOp('}');
    return [...new Set(items)];
  }
}

/** JSON object keys are strings; Python's json module writes True, None and numbers like this. */
function dictKey(key: unknown): string {
  if (typeof key === 'string') return key;
  if (key === true) return 'true';
  if (key === false) return 'false';
  if (key === null) return 'null';
  if (typeof key === 'number') return String(key);
  throw new NotALiteral(); // lists and dicts are not hashable in Python
}
