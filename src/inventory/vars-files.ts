/**
 * `group_vars/` and `host_vars/` beside an inventory, found as Ansible's
 * host_group_vars plugin finds them: for a name, the first of `name`,
 * `name.yml`, `name.yaml`, `name.json` that exists; when that is a directory,
 * every YAML/JSON file below it (recursively, sorted, skipping hidden files
 * and backups `~`).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import { ParseError, locationOfLine } from '../errors.js';
import { loadYaml, locationOf } from '../util/yaml.js';
import type { Vars } from './data.js';

const VARS_EXTENSIONS = ['.yml', '.yaml', '.json'];

/** Turns the text of a vault-encrypted file into its plaintext. */
export type DecryptFile = (ciphertext: string, file: string) => string;

export interface VarsFileOptions {
  decryptFile?: DecryptFile;
}

/** The files that hold variables for `name` in `dir` (a group_vars/ or host_vars/ directory), in load order. */
export function findVarsFiles(dir: string, name: string): string[] {
  // Ansible skips names that look like absolute paths (chroot-style host names).
  if (name.startsWith(sep)) return [];
  const base = join(dir, name);
  for (const candidate of [base, ...VARS_EXTENSIONS.map((ext) => base + ext)]) {
    const stat = statIfExists(candidate);
    if (!stat) continue;
    return stat.isDirectory() ? varsFilesUnder(candidate) : [candidate];
  }
  return [];
}

function varsFilesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue;
    const full = join(dir, entry);
    const ext = extname(entry);
    const stat = statIfExists(full);
    if (!stat) continue;
    if (stat.isDirectory() && !ext) found.push(...varsFilesUnder(full));
    else if (stat.isFile() && (!ext || VARS_EXTENSIONS.includes(ext))) found.push(full);
  }
  return found;
}

function statIfExists(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Reads one vars file: a mapping, or nothing when the file is empty. */
export function loadVarsFile(file: string, options: VarsFileOptions = {}): Vars {
  let text = readFileSync(file, 'utf8');
  if (text.startsWith('$ANSIBLE_VAULT;')) {
    if (!options.decryptFile) {
      throw new ParseError(`${file} is vault-encrypted and no vault secret was given`, {
        location: locationOfLine(file, text, 1),
        hint: 'pass the vault password (--vault-password-file or --ask-vault-pass)',
      });
    }
    text = options.decryptFile(text, file);
  }
  const data = loadYaml(file, text);
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ParseError(`a variables file must hold a mapping of names to values, found ${Array.isArray(data) ? 'a list' : `"${String(data)}"`}`, {
      location: locationOf(data as object) ?? locationOfLine(file, text, 1),
    });
  }
  return data as Vars;
}

/** Loads and caches vars files, so each file is read once per inventory. */
export class VarsFileCache {
  private readonly files = new Map<string, Vars>();
  private readonly found = new Map<string, string[]>();
  private readonly dirExists = new Map<string, boolean>();
  constructor(private readonly options: VarsFileOptions = {}) {}

  /** The merged variables for `name` from `dir`, later files overriding earlier ones. */
  varsFor(dir: string, name: string): Vars {
    let exists = this.dirExists.get(dir);
    if (exists === undefined) {
      // A plain file named group_vars is ignored, as Ansible does (with a warning).
      exists = statIfExists(dir)?.isDirectory() ?? false;
      this.dirExists.set(dir, exists);
    }
    if (!exists) return {};
    const key = `${dir}\0${name}`;
    let files = this.found.get(key);
    if (!files) {
      files = findVarsFiles(dir, name);
      this.found.set(key, files);
    }
    const out: Vars = {};
    for (const file of files) {
      let vars = this.files.get(file);
      if (!vars) {
        vars = loadVarsFile(file, this.options);
        this.files.set(file, vars);
      }
      Object.assign(out, vars);
    }
    return out;
  }
}
