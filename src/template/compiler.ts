/**
 * Jinja2, compiled with nunjucks' lexer, parser and compiler, subclassed
 * where Jinja2 differs:
 *
 * - strings: Python escapes (`'\d'` keeps its backslash, so regexes written
 *   for Ansible work)
 * - `True`/`False`/`None`, tuples `(a, b)`, slices `x[1:]`, `x.0`,
 *   dict keys that are expressions (`{item.k: item.v}`), `a if b else c if d else e`,
 *   tests with an argument and no parentheses (`x is divisibleby 3`),
 *   `+`/`-` and `*`/`/`/`//`/`%` at the same precedence levels as Python
 * - `{% for x in xs if cond %}`, `loop.cycle/previtem/nextitem`,
 *   `{% set ns.attr = v %}`
 * - every variable, attribute, operator, truth test, filter and test goes
 *   through runtime.ts, which gives Python semantics and strict Undefined,
 *   and records the template position of what failed.
 *
 * A template that is a single `{{ expression }}` (whitespace around allowed)
 * compiles to a function that captures the expression's value, which is how
 * task arguments keep native types.
 */
import { createRequire } from 'node:module';
import { TemplateSyntaxError } from './errors.js';
import { FILTERS, filterName } from './filters.js';
import { nj, type Any } from './nj.js';
import type { RootFn } from './runtime.js';
import { TESTS, testName } from './tests.js';

const { lexer, nodes } = nj;
const transformer: Any = createRequire(import.meta.url)('nunjucks/src/transformer');

const Slice: Any = nodes.Node.extend('Slice', { fields: ['start', 'stop', 'step'] });

const CLOSERS: Record<string, string> = {
  [lexer.TOKEN_LEFT_PAREN]: lexer.TOKEN_RIGHT_PAREN,
  [lexer.TOKEN_LEFT_BRACKET]: lexer.TOKEN_RIGHT_BRACKET,
  [lexer.TOKEN_LEFT_CURLY]: lexer.TOKEN_RIGHT_CURLY,
};
const IS_CLOSER = new Set(Object.values(CLOSERS));
const NOT_A_TEST_ARG = new Set(['and', 'or', 'else', 'if', 'is', 'in', 'not', 'for', 'recursive']);

/** Python string literal escapes: unknown ones keep their backslash (`'\d'` is two characters). */
function parseString(this: Any, delimiter: string): string {
  this.forward();
  let s = '';
  while (!this.isFinished() && this.current() !== delimiter) {
    const cur = this.current();
    if (cur !== '\\') {
      s += cur;
      this.forward();
      continue;
    }
    this.forward();
    const c = this.current();
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '' };
    if (c in simple) {
      s += simple[c];
    } else if (c === 'x' || c === 'u' || c === 'U') {
      const len = c === 'x' ? 2 : c === 'u' ? 4 : 8;
      const hex = this.str.slice(this.index + 1, this.index + 1 + len);
      if (new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) {
        s += String.fromCodePoint(parseInt(hex, 16));
        this.forwardN(len);
      } else {
        s += `\\${c}`;
      }
    } else {
      s += `\\${c}`;
    }
    this.forward();
  }
  this.forward();
  return s;
}

/**
 * nunjucks ends an expression at the first `}}` or `%}`, even inside a dict
 * literal (`{{ {'a': {'b': 1}} }}`). Jinja2 counts brackets; so does this.
 */
function balancedBraces(tokenizer: Any): void {
  const next = tokenizer.nextToken.bind(tokenizer);
  let depth = 0;
  tokenizer.nextToken = () => {
    if (tokenizer.in_code && depth > 0 && tokenizer.current() === '}') {
      const tok = { type: lexer.TOKEN_RIGHT_CURLY, value: '}', lineno: tokenizer.lineno, colno: tokenizer.colno };
      tokenizer.forward();
      depth--;
      return tok;
    }
    const tok = next();
    if (tok?.type === lexer.TOKEN_LEFT_CURLY) depth++;
    else if (tok?.type === lexer.TOKEN_RIGHT_CURLY) depth = Math.max(0, depth - 1);
    else if (tok?.type === lexer.TOKEN_VARIABLE_END || tok?.type === lexer.TOKEN_BLOCK_END) depth = 0;
    return tok;
  };
}

