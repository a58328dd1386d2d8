/**
 * The runtime that compiled templates call into (see compiler.ts). It is a
 * private copy of nunjucks' runtime object with Jinja2 semantics added:
 * Undefined values, Python truth/equality/operators, attribute lookup that
 * only sees data (own keys, list items, a fixed set of Python methods) and
 * never JavaScript internals like `constructor`.
 *
 * nunjucks offers no sandbox: with its stock runtime `range.constructor(...)`
 * reaches Function and runs code on the controller. Here member lookup on a
 * function, a number or a boolean yields Undefined, so no template can leave
 * the data it was given.
 */
import { types } from 'node:util';
import { UnsafeText, VaultedText } from '../util/markers.js';
import { Args } from './args.js';
import { TemplateError } from './errors.js';
import { runFilter } from './filters.js';
import { GLOBALS, setAttr } from './globals.js';
import { Frame, nj, type Any } from './nj.js';
import { pyMethod } from './pymethods.js';
import {
  contains,
  isDict,
  Namespace,
  own,
  pyAdd,
  pyArith,
  pyCompare,
  pyEquals,
  pyMul,
  pyNeg,
  pyRepr,
  pyStr,
  toList,
  truthy,
  tuple,
  typeName,
  unwrap,
} from './python.js';
import { currentRenderer, MISSING } from './scope.js';
import type { RenderState } from './state.js';
import { runTest } from './tests.js';
import { Undefined } from './undefined.js';

export type RootFn = (env: unknown, context: RenderContext, frame: unknown, runtime: unknown, cb: (err: unknown, res?: string) => void) => void;

/** Where included templates come from; supplied by the Templar. */
export interface TemplateLoader {
  /** The compiled template for `name`, included from `parent`; undefined when not found. */
  load(name: string, parent: string | undefined, state: RenderState | undefined): { root: RootFn; blocks: Record<string, RootFn>; path: string } | undefined;
}

const STATE = Symbol('tsible.state');

/**
 * nunjucks' Context, reduced: top-level `{% set %}` variables, blocks and
 * exports. Variable lookups go frame → these → the scope → globals.
 */
export class RenderContext {
  readonly ctx: Record<string | symbol, unknown> = Object.create(null);
  readonly blocks: Record<string, RootFn[]> = Object.create(null);
  readonly exported: string[] = [];
  /** the value of a whole-expression template, see compileOutput */
  captured: unknown;

  constructor(
    readonly state: RenderState | undefined,
    blocks: Record<string, RootFn>,
  ) {
    for (const name of Object.keys(blocks)) this.addBlock(name, blocks[name]!);
    this.ctx[STATE] = state;
  }

  lookup(name: string): unknown {
    return name in this.ctx ? this.ctx[name] : undefined;
  }
  setVariable(name: string, value: unknown): void {
    this.ctx[name] = value;
  }
  getVariables(): Record<string | symbol, unknown> {
    return this.ctx;
  }
  addBlock(name: string, block: RootFn): this {
    (this.blocks[name] ??= []).push(block);
    return this;
  }
  getBlock(name: string): RootFn {
    const b = this.blocks[name];
    if (!b) throw new TemplateError(`unknown block "${name}"`);
    return b[0]!;
  }
  getSuper(env: unknown, name: string, block: RootFn, frame: unknown, runtime: unknown, cb: (err: unknown, res?: string) => void): void {
    const list = this.blocks[name] ?? [];
    const next = list[list.indexOf(block) + 1];
    if (list.indexOf(block) < 0 || !next) throw new TemplateError(`no super block available for "${name}"`);
    next(env, this, frame, runtime, cb);
  }
  addExport(name: string): void {
    this.exported.push(name);
  }
  getExported(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const n of this.exported) out[n] = this.ctx[n];
    return out;
  }
}

/** A template reached through include/import/extends, in the shape compiled code expects. */
class LoadedTemplate {
  constructor(
    private readonly env: RenderEnv,
    readonly rootRenderFunc: RootFn,
    readonly blocks: Record<string, RootFn>,
  ) {}

