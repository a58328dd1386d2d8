/**
 * Call arguments as nunjucks passes them: positional values, then keyword
 * arguments (`f(a, b=1)`) gathered in one trailing object marked
 * `__keywords`. Filters, tests, globals and Python methods all read their
 * arguments through `Args`, by position or by name, like Python does.
 */
import { TemplateError } from './errors.js';
import type { Dict } from './python.js';

const KW = '__keywords';

export function isKeywordArgs(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && Object.prototype.hasOwnProperty.call(v, KW);
}

export class Args {
  readonly positional: unknown[];
  readonly keywords: Dict;

  constructor(
    raw: readonly unknown[],
    /** for error messages: `filter 'join'` */
    readonly what: string,
  ) {
    const last = raw[raw.length - 1];
    if (raw.length > 0 && isKeywordArgs(last)) {
      this.positional = raw.slice(0, -1);
      const kw: Dict = {};
      for (const k of Object.keys(last)) if (k !== KW) kw[k] = last[k];
      this.keywords = kw;
    } else {
      this.positional = raw as unknown[];
      this.keywords = {};
    }
  }

  /** The argument at `index`, or given as `name=`, or `fallback`. */
  get(index: number, name: string, fallback?: unknown): unknown {
    if (index < this.positional.length) return this.positional[index];
    if (Object.prototype.hasOwnProperty.call(this.keywords, name)) return this.keywords[name];
    return fallback;
  }

  has(index: number, name: string): boolean {
    return index < this.positional.length || Object.prototype.hasOwnProperty.call(this.keywords, name);
  }

  /** A required argument. */
  need(index: number, name: string): unknown {
    if (!this.has(index, name)) throw new TemplateError(`${this.what} is missing its argument '${name}'`);
    return this.get(index, name);
  }

  /** Positional arguments from `index` on (Python's *args). */
  rest(index: number): unknown[] {
    return this.positional.slice(index);
  }

  /** All values, for Undefined checks. */
  all(): unknown[] {
    return [...this.positional, ...Object.values(this.keywords)];
  }
}
