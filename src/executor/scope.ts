/**
 * Builds the variable scope of a task on a host, in Ansible's precedence
 * order (lowest first). Layers are references, not copies: building a scope
 * for every task on every host stays cheap.
 *
 *  1 role defaults            8 block and task vars
 *  2 inventory vars           9 include_vars
 *  3 playbook group/host_vars 10 set_fact / register   (data)
 *  4 facts          (data)    11 role params
 *  5 play vars                12 include params
 *  6 vars_prompt    (data)    13 extra vars (-e)
 *  7 vars_files, role vars    14 magic vars, loop vars (data)
 */
import type { NodeCommon, Play, RoleInstance } from '../playbook/ast.js';
import { LOCALHOST_NAMES, type Inventory } from '../inventory/index.js';
import { VarScope, type ScopeLayer } from './templating.js';
import type { HostRun } from './host-run.js';

export interface ScopeContext {
  inventory: Inventory;
  play: Play;
  /** per host: vars loaded from the playbook's group_vars/ and host_vars/ */
  playbookVars: (host: string) => Record<string, unknown>;
  varsFiles: (host: string) => Record<string, unknown>;
  promptVars: Record<string, unknown>;
  extraVars: Record<string, unknown>;
  hosts: Map<string, HostRun>;
  magic: (host: string) => Record<string, unknown>;
}

export function factVars(run: HostRun): Record<string, unknown> {
  const facts = run.hostFacts.ansible_facts as Record<string, unknown> | undefined;
  const base = facts ?? run.facts?.ansible;
  if (!base) return {};
  const out: Record<string, unknown> = { ansible_facts: base };
  for (const [k, v] of Object.entries(base)) out[`ansible_${k}`] = v;
  return out;
}

function rolesOf(chain: readonly NodeCommon[]): RoleInstance[] {
  const roles: RoleInstance[] = [];
  for (const n of chain) if (n.role && !roles.includes(n.role)) roles.push(n.role);
  return roles;
}

const src = (values: Record<string, unknown>): ScopeLayer => ({ values, kind: 'source' });
const data = (values: Record<string, unknown>): ScopeLayer => ({ values, kind: 'data' });

/** The layers of a host, without anything task-specific (this is also what hostvars[host] shows). */
export function hostLayers(ctx: ScopeContext, host: string): ScopeLayer[] {
  const run = ctx.hosts.get(host);
  const layers: ScopeLayer[] = [src(inventoryVars(ctx.inventory, host)), src(ctx.playbookVars(host))];
  if (run) layers.push(data(factVars(run)));
  layers.push(src(ctx.play.vars), data(ctx.promptVars), src(ctx.varsFiles(host)));
  if (run) layers.push(src(run.includedVars), data(run.hostFacts));
  layers.push(src(ctx.extraVars));
  return layers;
}

export function taskScope(ctx: ScopeContext, host: string, chain: readonly NodeCommon[], extra?: Record<string, unknown>): VarScope {
  const run = ctx.hosts.get(host);
  const roles = rolesOf(chain);
  const layers: ScopeLayer[] = roles.map((r) => src(r.defaults));
  layers.push(src(inventoryVars(ctx.inventory, host)), src(ctx.playbookVars(host)));
  if (run) layers.push(data(factVars(run)));
  layers.push(src(ctx.play.vars), data(ctx.promptVars), src(ctx.varsFiles(host)));
  for (const r of roles) layers.push(src(r.vars));
  for (const n of chain) if (Object.keys(n.vars).length) layers.push(src(n.vars));
  if (run) layers.push(src(run.includedVars), data(run.hostFacts));
  for (const r of roles) if (Object.keys(r.params).length) layers.push(src(r.params));
  layers.push(src(ctx.extraVars));
  const innermostRole = roles[roles.length - 1];
  layers.push(data({ ...ctx.magic(host), ...(innermostRole ? { role_name: innermostRole.name, role_path: innermostRole.path } : {}) }));
  if (extra) layers.push(data(extra));
  return new VarScope(layers);
}

function inventoryVars(inventory: Inventory, host: string): Record<string, unknown> {
  return inventory.hasHost(host) || LOCALHOST_NAMES.includes(host) ? inventory.hostVars(host) : {};
}
