/**
 * The loaded inventory: hosts, groups and the variables of each host merged
 * in Ansible's precedence order. Read-only but for `addHost` (the lab and the
 * add_host module).
 */
import { UsageError } from '../errors.js';
import {
  InventoryData,
  groupsWithAncestors,
  hostsOf,
  sortGroups,
  type GroupNode,
  type Vars,
} from './data.js';
import { LOCALHOST_NAMES, selectHosts, type PatternTarget } from './pattern.js';
import { parseInventoryText, parseSource, resolveSource } from './sources.js';
import { VarsFileCache, type DecryptFile } from './vars-files.js';
import { join } from 'node:path';

export interface LoadInventoryOptions {
  /** decrypts vault-encrypted group_vars/host_vars files; without it such a file is an error */
  decryptFile?: DecryptFile;
}

/**
 * Loads and merges inventory sources, as several `-i` do: files (INI or
 * YAML), directories of them, or comma-separated host lists (`web1,web2,`).
 */
export async function loadInventory(sources: string[], options: LoadInventoryOptions = {}): Promise<Inventory> {
  const data = new InventoryData();
  const resolved = sources.map(resolveSource);
  for (const source of resolved) parseSource(data, source);
  data.reconcile();
  return new Inventory(
    data,
    resolved.flatMap((s) => (s.varsDir ? [s.varsDir] : [])),
    options,
  );
}

/** An inventory from text (INI or YAML, by `file`'s extension unless `format` says), without group_vars/. */
export function inventoryFromText(text: string, options: { file?: string; format?: 'ini' | 'yaml' } = {}): Inventory {
  const data = new InventoryData();
  const file = options.file ?? (options.format === 'yaml' ? '<inventory>.yml' : '<inventory>');
  data.currentSource = file;
  parseInventoryText(data, file, text, options.format ?? (options.file ? undefined : 'ini'));
  data.currentSource = undefined;
  data.reconcile();
  return new Inventory(data, []);
}

/** Variables ansible-inventory never prints: magic variables and run settings. */
const INTERNAL_VARS = new Set([
  'ansible_diff_mode',
  'ansible_config_file',
  'ansible_facts',
  'ansible_forks',
  'ansible_inventory_sources',
  'ansible_limit',
  'ansible_playbook_python',
  'ansible_run_tags',
  'ansible_skip_tags',
  'ansible_verbosity',
  'ansible_version',
  'inventory_dir',
  'inventory_file',
  'inventory_hostname',
  'inventory_hostname_short',
  'groups',
  'group_names',
  'omit',
  'playbook_dir',
]);

export class Inventory implements PatternTarget {
  private readonly varsFiles: VarsFileCache;
  private readonly hostVarsCache = new Map<string, Vars>();

  /** Use `loadInventory`; `new Inventory()` is an empty inventory with only `all` and `ungrouped`. */
  constructor(
    private readonly data: InventoryData = new InventoryData(),
    /** where group_vars/ and host_vars/ are looked up, one entry per source, in source order */
    private readonly varsDirs: readonly string[] = [],
    options: LoadInventoryOptions = {},
  ) {
    this.varsFiles = new VarsFileCache(options);
    // Read every vars file now, so that a syntax error stops the run before it starts.
    for (const dir of varsDirs) {
      for (const g of data.groups.keys()) this.varsFiles.varsFor(join(dir, 'group_vars'), g);
      for (const h of data.hosts.keys()) this.varsFiles.varsFor(join(dir, 'host_vars'), h);
    }
  }

  /** Every host, in the order Ansible lists `all`: breadth-first through the group tree. */
  hostNames(): string[] {
    return hostsOf(this.data.group('all')).map((h) => h.name);
  }

  /** Hosts in the order they were first defined (the order globs match them in). */
  definedHostNames(): string[] {
    return [...this.data.hosts.keys()];
  }

  /** Groups in the order they were defined, starting with `all` and `ungrouped`. */
  groupNames(): string[] {
    return [...this.data.groups.keys()];
  }

  hasHost(name: string): boolean {
    return this.data.hosts.has(name);
  }

  hasGroup(name: string): boolean {
    return this.data.groups.has(name);
  }

  /**
   * The variables of a host, merged as Ansible merges them (later wins):
   * group `all` in the inventory, other groups in the inventory (parents
   * before children, then by ansible_group_priority, then by name),
   * group_vars/all, group_vars/<group> in that same group order, the host's
   * own inventory variables, host_vars/<host>. Each group_vars layer is read
   * for every source in source order. Magic variables are not included.
   *
   * For `localhost` not listed in the inventory (Ansible's implicit
   * localhost), the `all` layers plus `ansible_connection: local`.
   *
   * The result is a fresh object; the values inside are shared, do not mutate them.
   */
  hostVars(name: string): Record<string, unknown> {
    let merged = this.hostVarsCache.get(name);
    if (!merged) {
      merged = this.mergeHostVars(name);
      this.hostVarsCache.set(name, merged);
    }
    return { ...merged };
  }

