/**
 * Inventory sources, as `-i` takes them: a file (INI or YAML), a directory of
 * such files, or a comma-separated host list (`web1,web2` or `localhost,`).
 *
 * The format of a file is decided as Ansible's plugins decide it: `.yml`,
 * `.yaml` and `.json` are YAML; a file without extension is YAML when it reads
 * as a YAML mapping and INI otherwise; anything else is INI. In a directory,
 * files are read in sorted order, recursively, skipping hidden files,
 * `group_vars/`, `host_vars/` and Ansible's ignored extensions, which include
 * `.ini` (Ansible's default, surprising as it is).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { ParseError, TsibleError, UsageError, locationOfLine } from '../errors.js';
import { loadYaml } from '../util/yaml.js';
import type { InventoryData } from './data.js';
import { parseHostAddress } from './host-entry.js';
import { parseIniInventory } from './ini.js';
import { expandAnsibleRange } from './nodeset.js';
import { parseYamlInventory } from './yaml-inventory.js';

const YAML_EXTENSIONS = ['.yml', '.yaml', '.json'];
/** Ansible's INVENTORY_IGNORE_EXTS default (REJECT_EXTS plus .orig, .ini, .cfg, .retry). */
const IGNORED_EXTENSIONS = ['.pyc', '.pyo', '.swp', '.bak', '~', '.rpm', '.md', '.txt', '.rst', '.orig', '.ini', '.cfg', '.retry'];
const IGNORED_NAMES = new Set(['host_vars', 'group_vars', 'vars_plugins']);

export type SourceKind = 'file' | 'directory' | 'host-list';

export interface ResolvedSource {
  /** as given on the command line */
  given: string;
  kind: SourceKind;
  /** absolute path for files and directories */
  path?: string;
  /** where group_vars/ and host_vars/ are looked up: the directory itself, or the file's directory */
  varsDir?: string;
}

/** Decides what a `-i` argument is. A missing path is an error rather than Ansible's warning. */
export function resolveSource(given: string): ResolvedSource {
  const expanded = given.startsWith('~/') || given === '~' ? join(homedir(), given.slice(1)) : given;
  if (given.includes(',') && !existsSync(expanded)) return { given, kind: 'host-list' };
  const path = resolve(expanded);
  if (!existsSync(path)) {
    throw new UsageError(`inventory source ${given} does not exist`, {
      hint: `for a list of host names, end it with a comma: -i ${given},`,
    });
  }
  if (statSync(path).isDirectory()) return { given, kind: 'directory', path, varsDir: path };
  return { given, kind: 'file', path, varsDir: resolve(path, '..') };
}

/** Parses a resolved source into `data`. */
export function parseSource(data: InventoryData, source: ResolvedSource): void {
  if (source.kind === 'host-list') return parseHostList(data, source.given);
  if (source.kind === 'directory') return parseDirectory(data, source.path!);
  return parseFile(data, source.path!);
}

/**
 * `-i web1,web2:2222,` — the trailing comma makes a single name a list. Unlike
 * Ansible's default host_list plugin, ranges are expanded (`-i node[01:04],`),
 * as its advanced_host_list plugin does.
 */
function parseHostList(data: InventoryData, list: string): void {
  data.currentSource = list;
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const { pattern, port } = parseHostAddress(entry);
    let names: string[];
    try {
      names = pattern.includes('[') ? expandAnsibleRange(pattern) : [pattern];
    } catch (err) {
      throw new UsageError(`in the host list "${list}": ${(err as Error).message}`, { cause: err });
    }
    for (const name of names) if (!data.hosts.has(name)) data.addHost(name, 'ungrouped', port);
  }
  data.currentSource = undefined;
}

function parseDirectory(data: InventoryData, dir: string): void {
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.') || IGNORED_NAMES.has(entry) || IGNORED_EXTENSIONS.some((ext) => entry.endsWith(ext))) continue;
    const full = join(dir, entry);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (!stat) continue; // a dangling symlink
    if (stat.isDirectory()) parseDirectory(data, full);
    else parseFile(data, full);
  }
}

export function parseFile(data: InventoryData, file: string): void {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  data.currentSource = file;
  try {
    parseInventoryText(data, file, text);
  } finally {
    data.currentSource = undefined;
  }
}

/** Parses inventory text whose format is given by `file`'s extension (or sniffed). */
export function parseInventoryText(data: InventoryData, file: string, text: string, format?: 'ini' | 'yaml'): void {
  if (text.startsWith('#!')) {
    throw new UsageError(`${file} is a dynamic inventory script, which tsible does not run`, {
      hint: 'save its output with `ansible-inventory -i SCRIPT --list -y > hosts.yml` and use that file',
    });
  }
  if (text.startsWith('$ANSIBLE_VAULT;')) {
    throw new ParseError(`${file} is vault-encrypted; tsible reads only plain inventory files`, { location: locationOfLine(file, text, 1) });
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.toml') throw new UsageError(`${file}: TOML inventories are not supported; use INI or YAML`);
  const kind = format ?? (YAML_EXTENSIONS.includes(ext) ? 'yaml' : ext === '' ? 'sniff' : 'ini');

  if (kind === 'yaml') {
    // Ansible reads an empty YAML inventory as an empty INI one: no hosts, no error.
    const doc = loadYaml(file, text);
    if (doc === null) return;
    return parseYamlInventory(data, file, text, doc);
  }
  if (kind === 'ini') return parseIniInventory(data, file, text);

  let doc: unknown;
  let yamlError: unknown;
  try {
    doc = loadYaml(file, text);
  } catch (err) {
    yamlError = err;
  }
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) return parseYamlInventory(data, file, text, doc);
  try {
    parseIniInventory(data, file, text);
  } catch (iniError) {
    // A file that starts like a YAML mapping was meant as YAML: its YAML error is the useful one.
    if (yamlError instanceof TsibleError && looksLikeYaml(text)) throw yamlError;
    throw iniError;
  }
}

function looksLikeYaml(text: string): boolean {
  const first = text.split('\n').find((l) => l.trim() && !l.trim().startsWith('#'));
  return first !== undefined && (/^---/.test(first) || /^[\w.-]+:(\s|$)/.test(first));
}
