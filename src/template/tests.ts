/**
 * Jinja2 tests (`x is defined`, `r is changed`, `v is version('1.2', '>=')`).
 * `defined`/`undefined` look at Undefined values without failing; the type
 * tests answer false for them, as Jinja2's isinstance-based tests do; every
 * other test fails on an Undefined, as StrictUndefined makes them.
 */
import { existsSync, lstatSync, statSync } from 'node:fs';
import { VaultedText } from '../util/markers.js';
import { Args } from './args.js';
import { TemplateError } from './errors.js';
import { contains, isDict, isStr, own, pyCompare, pyEquals, pyStr, toList, truthy, typeName, unwrap, type Dict } from './python.js';
import { pyRegex } from './regex.js';
import type { RenderState } from './state.js';
import { Undefined } from './undefined.js';

export type TestFn = (value: unknown, a: Args, st: RenderState | undefined) => boolean;
interface TestDef {
  fn: TestFn;
  lenient?: boolean;
}

export const TESTS = new Map<string, TestDef>();

function def(names: string | string[], fn: TestFn, lenient = false): void {
  for (const n of Array.isArray(names) ? names : [names]) TESTS.set(n, { fn, lenient });
}

export function testName(name: string): string {
  return name.replace(/^ansible\.(builtin|legacy)\./, '');
}

export function runTest(name: string, value: unknown, args: unknown[], st: RenderState | undefined): boolean {
  const t = TESTS.get(testName(name));
  if (!t) throw new TemplateError(`no test named '${name}'`);
  if (!t.lenient) {
    if (value instanceof Undefined) value.fail();
  }
  for (const x of args) if (x instanceof Undefined) x.fail();
  return t.fn(value, new Args(args, `test '${name}'`), st) === true;
}

const isNum = (v: unknown) => typeof v === 'number';

def('defined', (v) => !(v instanceof Undefined), true);
def('undefined', (v) => v instanceof Undefined, true);
def('none', (v) => v === null, true);
def('string', (v) => isStr(v), true);
def('number', (v) => isNum(v), true);
def('integer', (v) => isNum(v) && Number.isInteger(v), true);
def('float', (v) => isNum(v) && !Number.isInteger(v), true);
def('boolean', (v) => typeof v === 'boolean', true);
def('true', (v) => v === true, true);
def('false', (v) => v === false, true);
def('mapping', (v) => isDict(v), true);
def(['sequence', 'iterable'], (v) => isStr(v) || Array.isArray(v) || isDict(v), true);
def('callable', (v) => typeof v === 'function', true);
def('sameas', (v, a) => {
  const o = a.need(0, 'other');
  return typeof v === 'object' && v !== null ? v === o : unwrap(v) === unwrap(o);
}, true);
def('vault_encrypted', (v) => v instanceof VaultedText, true);

def(['eq', 'equalto', '=='], (v, a) => pyEquals(v, a.need(0, 'other')));
def(['ne', '!='], (v, a) => !pyEquals(v, a.need(0, 'other')));
def(['lt', 'lessthan', '<'], (v, a) => pyCompare(v, a.need(0, 'other'), '<') < 0);
def(['le', '<='], (v, a) => pyCompare(v, a.need(0, 'other'), '<=') <= 0);
def(['gt', 'greaterthan', '>'], (v, a) => pyCompare(v, a.need(0, 'other'), '>') > 0);
def(['ge', '>='], (v, a) => pyCompare(v, a.need(0, 'other'), '>=') >= 0);
def('in', (v, a) => contains(a.need(0, 'seq'), v));
def('contains', (v, a) => contains(v, a.need(0, 'item')));
def('even', (v) => Number(unwrap(v)) % 2 === 0);
def('odd', (v) => Math.abs(Number(unwrap(v)) % 2) === 1);
def('divisibleby', (v, a) => Number(unwrap(v)) % Number(a.need(0, 'num')) === 0);
def('lower', (v) => pyStr(v) === pyStr(v).toLowerCase());
def('upper', (v) => pyStr(v) === pyStr(v).toUpperCase());
def('truthy', (v, a) => (truthy(a.get(0, 'convert_bool', false)) ? boolish(v) : truthy(v)));
def('falsy', (v, a) => !(truthy(a.get(0, 'convert_bool', false)) ? boolish(v) : truthy(v)));
def('nan', (v) => Number.isNaN(unwrap(v)));
def('any', (v) => toList(v).some(truthy));
def('all', (v) => toList(v).every(truthy));

function boolish(v: unknown): boolean {
  const u = unwrap(v);
  if (typeof u === 'string') {
    const s = u.toLowerCase();
    if (['yes', 'on', '1', 'true', 'y', 't'].includes(s)) return true;
    if (['no', 'off', '0', 'false', 'n', 'f'].includes(s)) return false;
  }
  return truthy(u);
}

// ---------------------------------------------------------------- regex

function regexTest(kind: 'match' | 'search'): TestFn {
  return (v, a) => {
    const pattern = pyStr(a.need(0, 'pattern'));
    const matchType = kind === 'search' ? pyStr(a.get(3, 'match_type', 'search')) : 'match';
    const opts = { ignorecase: truthy(a.get(1, 'ignorecase', false)), multiline: truthy(a.get(2, 'multiline', false)) };
    const s = pyStr(v);
    if (matchType === 'fullmatch') return pyRegex(`(?:${pattern})$`, { ...opts, sticky: true }).test(s);
    return pyRegex(pattern, { ...opts, sticky: matchType === 'match' }).test(s);
  };
}
def('match', regexTest('match'));
def(['search', 'regex'], regexTest('search'));