  private mergeHostVars(name: string): Vars {
    const host = this.data.hosts.get(name);
    if (!host && !LOCALHOST_NAMES.includes(name)) throw unknownHost(name);
    const groups = host ? sortGroups([...groupsWithAncestors(host)].filter((g) => g.name !== 'all')) : [];
    const out: Vars = {};
    Object.assign(out, this.data.group('all').vars);
    for (const g of groups) Object.assign(out, g.vars);
    for (const dir of this.varsDirs) Object.assign(out, this.varsFiles.varsFor(join(dir, 'group_vars'), 'all'));
    for (const dir of this.varsDirs) {
      for (const g of groups) Object.assign(out, this.varsFiles.varsFor(join(dir, 'group_vars'), g.name));
    }
    Object.assign(out, host ? host.vars : { ansible_connection: 'local' });
    for (const dir of this.varsDirs) Object.assign(out, this.varsFiles.varsFor(join(dir, 'host_vars'), name));
    return out;
  }

  /**
   * Every group the host is in, directly or through a child group, `all`
   * included, in precedence order (the order their variables apply in).
   */
  groupsOf(host: string): string[] {
    const h = this.data.hosts.get(host);
    if (!h) {
      if (LOCALHOST_NAMES.includes(host)) return [];
      throw unknownHost(host);
    }
    return sortGroups(groupsWithAncestors(h)).map((g) => g.name);
  }

  /** Hosts of a group and of all its descendants, in Ansible's order. */
  groupHosts(group: string): string[] {
    return hostsOf(this.group(group)).map((h) => h.name);
  }

  /** The direct child groups of a group, in the order they were added. */
  groupChildren(group: string): string[] {
    return this.group(group).children.map((g) => g.name);
  }

  /** The inventory file (or host list) that first defined a host: Ansible's `inventory_file`. */
  inventoryFileOf(host: string): string | undefined {
    return this.data.hosts.get(host)?.source;
  }

  /** The hosts a pattern selects (see pattern.ts). Unknown names are a UsageError. */
  selectHosts(pattern: string): string[] {
    return selectHosts(this, pattern);
  }

  /**
   * Adds a host (if new) and puts it in `groups` (created if missing), then
   * sets `vars` on it, as the add_host module does.
   */
  addHost(name: string, groups: readonly string[] = [], vars: Record<string, unknown> = {}): void {
    if (!this.data.hosts.has(name)) this.data.addHost(name, 'all');
    for (const g of groups) {
      this.data.addGroup(g);
      this.data.addChild(g, name);
    }
    for (const [k, v] of Object.entries(vars)) this.data.setHostVar(name, k, v);
    this.data.reconcile();
    this.hostVarsCache.clear();
  }

  /** The structure `ansible-inventory --list` prints. */
  toAnsibleList(): Record<string, unknown> {
    const seen = new Set<string>();
    const format = (g: GroupNode): Record<string, unknown> => {
      const entry: { hosts?: string[]; children?: string[] } = {};
      const results: Record<string, unknown> = { [g.name]: entry };
      if (g.name !== 'all') entry.hosts = g.hosts.map((h) => h.name);
      entry.children = [];
      for (const child of g.children) {
        entry.children.push(child.name);
        if (!seen.has(child.name)) {
          Object.assign(results, format(child));
          seen.add(child.name);
        }
      }
      if (entry.hosts?.length === 0) delete entry.hosts;
      if (entry.children.length === 0) delete entry.children;
      if (Object.keys(entry).length === 0) delete results[g.name];
      return results;
    };
    const results = format(this.data.group('all'));
    const hostvars: Record<string, unknown> = {};
    for (const h of hostsOf(this.data.group('all'))) {
      const vars = this.toAnsibleHost(h.name);
      if (Object.keys(vars).length > 0) hostvars[h.name] = vars;
    }
    return { _meta: { hostvars }, ...results };
  }

  /** What `ansible-inventory --host NAME` prints: the merged variables without Ansible's internal ones. */
  toAnsibleHost(name: string): Record<string, unknown> {
    const vars = this.hostVars(name);
    for (const k of INTERNAL_VARS) delete vars[k];
    return vars;
  }

  /** The tree `ansible-inventory --graph [GROUP]` prints. */
  toGraph(group = 'all'): string {
    const label = (text: string, depth: number) => (depth ? '  |'.repeat(depth) + '--' + text : text);
    const walk = (g: GroupNode, depth: number): string[] => {
      const lines = [label(`@${g.name}:`, depth)];
      for (const child of g.children) lines.push(...walk(child, depth + 1));
      if (g.name !== 'all') for (const h of g.hosts) lines.push(label(h.name, depth + 1));
      return lines;
    };
    return walk(this.group(group), 0).join('\n');
  }

  private group(name: string): GroupNode {
    const g = this.data.groups.get(name);
    if (!g) throw new UsageError(`"${name}" is not a group of the inventory`);
    return g;
  }
}

function unknownHost(name: string): UsageError {
  return new UsageError(`"${name}" is not a host of the inventory`);
}

