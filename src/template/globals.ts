/**
 * Global functions of Ansible's Jinja2 environment: `range`, `dict`,
 * `namespace`, `lookup`/`query`/`q`, `now`, `undef`, and the `omit` value.
 *
 * Lookups run on the controller. Their results are data: whatever a file or
 * environment variable holds is returned as a value and never templated.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { globSync } from 'tinyglobby';
import { Args } from './args.js';
import { TemplateError } from './errors.js';
import { OMIT } from './omit.js';
import { isDict, Namespace, own, pyStr, toList, truthy, type Dict } from './python.js';
import { MISSING } from './scope.js';
import type { RenderState } from './state.js';
import { Undefined, rejectUndefined } from './undefined.js';

/** `this` inside a global: the render context (see runtime.ts). */
interface Ctx {
  state?: RenderState;
}

const MAX_RANGE = 1_000_000;

function range(this: Ctx, ...raw: unknown[]): number[] {
  rejectUndefined(...raw);
  const a = new Args(raw, 'range()');
  const nums = a.positional.map((x) => Number(x));
  if (nums.some((n) => !Number.isInteger(n))) throw new TemplateError('range() arguments must be integers');
  const [start, stop, step] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
  if (step === 0) throw new TemplateError('range() arg 3 must not be zero');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  if (n > MAX_RANGE) throw new TemplateError(`range() of ${n} items is too large (the limit is ${MAX_RANGE})`);
  return Array.from({ length: n }, (_, i) => start + i * step);
}

function dict(this: Ctx, ...raw: unknown[]): Dict {
  rejectUndefined(...raw);
  const a = new Args(raw, 'dict()');
  const out: Dict = {};
  const src = a.positional[0];
  if (isDict(src)) Object.assign(out, src);
  else if (src !== undefined) {
    for (const pair of toList(src)) {
      const p = toList(pair);
      if (p.length !== 2) throw new TemplateError(`dict(): each item must be a pair, got ${pyStr(pair)}`);
      out[pyStr(p[0])] = p[1];
    }
  }
  for (const [k, v] of Object.entries(a.keywords)) out[k] = v;
  return out;
}

function namespace(this: Ctx, ...raw: unknown[]): Namespace {
  const a = new Args(raw, 'namespace()');
  const ns = new Namespace();
  const init = a.positional[0];
  if (isDict(init)) for (const [k, v] of Object.entries(init)) setAttr(ns, k, v);
  for (const [k, v] of Object.entries(a.keywords)) setAttr(ns, k, v);
  return ns;
}