  private start(vars: Record<string | symbol, unknown> | undefined, parentFrame: Any): [RenderContext, Any] {
    const state = (vars?.[STATE] as RenderState | undefined) ?? this.env.state;
    const context = new RenderContext(state, this.blocks);
    if (vars) for (const k of Object.keys(vars)) context.ctx[k] = vars[k];
    const frame = parentFrame ? parentFrame.push(true) : new Frame();
    frame.topLevel = true;
    return [context, frame];
  }

  render(vars: Record<string | symbol, unknown>, parentFrame: Any, cb: (err: unknown, res?: string) => void): void {
    const [context, frame] = this.start(vars, parentFrame);
    this.rootRenderFunc(this.env, context, frame, runtime, cb);
  }

  getExported(...args: Any[]): void {
    const cb = args.pop() as (err: unknown, res?: unknown) => void;
    const [vars, parentFrame] = args as [Record<string | symbol, unknown> | undefined, Any];
    const [context, frame] = this.start(vars, parentFrame);
    this.rootRenderFunc(this.env, context, frame, runtime, (err) => (err ? cb(err) : cb(null, context.getExported())));
  }
}

/** The `env` compiled code talks to: only template loading remains of nunjucks' Environment. */
export class RenderEnv {
  readonly opts = { autoescape: false };

  constructor(
    readonly state: RenderState | undefined,
    private readonly loader: TemplateLoader | undefined,
  ) {}

  getTemplate(name: unknown, _eager: boolean, parent: string | undefined, ignoreMissing: boolean, cb: (err: unknown, t?: unknown) => void): void {
    if (name instanceof Undefined) return cb(name.error());
    const found = this.loader?.load(pyStr(name), parent ?? undefined, this.state);
    if (!found) {
      if (ignoreMissing) return cb(null, new LoadedTemplate(this, (_e, _c, _f, _r, done) => done(null, ''), {}));
      return cb(new TemplateError(`template not found: ${pyStr(name)}`));
    }
    cb(null, new LoadedTemplate(this, found.root, found.blocks));
  }

  /** nunjucks' include code chains its steps through waterfall; everything here is synchronous. */
  waterfall(tasks: ((...args: unknown[]) => void)[], done: (...args: unknown[]) => void): void {
    let i = 0;
    const next = (err: unknown, ...args: unknown[]): void => {
      if (err || i >= tasks.length) return done(err, ...args);
      tasks[i++]!(...args, next);
    };
    next(null);
  }

  getExtension(name: string): never {
    throw new TemplateError(`unknown extension ${name}`);
  }
}

