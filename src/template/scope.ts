/**
 * The variables a template sees: ordered layers, later layers win.
 *
 * A `source` layer holds what users wrote (play vars, role defaults,
 * inventory, vars files, -e). Its strings are templates, rendered lazily
 * when the variable is first read, recursively through lists and dicts, in
 * this scope (so `vars: {a: "{{ b }}", b: 1}` gives `a == 1`, and a role
 * default may refer to a loop variable). A `data` layer holds what came
 * from hosts or was already rendered once (facts, registered results,
 * set_fact): it is returned as is, whatever it contains. That difference is
 * the security boundary: text from a host never becomes template source.
 *
 * `child()` adds one layer without copying anything, so a scope per task,
 * host and loop item is cheap. Rendered values are remembered per scope
 * object; a scope is meant to live for one task on one host (layers may be
 * live objects, like a host's set_fact store, that change between tasks).
 *
 * Data layer values may be getters or Proxies; they are read when looked up.
 */
import type { SourceLocation } from '../errors.js';
import { UnsafeText, VaultedText } from '../util/markers.js';
import { valueLocationOf } from '../util/yaml.js';
import { TemplateError } from './errors.js';

export interface ScopeLayer {
  values: Record<string, unknown>;
  kind: 'source' | 'data';
}

/** What a scope needs from the Templar to turn template source into values. */
export interface SourceRenderer {
  /** Renders a source value (deeply); `name` is the variable, `where` its definition. */
  resolveSource(value: unknown, scope: VarScope, name: string, where: SourceLocation | undefined): unknown;
  decrypt(value: VaultedText, where?: SourceLocation): string;
}

/** `lookup()` result for a name no layer defines. */
export const MISSING: unique symbol = Symbol('missing');

