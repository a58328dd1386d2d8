/**
 * Every module tsible knows, by every name a playbook may use: the short name
 * (`copy`), the fully qualified one (`ansible.builtin.copy`) and aliases.
 */
import type { AnyModule } from './types.js';
import { ALL_MODULES } from './all.js';

const byName = new Map<string, AnyModule>();
for (const m of ALL_MODULES) {
  for (const n of [m.name, ...(m.aliases ?? [])]) {
    byName.set(n, m);
    for (const c of m.collections) byName.set(`${c}.${n}`, m);
  }
}

export function findModule(name: string): AnyModule | undefined {
  return byName.get(name);
}

export function allModules(): readonly AnyModule[] {
  return [...ALL_MODULES].sort((a, b) => a.name.localeCompare(b.name));
}

export function allModuleNames(): string[] {
  return [...byName.keys()];
}