function positioned(err: unknown, line: number, col: number, what?: string): unknown {
  if (err instanceof TemplateError) {
    if (!err.templatePos) err.templatePos = { line: line + 1, col: col + 1 };
    return err;
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new TemplateError(what ? `${what}: ${msg}` : msg, { cause: err, templatePos: { line: line + 1, col: col + 1 } });
}

function accessor(key: unknown, dot: number): string {
  if (dot && typeof key === 'string') return `.${key}`;
  return `[${typeof key === 'string' ? `'${key}'` : String(key)}]`;
}

function missing(obj: unknown, key: unknown, dot: number, base: string, line: number, col: number): Undefined {
  const name = base + accessor(key, dot);
  const o = unwrap(obj);
  let hint: string;
  if (o === null || o === undefined) hint = `'${base}' is None, it has no attribute ${pyRepr(key)}`;
  else if (Array.isArray(o) || typeof o === 'string') hint = typeof key === 'number' ? `'${base}' has no element ${key}` : `'${base}' (a ${typeName(o)}) has no attribute '${String(key)}'`;
  else if (isDict(o)) hint = `'${base}' has no attribute '${String(key)}'`;
  else hint = `'${base}' (a ${typeName(o)}) has no attribute '${String(key)}'`;
  return new Undefined(name, hint, line, col);
}

/** A value read out of data: `!unsafe` strings become plain strings, `!vault` ones their (untemplated) plaintext. */
function value(v: unknown): unknown {
  if (v instanceof UnsafeText) return v.value;
  if (v instanceof VaultedText) return currentRenderer().decrypt(v);
  return v;
}

function member(obj: unknown, key: unknown, dot: number, base: string, line: number, col: number): unknown {
  if (obj instanceof Undefined) return obj;
  if (key instanceof Undefined) key.fail();
  const o = unwrap(obj);
  const k = unwrap(key);
  if (typeof o === 'string' || Array.isArray(o)) {
    if (typeof k === 'number' && Number.isInteger(k)) {
      const i = k < 0 ? o.length + k : k;
      if (i >= 0 && i < o.length) {
        const v = value(o[i]);
        if (v !== undefined) return v;
      }
    } else if (typeof k === 'string') {
      const m = pyMethod(o, k);
      if (m) return m;
    }
    return missing(o, k, dot, base, line, col);
  }
  if (isDict(o)) {
    const name = typeof k === 'number' ? String(k) : k;
    if (typeof name === 'string') {
      // Jinja: `a.b` prefers the attribute (a method), `a['b']` the item
      if (dot && !(o instanceof Namespace)) {
        const m = pyMethod(o, name);
        if (m) return m;
      }
      if (own(o, name)) {
        const v = value(o[name]);
        if (v !== undefined) return v;
      }
      if (!dot && !(o instanceof Namespace)) {
        const m = pyMethod(o, name);
        if (m) return m;
      }
    }
    return missing(o, k, dot, base, line, col);
  }
  return missing(o, k, dot, base, line, col);
}

/** Python slicing: `s[1:]`, `l[-2:]`, `l[::-1]`. */
function slice(obj: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  if (obj instanceof Undefined) obj.fail();
  const o = unwrap(obj);
  const seq: unknown[] = typeof o === 'string' ? Array.from(o) : Array.isArray(o) ? o : toList(o);
  const n = seq.length;
  const st = step === null || step === undefined ? 1 : Number(step);
  if (st === 0) throw new TemplateError('slice step cannot be zero');
  const norm = (v: unknown, dflt: number, lo: number, hi: number) => {
    if (v === null || v === undefined) return dflt;
    let x = Number(v);
    if (x < 0) x += n;
    return Math.min(Math.max(x, lo), hi);
  };
  const out: unknown[] = [];
  if (st > 0) {
    const a = norm(start, 0, 0, n);
    const b = norm(stop, n, 0, n);
    for (let i = a; i < b; i += st) out.push(seq[i]);
  } else {
    const a = norm(start, n - 1, -1, n - 1);
    const b = norm(stop, -1, -1, n - 1);
    for (let i = a; i > b; i += st) out.push(seq[i]);
  }
  return typeof o === 'string' ? out.join('') : out;
}

function lookup(context: RenderContext, frame: Any, name: string, line: number, col: number): unknown {
  const v = frame.lookup(name);
  if (v !== undefined) return v;
  const ctx = context.ctx;
  if (name in ctx) return ctx[name];
  const st = context.state;
  if (st) {
    const r = st.scope.lookup(name, st.templar);
    if (r !== MISSING) return r;
  }
  if (name in GLOBALS) return GLOBALS[name];
  return new Undefined(name, undefined, line, col);
}

function call(context: RenderContext, fn: unknown, name: string, args: unknown[]): unknown {
  if (fn instanceof Undefined) fn.fail();
  if (typeof fn !== 'function') throw new TemplateError(`'${name}' is not callable (it is a ${typeName(fn)})`);
  const r = fn.apply(context, args);
  return r === undefined ? null : r;
}

function filter(context: RenderContext, name: string, line: number, col: number, args: unknown[]): unknown {
  try {
    return runFilter(name, args[0], args.slice(1), context.state);
  } catch (err) {
    throw positioned(err, line, col, `filter '${name}'`);
  }
}

function test(context: RenderContext, name: string, line: number, col: number, args: unknown[]): boolean {
  try {
    return runTest(name, args[0], args.slice(1), context.state);
  } catch (err) {
    throw positioned(err, line, col, `test '${name}'`);
  }
}

function compare(...xs: unknown[]): boolean {
  let left = xs[0];
  for (let i = 1; i < xs.length; i += 2) {
    const op = xs[i] as string;
    const right = xs[i + 1];
    let ok: boolean;
    switch (op) {
      case '==':
      case '===':
        ok = pyEquals(left, right);
        break;
      case '!=':
      case '!==':
        ok = !pyEquals(left, right);
        break;
      case '<':
        ok = pyCompare(left, right, op) < 0;
        break;
      case '>':
        ok = pyCompare(left, right, op) > 0;
        break;
      case '<=':
        ok = pyCompare(left, right, op) <= 0;
        break;
      default:
        ok = pyCompare(left, right, op) >= 0;
    }
    if (!ok) return false;
    left = right;
  }
  return true;
}

/** What a for loop walks; with two or more names a dict gives (key, value) pairs. */
function iter(v: unknown, names: number): unknown[] {
  if (Array.isArray(v)) return v;
  if (names > 1 && isDict(v)) return Object.entries(v);
  return toList(v);
}

function unpack(item: unknown, n: number): unknown[] {
  const u = unwrap(item);
  const l = Array.isArray(u) ? u : typeof u === 'string' ? Array.from(u) : undefined;
  if (!l) throw new TemplateError(`cannot unpack a ${typeName(u)} into ${n} loop variables`);
  if (l.length !== n) throw new TemplateError(`${l.length < n ? 'not enough' : 'too many'} values to unpack (expected ${n}, got ${l.length})`);
  return l;
}

const isProxy = types.isProxy;

/** A native result must not hide an Undefined inside a list or dict (`{{ [x] }}`). */
function rejectNested(v: unknown, depth: number): void {
  if (v instanceof Undefined) v.fail();
  // lazy mappings (hostvars, vars) are not walked: that would render every variable
  if (depth > 100 || v === null || typeof v !== 'object' || isProxy(v)) return;
  if (Array.isArray(v)) for (const x of v) rejectNested(x, depth + 1);
  else if (isDict(v) && !(v instanceof Namespace)) for (const k of Object.keys(v)) rejectNested(v[k], depth + 1);
}

/** `{{ x }}` in text: None prints as '' (Ansible's finalize), other values as Python str(). */
export function outText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  return pyStr(v);
}

