/**
 * Python's value semantics, as Jinja2 expressions see them: str(), repr(),
 * truth, equality, ordering, type names, `%` formatting and str.format.
 * Templates written for Ansible rely on them (`[1] + [2]`, `x == []`,
 * `'%02d' % n`, `"{{ list }}"` printing `['a', 'b']`).
 *
 * JavaScript numbers do not tell ints from floats: a whole float prints as
 * an int (`2`, not `2.0`).
 */
import { UnsafeText, VaultedText } from '../util/markers.js';
import { TemplateError } from './errors.js';
import { SafeString } from './nj.js';
import { Undefined } from './undefined.js';

export type Dict = Record<string, unknown>;

const hasOwn = Object.prototype.hasOwnProperty;
export function own(obj: object, key: string): boolean {
  return hasOwn.call(obj, key);
}

/** Arrays built from a Jinja tuple literal `(a, b)`: `%` formatting and repr treat them as tuples. */
const tuples = new WeakSet<unknown[]>();
export function tuple(items: unknown[]): unknown[] {
  tuples.add(items);
  return items;
}
export function isTuple(v: unknown): boolean {
  return Array.isArray(v) && tuples.has(v);
}

/** Jinja's `namespace()`: the one object templates may assign attributes to. */
export class Namespace {
  [key: string]: unknown;
}

/** A mapping: a plain object (or a Proxy over one, like hostvars). */
export function isDict(v: unknown): v is Dict {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null || v instanceof Namespace;
}

export function isStr(v: unknown): boolean {
  return typeof v === 'string' || v instanceof UnsafeText || v instanceof SafeString;
}

/** A string-like value as a primitive string; anything else unchanged. */
export function unwrap<T>(v: T): T | string {
  if (v instanceof UnsafeText) return v.value;
  if (v instanceof SafeString) return v.val;
  return v;
}

export function typeName(v: unknown): string {
  v = unwrap(v);
  if (v === null || v === undefined) return 'NoneType';
  if (v instanceof Undefined) return 'AnsibleUndefined';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'string':
      return 'str';
    case 'function':
      return 'function';
  }
  if (isTuple(v)) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (v instanceof VaultedText) return 'AnsibleVaultEncryptedUnicode';
  if (v instanceof Namespace) return 'Namespace';
  if (v instanceof Date) return isDateOnly(v) ? 'date' : 'datetime';
  return 'dict';
}

export function typeError(message: string): TemplateError {
  return new TemplateError(message);
}

function floatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (Number.isInteger(n)) return String(n);
  const abs = Math.abs(n);
  if (abs < 1e-4 || abs >= 1e16) {
    const [mant, exp] = n.toExponential().split('e') as [string, string];
    const sign = exp.startsWith('-') ? '-' : '+';
    return `${mant}e${sign}${exp.replace(/^[-+]/, '').padStart(2, '0')}`;
  }
  return String(n);
}

function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

function isDateOnly(d: Date): boolean {
  return d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0 && d.getUTCMilliseconds() === 0;
}

/** str() of a YAML timestamp, as PyYAML's date/datetime print. */
export function dateStr(d: Date): string {
  const iso = d.toISOString();
  if (isDateOnly(d)) return iso.slice(0, 10);
  const ms = d.getUTCMilliseconds();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${String(ms * 1000).padStart(6, '0')}` : ''}`;
}

/** Python's repr(): how values look inside a printed list or dict. */
export function pyRepr(v: unknown): string {
  if (v instanceof Undefined) v.fail();
  v = unwrap(v);
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'string') return strRepr(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return floatRepr(v);
  if (Array.isArray(v)) {
    const items = v.map(pyRepr);
    if (isTuple(v)) return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
    return `[${items.join(', ')}]`;
  }
  if (typeof v === 'function') return '<function>';
  if (v instanceof VaultedText) return strRepr(v.toString());
  if (v instanceof Namespace) return `<Namespace ${pyRepr({ ...v })}>`;
  if (v instanceof Date) return strRepr(dateStr(v));
  if (typeof v === 'object') {
    return `{${Object.keys(v)
      .map((k) => `${strRepr(k)}: ${pyRepr((v as Dict)[k])}`)
      .join(', ')}}`;
  }
  return String(v);
}

/** Python's str(): `~`, `join`, `string`, and output of values inside text. */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Undefined) v.fail();
  v = unwrap(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return floatRepr(v);
  if (v instanceof Date) return dateStr(v);
  return pyRepr(v);
}