const BaseParser: Any = nj.parser.Parser;

class JinjaParser extends BaseParser {
  constructor(tokens: Any) {
    super(tokens);
  }

  parsePostfix(node: Any): Any {
    let tok = this.peekToken();
    while (tok) {
      if (tok.type === lexer.TOKEN_LEFT_PAREN) {
        node = new nodes.FunCall(tok.lineno, tok.colno, node, this.parseSignature());
      } else if (tok.type === lexer.TOKEN_LEFT_BRACKET) {
        node = new nodes.LookupVal(tok.lineno, tok.colno, node, this.parseSubscript());
      } else if (tok.type === lexer.TOKEN_OPERATOR && tok.value === '.') {
        this.nextToken();
        node = this.parseDotted(node, tok, this.nextToken());
      } else {
        break;
      }
      tok = this.peekToken();
    }
    return node;
  }

  /** `a.b`, `a.0`, and `a.0.b` (which the lexer reads as the float `0.` then `b`). */
  parseDotted(node: Any, dotTok: Any, val: Any): Any {
    const lookup = (target: Any, key: string | number, t: Any) => {
      const n = new nodes.LookupVal(dotTok.lineno, dotTok.colno, target, new nodes.Literal(t.lineno, t.colno, key));
      n.dot = true;
      return n;
    };
    if (!val) this.fail('expected a name after "."', dotTok.lineno, dotTok.colno);
    if (val.type === lexer.TOKEN_SYMBOL || val.type === lexer.TOKEN_BOOLEAN || val.type === lexer.TOKEN_NONE) return lookup(node, val.value, val);
    if (val.type === lexer.TOKEN_INT) return lookup(node, parseInt(val.value, 10), val);
    if (val.type === lexer.TOKEN_FLOAT) {
      const [a, b] = String(val.value).split('.') as [string, string];
      node = lookup(node, parseInt(a, 10), val);
      if (b !== '') return lookup(node, parseInt(b, 10), val);
      return this.parseDotted(node, dotTok, this.nextToken());
    }
    return this.fail(`expected a name after ".", got ${JSON.stringify(val.value)}`, val.lineno, val.colno);
  }

  /** `[i]` or a slice `[a:b:c]`. */
  parseSubscript(): Any {
    const open = this.nextToken();
    const at = (type: string) => this.peekToken()?.type === type;
    let start = null;
    let stop = null;
    let step = null;
    let isSlice = false;
    if (!at(lexer.TOKEN_COLON)) start = this.parseExpression();
    if (this.skip(lexer.TOKEN_COLON)) {
      isSlice = true;
      if (!at(lexer.TOKEN_RIGHT_BRACKET) && !at(lexer.TOKEN_COLON)) stop = this.parseExpression();
      if (this.skip(lexer.TOKEN_COLON) && !at(lexer.TOKEN_RIGHT_BRACKET)) step = this.parseExpression();
    }
    const close = this.nextToken();
    if (!close || close.type !== lexer.TOKEN_RIGHT_BRACKET) this.fail('expected "]"', close?.lineno ?? open.lineno, close?.colno ?? open.colno);
    return isSlice ? new Slice(open.lineno, open.colno, start, stop, step) : start;
  }

  /** Lists, dicts with expression keys, and tuples. */
  parseAggregate(): Any {
    const tok = this.nextToken();
    let node: Any;
    switch (tok.type) {
      case lexer.TOKEN_LEFT_PAREN:
        node = new nodes.Group(tok.lineno, tok.colno);
        break;
      case lexer.TOKEN_LEFT_BRACKET:
        node = new nodes.Array(tok.lineno, tok.colno);
        break;
      case lexer.TOKEN_LEFT_CURLY:
        node = new nodes.Dict(tok.lineno, tok.colno);
        break;
      default:
        return null;
    }
    const closer = CLOSERS[tok.type];
    let comma = false;
    for (;;) {
      const next = this.peekToken();
      if (!next) this.fail(`unexpected end of template, expected "${tok.value === '(' ? ')' : tok.value === '[' ? ']' : '}'}"`, tok.lineno, tok.colno);
      if (IS_CLOSER.has(next.type)) {
        if (next.type !== closer) this.fail(`unexpected "${next.value}"`, next.lineno, next.colno);
        this.nextToken();
        break;
      }
      if (node.children.length > 0) {
        if (!this.skip(lexer.TOKEN_COMMA)) {
          const t = this.peekToken();
          this.fail(`expected "," or "${closer === lexer.TOKEN_RIGHT_PAREN ? ')' : closer === lexer.TOKEN_RIGHT_BRACKET ? ']' : '}'}", got ${JSON.stringify(t.value)}`, t.lineno, t.colno);
        }
        comma = true;
        if (IS_CLOSER.has(this.peekToken()?.type)) continue;
      }
      if (node instanceof nodes.Dict) {
        const key = this.parseExpression();
        if (!this.skip(lexer.TOKEN_COLON)) {
          const t = this.peekToken();
          this.fail('expected ":" after a dict key', t.lineno, t.colno);
        }
        node.addChild(new nodes.Pair(key.lineno, key.colno, key, this.parseExpression()));
      } else {
        node.addChild(this.parseExpression());
      }
    }
    if (node instanceof nodes.Group && (comma || node.children.length === 0)) node.isTuple = true;
    return node;
  }

