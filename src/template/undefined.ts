/**
 * Jinja2's Undefined, the strict way Ansible uses it.
 *
 * Looking up a missing name (or attribute, or item) does not fail at once: it
 * yields an Undefined, so that `x | default(1)`, `x is defined` and
 * `x.y | default(omit)` can look at it. Any other use (output, `~`,
 * comparison, arithmetic, iteration, truth test, filter argument) fails with
 * the first failure's message, as Ansible's AnsibleUndefined does. Attribute
 * access on an Undefined returns the same Undefined, so `a.b.c` reports the
 * first missing link.
 *
 * JavaScript calls Symbol.toPrimitive for `+`, `<`, `==` against primitives
 * and template literals, which turns most accidental uses into the error too.
 */
import { UndefinedVariableError } from './errors.js';

export class Undefined {
  constructor(
    /** the expression as written: `foo`, `foo.bar`, `foo['x']` */
    readonly name: string,
    /** Jinja's reason when it is not just a missing name, e.g. `'foo' has no attribute 'bar'` */
    readonly hint?: string,
    /** 0-based position of the lookup in the template text */
    readonly line?: number,
    readonly col?: number,
  ) {}

  get message(): string {
    return this.hint ?? `'${this.name}' is undefined`;
  }

  error(): UndefinedVariableError {
    const pos = this.line === undefined ? undefined : { line: this.line + 1, col: (this.col ?? 0) + 1 };
    return new UndefinedVariableError(this.message, { variable: this.name, templatePos: pos });
  }

  fail(): never {
    throw this.error();
  }

  [Symbol.toPrimitive](): never {
    return this.fail();
  }

  toString(): string {
    return this.fail();
  }

  toJSON(): never {
    return this.fail();
  }

  [Symbol.iterator](): never {
    return this.fail();
  }
}

export function isUndefined(v: unknown): v is Undefined {
  return v instanceof Undefined;
}

/** Throws the first Undefined among `values`: filters, tests and operators refuse them. */
export function rejectUndefined(...values: unknown[]): void {
  for (const v of values) if (v instanceof Undefined) v.fail();
}