const hasOwn = Object.prototype.hasOwnProperty;
const TEMPLATE = /\{[{%#]/;

/** Whether a source value holds anything to render: template text, `!unsafe` or `!vault` markers. */
const renderCache = new WeakMap<object, boolean>();
export function needsRender(v: unknown): boolean {
  if (typeof v === 'string') return TEMPLATE.test(v);
  if (v === null || typeof v !== 'object') return false;
  if (v instanceof UnsafeText || v instanceof VaultedText) return true;
  const hit = renderCache.get(v);
  if (hit !== undefined) return hit;
  let found = false;
  if (Array.isArray(v)) found = v.some(needsRender);
  else for (const k of Object.keys(v)) if (needsRender((v as Record<string, unknown>)[k])) { found = true; break; }
  renderCache.set(v, found);
  return found;
}

let defaultRenderer: SourceRenderer | undefined;
const active: SourceRenderer[] = [];

/** The Templar used when a scope is read outside any render and was never bound (see Templar). */
export function setDefaultRenderer(r: SourceRenderer): void {
  defaultRenderer = r;
}

/** The Templar rendering right now (or the default one). */
export function currentRenderer(): SourceRenderer {
  const r = active[active.length - 1] ?? defaultRenderer;
  if (!r) throw new TemplateError('internal: no Templar to render variables with');
  return r;
}

/** Runs `fn` with `r` as the renderer for scopes read meanwhile (hostvars of other hosts, for one). */
export function withRenderer<T>(r: SourceRenderer, fn: () => T): T {
  active.push(r);
  try {
    return fn();
  } finally {
    active.pop();
  }
}

export class VarScope {
  private parent?: VarScope;
  private renderer?: SourceRenderer;
  private memo?: Map<string, unknown>;
  /** variables being rendered right now, to report loops */
  private resolving?: string[];
  private view?: Record<string, unknown>;

  constructor(
    private readonly layers: readonly ScopeLayer[] = [],
    options: { templar?: SourceRenderer } = {},
  ) {
    this.renderer = options.templar;
  }

  /** A scope with one more layer on top. Nothing is copied. */
  child(layer: ScopeLayer): VarScope {
    const s = new VarScope([layer]);
    s.parent = this;
    return s;
  }

  /** Binds the Templar that renders this scope's source values, unless one is bound already. */
  bind(renderer: SourceRenderer): this {
    this.renderer ??= renderer;
    return this;
  }

  private rendererOf(): SourceRenderer {
    for (let s: VarScope | undefined = this; s; s = s.parent) if (s.renderer) return s.renderer;
    return currentRenderer();
  }

  private find(name: string): [ScopeLayer, unknown] | undefined {
    for (let s: VarScope | undefined = this; s; s = s.parent) {
      const ls = s.layers;
      for (let i = ls.length - 1; i >= 0; i--) {
        const layer = ls[i]!;
        if (hasOwn.call(layer.values, name)) {
          const v = layer.values[name];
          if (v !== undefined) return [layer, v];
        }
      }
    }
    return undefined;
  }

  has(name: string): boolean {
    return name === 'vars' || this.find(name) !== undefined;
  }

  /** The variable's value, rendered; undefined when no layer defines it. */
  get(name: string): unknown {
    const v = this.lookup(name);
    return v === MISSING ? undefined : v;
  }

  /** Like get(), but tells a missing variable (MISSING) from one set to null. */
  lookup(name: string, renderer?: SourceRenderer): unknown {
    const found = this.find(name);
    if (!found) return name === 'vars' ? this.asObject() : MISSING;
    const [layer, raw] = found;
    if (layer.kind === 'data') {
      if (raw instanceof UnsafeText) return raw.value;
      if (raw instanceof VaultedText) return (renderer ?? this.rendererOf()).decrypt(raw);
      return raw;
    }
    if (typeof raw === 'string') {
      if (!TEMPLATE.test(raw)) return raw;
    } else if (raw === null || typeof raw !== 'object') {
      return raw;
    } else if (raw instanceof UnsafeText) {
      return raw.value;
    } else if (!needsRender(raw)) {
      return raw;
    }
    return this.render(name, raw, layer, renderer);
  }

  private render(name: string, raw: unknown, layer: ScopeLayer, renderer: SourceRenderer | undefined): unknown {
    const memo = this.memo;
    if (memo?.has(name)) return memo.get(name);
    const stack = (this.resolving ??= []);
    const at = stack.indexOf(name);
    if (at >= 0) {
      const chain = [...stack.slice(at), name].join(' -> ');
      throw new TemplateError(`recursive loop detected in template: variable '${name}' refers to itself (${chain})`, {
        location: valueLocationOf(layer.values, name),
      });
    }
    stack.push(name);
    try {
      const value = (renderer ?? this.rendererOf()).resolveSource(raw, this, name, valueLocationOf(layer.values, name));
      (this.memo ??= new Map()).set(name, value);
      return value;
    } finally {
      stack.pop();
    }
  }

  /** Every variable name, in no particular order. */
  names(): string[] {
    const out = new Set<string>();
    for (let s: VarScope | undefined = this; s; s = s.parent) {
      for (const l of s.layers) for (const k of Object.keys(l.values)) if (l.values[k] !== undefined) out.add(k);
    }
    return [...out];
  }

  /**
   * A read-only mapping view: `hostvars['web1']`, `vars`, `lookup('vars', ...)`.
   * Values are rendered when read, with this scope's rules.
   */
  asObject(): Record<string, unknown> {
    if (this.view) return this.view;
    const get = (p: string | symbol) => {
      if (typeof p !== 'string') return undefined;
      const v = this.lookup(p);
      return v === MISSING ? undefined : v;
    };
    this.view = new Proxy(Object.create(null) as Record<string, unknown>, {
      get: (_t, p) => get(p),
      has: (_t, p) => typeof p === 'string' && this.find(p) !== undefined,
      ownKeys: () => this.names(),
      getOwnPropertyDescriptor: (_t, p) => {
        if (typeof p !== 'string' || this.find(p) === undefined) return undefined;
        return { value: get(p), enumerable: true, configurable: true, writable: false };
      },
      set: () => false,
      deleteProperty: () => false,
      defineProperty: () => false,
    });
    return this.view;
  }
}