  parseInlineIf(): Any {
    let node = this.parseOr();
    if (this.skipSymbol('if')) {
      const cond = this.parseOr();
      const n = new nodes.InlineIf(node.lineno, node.colno);
      n.body = node;
      n.cond = cond;
      n.else_ = this.skipSymbol('else') ? this.parseInlineIf() : null;
      node = n;
    }
    return node;
  }

  /** `x is test`, `x is test(args)`, `x is test arg`, `x is not ns.test`. */
  parseIs(): Any {
    let node = this.parseCompare();
    while (this.skipSymbol('is')) {
      const not = this.skipSymbol('not');
      const tok = this.nextToken();
      let name: string;
      if (tok?.type === lexer.TOKEN_SYMBOL) name = tok.value;
      else if (tok?.type === lexer.TOKEN_NONE) name = 'none';
      else if (tok?.type === lexer.TOKEN_BOOLEAN) name = tok.value;
      else return this.fail('expected a test name after "is"', tok?.lineno, tok?.colno);
      while (this.skipValue(lexer.TOKEN_OPERATOR, '.')) name += `.${this.nextToken().value}`;
      let args: Any;
      const next = this.peekToken();
      if (next?.type === lexer.TOKEN_LEFT_PAREN) {
        args = this.parseSignature();
      } else {
        args = new nodes.NodeList(tok.lineno, tok.colno);
        const simple = [lexer.TOKEN_STRING, lexer.TOKEN_INT, lexer.TOKEN_FLOAT, lexer.TOKEN_BOOLEAN, lexer.TOKEN_NONE, lexer.TOKEN_LEFT_BRACKET, lexer.TOKEN_LEFT_CURLY];
        if (next && (simple.includes(next.type) || (next.type === lexer.TOKEN_SYMBOL && !NOT_A_TEST_ARG.has(next.value)))) {
          args.addChild(this.parsePrimary());
        }
      }
      const right = new nodes.FunCall(tok.lineno, tok.colno, new nodes.Symbol(tok.lineno, tok.colno, name), args);
      node = new nodes.Is(node.lineno, node.colno, node, right);
      if (not) node = new nodes.Not(node.lineno, node.colno, node);
      // Jinja2 reads filters after a test on the test's result: `x is defined | ternary(a, b)`
      node = this.parseFilter(node);
    }
    return node;
  }

  parseAdd(): Any {
    let node = this.parseMul();
    for (;;) {
      if (this.skipValue(lexer.TOKEN_OPERATOR, '+')) node = new nodes.Add(node.lineno, node.colno, node, this.parseMul());
      else if (this.skipValue(lexer.TOKEN_OPERATOR, '-')) node = new nodes.Sub(node.lineno, node.colno, node, this.parseMul());
      else return node;
    }
  }

  parseMul(): Any {
    let node = this.parsePow();
    for (;;) {
      if (this.skipValue(lexer.TOKEN_OPERATOR, '*')) node = new nodes.Mul(node.lineno, node.colno, node, this.parsePow());
      else if (this.skipValue(lexer.TOKEN_OPERATOR, '/')) node = new nodes.Div(node.lineno, node.colno, node, this.parsePow());
      else if (this.skipValue(lexer.TOKEN_OPERATOR, '//')) node = new nodes.FloorDiv(node.lineno, node.colno, node, this.parsePow());
      else if (this.skipValue(lexer.TOKEN_OPERATOR, '%')) node = new nodes.Mod(node.lineno, node.colno, node, this.parsePow());
      else return node;
    }
  }
}

