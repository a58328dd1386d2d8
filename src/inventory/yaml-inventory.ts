/**
 * Ansible's YAML inventory format (its `yaml` plugin): top-level keys are
 * groups, and each group may have `hosts`, `vars` and `children`, a child
 * being a group written the same way.
 *
 *     all:
 *       vars: {ntp_server: 10.0.0.1}
 *       children:
 *         web:
 *           hosts:
 *             web[1:3]:
 *             db1: {ansible_host: 10.0.0.5}
 */
import { ParseError, TsibleError, locationOfLine, type SourceLocation } from '../errors.js';
import { locationOf } from '../util/yaml.js';
import type { InventoryData } from './data.js';
import { expandHostEntry } from './host-entry.js';

const SECTIONS = ['vars', 'children', 'hosts'] as const;

export function parseYamlInventory(data: InventoryData, file: string, text: string, doc: unknown): void {
  const where = (container: object, key?: string): SourceLocation =>
    (key === undefined ? locationOf(container) : locationOf(container, key)) ?? locationOfLine(file, text, 1);
  const fail = (message: string, location: SourceLocation, hint?: string, cause?: unknown): never => {
    throw new ParseError(message, { location, hint, cause });
  };
  const guard = <T>(location: SourceLocation, action: () => T): T => {
    try {
      return action();
    } catch (err) {
      if (err instanceof TsibleError && !(err instanceof ParseError)) return fail(err.message, location, err.hint, err);
      throw err;
    }
  };

  if (!isMapping(doc)) {
    fail('a YAML inventory must be a mapping of group names (usually just "all:")', doc && typeof doc === 'object' ? where(doc) : locationOfLine(file, text, 1));
  }
  const top = doc as Record<string, unknown>;
  if ('plugin' in top) {
    fail(`inventory plugin configurations (plugin: ${String(top.plugin)}) are not supported; list hosts and groups instead`, where(top, 'plugin'));
  }

  const parseGroup = (name: string, body: unknown, location: SourceLocation): void => {
    if (body !== null && !isMapping(body)) {
      fail(`group "${name}" must be a mapping with hosts, vars or children, found ${describe(body)}`, location);
    }
    guard(location, () => data.addGroup(name));
    if (body === null) return;
    const group = body as Record<string, unknown>;
    for (const section of SECTIONS) {
      const value = group[section];
      // A single name stands for a mapping with one empty entry, as Ansible allows.
      if (typeof value === 'string') group[section] = { [value]: null };
      else if (value !== null && value !== undefined && !isMapping(value)) {
        fail(`"${section}" of group "${name}" must be a mapping, found ${describe(value)}`, where(group, section), section === 'hosts' ? 'write hosts as keys: "hosts: {web1: , web2: }"' : undefined);
      }
    }
    for (const [key, value] of Object.entries(group)) {
      if (value === null || value === undefined) continue;
      const entries = value as Record<string, unknown>;
      if (key === 'vars') {
        for (const [k, v] of Object.entries(entries)) guard(where(entries, k), () => data.setGroupVar(name, k, v));
      } else if (key === 'children') {
        for (const [child, childBody] of Object.entries(entries)) {
          const childLocation = where(entries, child);
          parseGroup(child, childBody, childLocation);
          guard(childLocation, () => data.addChild(name, child));
        }
      } else if (key === 'hosts') {
        for (const [pattern, hostVars] of Object.entries(entries)) {
          const hostLocation = where(entries, pattern);
          if (hostVars !== null && !isMapping(hostVars)) {
            fail(`variables of host "${pattern}" must be a mapping, found ${describe(hostVars)}`, hostLocation);
          }
          const { names, port } = guard(hostLocation, () => expandHostEntry(pattern));
          for (const host of names) {
            data.addHost(host, name, port);
            for (const [k, v] of Object.entries((hostVars ?? {}) as Record<string, unknown>)) data.setHostVar(host, k, v);
          }
        }
      } else {
        fail(`unexpected key "${key}" in group "${name}": only hosts, vars and children are allowed`, where(group, key), `to make "${key}" a child group, put it under children:`);
      }
    }
  };

  for (const [name, body] of Object.entries(top)) parseGroup(name, body, where(top, name));
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string "${value}"`;
  return `${typeof value} ${JSON.stringify(value)}`;
}
