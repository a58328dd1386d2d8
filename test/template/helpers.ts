import { Templar, VarScope } from '../../src/template/index.js';

export const templar = new Templar({ environ: { HOME: '/home/test', EMPTY: '' } });

/** A scope with `vars` as template source (as if written in a playbook). */
export function source(vars: Record<string, unknown> = {}): VarScope {
  return new VarScope([{ values: vars, kind: 'source' }]);
}

/** Renders `tpl` with `vars` as a data layer (values taken as they are). */
export function render(tpl: unknown, vars: Record<string, unknown> = {}): unknown {
  return templar.renderValue(tpl, new VarScope([{ values: vars, kind: 'data' }]));
}

/** The error thrown by `fn`, for assertions on its fields. */
export function errorOf(fn: () => unknown): Error & Record<string, unknown> {
  try {
    fn();
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected an error');
}
