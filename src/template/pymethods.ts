/**
 * The Python methods Ansible users call on values inside templates:
 * `'a,b'.split(',')`, `s.startswith('x')`, `d.items()`, `d.get('k', 1)`.
 * Only methods that do not mutate are offered: a template must not change
 * the variables it reads (they may be shared host data).
 */
import { Args } from './args.js';
import { TemplateError } from './errors.js';
import { rejectUndefined } from './undefined.js';
import { isDict, own, pyEquals, pyStr, strFormat, toList, tuple, type Dict } from './python.js';

type Method = (self: never, a: Args) => unknown;

const WS = ' \t\n\r\x0b\x0c';

function str(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  throw new TemplateError(`${what} expects a string, got ${pyStr(v)}`);
}

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  const set = chars === undefined || chars === null ? WS : str(chars, 'strip');
  let a = 0;
  let b = s.length;
  if (left) while (a < b && set.includes(s[a]!)) a++;
  if (right) while (b > a && set.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/** Python str.split / rsplit, including `maxsplit` keeping the remainder. */
export function pySplit(s: string, sep: unknown, maxsplit: number, fromRight = false): string[] {
  if (sep === undefined || sep === null) {
    const words: string[] = [];
    if (!fromRight) {
      let rest = s.replace(/^\s+/, '');
      while (rest !== '') {
        if (maxsplit >= 0 && words.length === maxsplit) {
          words.push(rest);
          break;
        }
        const m = /\s+/.exec(rest);
        if (!m) {
          words.push(rest);
          break;
        }
        words.push(rest.slice(0, m.index));
        rest = rest.slice(m.index + m[0].length);
      }
      return words;
    }
    let rest = s.replace(/\s+$/, '');
    while (rest !== '') {
      if (maxsplit >= 0 && words.length === maxsplit) {
        words.unshift(rest);
        break;
      }
      const m = /\s+(\S*)$/.exec(rest);
      if (!m) {
        words.unshift(rest);
        break;
      }
      words.unshift(m[1]!);
      rest = rest.slice(0, m.index);
    }
    return words;
  }
  const d = str(sep, 'split');
  if (d === '') throw new TemplateError('empty separator');
  const parts = s.split(d);
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  if (fromRight) return [parts.slice(0, parts.length - maxsplit).join(d), ...parts.slice(parts.length - maxsplit)];
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(d)];
}

function prefixes(v: unknown): string[] {
  return Array.isArray(v) ? v.map((x) => str(x, 'startswith')) : [str(v, 'startswith')];
}

function bounds(s: string, a: Args, i: number): string {
  const start = a.get(i, 'start') as number | undefined;
  const end = a.get(i + 1, 'end') as number | undefined;
  return start === undefined && end === undefined ? s : s.slice(start ?? 0, end ?? s.length);
}

function pad(s: string, width: unknown, fill: unknown, how: 'l' | 'r' | 'c'): string {
  const w = Number(width);
  const f = fill === undefined ? ' ' : String(fill);
  if (s.length >= w) return s;
  if (how === 'l') return s + f.repeat(w - s.length);
  if (how === 'r') return f.repeat(w - s.length) + s;
  const left = Math.floor((w - s.length) / 2);
  return f.repeat(left) + s + f.repeat(w - s.length - left);
}