function handleError(err: unknown, line: number, col: number, name?: string): unknown {
  const e = positioned(err, line, col);
  if (name && e instanceof TemplateError && e.templatePos && e.templatePos.file === undefined) e.templatePos.file = name;
  return e;
}

export const runtime: Record<string, unknown> = Object.assign(Object.create(null) as Record<string, unknown>, nj.runtime, {
  lookup,
  member,
  slice,
  call: (context: RenderContext, fn: unknown, name: string, line: number, col: number, args: unknown[]) => {
    try {
      return call(context, fn, name, args);
    } catch (err) {
      throw positioned(err, line, col);
    }
  },
  filter,
  test,
  truthy,
  or: (a: unknown, b: () => unknown) => (truthy(a) ? a : b()),
  and: (a: unknown, b: () => unknown) => (truthy(a) ? b() : a),
  compare,
  contains: (item: unknown, container: unknown) => contains(container, item),
  add: pyAdd,
  mul: pyMul,
  arith: pyArith,
  neg: (a: unknown) => pyNeg(a, -1),
  pos: (a: unknown) => pyNeg(a, 1),
  concat: (a: unknown, b: unknown) => pyStr(a) + pyStr(b),
  tuple,
  iter,
  unpack,
  forFilter: (items: unknown[], keep: (x: unknown) => boolean) => items.filter(keep),
  loopCycle: (i: number) => (...xs: unknown[]) => {
    const items = new Args(xs, 'loop.cycle()').positional;
    if (!items.length) throw new TemplateError('loop.cycle() needs at least one argument');
    return items[i % items.length];
  },
  undef: (name: string) => new Undefined(name),
  out: outText,
  capture: (context: RenderContext, v: unknown) => {
    rejectNested(v, 0);
    context.captured = v;
  },
  key: (k: unknown) => {
    if (k instanceof Undefined) k.fail();
    return pyStr(k);
  },
  setAttr,
  handleError,
  // replaced entry points must never be reached through nunjucks' own code paths
  contextOrFrameLookup: () => {
    throw new TemplateError('internal: unexpected nunjucks variable lookup');
  },
});
