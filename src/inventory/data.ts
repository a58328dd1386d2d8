/**
 * The inventory graph (groups, hosts and the variables written beside them), kept
 * the way Ansible's InventoryData keeps it. Orders matter and are Ansible's: a
 * group lists its hosts and children in the order they were added, `all` gets
 * its top-level groups when the inventory is reconciled, and host order for a
 * group is a breadth-first walk of its descendants.
 */
import { UsageError } from '../errors.js';

export type Vars = Record<string, unknown>;

export class GroupNode {
  readonly hosts: HostNode[] = [];
  readonly children: GroupNode[] = [];
  readonly parents: GroupNode[] = [];
  /** variables written in the inventory source itself (not group_vars/) */
  readonly vars: Vars = {};
  /** `ansible_group_priority`: among groups of equal depth, higher wins */
  priority = 1;
  constructor(readonly name: string) {}
}

export class HostNode {
  /** variables written in the inventory source itself (not host_vars/) */
  readonly vars: Vars = {};
  /** groups the host was put in directly */
  readonly groups: GroupNode[] = [];
  constructor(
    readonly name: string,
    /** the inventory file (or host list) that first defined it: Ansible's `inventory_file` */
    readonly source: string | undefined,
  ) {}
}

export class InventoryData {
  readonly groups = new Map<string, GroupNode>();
  readonly hosts = new Map<string, HostNode>();
  /** the source being parsed, recorded on the hosts it creates */
  currentSource: string | undefined;

  constructor() {
    this.addGroup('all');
    this.addGroup('ungrouped');
    this.addChild('all', 'ungrouped');
  }

  group(name: string): GroupNode {
    const g = this.groups.get(name);
    if (!g) throw new UsageError(`unknown group "${name}"`);
    return g;
  }

  host(name: string): HostNode {
    const h = this.hosts.get(name);
    if (!h) throw new UsageError(`unknown host "${name}"`);
    return h;
  }

  addGroup(name: string): GroupNode {
    if (!name) throw new UsageError('a group name cannot be empty');
    let g = this.groups.get(name);
    if (!g) {
      g = new GroupNode(name);
      this.groups.set(name, g);
    }
    return g;
  }

  /** Adds the host if new; a port only counts when the host is created, as in Ansible. */
  addHost(name: string, group?: string, port?: number): HostNode {
    if (!name) throw new UsageError('a host name cannot be empty');
    const g = group === undefined ? undefined : this.group(group);
    let h = this.hosts.get(name);
    if (!h) {
      h = new HostNode(name, this.currentSource);
      if (port !== undefined) h.vars.ansible_port = port;
      this.hosts.set(name, h);
    }
    if (g) addHostToGroup(g, h);
    return h;
  }

  /** Makes `child` (a group, or else a host) a member of `parent`. Throws on a cycle. */
  addChild(parent: string, child: string): void {
    const p = this.group(parent);
    const childGroup = this.groups.get(child);
    if (childGroup) {
      if (childGroup === p) throw new UsageError(`group "${parent}" cannot be a child of itself`);
      if (p.children.includes(childGroup)) return;
      if (ancestorsOf(p).has(childGroup)) {
        throw new UsageError(`adding group "${child}" as a child of "${parent}" creates a dependency loop`);
      }
      p.children.push(childGroup);
      childGroup.parents.push(p);
      return;
    }
    const h = this.hosts.get(child);
    if (!h) throw new UsageError(`"${child}" is neither a known host nor a known group`);
    addHostToGroup(p, h);
  }

  setGroupVar(group: string, key: string, value: unknown): void {
    const g = this.group(group);
    // Ansible keeps the priority on the group, not among its variables.
    if (key === 'ansible_group_priority') {
      g.priority = toPriority(value);
      return;
    }
    g.vars[key] = value;
  }

  setHostVar(host: string, key: string, value: unknown): void {
    this.host(host).vars[key] = value;
  }