/** `a.b['c']` as written, for error messages; undefined for computed expressions. */
function pathOf(node: Any): string | undefined {
  if (node instanceof nodes.Symbol) return node.value;
  if (node instanceof nodes.LookupVal) {
    const base = pathOf(node.target) ?? '(expression)';
    const v = node.val;
    if (v instanceof nodes.Literal) {
      if (typeof v.value === 'number') return node.dot ? `${base}.${v.value}` : `${base}[${v.value}]`;
      return node.dot ? `${base}.${v.value}` : `${base}['${v.value}']`;
    }
    return `${base}[${pathOf(v) ?? '...'}]`;
  }
  if (node instanceof nodes.FunCall) return `${pathOf(node.name) ?? '(expression)'}()`;
  return undefined;
}

/** Leftmost position of an expression (`foo` in `foo.bar`). */
function startOf(node: Any): [number, number] {
  while (node instanceof nodes.LookupVal || node instanceof nodes.FunCall) node = node instanceof nodes.LookupVal ? node.target : node.name;
  return [node.lineno, node.colno];
}

const BaseCompiler: Any = nj.compiler.Compiler;

class JinjaCompiler extends BaseCompiler {
  declare native: boolean;

  constructor(name: string | undefined, native: boolean) {
    super(name, native);
  }

  init(name: string | undefined, native: boolean): void {
    super.init(name, false);
    this.native = native;
  }

  _pos(node: Any): string {
    return `${node.lineno}, ${node.colno}`;
  }

  _emitFuncEnd(noReturn: boolean): void {
    if (!noReturn) this._emitLine(`cb(null, ${this.buffer});`);
    this._closeScopeLevels();
    this._emitLine('} catch (e) {');
    this._emitLine(`  cb(runtime.handleError(e, lineno, colno, ${this._templateName()}));`);
    this._emitLine('}');
    this._emitLine('}');
    this.buffer = null;
  }

  compileSymbol(node: Any, frame: Any): void {
    const name = node.value;
    if (name === 'True' || name === 'true') return this._emit('true');
    if (name === 'False' || name === 'false') return this._emit('false');
    if (name === 'None' || name === 'none') return this._emit('null');
    const v = frame.lookup(name);
    if (v) this._emit(v);
    else this._emit(`runtime.lookup(context, frame, ${JSON.stringify(name)}, ${this._pos(node)})`);
  }

  compileLookupVal(node: Any, frame: Any): void {
    if (node.val instanceof Slice) {
      this._emit('runtime.slice(');
      this._compileExpression(node.target, frame);
      for (const part of [node.val.start, node.val.stop, node.val.step]) {
        this._emit(', ');
        if (part) this._compileExpression(part, frame);
        else this._emit('null');
      }
      this._emit(')');
      return;
    }
    const [line, col] = startOf(node);
    this._emit('runtime.member((');
    this._compileExpression(node.target, frame);
    this._emit('), ');
    this._compileExpression(node.val, frame);
    this._emit(`, ${node.dot ? 1 : 0}, ${JSON.stringify(pathOf(node.target) ?? '(expression)')}, ${line}, ${col})`);
  }