/** `{% set ns.x = 1 %}`: only namespaces take attributes. */
export function setAttr(obj: unknown, key: unknown, value: unknown): void {
  if (!(obj instanceof Namespace)) throw new TemplateError('cannot assign attribute on non-namespace object');
  const k = String(key);
  if (k === '__proto__' || k === 'constructor' || k === 'prototype') throw new TemplateError(`cannot assign attribute '${k}'`);
  Object.defineProperty(obj, k, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------- now()

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Python's strftime for the common directives. */
export function strftime(fmt: string, d: Date, utc: boolean): string {
  const Y = utc ? d.getUTCFullYear() : d.getFullYear();
  const m = (utc ? d.getUTCMonth() : d.getMonth()) + 1;
  const D = utc ? d.getUTCDate() : d.getDate();
  const H = utc ? d.getUTCHours() : d.getHours();
  const M = utc ? d.getUTCMinutes() : d.getMinutes();
  const S = utc ? d.getUTCSeconds() : d.getSeconds();
  const ms = d.getMilliseconds();
  const wd = utc ? d.getUTCDay() : d.getDay();
  const start = utc ? Date.UTC(Y, 0, 1) : new Date(Y, 0, 1).getTime();
  const yday = Math.floor((d.getTime() - start) / 86_400_000) + 1;
  const off = utc ? 0 : -d.getTimezoneOffset();
  const map: Record<string, string> = {
    Y: String(Y),
    y: pad(Y % 100),
    m: pad(m),
    d: pad(D),
    e: String(D).padStart(2, ' '),
    H: pad(H),
    I: pad(H % 12 || 12),
    M: pad(M),
    S: pad(S),
    f: pad(ms * 1000, 6),
    p: H < 12 ? 'AM' : 'PM',
    a: DAYS[wd]!.slice(0, 3),
    A: DAYS[wd]!,
    b: MONTHS[m - 1]!.slice(0, 3),
    B: MONTHS[m - 1]!,
    j: pad(yday, 3),
    w: String(wd),
    z: `${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`,
    Z: utc ? 'UTC' : '',
    s: String(Math.floor(d.getTime() / 1000)),
    '%': '%',
  };
  map.F = `${map.Y}-${map.m}-${map.d}`;
  map.T = `${map.H}:${map.M}:${map.S}`;
  return fmt.replace(/%([A-Za-z%])/g, (all, c: string) => map[c] ?? all);
}

function now(this: Ctx, ...raw: unknown[]): string {
  const a = new Args(raw, 'now()');
  const utc = truthy(a.get(0, 'utc', false));
  const fmt = a.get(1, 'fmt', null);
  return strftime(fmt === null ? '%Y-%m-%d %H:%M:%S.%f' : pyStr(fmt), new Date(), utc);
}

function undef(this: Ctx, ...raw: unknown[]): Undefined {
  const a = new Args(raw, 'undef()');
  const hint = a.get(0, 'hint', null);
  return new Undefined('undef', hint === null ? 'Mandatory variable has not been overridden' : pyStr(hint));
}

// ---------------------------------------------------------------- lookups

type Lookup = (terms: unknown[], kw: Dict, st: RenderState) => unknown[];

/** A controller file, searched like Ansible: absolute, else `<root>/<subdir>/x` then `<root>/x` for each search root. */
export function findFile(st: RenderState, subdir: 'files' | 'templates' | 'vars', name: string): string | undefined {
  if (isAbsolute(name)) return existsSync(name) ? name : undefined;
  const roots = [...st.templar.searchRoots(st.scope)];
  // templates may refer to their neighbours; files are looked up in the roles' and playbook's files/
  if (st.file && subdir === 'templates') roots.unshift(dirname(st.file));
  for (const root of roots) {
    for (const p of [join(root, subdir, name), join(root, name)]) if (existsSync(p)) return p;
  }
  return undefined;
}

function notFound(st: RenderState, what: string, name: string): TemplateError {
  const roots = st.templar.searchRoots(st.scope);
  return new TemplateError(`could not find ${what} '${name}'`, { hint: roots.length ? `looked in ${roots.join(', ')}` : undefined });
}

const LOOKUPS: Record<string, Lookup> = {
  env: (terms, kw, st) =>
    terms.map((t) => {
      const v = st.templar.environ[pyStr(t)];
      return v !== undefined ? v : own(kw, 'default') ? kw.default : '';
    }),

  file: (terms, kw, st) =>
    terms.map((t) => {
      const path = findFile(st, 'files', pyStr(t));
      if (!path || statSync(path).isDirectory()) throw notFound(st, 'file', pyStr(t));
      let content = readFileSync(path, 'utf8');
      if (truthy(kw.rstrip ?? true)) content = content.replace(/\s+$/, '');
      if (truthy(kw.lstrip ?? false)) content = content.replace(/^\s+/, '');
      return content;
    }),

  template: (terms, _kw, st) =>
    terms.map((t) => {
      const path = findFile(st, 'templates', pyStr(t));
      if (!path) throw notFound(st, 'template', pyStr(t));
      return st.templar.renderFile(path, st.scope);
    }),

  vars: (terms, kw, st) =>
    terms.map((t) => {
      const name = pyStr(t);
      const v = st.scope.lookup(name, st.templar);
      if (v !== MISSING) return v;
      if (own(kw, 'default')) return kw.default;
      throw new TemplateError(`No variable found with this name: ${name}`);
    }),

  fileglob: (terms, _kw, st) =>
    terms.flatMap((t) => {
      const term = pyStr(t);
      const dir = dirname(term);
      const base = findFile(st, 'files', dir === '.' ? '.' : dir);
      if (!base) return [];
      return globSync(term.slice(term.lastIndexOf('/') + 1), { cwd: base, absolute: true, onlyFiles: true }).sort();
    }),

  first_found: (terms, kw, st) => {
    const files: string[] = [];
    const paths: string[] = [];
    const add = (x: unknown) => {
      if (isDict(x)) {
        for (const f of toList(x.files ?? [])) files.push(...pyStr(f).split(/[,;]/));
        for (const p of toList(x.paths ?? [])) paths.push(...pyStr(p).split(/[,;:]/));
      } else if (Array.isArray(x)) x.forEach(add);
      else files.push(pyStr(x));
    };
    terms.forEach(add);
    if (kw.files !== undefined) for (const f of toList(kw.files)) files.push(pyStr(f));
    if (kw.paths !== undefined) for (const p of toList(kw.paths)) paths.push(pyStr(p));
    for (const f of files) {
      const candidates = paths.length ? paths.map((p) => join(p, f)) : [f];
      for (const c of candidates) {
        const found = findFile(st, 'files', c);
        if (found) return [found];
      }
    }
    if (truthy(kw.skip ?? false)) return [];
    throw new TemplateError(`No file was found when using first_found (looked for ${files.join(', ')})`);
  },

  items: (terms) => terms.flatMap((t) => (Array.isArray(t) ? t : [t])),
  list: (terms) => terms,
  indexed_items: (terms) => terms.flatMap((t) => (Array.isArray(t) ? t : [t])).map((x, i) => [i, x]),
  dict: (terms) =>
    terms.flatMap((t) => {
      if (!isDict(t)) throw new TemplateError(`with_dict expects a dict, got ${pyStr(t)}`);
      return Object.entries(t).map(([key, value]) => ({ key, value }));
    }),
};

function runLookup(st: RenderState | undefined, raw: unknown[], wantlist: boolean): unknown {
  if (!st) throw new TemplateError('lookups are not available here');
  rejectUndefined(...raw);
  const a = new Args(raw, 'lookup()');
  const name = pyStr(a.need(0, 'name')).replace(/^ansible\.(builtin|legacy)\./, '');
  const fn = LOOKUPS[name];
  if (!fn) {
    throw new TemplateError(`lookup plugin '${name}' is not supported`, { hint: `supported: ${Object.keys(LOOKUPS).join(', ')}` });
  }
  const kw = { ...a.keywords };
  const errors = pyStr(kw.errors ?? 'strict');
  const want = wantlist || truthy(kw.wantlist ?? false);
  delete kw.errors;
  delete kw.wantlist;
  let ran: unknown[];
  try {
    ran = fn(a.rest(1), kw, st);
  } catch (err) {
    if (errors === 'ignore') return want ? [] : null;
    if (errors === 'warn') {
      st.templar.warn(`lookup('${name}') failed: ${(err as Error).message}`);
      return want ? [] : null;
    }
    throw err;
  }
  if (want) return ran;
  if (ran.every((x) => typeof x === 'string')) return ran.join(',');
  return ran.length === 1 ? ran[0] : ran;
}

function lookup(this: Ctx, ...raw: unknown[]): unknown {
  return runLookup(this.state, raw, false);
}

function query(this: Ctx, ...raw: unknown[]): unknown {
  return runLookup(this.state, raw, true);
}

export const GLOBALS: Record<string, unknown> = Object.assign(Object.create(null) as Record<string, unknown>, {
  range,
  dict,
  namespace,
  lookup,
  query,
  q: query,
  now,
  undef,
  omit: OMIT,
});
