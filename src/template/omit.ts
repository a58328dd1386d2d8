/**
 * `omit`: `{{ x | default(omit) }}` makes the engine drop that argument.
 * As in Ansible it is a placeholder string (so it survives being passed
 * around and concatenated), unique per process so no real value collides.
 */
import { randomBytes } from 'node:crypto';
import { isDict } from './python.js';

export const OMIT = `__omit_place_holder__${randomBytes(20).toString('hex')}`;

export function isOmit(v: unknown): boolean {
  return v === OMIT;
}

/**
 * Drops mapping entries whose value is `omit`, through nested mappings and
 * the mappings inside lists (Ansible's remove_omit; list items themselves
 * are kept, as Ansible keeps them).
 */
export function stripOmit<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => (isDict(v) || Array.isArray(v) ? stripOmit(v) : v)) as T;
  if (!isDict(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === OMIT) continue;
    out[k] = isDict(v) || Array.isArray(v) ? stripOmit(v) : v;
  }
  return out as T;
}