  /**
   * Ansible's reconcile_inventory: every group without a parent goes under
   * `all`; a host in no group but `all` goes to `ungrouped`, and a host in
   * `ungrouped` and in some real group leaves `ungrouped`.
   */
  reconcile(): void {
    const all = this.group('all');
    const ungrouped = this.group('ungrouped');
    for (const g of this.groups.values()) {
      if (g !== all && g.parents.length === 0) this.addChild('all', g.name);
    }
    for (const h of this.hosts.values()) {
      const mine = groupsWithAncestors(h);
      if (mine.has(ungrouped)) {
        if ([...mine].some((g) => g !== all && g !== ungrouped)) removeHostFromGroup(ungrouped, h);
      } else if (mine.size === 0 || (mine.size === 1 && mine.has(all))) {
        addHostToGroup(ungrouped, h);
      }
    }
  }
}

function addHostToGroup(g: GroupNode, h: HostNode): void {
  if (g.hosts.includes(h)) return;
  g.hosts.push(h);
  h.groups.push(g);
}

function removeHostFromGroup(g: GroupNode, h: HostNode): void {
  const i = g.hosts.indexOf(h);
  if (i !== -1) g.hosts.splice(i, 1);
  const j = h.groups.indexOf(g);
  if (j !== -1) h.groups.splice(j, 1);
}

/** Python's int(): integers, integer strings, booleans; floats are truncated. */
function toPriority(value: unknown): number {
  if (typeof value === 'boolean') return Number(value);
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
  throw new UsageError(`ansible_group_priority must be an integer, got ${JSON.stringify(value)}`);
}

export function ancestorsOf(g: GroupNode): Set<GroupNode> {
  const seen = new Set<GroupNode>();
  const stack = [...g.parents];
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    stack.push(...p.parents);
  }
  return seen;
}

/** Every group a host belongs to, directly or through a child group. */
export function groupsWithAncestors(h: HostNode): Set<GroupNode> {
  const out = new Set<GroupNode>();
  for (const g of h.groups) {
    out.add(g);
    for (const a of ancestorsOf(g)) out.add(a);
  }
  return out;
}

/**
 * Distance from `all` along the longest path, which is what Ansible's
 * incrementally updated `depth` settles to: children sort after parents.
 */
export function depthOf(g: GroupNode, memo = new Map<GroupNode, number>()): number {
  const known = memo.get(g);
  if (known !== undefined) return known;
  let depth = 0;
  for (const p of g.parents) depth = Math.max(depth, depthOf(p, memo) + 1);
  memo.set(g, depth);
  return depth;
}

/** Ansible's sort_groups: by depth, then priority, then name. Later groups win when merging. */
export function sortGroups(groups: Iterable<GroupNode>): GroupNode[] {
  const memo = new Map<GroupNode, number>();
  return [...groups].sort(
    (a, b) => depthOf(a, memo) - depthOf(b, memo) || a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

/**
 * The hosts of a group and of all its descendants, in Ansible's order: the
 * group's own hosts, then its children's, then grandchildren's (breadth-first).
 * Ansible walks each level from a Python set, so its order among groups of
 * the same level is arbitrary; here it is the order the groups were added.
 */
export function hostsOf(g: GroupNode): HostNode[] {
  const levels: GroupNode[] = [g, ...g.children];
  const seenGroups = new Set<GroupNode>(levels);
  let frontier = g.children;
  while (frontier.length) {
    const next: GroupNode[] = [];
    for (const f of frontier) {
      for (const c of f.children) {
        if (seenGroups.has(c)) continue;
        seenGroups.add(c);
        next.push(c);
      }
    }
    levels.push(...next);
    frontier = next;
  }
  const out: HostNode[] = [];
  const seenHosts = new Set<HostNode>();
  for (const group of levels) {
    for (const h of group.hosts) {
      if (seenHosts.has(h)) continue;
      seenHosts.add(h);
      out.push(h);
    }
  }
  return out;
}