/** Python truthiness: empty list, dict and string are false. Undefined fails. */
export function truthy(v: unknown): boolean {
  if (v === true) return true;
  if (v === false || v === null || v === undefined) return false;
  if (v instanceof Undefined) v.fail();
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'number':
      return v !== 0;
    case 'object':
      if (Array.isArray(v)) return v.length > 0;
      if (v instanceof UnsafeText) return v.value.length > 0;
      if (v instanceof SafeString) return v.val.length > 0;
      if (isDict(v)) return Object.keys(v).length > 0;
      return true;
    default:
      return true;
  }
}

/** Python `==`: deep for lists and dicts, `1 == True`, but `'1' != 1`. */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (a instanceof Undefined) a.fail();
  if (b instanceof Undefined) b.fail();
  a = unwrap(a);
  b = unwrap(b);
  if (a === b) return true;
  if (a === null || a === undefined) return b === null || b === undefined;
  if (b === null || b === undefined) return false;
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === 'number' || ta === 'boolean') && (tb === 'number' || tb === 'boolean')) return Number(a) === Number(b);
  if (ta !== 'object' || tb !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!pyEquals(a[i], b[i])) return false;
    return true;
  }
  if (isDict(a) && isDict(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!own(b, k) || !pyEquals(a[k], b[k])) return false;
    return true;
  }
  return false;
}

function sortKind(v: unknown): 'num' | 'str' | 'list' | undefined {
  if (typeof v === 'number' || typeof v === 'boolean') return 'num';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  return undefined;
}