// ---------------------------------------------------------------- task results

function result(v: unknown, test: string): Dict {
  if (!isDict(v)) throw new TemplateError(`The '${test}' test expects a dictionary (a registered result), got ${typeName(v)}`);
  return v;
}

function items(r: Dict): Dict[] {
  return Array.isArray(r.results) ? r.results.filter(isDict) : [];
}

def(['changed', 'change'], (v) => {
  const r = result(v, 'changed');
  if (own(r, 'changed')) return truthy(r.changed);
  return items(r).some((i) => truthy(i.changed));
});
def(['failed', 'failure'], (v) => {
  const r = result(v, 'failed');
  if (own(r, 'failed')) return truthy(r.failed);
  return items(r).some((i) => truthy(i.failed));
});
def(['succeeded', 'success', 'successful'], (v) => {
  const r = result(v, 'succeeded');
  if (own(r, 'failed')) return !truthy(r.failed);
  return !items(r).some((i) => truthy(i.failed));
});
def(['skipped', 'skip'], (v) => {
  const r = result(v, 'skipped');
  if (own(r, 'skipped')) return truthy(r.skipped);
  const list = items(r);
  return list.length > 0 && list.every((i) => truthy(i.skipped));
});
def('unreachable', (v) => truthy(result(v, 'unreachable').unreachable ?? false));
def('reachable', (v) => !truthy(result(v, 'reachable').unreachable ?? false));
def('finished', (v) => {
  const r = result(v, 'finished');
  return own(r, 'finished') ? Number(r.finished) === 1 || r.finished === true : true;
});
def('started', (v) => {
  const r = result(v, 'started');
  return own(r, 'started') ? Number(r.started) === 1 || r.started === true : true;
});

// ---------------------------------------------------------------- versions, sets

/** distutils' LooseVersion components: numbers and letter runs. */
function looseParts(v: string): (number | string)[] {
  return v
    .split(/(\d+|[a-z]+|\.)/i)
    .filter((p) => p && p !== '.')
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function compareParts(a: (number | string)[], b: (number | string)[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    // LooseVersion compares numbers against letters in Python 2 order: numbers first
    if (typeof x !== typeof y) return typeof x === 'number' ? -1 : 1;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/** semver 2.0 precedence (prerelease sorts before release). */
function compareSemver(a: string, b: string): number {
  const parse = (s: string) => {
    const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(s.trim());
    if (!m) throw new TemplateError(`'${s}' is not a valid semantic version`);
    return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] ? m[4].split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [] };
  };
  const x = parse(a);
  const y = parse(b);
  const c = compareParts(x.core, y.core);
  if (c) return c;
  if (!x.pre.length || !y.pre.length) return y.pre.length - x.pre.length;
  return compareParts(x.pre, y.pre);
}

const OPS: Record<string, (c: number) => boolean> = {
  '<': (c) => c < 0,
  lt: (c) => c < 0,
  '<=': (c) => c <= 0,
  le: (c) => c <= 0,
  '>': (c) => c > 0,
  gt: (c) => c > 0,
  '>=': (c) => c >= 0,
  ge: (c) => c >= 0,
  '==': (c) => c === 0,
  '=': (c) => c === 0,
  eq: (c) => c === 0,
  '!=': (c) => c !== 0,
  '<>': (c) => c !== 0,
  ne: (c) => c !== 0,
};

def(['version', 'version_compare'], (v, a) => {
  const other = pyStr(a.need(0, 'version'));
  const op = pyStr(a.get(1, 'operator', 'eq'));
  const strict = truthy(a.get(2, 'strict', false));
  const type = pyStr(a.get(3, 'version_type', strict ? 'strict' : 'loose'));
  const check = OPS[op];
  if (!check) throw new TemplateError(`Invalid operator type (${op})`);
  const mine = pyStr(v);
  if (mine === '' || other === '') throw new TemplateError('Version parameter to compare against cannot be empty');
  let c: number;
  if (type === 'semver' || type === 'semantic') c = compareSemver(mine, other);
  else {
    if (type === 'strict' && !/^\d+\.\d+(\.\d+)?([ab]\d+)?$/.test(mine)) throw new TemplateError(`invalid version number '${mine}'`);
    c = compareParts(looseParts(mine), looseParts(other));
  }
  return check(c);
});

def(['subset', 'issubset'], (v, a) => {
  const big = toList(a.need(0, 'b'));
  return toList(v).every((x) => contains(big, x));
});
def(['superset', 'issuperset'], (v, a) => {
  const big = toList(v);
  return toList(a.need(0, 'b')).every((x) => contains(big, x));
});

// ---------------------------------------------------------------- controller paths

def('abs', (v) => pyStr(v).startsWith('/'));
def('exists', (v) => existsSync(pyStr(v)));
def(['file', 'is_file'], (v) => {
  try {
    return statSync(pyStr(v)).isFile();
  } catch {
    return false;
  }
});
def(['directory', 'is_dir'], (v) => {
  try {
    return statSync(pyStr(v)).isDirectory();
  } catch {
    return false;
  }
});
def(['link', 'is_link'], (v) => {
  try {
    return lstatSync(pyStr(v)).isSymbolicLink();
  } catch {
    return false;
  }
});
