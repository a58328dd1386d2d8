/**
 * The filters Ansible playbooks use: Jinja2's built-ins and Ansible's own,
 * with their Python semantics (argument names, defaults, error cases).
 *
 * A filter receives the value, its arguments (by position or name) and the
 * render state. Unless it is `lenient`, the runtime refuses Undefined values
 * and arguments before calling it, so only `default`, `mandatory`, ... ever
 * see an Undefined.
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { quote } from '../util/shell.js';
import { Args } from './args.js';
import { randomSalt, shaCrypt } from './crypt.js';
import { TemplateError } from './errors.js';
import { strftime } from './globals.js';
import { pySplit } from './pymethods.js';
import {
  contains,
  isDict,
  isStr,
  own,
  percentFormat,
  pyAdd,
  pyCompare,
  pyEquals,
  pyLen,
  pyStr,
  toList,
  truthy,
  tuple,
  typeName,
  unwrap,
  type Dict,
} from './python.js';
import { pyFindall, pyRegex, pySub } from './regex.js';
import { fromYaml, toJson, toYaml } from './serialize.js';
import type { RenderState } from './state.js';
import { runTest } from './tests.js';
import { Undefined } from './undefined.js';

export type FilterFn = (value: unknown, a: Args, st: RenderState | undefined) => unknown;
export interface FilterDef {
  fn: FilterFn;
  /** sees Undefined values instead of failing on them */
  lenient?: boolean;
}

export const FILTERS = new Map<string, FilterDef>();

function def(names: string | string[], fn: FilterFn, lenient = false): void {
  for (const n of Array.isArray(names) ? names : [names]) FILTERS.set(n, { fn, lenient });
}

/** Filter names as written: `ansible.builtin.to_json` is `to_json`. */
export function filterName(name: string): string {
  return name.replace(/^ansible\.(builtin|legacy)\./, '');
}

export function runFilter(name: string, value: unknown, args: unknown[], st: RenderState | undefined): unknown {
  const f = FILTERS.get(filterName(name));
  if (!f) throw new TemplateError(`no filter named '${name}'`);
  if (!f.lenient) {
    if (value instanceof Undefined) value.fail();
    for (const x of args) {
      if (x instanceof Undefined) x.fail();
      if (isDict(x) && own(x, '__keywords')) for (const k of Object.keys(x)) if (x[k] instanceof Undefined) (x[k] as Undefined).fail();
    }
  }
  const r = f.fn(value, new Args(args, `filter '${name}'`), st);
  return r === undefined ? null : r;
}

function text(v: unknown): string {
  return pyStr(v);
}

function str(v: unknown, what: string): string {
  const u = unwrap(v);
  if (typeof u === 'string') return u;
  throw new TemplateError(`${what} expects a string, got ${typeName(v)}`);
}

function bool(v: unknown): boolean {
  return truthy(v);
}

/** `item.a.b` as Jinja's attribute= arguments read it: dict keys, list indexes; Undefined when missing. */
export function getAttr(item: unknown, path: unknown): unknown {
  if (typeof path === 'number') return Array.isArray(item) ? (item[path] ?? new Undefined(String(path))) : new Undefined(String(path));
  let v = unwrap(item);
  for (const part of String(path).split('.')) {
    v = unwrap(v);
    if (v instanceof Undefined) return v;
    if (Array.isArray(v) && /^-?\d+$/.test(part)) {
      const i = Number(part);
      v = v[i < 0 ? v.length + i : i];
      if (v === undefined) return new Undefined(String(path), `list has no element ${part}`);
    } else if (isDict(v) && own(v, part) && v[part] !== undefined) {
      v = v[part];
    } else {
      return new Undefined(String(path), `'${typeName(v)} object' has no attribute '${part}'`);
    }
  }
  return unwrap(v);
}

function attrGetter(attribute: unknown, lower: boolean): (x: unknown) => unknown {
  const paths = typeof attribute === 'string' ? attribute.split(',').map((s) => s.trim()) : [attribute];
  const key = (x: unknown) => {
    const v = attribute === null || attribute === undefined ? unwrap(x) : getAttr(x, paths[0]);
    if (v instanceof Undefined) v.fail();
    return lower && typeof v === 'string' ? v.toLowerCase() : v;
  };
  if (paths.length === 1) return key;
  return (x) =>
    paths.map((p) => {
      const v = getAttr(x, p);
      if (v instanceof Undefined) v.fail();
      return lower && typeof v === 'string' ? v.toLowerCase() : v;
    });
}

