/**
 * What a lab writes for its users: the inventory, known_hosts and its state
 * file. Pure functions, so they are tested without Docker.
 */
import { yamlLibrary } from '../util/yaml-library.js';
import { UsageError } from '../errors.js';

export interface LabGroup {
  hosts?: string[];
  children?: string[];
  vars?: Record<string, unknown>;
}

export interface LabHostEntry {
  name: string;
  address: string;
  /** the host's public key, OpenSSH one-line format (`ssh-ed25519 AAAA...`) */
  hostKey: string;
}

/** What `lab down` needs to find everything again from a new process. */
export interface LabState {
  name: string;
  network: string;
  image: string;
  hosts: { name: string; address: string; containerId: string; containerName: string }[];
}

// DNS names (labels of letters, digits and inner '-', joined by dots), at most 63 characters as a Linux hostname.
const HOST_NAME = /^(?=.{1,63}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const LAB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Host names become container hostnames and DNS names on the lab network, so they must be DNS names. */
export function validateLabInput(name: string, hosts: readonly string[], groups: Record<string, LabGroup> = {}): void {
  if (!LAB_NAME.test(name)) {
    throw new UsageError(`lab name must be letters, digits, '.', '_' or '-' (at most 63), got ${JSON.stringify(name)}`);
  }
  if (hosts.length === 0) throw new UsageError('a lab needs at least one host');
  const seen = new Set<string>();
  for (const h of hosts) {
    if (!HOST_NAME.test(h)) {
      throw new UsageError(`lab host names must be DNS names (letters, digits, inner '-', dots; at most 63), got ${JSON.stringify(h)}`, {
        hint: 'a lab host becomes a container whose hostname is the inventory name',
      });
    }
    if (seen.has(h)) throw new UsageError(`lab host ${JSON.stringify(h)} is listed twice`);
    seen.add(h);
  }
  for (const [g, def] of Object.entries(groups)) {
    for (const h of def.hosts ?? []) {
      if (!seen.has(h)) throw new UsageError(`group ${JSON.stringify(g)} lists host ${JSON.stringify(h)}, which is not a lab host`);
    }
    for (const c of def.children ?? []) {
      if (c !== 'ungrouped' && !(c in groups)) throw new UsageError(`group ${JSON.stringify(g)} lists child group ${JSON.stringify(c)}, which is not defined`);
    }
  }
}

export interface InventoryPaths {
  keyPath: string;
  knownHostsPath: string;
}

/** A YAML inventory in Ansible's format; every host carries how to reach it, so it also works in other tools. */
export function renderInventory(hosts: readonly LabHostEntry[], groups: Record<string, LabGroup>, paths: InventoryPaths): string {
  const hostVars: Record<string, Record<string, unknown>> = {};
  for (const h of hosts) {
    hostVars[h.name] = {
      ansible_host: h.address,
      ansible_user: 'root',
      ansible_ssh_private_key_file: paths.keyPath,
      tsible_known_hosts_file: paths.knownHostsPath,
    };
  }
  const all: Record<string, unknown> = { hosts: hostVars };
  const children: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(groups)) {
    if (name === 'ungrouped') continue;
    if (name === 'all') {
      if (def.vars && Object.keys(def.vars).length > 0) all.vars = def.vars;
      continue;
    }
    const group: Record<string, unknown> = {};
    if (def.hosts?.length) group.hosts = Object.fromEntries(def.hosts.map((h) => [h, {}]));
    const kids = (def.children ?? []).filter((c) => c !== 'ungrouped');
    if (kids.length) group.children = Object.fromEntries(kids.map((c) => [c, {}]));
    if (def.vars && Object.keys(def.vars).length > 0) group.vars = def.vars;
    children[name] = group;
  }
  if (Object.keys(children).length > 0) all.children = children;
  return `# Written by tsible lab; removed by \`tsible lab down\`.\n${yamlLibrary().stringify({ all })}`;
}

/** Each key under the address and under the inventory name: a ProxyJump inside the lab network reaches hosts by name. */
export function renderKnownHosts(hosts: readonly LabHostEntry[]): string {
  const key = (k: string) => k.trim().split(/\s+/).slice(0, 2).join(' ');
  return hosts.map((h) => `${h.address} ${key(h.hostKey)}\n${h.name} ${key(h.hostKey)}\n`).join('');
}

export function parseLabState(text: string, file: string): LabState {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not a lab state file`, { cause: err });
  }
  const s = data as Partial<LabState>;
  if (typeof s.name !== 'string' || typeof s.network !== 'string' || !Array.isArray(s.hosts)) {
    throw new UsageError(`${file} is not a lab state file (expected name, network and hosts)`);
  }
  return s as LabState;
}

/** IPv4 arithmetic for fixed addresses on the lab network. */
export function ipv4ToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * `count` addresses for hosts in `subnet` (CIDR), after the gateway, skipping
 * the network and broadcast addresses. Throws when the subnet is too small.
 */
export function hostAddresses(subnet: string, gateway: string | undefined, count: number): string[] {
  const [base, bitsText] = subnet.split('/');
  const bits = Number(bitsText);
  if (!base || !Number.isInteger(bits) || bits < 8 || bits > 30) throw new Error(`unexpected subnet ${subnet}`);
  const size = 2 ** (32 - bits);
  const network = (ipv4ToInt(base) & (~0 << (32 - bits))) >>> 0;
  const gw = gateway ? ipv4ToInt(gateway) : network + 1;
  const out: string[] = [];
  for (let a = network + 1; a < network + size - 1 && out.length < count; a++) {
    if (a !== gw) out.push(intToIpv4(a >>> 0));
  }
  if (out.length < count) throw new UsageError(`the lab network ${subnet} has room for ${out.length} hosts, not ${count}`);
  return out;
}