const STR: Record<string, (s: string, a: Args) => unknown> = {
  split: (s, a) => pySplit(s, a.get(0, 'sep'), Number(a.get(1, 'maxsplit', -1))),
  rsplit: (s, a) => pySplit(s, a.get(0, 'sep'), Number(a.get(1, 'maxsplit', -1)), true),
  splitlines: (s, a) => {
    const keep = Boolean(a.get(0, 'keepends', false));
    const out = s.split(/(\r\n|\n|\r|\x0b|\x0c|\x1c|\x1d|\x1e|\x85|\u2028|\u2029)/);
    const lines: string[] = [];
    for (let i = 0; i < out.length; i += 2) {
      const line = out[i]!;
      const end = out[i + 1];
      if (end === undefined && line === '') break;
      lines.push(keep && end !== undefined ? line + end : line);
    }
    return lines;
  },
  strip: (s, a) => stripChars(s, a.get(0, 'chars'), true, true),
  lstrip: (s, a) => stripChars(s, a.get(0, 'chars'), true, false),
  rstrip: (s, a) => stripChars(s, a.get(0, 'chars'), false, true),
  startswith: (s, a) => prefixes(a.need(0, 'prefix')).some((p) => bounds(s, a, 1).startsWith(p)),
  endswith: (s, a) => prefixes(a.need(0, 'suffix')).some((p) => bounds(s, a, 1).endsWith(p)),
  upper: (s) => s.toUpperCase(),
  lower: (s) => s.toLowerCase(),
  casefold: (s) => s.toLowerCase(),
  swapcase: (s) => Array.from(s, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
  title: (s) => s.replace(/\p{L}+/gu, (w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase()),
  capitalize: (s) => (s === '' ? s : s[0]!.toUpperCase() + s.slice(1).toLowerCase()),
  replace: (s, a) => {
    const old = str(a.need(0, 'old'), 'replace');
    const rep = str(a.need(1, 'new'), 'replace');
    const count = Number(a.get(2, 'count', -1));
    const parts = s.split(old);
    if (count < 0 || parts.length - 1 <= count) return parts.join(rep);
    return parts.slice(0, count + 1).join(rep) + old + parts.slice(count + 1).join(old);
  },
  find: (s, a) => s.indexOf(str(a.need(0, 'sub'), 'find'), Number(a.get(1, 'start', 0))),
  rfind: (s, a) => s.lastIndexOf(str(a.need(0, 'sub'), 'rfind')),
  index: (s, a) => {
    const i = s.indexOf(str(a.need(0, 'sub'), 'index'), Number(a.get(1, 'start', 0)));
    if (i < 0) throw new TemplateError('substring not found');
    return i;
  },
  count: (s, a) => {
    const sub = str(a.need(0, 'sub'), 'count');
    return sub === '' ? s.length + 1 : s.split(sub).length - 1;
  },
  join: (s, a) => toList(a.need(0, 'iterable')).map(pyStr).join(s),
  format: (s, a) => strFormat(s, a.positional, a.keywords),
  isdigit: (s) => /^\d+$/.test(s),
  isdecimal: (s) => /^\d+$/.test(s),
  isnumeric: (s) => /^\p{N}+$/u.test(s),
  isalpha: (s) => /^\p{L}+$/u.test(s),
  isalnum: (s) => /^[\p{L}\p{N}]+$/u.test(s),
  isspace: (s) => /^\s+$/.test(s),
  islower: (s) => /\p{Ll}/u.test(s) && s === s.toLowerCase(),
  isupper: (s) => /\p{Lu}/u.test(s) && s === s.toUpperCase(),
  zfill: (s, a) => {
    const w = Number(a.need(0, 'width'));
    const sign = /^[-+]/.test(s) ? s[0]! : '';
    return sign + s.slice(sign.length).padStart(w - sign.length, '0');
  },
  ljust: (s, a) => pad(s, a.need(0, 'width'), a.get(1, 'fillchar'), 'l'),
  rjust: (s, a) => pad(s, a.need(0, 'width'), a.get(1, 'fillchar'), 'r'),
  center: (s, a) => pad(s, a.need(0, 'width'), a.get(1, 'fillchar'), 'c'),
  partition: (s, a) => {
    const sep = str(a.need(0, 'sep'), 'partition');
    const i = s.indexOf(sep);
    return tuple(i < 0 ? [s, '', ''] : [s.slice(0, i), sep, s.slice(i + sep.length)]);
  },
  rpartition: (s, a) => {
    const sep = str(a.need(0, 'sep'), 'rpartition');
    const i = s.lastIndexOf(sep);
    return tuple(i < 0 ? ['', '', s] : [s.slice(0, i), sep, s.slice(i + sep.length)]);
  },
};

const LIST: Record<string, (l: unknown[], a: Args) => unknown> = {
  index: (l, a) => {
    const x = a.need(0, 'value');
    const i = l.findIndex((y) => pyEquals(y, x));
    if (i < 0) throw new TemplateError(`${pyStr(x)} is not in list`);
    return i;
  },
  count: (l, a) => {
    const x = a.need(0, 'value');
    return l.filter((y) => pyEquals(y, x)).length;
  },
  copy: (l) => [...l],
};

const DICT: Record<string, (d: Dict, a: Args) => unknown> = {
  keys: (d) => Object.keys(d),
  values: (d) => Object.values(d),
  items: (d) => Object.entries(d).map((e) => tuple(e)),
  get: (d, a) => {
    const k = a.need(0, 'key');
    const key = typeof k === 'number' ? String(k) : k;
    return typeof key === 'string' && own(d, key) ? d[key] : a.get(1, 'default', null);
  },
  copy: (d) => ({ ...d }),
};

/** The bound Python method `name` of `obj`, if it has one. */
export function pyMethod(obj: unknown, name: string): ((...args: unknown[]) => unknown) | undefined {
  let table: Record<string, Method> | undefined;
  if (typeof obj === 'string') table = STR as Record<string, Method>;
  else if (Array.isArray(obj)) table = LIST as Record<string, Method>;
  else if (isDict(obj)) table = DICT as Record<string, Method>;
  if (!table || !own(table, name)) return undefined;
  const fn = table[name]!;
  return (...args: unknown[]) => {
    const a = new Args(args, `${name}()`);
    rejectUndefined(...a.all());
    return fn(obj as never, a);
  };
}