function sortList(items: unknown[], key: (x: unknown) => unknown, reverse: boolean): unknown[] {
  const keyed = items.map((x) => [key(x), x] as const);
  keyed.sort((a, b) => pyCompare(a[0], b[0]));
  if (reverse) keyed.reverse();
  return keyed.map((k) => k[1]);
}

/** Jinja's unique(): first occurrence wins, strings compared case-insensitively unless asked. */
function unique(items: unknown[], caseSensitive: boolean, attribute?: unknown): unknown[] {
  const seen = new Set<unknown>();
  const seenObjects: unknown[] = [];
  const out: unknown[] = [];
  for (const x of items) {
    let k = attribute === undefined || attribute === null ? unwrap(x) : getAttr(x, attribute);
    if (k instanceof Undefined) k.fail();
    if (!caseSensitive && typeof k === 'string') k = k.toLowerCase();
    if (k !== null && typeof k === 'object') {
      if (seenObjects.some((s) => pyEquals(s, k))) continue;
      seenObjects.push(k);
    } else {
      const key = typeof k === 'boolean' ? Number(k) : k;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push(x);
  }
  return out;
}

function dictOf(v: unknown, what: string): Dict {
  if (isDict(v)) return v;
  throw new TemplateError(`${what} requires a dictionary, got ${typeName(v)}`);
}

function listOf(v: unknown, what: string): unknown[] {
  const u = unwrap(v);
  if (Array.isArray(u)) return u;
  if (isDict(u) || typeof u === 'string') return toList(u);
  throw new TemplateError(`${what} requires a list, got ${typeName(v)}`);
}

// ---------------------------------------------------------------- defaults

def(
  ['default', 'd'],
  (v, a) => {
    const fallback = a.get(0, 'default_value', '');
    if (v instanceof Undefined) return fallback;
    if (bool(a.get(1, 'boolean', false)) && !truthy(v)) return fallback;
    return v;
  },
  true,
);

def(
  'mandatory',
  (v, a) => {
    if (v instanceof Undefined) {
      const msg = a.get(0, 'msg', null);
      throw new TemplateError(msg === null ? `Mandatory variable '${v.name}' not defined.` : text(msg));
    }
    return v;
  },
  true,
);

// ---------------------------------------------------------------- types

/** Ansible's `bool` filter (to_bool): only yes/on/1/true mean true; None stays None. */
def('bool', (v) => {
  v = unwrap(v);
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'string') v = v.toLowerCase();
  return v === 'yes' || v === 'on' || v === '1' || v === 'true' || v === 1;
});

def('int', (v, a) => {
  const fallback = a.get(0, 'default', 0);
  const base = Number(a.get(1, 'base', 10));
  v = unwrap(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : fallback;
  if (typeof v === 'string') {
    const s = v.trim().replace(/_/g, '');
    if (base === 10 && /^[-+]?\d+$/.test(s)) return parseInt(s, 10);
    if (base !== 10) {
      const m = /^([-+]?)(0[xob])?([0-9a-z]+)$/i.exec(s);
      if (m) {
        const n = parseInt(m[3]!, base);
        if (!Number.isNaN(n) && n.toString(base) === m[3]!.toLowerCase().replace(/^0+(?=.)/, '')) return m[1] === '-' ? -n : n;
      }
    }
    if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Math.trunc(parseFloat(s));
  }
  return fallback;
});

def('float', (v, a) => {
  const fallback = a.get(0, 'default', 0);
  v = unwrap(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(s)) return parseFloat(s);
    if (/^[-+]?(inf|infinity)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^[-+]?nan$/.test(s)) return NaN;
  }
  return fallback;
});

def('string', (v) => text(v));
def('list', (v) => [...toList(v)]);
def('dict', (v) => {
  const out: Dict = {};
  for (const pair of toList(v)) {
    const p = listOf(pair, 'dict');
    out[text(p[0])] = p[1];
  }
  return out;
});
def('items', (v) => (v instanceof Undefined ? [] : Object.entries(dictOf(v, 'items')).map((e) => tuple(e))), true);
def('type_debug', (v) => typeName(v), true);

// ---------------------------------------------------------------- strings