  compileFunCall(node: Any, frame: Any): void {
    this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, runtime.call(context, `);
    this._compileExpression(node.name, frame);
    this._emit(`, ${JSON.stringify(pathOf(node.name) ?? '(expression)')}, ${this._pos(node)}, `);
    this._compileAggregate(node.args, frame, '[', ']');
    this._emit('))');
  }

  compileFilter(node: Any, frame: Any): void {
    const name = node.name.value;
    if (!FILTERS.has(filterName(name))) this.fail(`no filter named '${name}'`, node.name.lineno, node.name.colno);
    this._emit(`runtime.filter(context, ${JSON.stringify(name)}, ${this._pos(node)}, `);
    this._compileAggregate(node.args, frame, '[', ']');
    this._emit(')');
  }

  compileIs(node: Any, frame: Any): void {
    const right = node.right;
    const name = right.name.value;
    if (!TESTS.has(testName(name))) this.fail(`no test named '${name}'`, right.lineno, right.colno);
    this._emit(`runtime.test(context, ${JSON.stringify(name)}, ${this._pos(right)}, [`);
    this._compileExpression(node.left, frame);
    for (const arg of right.args.children) {
      this._emit(', ');
      this.compile(arg, frame);
    }
    this._emit('])');
  }

  compileIn(node: Any, frame: Any): void {
    this._binCall('runtime.contains', node, frame);
  }

  _binCall(fn: string, node: Any, frame: Any, prefix = ''): void {
    this._emit(`${fn}(${prefix}`);
    this.compile(node.left, frame);
    this._emit(', ');
    this.compile(node.right, frame);
    this._emit(')');
  }

  compileOr(node: Any, frame: Any): void {
    this._lazy('runtime.or', node, frame);
  }

  compileAnd(node: Any, frame: Any): void {
    this._lazy('runtime.and', node, frame);
  }

  /** `a or b` evaluates b only when needed, and yields the deciding value, as Python does. */
  _lazy(fn: string, node: Any, frame: Any): void {
    this._emit(`${fn}(`);
    this.compile(node.left, frame);
    this._emit(', function() { return ');
    this.compile(node.right, frame);
    this._emit('; })');
  }

  compileNot(node: Any, frame: Any): void {
    this._emit('!runtime.truthy(');
    this.compile(node.target, frame);
    this._emit(')');
  }

  compileInlineIf(node: Any, frame: Any): void {
    this._emit('(runtime.truthy(');
    this.compile(node.cond, frame);
    this._emit(') ? ');
    this.compile(node.body, frame);
    this._emit(' : ');
    if (node.else_ !== null) this.compile(node.else_, frame);
    else this._emit('""');
    this._emit(')');
  }

  compileCompare(node: Any, frame: Any): void {
    this._emit('runtime.compare(');
    this.compile(node.expr, frame);
    for (const op of node.ops) {
      this._emit(`, ${JSON.stringify(op.type)}, `);
      this.compile(op.expr, frame);
    }
    this._emit(')');
  }

  compileAdd(node: Any, frame: Any): void {
    this._binCall('runtime.add', node, frame);
  }
  compileConcat(node: Any, frame: Any): void {
    this._binCall('runtime.concat', node, frame);
  }
  compileMul(node: Any, frame: Any): void {
    this._binCall('runtime.mul', node, frame);
  }
  compileSub(node: Any, frame: Any): void {
    this._binCall('runtime.arith', node, frame, '"-", ');
  }
  compileDiv(node: Any, frame: Any): void {
    this._binCall('runtime.arith', node, frame, '"/", ');
  }
  compileFloorDiv(node: Any, frame: Any): void {
    this._binCall('runtime.arith', node, frame, '"//", ');
  }
  compileMod(node: Any, frame: Any): void {
    this._binCall('runtime.arith', node, frame, '"%", ');
  }
  compilePow(node: Any, frame: Any): void {
    this._binCall('runtime.arith', node, frame, '"**", ');
  }
  compileNeg(node: Any, frame: Any): void {
    this._emit('runtime.neg(');
    this.compile(node.target, frame);
    this._emit(')');
  }
  compilePos(node: Any, frame: Any): void {
    this._emit('runtime.pos(');
    this.compile(node.target, frame);
    this._emit(')');
  }

  compileGroup(node: Any, frame: Any): void {
    if (node.isTuple) this._compileAggregate(node, frame, 'runtime.tuple([', '])');
    else this._compileAggregate(node, frame, '(', ')');
  }

  /** Keys are expressions (Jinja2), emitted as computed keys so `__proto__` is just a key. */
  compileDict(node: Any, frame: Any): void {
    this._emit('{');
    node.children.forEach((pair: Any, i: number) => {
      if (i > 0) this._emit(',');
      this._emit('[runtime.key(');
      this._compileExpression(pair.key, frame);
      this._emit(')]: ');
      this._compileExpression(pair.value, frame);
    });
    this._emit('}');
  }

  compileKeywordArgs(node: Any, frame: Any): void {
    this._emit('runtime.makeKeywordArgs({');
    node.children.forEach((pair: Any, i: number) => {
      if (i > 0) this._emit(',');
      this._emit(`[${JSON.stringify(pair.key.value)}]: `);
      this._compileExpression(pair.value, frame);
    });
    this._emit('})');
  }

  compileSet(node: Any, frame: Any): void {
    const target = node.targets[0];
    if (node.targets.length === 1 && target instanceof nodes.LookupVal) {
      this._emit('runtime.setAttr(');
      this._compileExpression(target.target, frame);
      this._emit(', ');
      this._compileExpression(target.val, frame);
      this._emit(', ');
      if (node.value) this._compileExpression(node.value, frame);
      else this.compile(node.body, frame);
      this._emitLine(');');
      return;
    }
    for (const t of node.targets) if (!(t instanceof nodes.Symbol)) this.fail('can only assign to names or namespace attributes', t.lineno, t.colno);
    super.compileSet(node, frame);
  }

  compileIf(node: Any, frame: Any): void {
    this._emitLine(`lineno = ${node.lineno}; colno = ${node.colno};`);
    this._emit('if(runtime.truthy(');
    this._compileExpression(node.cond, frame);
    this._emitLine(')) {');
    this._withScopedSyntax(() => this.compile(node.body, frame));
    if (node.else_) {
      this._emitLine('}\nelse {');
      this._withScopedSyntax(() => this.compile(node.else_, frame));
    }
    this._emitLine('}');
  }

  _emitLoopBindings(node: Any, arr: string, i: string, len: string): void {
    super._emitLoopBindings(node, arr, i, len);
    this._emitLine(`frame.set("loop.previtem", ${i} > 0 ? ${arr}[${i} - 1] : runtime.undef("loop.previtem"));`);
    this._emitLine(`frame.set("loop.nextitem", ${i} < ${len} - 1 ? ${arr}[${i} + 1] : runtime.undef("loop.nextitem"));`);
    this._emitLine(`frame.set("loop.cycle", runtime.loopCycle(${i}));`);
  }

  compileFor(node: Any, frame: Any): void {
    const i = this._tmpid();
    const len = this._tmpid();
    const arr = this._tmpid();
    const names: string[] = node.name instanceof nodes.Array ? node.name.children.map((c: Any) => c.value) : [node.name.value];
    frame = frame.push();
    // Jinja2 scoping: `{% set %}` inside a loop body does not change variables outside it
    this._emitLine('frame = frame.push(true);');
    this._emitLine(`lineno = ${node.lineno}; colno = ${node.colno};`);
    let source = node.arr;
    let cond = null;
    // `for x in xs if cond` parses as an inline-if without else: it is a filter
    if (source instanceof nodes.InlineIf && source.else_ === null) {
      cond = source.cond;
      source = source.body;
    }
    this._emit(`var ${arr} = `);
    if (cond) this._emit('runtime.forFilter(');
    this._emit('runtime.iter(');
    this._compileExpression(source, frame);
    this._emit(`, ${names.length})`);
    if (cond) {
      const item = this._tmpid();
      const inner = frame.push();
      if (names.length === 1) inner.set(names[0], item);
      else names.forEach((n, u) => inner.set(n, `runtime.unpack(${item}, ${names.length})[${u}]`));
      this._emit(`, function(${item}) { return runtime.truthy(`);
      this._compileExpression(cond, inner);
      this._emit('); })');
    }
    this._emitLine(';');
    this._emitLine(`var ${len} = ${arr}.length;`);
    this._emitLine(`for(var ${i} = 0; ${i} < ${len}; ${i}++) {`);
    const item = this._tmpid();
    if (names.length === 1) {
      this._emitLine(`var ${item} = ${arr}[${i}];`);
      this._emitLine(`frame.set(${JSON.stringify(names[0])}, ${item});`);
      frame.set(names[0], item);
    } else {
      this._emitLine(`var ${item} = runtime.unpack(${arr}[${i}], ${names.length});`);
      names.forEach((n, u) => {
        this._emitLine(`frame.set(${JSON.stringify(n)}, ${item}[${u}]);`);
        frame.set(n, `${item}[${u}]`);
      });
    }
    this._emitLoopBindings(node, arr, i, len);
    this._withScopedSyntax(() => this.compile(node.body, frame));
    this._emitLine('}');
    if (node.else_) {
      this._emitLine(`if (!${len}) {`);
      this.compile(node.else_, frame);
      this._emitLine('}');
    }
    this._emitLine('frame = frame.pop();');
  }

  compileOutput(node: Any, frame: Any): void {
    for (const child of node.children) {
      if (child instanceof nodes.TemplateData) {
        if (child.value) {
          this._emit(`${this.buffer} += `);
          this.compileLiteral(child, frame);
          this._emitLine(';');
        }
        continue;
      }
      this._emitLine(`lineno = ${child.lineno}; colno = ${child.colno};`);
      if (this.native) {
        // only the one top-level expression is captured; outputs nested in it (a filter block) are text
        this.native = false;
        this._emit('runtime.capture(context, ');
        this.compile(child, frame);
        this._emitLine(');');
      } else {
        this._emit(`${this.buffer} += runtime.out(`);
        this.compile(child, frame);
        this._emitLine(');');
      }
    }
  }
}

export interface CompileOptions {
  /** template file name, for include resolution and error positions */
  name?: string;
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
  /** allow the single-expression form that returns a native value */
  native?: boolean;
}

export interface CompiledTemplate {
  root: RootFn;
  blocks: Record<string, RootFn>;
  /** set when the template is one `{{ expr }}`: the text around it */
  native?: { before: string; after: string };
}

/** Finds the single-expression form: one output expression, only whitespace around it. */
function nativeForm(ast: Any): { before: string; after: string; expr: Any } | undefined {
  let expr: Any;
  let before = '';
  let after = '';
  for (const stmt of ast.children) {
    if (!(stmt instanceof nodes.Output)) return undefined;
    for (const child of stmt.children) {
      if (child instanceof nodes.TemplateData) {
        if (/\S/.test(child.value)) return undefined;
        if (expr) after += child.value;
        else before += child.value;
      } else if (expr) {
        return undefined;
      } else {
        expr = child;
      }
    }
  }
  return expr ? { before, after, expr } : undefined;
}

function syntaxError(err: Any, tokenizer: Any, name?: string): TemplateSyntaxError {
  const raw = String(err?.message ?? err).replace(/^\(unknown path\)\s*/, '');
  const message = raw
    .replace(/^(Template render error: )?/, '')
    .replace(/^\w+: (?=expected|unexpected|invalid|variable name|tag name)/, '')
    .replace(/^parse\w+: /, '');
  let line: number | undefined = err?.lineno;
  let col: number | undefined = err?.colno;
  if (line === undefined) {
    line = tokenizer.lineno + 1;
    col = tokenizer.colno + 1;
  }
  const e = new TemplateSyntaxError(`template syntax error: ${message}`);
  (e as unknown as { templatePos: unknown }).templatePos = { line, col: col ?? 1, file: name };
  return e;
}

export function compileTemplate(source: string, opts: CompileOptions = {}): CompiledTemplate {
  // Jinja2 drops one trailing newline (keep_trailing_newline=False); the Templar adds back what Ansible keeps
  const text = source.replace(/(\r\n|\r|\n)$/, '');
  const tokenizer = lexer.lex(text, { trimBlocks: opts.trimBlocks ?? true, lstripBlocks: opts.lstripBlocks ?? false });
  tokenizer._parseString = parseString;
  balancedBraces(tokenizer);
  let ast: Any;
  let native: ReturnType<typeof nativeForm>;
  let code: string;
  try {
    ast = new JinjaParser(tokenizer).parseAsRoot();
    if (opts.native) {
      native = nativeForm(ast);
      if (native) ast = new nodes.Root(0, 0, [new nodes.Output(native.expr.lineno, native.expr.colno, [native.expr])]);
    }
    if (text.includes('super')) ast = transformer.transform(ast, [], opts.name);
    const compiler = new JinjaCompiler(opts.name, Boolean(native));
    compiler.compile(ast);
    code = compiler.getCode();
  } catch (err) {
    throw syntaxError(err, tokenizer, opts.name);
  }
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const props = new Function(code)() as Record<string, RootFn>;
  const blocks: Record<string, RootFn> = {};
  for (const k of Object.keys(props)) if (k.startsWith('b_')) blocks[k.slice(2)] = props[k]!;
  return { root: props.root!, blocks, native: native ? { before: native.before, after: native.after } : undefined };
}