/** Python ordering (`<`, sort, min, max); mixing types fails as in Python 3. */
export function pyCompare(a: unknown, b: unknown, op = '<'): number {
  if (a instanceof Undefined) a.fail();
  if (b instanceof Undefined) b.fail();
  a = unwrap(a);
  b = unwrap(b);
  const ka = sortKind(a);
  if (ka === undefined || ka !== sortKind(b)) {
    throw typeError(`'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
  }
  if (ka === 'num') return Number(a) - Number(b);
  if (ka === 'str') return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
  const la = a as unknown[];
  const lb = b as unknown[];
  for (let i = 0; i < la.length && i < lb.length; i++) {
    if (pyEquals(la[i], lb[i])) continue;
    return pyCompare(la[i], lb[i], op);
  }
  return la.length - lb.length;
}

/** What `for x in v` iterates: list items, a string's characters, a dict's keys. */
export function toList(v: unknown, what = 'value'): unknown[] {
  if (Array.isArray(v)) return v;
  if (v instanceof Undefined) v.fail();
  v = unwrap(v);
  if (typeof v === 'string') return Array.from(v);
  if (isDict(v)) return Object.keys(v);
  throw typeError(`'${typeName(v)}' object is not iterable${what === 'value' ? '' : ` (${what})`}`);
}

/** len() */
export function pyLen(v: unknown): number {
  if (v instanceof Undefined) v.fail();
  v = unwrap(v);
  if (typeof v === 'string') return Array.from(v).length;
  if (Array.isArray(v)) return v.length;
  if (isDict(v)) return Object.keys(v).length;
  throw typeError(`object of type '${typeName(v)}' has no len()`);
}

/** `in`: substring, list membership (by ==), dict key. */
export function contains(container: unknown, item: unknown): boolean {
  if (container instanceof Undefined) container.fail();
  if (item instanceof Undefined) item.fail();
  container = unwrap(container);
  item = unwrap(item);
  if (typeof container === 'string') {
    if (typeof item !== 'string') throw typeError(`'in <string>' requires string as left operand, not ${typeName(item)}`);
    return container.includes(item);
  }
  if (Array.isArray(container)) {
    for (const x of container) if (pyEquals(x, item)) return true;
    return false;
  }
  if (isDict(container)) {
    if (typeof item === 'string') return own(container, item);
    if (typeof item === 'number') return own(container, String(item));
    return false;
  }
  throw typeError(`argument of type '${typeName(container)}' is not iterable`);
}

function num(v: unknown): v is number | boolean {
  return typeof v === 'number' || typeof v === 'boolean';
}

function opError(op: string, a: unknown, b: unknown): TemplateError {
  return typeError(`unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
}

export function pyAdd(a: unknown, b: unknown): unknown {
  if (a instanceof Undefined) a.fail();
  if (b instanceof Undefined) b.fail();
  a = unwrap(a);
  b = unwrap(b);
  if (num(a) && num(b)) return Number(a) + Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (typeof a === 'string') throw typeError(`can only concatenate str (not "${typeName(b)}") to str`);
  if (Array.isArray(a)) throw typeError(`can only concatenate list (not "${typeName(b)}") to list`);
  throw opError('+', a, b);
}

export function pyMul(a: unknown, b: unknown): unknown {
  if (a instanceof Undefined) a.fail();
  if (b instanceof Undefined) b.fail();
  a = unwrap(a);
  b = unwrap(b);
  if (num(a) && num(b)) return Number(a) * Number(b);
  const repeat = (seq: unknown, n: unknown): unknown => {
    const k = Math.max(0, Number(n));
    if (typeof seq === 'string') return seq.repeat(k);
    const out: unknown[] = [];
    for (let i = 0; i < k; i++) out.push(...(seq as unknown[]));
    return out;
  };
  if ((typeof a === 'string' || Array.isArray(a)) && typeof b === 'number' && Number.isInteger(b)) return repeat(a, b);
  if ((typeof b === 'string' || Array.isArray(b)) && typeof a === 'number' && Number.isInteger(a)) return repeat(b, a);
  throw opError('*', a, b);
}

export function pyArith(op: '-' | '/' | '//' | '%' | '**', a: unknown, b: unknown): unknown {
  if (a instanceof Undefined) a.fail();
  if (b instanceof Undefined) b.fail();
  a = unwrap(a);
  b = unwrap(b);
  if (op === '%' && typeof a === 'string') return percentFormat(a, b);
  if (!num(a) || !num(b)) throw opError(op, a, b);
  const x = Number(a);
  const y = Number(b);
  switch (op) {
    case '-':
      return x - y;
    case '**':
      return x ** y;
    case '/':
      if (y === 0) throw typeError('division by zero');
      return x / y;
    case '//':
      if (y === 0) throw typeError('integer division or modulo by zero');
      return Math.floor(x / y);
    case '%':
      if (y === 0) throw typeError('integer division or modulo by zero');
      return x - y * Math.floor(x / y);
  }
}

export function pyNeg(a: unknown, sign: 1 | -1): number {
  if (a instanceof Undefined) a.fail();
  if (!num(a)) throw typeError(`bad operand type for unary ${sign < 0 ? '-' : '+'}: '${typeName(a)}'`);
  return sign * Number(a);
}

/** Python int(): for `%d`, the `int` filter and friends. */
export function toInt(v: unknown): number | undefined {
  v = unwrap(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : undefined;
  return undefined;
}

function applyWidth(s: string, width: number, left: boolean, zero: boolean): string {
  if (s.length >= width) return s;
  if (left) return s.padEnd(width);
  if (zero) {
    const m = /^([-+ ]?(?:0[xXob])?)(.*)$/.exec(s)!;
    return m[1]! + m[2]!.padStart(width - m[1]!.length, '0');
  }
  return s.padStart(width);
}

function expFormat(n: number, prec: number, upper: boolean): string {
  const [mant, exp] = n.toExponential(prec).split('e') as [string, string];
  const sign = exp.startsWith('-') ? '-' : '+';
  const s = `${mant}e${sign}${exp.replace(/^[-+]/, '').padStart(2, '0')}`;
  return upper ? s.toUpperCase() : s;
}

function gFormat(n: number, prec: number, upper: boolean, alt: boolean): string {
  if (prec === 0) prec = 1;
  if (n === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(n)));
  let s: string;
  if (exp < -4 || exp >= prec) s = expFormat(n, prec - 1, upper);
  else s = n.toFixed(Math.max(0, prec - 1 - exp));
  if (!alt && s.includes('.')) s = s.replace(/(\.\d*?)0+(?=$|e|E)/, '$1').replace(/\.(?=$|e|E)/, '');
  return s;
}

/** One conversion of `%` formatting or a format spec, on a number. */
function formatNumber(v: unknown, conv: string, prec: number | undefined, flags: string): string {
  const n = typeof v === 'boolean' ? Number(v) : v;
  if (typeof n !== 'number') throw typeError(`%${conv} format: a number is required, not ${typeName(v)}`);
  let body: string;
  const neg = n < 0 || Object.is(n, -0);
  const a = Math.abs(n);
  switch (conv) {
    case 'd':
    case 'i':
    case 'u':
      body = String(Math.trunc(a));
      break;
    case 'x':
    case 'X':
      body = (flags.includes('#') ? '0x' : '') + Math.trunc(a).toString(16);
      if (conv === 'X') body = body.toUpperCase();
      break;
    case 'o':
      body = (flags.includes('#') ? '0o' : '') + Math.trunc(a).toString(8);
      break;
    case 'b':
      body = Math.trunc(a).toString(2);
      break;
    case 'e':
    case 'E':
      body = expFormat(a, prec ?? 6, conv === 'E');
      break;
    case 'g':
    case 'G':
      body = gFormat(a, prec ?? 6, conv === 'G', flags.includes('#'));
      break;
    case '%':
      body = `${(a * 100).toFixed(prec ?? 6)}%`;
      break;
    default:
      body = a.toFixed(prec ?? 6);
  }
  const sign = neg ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
  return sign + body;
}

const PERCENT = /%(?:\(([^)]*)\))?([-+ 0#]*)(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])/g;

/** `'%s-%02d' % (a, b)` and the `format` filter. */
export function percentFormat(fmt: string, args: unknown): string {
  const named = isDict(args) ? args : undefined;
  const list = named ? [] : isTuple(args) ? (args as unknown[]) : [args];
  let i = 0;
  const next = (): unknown => {
    if (i >= list.length) throw typeError('not enough arguments for format string');
    return list[i++];
  };
  const out = fmt.replace(PERCENT, (_m, key: string | undefined, flags: string, width: string | undefined, precision: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    const w = width === '*' ? Number(next()) : width ? Number(width) : 0;
    const p = precision === '*' ? Number(next()) : precision !== undefined ? Number(precision) : undefined;
    const value = key !== undefined ? (named ? named[key] : undefined) : next();
    if (value instanceof Undefined) value.fail();
    let s: string;
    if (conv === 's') s = pyStr(value);
    else if (conv === 'r' || conv === 'a') s = pyRepr(value);
    else if (conv === 'c') s = typeof value === 'number' ? String.fromCodePoint(value) : pyStr(value);
    else s = formatNumber(unwrap(value), conv, p, flags);
    if ((conv === 's' || conv === 'r') && p !== undefined) s = s.slice(0, p);
    return applyWidth(s, w, flags.includes('-'), flags.includes('0') && conv !== 's' && conv !== 'r');
  });
  if (!named && i < list.length) throw typeError('not all arguments converted during string formatting');
  return out;
}

/** Python's format spec mini-language, for str.format: `{:>10}`, `{:02d}`, `{:.2f}`. */
function formatSpec(value: unknown, spec: string): string {
  const m = /^(?:(.)?([<>^=]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/.exec(spec);
  if (!m) throw typeError(`invalid format specifier '${spec}'`);
  const [, fill = ' ', align, sign = '', alt, zero, width, group, precision, type] = m;
  const v = unwrap(value);
  let s: string;
  const p = precision === undefined ? undefined : Number(precision);
  if (type === 's' || (type === undefined && typeof v !== 'number')) {
    s = pyStr(v);
    if (p !== undefined) s = s.slice(0, p);
  } else {
    const conv = type ?? (Number.isInteger(v) ? 'd' : 'g');
    s = formatNumber(v, conv === 'n' ? 'd' : conv, p ?? (type === undefined ? 12 : undefined), sign + (alt ? '#' : ''));
    if (group) s = s.replace(/\B(?=(\d{3})+(?!\d))/g, group);
  }
  const w = width ? Number(width) : 0;
  if (s.length >= w) return s;
  const pad = (n: number) => fill.repeat(n);
  const how = align ?? (zero ? '=' : typeof v === 'number' ? '>' : '<');
  if (how === '<') return s + pad(w - s.length);
  if (how === '>') return pad(w - s.length) + s;
  if (how === '^') {
    const left = Math.floor((w - s.length) / 2);
    return pad(left) + s + pad(w - s.length - left);
  }
  const signChar = /^[-+ ]/.test(s) ? s[0]! : '';
  return signChar + (zero && !align ? '0' : fill).repeat(w - s.length) + s.slice(signChar.length);
}

/** Python's str.format: `'{}-{:02d}'.format(a, b)`, `'{name}'.format(name=x)`. */
export function strFormat(fmt: string, args: unknown[], kwargs: Dict): string {
  let auto = 0;
  return fmt.replace(/\{\{|\}\}|\{([^{}:!]*)(?:!([rsa]))?(?::([^{}]*))?\}/g, (m, field: string | undefined, conv: string | undefined, spec: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const name = field ?? '';
    const [head, ...path] = name.split('.');
    let value: unknown = head === '' ? args[auto++] : /^\d+$/.test(head!) ? args[Number(head)] : kwargs[head!];
    for (const p of path) value = isDict(value) ? value[p] : undefined;
    if (value === undefined) throw typeError(`format: no value for field '${name}'`);
    if (conv === 'r' || conv === 'a') value = pyRepr(value);
    else if (conv === 's') value = pyStr(value);
    return spec ? formatSpec(value, spec) : pyStr(value);
  });
}