def('lower', (v) => text(v).toLowerCase());
def('upper', (v) => text(v).toUpperCase());
def('capitalize', (v) => {
  const s = text(v);
  return s === '' ? s : s[0]!.toUpperCase() + s.slice(1).toLowerCase();
});
def('title', (v) =>
  text(v)
    .split(/([-\s({[<]+)/)
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1).toLowerCase() : w))
    .join(''),
);
def('trim', (v, a) => {
  const s = text(v);
  const chars = a.get(0, 'chars', null);
  if (chars === null) return s.replace(/^\s+|\s+$/g, '');
  const set = text(chars);
  let i = 0;
  let j = s.length;
  while (i < j && set.includes(s[i]!)) i++;
  while (j > i && set.includes(s[j - 1]!)) j--;
  return s.slice(i, j);
});
def('replace', (v, a) => {
  const s = text(v);
  const old = text(a.need(0, 'old'));
  const rep = text(a.need(1, 'new'));
  const count = a.get(2, 'count', null);
  const parts = s.split(old);
  if (count === null || parts.length - 1 <= Number(count)) return parts.join(rep);
  const n = Number(count);
  return parts.slice(0, n + 1).join(rep) + old + parts.slice(n + 1).join(old);
});
def('split', (v, a) => pySplit(text(v), a.get(0, 'sep', null), Number(a.get(1, 'maxsplit', -1))));
def('join', (v, a) => {
  const sep = text(a.get(0, 'd', ''));
  const attribute = a.get(1, 'attribute', null);
  const items = toList(v);
  return (attribute === null ? items : items.map((x) => getAttr(x, attribute))).map(text).join(sep);
});
def('format', (v, a) => {
  if (a.positional.length && Object.keys(a.keywords).length) throw new TemplateError("can't handle positional and keyword arguments at the same time");
  return percentFormat(text(v), Object.keys(a.keywords).length ? a.keywords : tuple(a.positional));
});
def('indent', (v, a) => {
  const width = a.get(0, 'width', 4);
  const first = bool(a.get(1, 'first', false));
  const blank = bool(a.get(2, 'blank', false));
  const ind = typeof width === 'string' ? width : ' '.repeat(Number(width));
  const lines = (text(v) + '\n').split(/\r\n|\n|\r/);
  lines.pop();
  let rv: string;
  if (blank) rv = lines.join('\n' + ind);
  else rv = [lines[0] ?? '', ...lines.slice(1).map((l) => (l ? ind + l : l))].join('\n');
  return first ? ind + rv : rv;
});
def('center', (v, a) => {
  const s = text(v);
  const w = Number(a.get(0, 'width', 80));
  if (s.length >= w) return s;
  const left = Math.floor((w - s.length) / 2);
  return ' '.repeat(left) + s + ' '.repeat(w - s.length - left);
});
def('truncate', (v, a) => {
  const s = text(v);
  const length = Number(a.get(0, 'length', 255));
  const killwords = bool(a.get(1, 'killwords', false));
  const end = text(a.get(2, 'end', '...'));
  const leeway = Number(a.get(3, 'leeway', 5));
  if (s.length <= length + leeway) return s;
  if (killwords) return s.slice(0, length - end.length) + end;
  const cut = s.slice(0, length - end.length);
  const i = cut.lastIndexOf(' ');
  return (i > 0 ? cut.slice(0, i) : cut) + end;
});
def('wordcount', (v) => (text(v).match(/\w+/gu) ?? []).length);
def(['e', 'escape'], (v) =>
  text(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c]!),
);
def('safe', (v) => text(v));
def('quote', (v) => quote(v === null ? '' : text(v)));
/** Ansible's `comment` filter, with its styles and keyword overrides. */
def('comment', (v, a) => {
  const styles: Record<string, Record<string, string>> = {
    plain: { decoration: '# ' },
    erlang: { decoration: '% ' },
    c: { decoration: '// ' },
    cblock: { beginning: '/*', decoration: ' * ', end: ' */' },
    xml: { beginning: '<!--', decoration: ' - ', end: '-->' },
  };
  const style = styles[text(a.get(0, 'style', 'plain'))];
  if (!style) throw new TemplateError(`comment: unknown style (one of ${Object.keys(styles).join(', ')})`);
  const kw = a.keywords;
  const prepost = kw.decoration !== undefined ? text(kw.decoration) : style.decoration!;
  const p: Record<string, unknown> = { newline: '\n', beginning: '', prefix: prepost.trimEnd(), prefix_count: 1, decoration: '', postfix: prepost.trimEnd(), postfix_count: 1, end: '', ...style, ...kw };
  const nl = text(p.newline);
  const deco = text(p.decoration);
  const beginning = p.beginning ? `${text(p.beginning)}${nl}` : '';
  const prefix = p.prefix ? (p.prefix !== nl ? `${text(p.prefix)}${nl}` : nl).repeat(Number(p.prefix_count)) : '';
  const body = `${deco}${text(v).split(nl).join(nl + deco)}`.split(`${deco}${nl}`).join(`${deco.trimEnd()}${nl}`);
  const postfix = ['', ...Array.from({ length: Number(p.postfix_count) }, () => text(p.postfix))].join(nl);
  const end = p.end ? `${nl}${text(p.end)}` : '';
  return beginning + prefix + body + postfix + end;
});

def('strftime', (v, a) => {
  const seconds = a.get(0, 'second', null);
  const utc = bool(a.get(1, 'utc', false));
  const when = seconds === null ? new Date() : new Date(Number(seconds) * 1000);
  return strftime(text(v), when, utc);
});

/** uuid5 in Ansible's namespace, so the same name gives the same id as with Ansible. */
def('to_uuid', (v, a) => {
  const ns = text(a.get(0, 'namespace', '361E6D51-FAEC-444A-9079-341386DA8E2E')).replace(/-/g, '');
  const h = createHash('sha1').update(Buffer.from(ns, 'hex')).update(text(v), 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
});

// ---------------------------------------------------------------- regex

const reOpts = (a: Args, i: number) => ({
  ignorecase: bool(a.get(i, 'ignorecase', false)),
  multiline: bool(a.get(i + 1, 'multiline', false)),
});

def('regex_replace', (v, a) => {
  const opts = reOpts(a, 2);
  const count = Number(a.get(4, 'count', 0));
  const mandatory = Number(a.get(5, 'mandatory_count', 0));
  const s = text(v);
  const pattern = text(a.get(0, 'pattern', ''));
  if (mandatory) {
    const found = pyFindall(s, pattern, opts).length;
    if (found !== mandatory) throw new TemplateError(`'${pattern}' should match ${mandatory} times, but matches ${found} times`);
  }
  return pySub(s, pattern, text(a.get(1, 'replacement', '')), { ...opts, count });
});

def('regex_search', (v, a) => {
  const pattern = text(a.need(0, 'regex'));
  const groups: (number | string)[] = a.rest(1).map((g) => {
    const s = text(g);
    const named = /^\\g<(\S+)>$/.exec(s);
    if (named) return /^\d+$/.test(named[1]!) ? Number(named[1]) : named[1]!;
    const num = /^\\(\d+)$/.exec(s);
    if (num) return Number(num[1]);
    throw new TemplateError(`regex_search: unknown argument ${JSON.stringify(s)} (use '\\\\1' or '\\\\g<name>')`);
  });
  const re = pyRegex(pattern, { ignorecase: bool(a.keywords.ignorecase), multiline: bool(a.keywords.multiline) });
  const m = re.exec(text(v));
  if (!m) return null;
  if (groups.length === 0) return m[0];
  return groups.map((g) => (typeof g === 'number' ? (g === 0 ? m[0] : (m[g] ?? null)) : (m.groups?.[g] ?? null)));
});

def('regex_findall', (v, a) =>
  pyFindall(text(v), text(a.need(0, 'regex')), { multiline: bool(a.get(1, 'multiline', false)), ignorecase: bool(a.get(2, 'ignorecase', false)) }),
);

def('regex_escape', (v, a) => {
  const type = text(a.get(0, 're_type', 'python'));
  if (type === 'posix_basic') return text(v).replace(/[.[\]\\*^$]/g, '\\$&');
  return text(v).replace(/[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g, '\\$&');
});

// ---------------------------------------------------------------- lists

def(['length', 'count'], (v) => pyLen(v));

def('first', (v) => {
  const l = toList(v);
  return l.length ? l[0] : new Undefined('first', 'No first item, sequence was empty.');
});
def('last', (v) => {
  const l = toList(v);
  return l.length ? l[l.length - 1] : new Undefined('last', 'No last item, sequence was empty.');
});
def('reverse', (v) => {
  const u = unwrap(v);
  if (typeof u === 'string') return Array.from(u).reverse().join('');
  return [...toList(u)].reverse();
});

def('unique', (v, a) => unique(toList(v), bool(a.get(0, 'case_sensitive', false)), a.get(1, 'attribute', null) ?? undefined));
def('union', (v, a) => unique([...listOf(v, 'union'), ...listOf(a.need(0, 'b'), 'union')], false));
def('intersect', (v, a) => {
  const b = listOf(a.need(0, 'b'), 'intersect');
  return unique(
    listOf(v, 'intersect').filter((x) => contains(b, x)),
    false,
  );
});
def('difference', (v, a) => {
  const b = listOf(a.need(0, 'b'), 'difference');
  return unique(
    listOf(v, 'difference').filter((x) => !contains(b, x)),
    false,
  );
});
def('symmetric_difference', (v, a) => {
  const x = listOf(v, 'symmetric_difference');
  const y = listOf(a.need(0, 'b'), 'symmetric_difference');
  const both = x.filter((i) => contains(y, i));
  return unique(
    [...x, ...y].filter((i) => !contains(both, i)),
    false,
  );
});

def('flatten', (v, a) => {
  const levels = a.get(0, 'levels', null);
  const skipNulls = bool(a.get(1, 'skip_nulls', true));
  const flat = (items: unknown[], depth: number): unknown[] => {
    const out: unknown[] = [];
    for (const raw of items) {
      const x = unwrap(raw);
      if (skipNulls && (x === null || x === 'None' || x === 'null')) continue;
      if (Array.isArray(x) && (levels === null || depth < Number(levels))) out.push(...flat(x, depth + 1));
      else out.push(x);
    }
    return out;
  };
  return flat(listOf(v, 'flatten'), 0);
});

def('sort', (v, a) => {
  const reverse = bool(a.get(0, 'reverse', false));
  const caseSensitive = bool(a.get(1, 'case_sensitive', false));
  const attribute = a.get(2, 'attribute', null);
  return sortList([...toList(v)], attrGetter(attribute, !caseSensitive), reverse);
});

def('dictsort', (v, a) => {
  const caseSensitive = bool(a.get(0, 'case_sensitive', false));
  const by = text(a.get(1, 'by', 'key'));
  const reverse = bool(a.get(2, 'reverse', false));
  const i = by === 'value' ? 1 : 0;
  const pairs = Object.entries(dictOf(v, 'dictsort')).map((e) => tuple(e));
  return sortList(
    pairs,
    (p) => {
      const k = (p as unknown[])[i];
      return !caseSensitive && typeof k === 'string' ? k.toLowerCase() : k;
    },
    reverse,
  );
});

def('batch', (v, a) => {
  const n = Number(a.need(0, 'linecount'));
  const fill = a.get(1, 'fill_with', null);
  const items = toList(v);
  const out: unknown[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  const last = out[out.length - 1];
  if (fill !== null && last) while (last.length < n) last.push(fill);
  return out;
});

function minmax(sign: 1 | -1): FilterFn {
  return (v, a) => {
    const items = toList(v);
    const key = attrGetter(a.get(1, 'attribute', a.get(0, 'attribute', null)), !bool(a.get(2, 'case_sensitive', false)));
    if (items.length === 0) return new Undefined(sign > 0 ? 'max' : 'min', 'No aggregated item, sequence was empty.');
    let best = items[0];
    let bestKey = key(best);
    for (const x of items.slice(1)) {
      const k = key(x);
      if (pyCompare(k, bestKey) * sign > 0) {
        best = x;
        bestKey = k;
      }
    }
    return best;
  };
}
def('max', minmax(1));
def('min', minmax(-1));

def('sum', (v, a) => {
  const attribute = a.get(0, 'attribute', null);
  let acc = a.get(1, 'start', 0);
  for (const x of toList(v)) acc = pyAdd(acc, attribute === null ? x : getAttr(x, attribute));
  return acc;
});

def('zip', (v, a) => {
  const lists = [toList(v), ...a.rest(0).map((x) => toList(x))];
  const n = Math.min(...lists.map((l) => l.length));
  return Array.from({ length: n }, (_, i) => tuple(lists.map((l) => l[i])));
});
def('zip_longest', (v, a) => {
  const lists = [toList(v), ...a.rest(0).map((x) => toList(x))];
  const fill = a.keywords.fillvalue ?? null;
  const n = Math.max(...lists.map((l) => l.length));
  return Array.from({ length: n }, (_, i) => tuple(lists.map((l) => (i < l.length ? l[i] : fill))));
});
def('product', (v, a) => {
  const lists = [toList(v), ...a.rest(0).map((x) => toList(x))];
  let out: unknown[][] = [[]];
  for (const l of lists) out = out.flatMap((prefix) => l.map((x) => [...prefix, x]));
  return out.map((t) => tuple(t));
});

def('map', (v, a, st) => {
  const items = toList(v);
  if (a.positional.length === 0 && own(a.keywords, 'attribute')) {
    const attribute = a.keywords.attribute;
    const hasDefault = own(a.keywords, 'default');
    return items.map((x) => {
      const r = getAttr(x, attribute);
      return r instanceof Undefined && hasDefault ? a.keywords.default : r;
    });
  }
  const name = text(a.need(0, 'filter'));
  const rest = a.rest(1);
  const kw = Object.keys(a.keywords).length ? [{ ...a.keywords, __keywords: true }] : [];
  return items.map((x) => runFilter(name, x, [...rest, ...kw], st));
});

function selector(attr: boolean, keep: boolean): FilterFn {
  return (v, a, st) => {
    const items = toList(v);
    const i0 = attr ? 1 : 0;
    const attribute = attr ? a.need(0, 'attribute') : undefined;
    const testName = a.positional.length > i0 ? text(a.positional[i0]) : undefined;
    const testArgs = a.rest(i0 + 1);
    return items.filter((x) => {
      const subject = attr ? getAttr(x, attribute) : x;
      const ok = testName === undefined ? truthy(subject) : runTest(testName, subject, testArgs, st);
      return ok === keep;
    });
  };
}
def('select', selector(false, true));
def('reject', selector(false, false));
def('selectattr', selector(true, true));
def('rejectattr', selector(true, false));

def('groupby', (v, a) => {
  const attribute = a.need(0, 'attribute');
  const fallback = a.get(1, 'default', undefined);
  const key = (x: unknown) => {
    const k = getAttr(x, attribute);
    if (k instanceof Undefined) {
      if (fallback !== undefined) return fallback;
      k.fail();
    }
    return k;
  };
  const sorted = sortList([...toList(v)], key, false);
  const groups: unknown[] = [];
  for (const x of sorted) {
    const k = key(x);
    const last = groups[groups.length - 1] as unknown[] | undefined;
    if (last && pyEquals(last[0], k)) (last[1] as unknown[]).push(x);
    else groups.push(tuple([k, [x]]));
  }
  return groups;
});

def('extract', (v, a) => {
  const container = a.need(0, 'container');
  let out = getItem(container, v);
  const more = a.get(1, 'morekeys', null);
  if (more !== null) for (const k of Array.isArray(more) ? more : [more]) out = getItem(out, k);
  return out;
});

function getItem(container: unknown, key: unknown): unknown {
  const c = unwrap(container);
  key = unwrap(key);
  if (c instanceof Undefined) return c;
  if (Array.isArray(c) && typeof key === 'number') return c[key < 0 ? c.length + key : key] ?? new Undefined(String(key), `list has no element ${key}`);
  if (isDict(c)) {
    const k = typeof key === 'number' ? String(key) : key;
    if (typeof k === 'string' && own(c, k) && c[k] !== undefined) return unwrap(c[k]);
    return new Undefined(String(k), `'${typeName(c)} object' has no attribute '${String(k)}'`);
  }
  return new Undefined(String(key), `'${typeName(c)} object' has no attribute '${String(key)}'`);
}

def('subelements', (v, a) => {
  const path = text(a.need(0, 'subelements')).split('.');
  const skipMissing = bool(a.get(1, 'skip_missing', false));
  const items = isDict(v) ? Object.values(v) : listOf(v, 'subelements');
  const out: unknown[] = [];
  for (const item of items) {
    let sub: unknown = item;
    let missing = false;
    for (const p of path) {
      if (isDict(sub) && own(sub, p)) sub = sub[p];
      else {
        missing = true;
        break;
      }
    }
    if (missing) {
      if (skipMissing) continue;
      throw new TemplateError(`could not find '${path.join('.')}' key in iterated item ${pyStr(item)}`);
    }
    if (!Array.isArray(sub)) throw new TemplateError(`the key '${path.join('.')}' should point to a list, got ${pyStr(sub)}`);
    for (const s of sub) out.push(tuple([item, s]));
  }
  return out;
});

// ---------------------------------------------------------------- dicts

/** Ansible's merge_hash: `y` wins; with `recursive`, nested dicts merge; lists follow `listMerge`. */
function mergeHash(x: Dict, y: Dict, recursive: boolean, listMerge: string): Dict {
  if (Object.keys(x).length === 0 || pyEquals(x, y)) return { ...y };
  if (Object.keys(y).length === 0) return x;
  const out: Dict = { ...x };
  if (!recursive && listMerge === 'replace') return Object.assign(out, y);
  for (const [k, yv] of Object.entries(y)) {
    if (!own(out, k)) {
      out[k] = yv;
      continue;
    }
    const xv = out[k];
    if (isDict(xv) && isDict(yv)) {
      out[k] = recursive ? mergeHash(xv, yv, recursive, listMerge) : yv;
    } else if (Array.isArray(xv) && Array.isArray(yv)) {
      const notIn = (l: unknown[], other: unknown[]) => l.filter((z) => !contains(other, z));
      if (listMerge === 'replace') out[k] = yv;
      else if (listMerge === 'append') out[k] = [...xv, ...yv];
      else if (listMerge === 'prepend') out[k] = [...yv, ...xv];
      else if (listMerge === 'append_rp') out[k] = [...notIn(xv, yv), ...yv];
      else if (listMerge === 'prepend_rp') out[k] = [...yv, ...notIn(xv, yv)];
    } else {
      out[k] = yv;
    }
  }
  return out;
}

def('combine', (v, a) => {
  const extra = Object.keys(a.keywords).filter((k) => k !== 'recursive' && k !== 'list_merge');
  if (extra.length) throw new TemplateError("'recursive' and 'list_merge' are the only valid keyword arguments");
  const recursive = bool(a.keywords.recursive ?? false);
  const listMerge = text(a.keywords.list_merge ?? 'replace');
  if (!['replace', 'keep', 'append', 'prepend', 'append_rp', 'prepend_rp'].includes(listMerge)) {
    throw new TemplateError(`combine: list_merge must be one of replace, keep, append, prepend, append_rp, prepend_rp; got '${listMerge}'`);
  }
  const dicts = [v, ...a.positional].flatMap((d) => (Array.isArray(d) ? d : [d])).map((d) => dictOf(unwrap(d), 'combine'));
  if (dicts.length === 0) return {};
  let result = dicts[dicts.length - 1]!;
  for (let i = dicts.length - 2; i >= 0; i--) result = mergeHash(dicts[i]!, result, recursive, listMerge);
  return result;
});

def('dict2items', (v, a) => {
  const k = text(a.get(0, 'key_name', 'key'));
  const val = text(a.get(1, 'value_name', 'value'));
  return Object.entries(dictOf(v, 'dict2items')).map(([key, value]) => ({ [k]: key, [val]: value }));
});

def('items2dict', (v, a) => {
  const k = text(a.get(0, 'key_name', 'key'));
  const val = text(a.get(1, 'value_name', 'value'));
  const out: Dict = {};
  for (const item of listOf(v, 'items2dict')) {
    const d = dictOf(item, 'items2dict');
    if (!own(d, k) || !own(d, val)) throw new TemplateError(`items2dict: item ${pyStr(d)} has no '${own(d, k) ? val : k}' key`);
    out[text(d[k])] = d[val];
  }
  return out;
});

def('attr', (v, a) => getItem(v, a.need(0, 'name')));

// ---------------------------------------------------------------- conditionals

def('ternary', (v, a) => {
  const noneVal = a.get(2, 'none_val', null);
  if (unwrap(v) === null && noneVal !== null) return noneVal;
  return truthy(v) ? a.need(0, 'true_val') : a.need(1, 'false_val');
});

// ---------------------------------------------------------------- numbers

def('abs', (v) => {
  const n = unwrap(v);
  if (typeof n !== 'number' && typeof n !== 'boolean') throw new TemplateError(`bad operand type for abs(): '${typeName(v)}'`);
  return Math.abs(Number(n));
});
def('round', (v, a) => {
  const n = Number(unwrap(v));
  const precision = Number(a.get(0, 'precision', 0));
  const method = text(a.get(1, 'method', 'common'));
  const m = 10 ** precision;
  if (method === 'ceil') return Math.ceil(n * m) / m;
  if (method === 'floor') return Math.floor(n * m) / m;
  // Python rounds halves to even
  const x = n * m;
  const r = Math.round(x);
  return (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r) / m;
});
def('pow', (v, a) => Number(unwrap(v)) ** Number(a.need(0, 'y')));
def('log', (v, a) => {
  const base = a.get(0, 'base', null);
  return base === null ? Math.log(Number(unwrap(v))) : Math.log(Number(unwrap(v))) / Math.log(Number(base));
});
def('root', (v, a) => {
  const base = Number(a.get(0, 'base', 2));
  return base === 2 ? Math.sqrt(Number(unwrap(v))) : Number(unwrap(v)) ** (1 / base);
});

// ---------------------------------------------------------------- serialization

def('to_json', (v, a) =>
  toJson(v, {
    indent: a.keywords.indent === undefined || a.keywords.indent === null ? undefined : Number(a.keywords.indent),
    sortKeys: bool(a.keywords.sort_keys ?? false),
    ensureAscii: bool(a.keywords.ensure_ascii ?? true),
  }),
);
def('to_nice_json', (v, a) =>
  toJson(v, {
    indent: Number(a.get(0, 'indent', 4)),
    sortKeys: bool(a.get(1, 'sort_keys', true)),
    ensureAscii: bool(a.keywords.ensure_ascii ?? true),
  }),
);
def('to_yaml', (v, a) => toYaml(v, { flowLeaves: true, indent: a.keywords.indent === undefined ? 2 : Number(a.keywords.indent), sortKeys: bool(a.keywords.sort_keys ?? true) }));
def('to_nice_yaml', (v, a) => toYaml(v, { indent: Number(a.get(0, 'indent', 4)), sortKeys: bool(a.get(1, 'sort_keys', true)) }));
def('from_json', (v) => {
  try {
    return JSON.parse(str(v, 'from_json'));
  } catch (err) {
    if (err instanceof TemplateError) throw err;
    throw new TemplateError(`from_json: ${(err as Error).message}`, { cause: err });
  }
});
def('from_yaml', (v) => (isStr(v) ? fromYaml(str(v, 'from_yaml')) : v));
def('from_yaml_all', (v) => (isStr(v) ? fromYaml(str(v, 'from_yaml_all'), true) : v));

// ---------------------------------------------------------------- encoding, hashing

def('b64encode', (v, a) => Buffer.from(text(v), bufEncoding(a)).toString('base64'));
def('b64decode', (v, a) => Buffer.from(text(v), 'base64').toString(bufEncoding(a)));

function bufEncoding(a: Args): BufferEncoding {
  const e = text(a.get(0, 'encoding', 'utf-8')).toLowerCase().replace(/[-_]/g, '');
  if (e === 'utf16' || e === 'utf16le') return 'utf16le';
  if (e === 'latin1' || e === 'iso88591') return 'latin1';
  if (e === 'ascii') return 'ascii';
  return 'utf8';
}

const HASHES: Record<string, string> = { md5: 'md5', sha1: 'sha1', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', blake2b: 'blake2b512', blake2s: 'blake2s256' };
function digest(algo: string, v: unknown): string {
  const name = HASHES[algo];
  if (!name) throw new TemplateError(`unsupported hash type '${algo}' (supported: ${Object.keys(HASHES).join(', ')})`);
  return createHash(name).update(text(v), 'utf8').digest('hex');
}
def('hash', (v, a) => digest(text(a.get(0, 'hashtype', 'sha1')), v));
def('md5', (v) => digest('md5', v));
def(['sha1', 'checksum'], (v) => digest('sha1', v));

def('password_hash', (v, a) => {
  const type = text(a.get(0, 'hashtype', 'sha512'));
  const algo = type === 'sha512' || type === 'sha512_crypt' ? 'sha512' : type === 'sha256' || type === 'sha256_crypt' ? 'sha256' : undefined;
  if (!algo) throw new TemplateError(`password_hash: unsupported hash type '${type}' (supported: sha512, sha256)`);
  const saltArg = a.get(1, 'salt', null);
  const salt = saltArg === null ? randomSalt(Number(a.get(2, 'salt_size', 16))) : text(saltArg);
  if (!/^[./0-9A-Za-z]*$/.test(salt)) throw new TemplateError('password_hash: the salt may only contain ./0-9A-Za-z');
  const rounds = a.get(3, 'rounds', null);
  return shaCrypt(algo, text(v), salt, rounds === null ? 5000 : Number(rounds));
});

// ---------------------------------------------------------------- paths

/** Python's posixpath.basename: what follows the last slash (`/a/b/` gives ''). */
def('basename', (v) => {
  const p = text(v);
  return p.slice(p.lastIndexOf('/') + 1);
});
def('dirname', (v) => {
  const p = text(v);
  const head = p.slice(0, p.lastIndexOf('/') + 1);
  return head && head !== '/'.repeat(head.length) ? head.replace(/\/+$/, '') : head;
});
def('splitext', (v) => {
  const p = text(v);
  const base = p.slice(p.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0 || /^\.+$/.test(base.slice(0, dot + 1))) return tuple([p, '']);
  const cut = p.length - base.length + dot;
  return tuple([p.slice(0, cut), p.slice(cut)]);
});
def('expanduser', (v) => text(v).replace(/^~(?=$|\/)/, homedir()));
def('path_join', (v) => {
  const parts = Array.isArray(v) ? v.map(text) : [text(v)];
  let out = '';
  for (const p of parts) {
    if (p.startsWith('/')) out = p;
    else if (out === '' || out.endsWith('/')) out += p;
    else out += `/${p}`;
  }
  return out;
});
def('win_basename', (v) => text(v).split(/[\\/]/).pop() ?? '');
