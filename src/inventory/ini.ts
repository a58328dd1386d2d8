/**
 * Ansible's INI inventory format, read as its `ini` plugin reads it:
 *
 *     host0                          # before any section: ungrouped
 *     [web]
 *     web[1:3]:2222 ansible_user=deploy tags="['a', 'b']"
 *     [web:vars]
 *     http_port=8080
 *     [prod:children]
 *     web
 *
 * Values, inline or in `[g:vars]`, go through Python's literal_eval
 * (`python-literal.ts`): `8080` is a number, `True` a boolean, `yes` a string.
 * A `[g:children]` entry may name a group defined further down; `[g:vars]`
 * needs the group defined somewhere in the file.
 */
import { ParseError, TsibleError, locationOfLine, type SourceLocation } from '../errors.js';
import type { InventoryData } from './data.js';
import { expandHostEntry } from './host-entry.js';
import { pythonLiteral } from './python-literal.js';

const SECTION_RE = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME_RE = /^([^:\]\s]+)\s*(?:#.*)?$/;

type SectionKind = 'hosts' | 'vars' | 'children';

interface Pending {
  kind: 'vars' | 'children';
  line: number;
  /** for `children`: the groups waiting for this one */
  parents: string[];
}

export function parseIniInventory(data: InventoryData, file: string, text: string): void {
  const lines = text.split('\n');
  const at = (line: number, col = 1): SourceLocation => locationOfLine(file, text, line, col);
  const fail: (message: string, line: number, col?: number, hint?: string, cause?: unknown) => never = (message, line, col = 1, hint, cause) => {
    throw new ParseError(message, { location: at(line, col), hint, cause });
  };
  // Errors from the inventory graph (a cycle, a bad priority) become parse errors at the line that caused them.
  const guard = <T>(line: number, col: number, action: () => T): T => {
    try {
      return action();
    } catch (err) {
      if (err instanceof TsibleError && !(err instanceof ParseError)) return fail(err.message, line, col, err.hint, err);
      throw err;
    }
  };

  const pending = new Map<string, Pending>();
  const resolvePendingChildren = (group: string): void => {
    const p = pending.get(group);
    if (!p) return;
    pending.delete(group);
    for (const parent of p.parents) {
      guard(p.line, 1, () => data.addChild(parent, group));
      if (pending.get(parent)?.kind === 'children') resolvePendingChildren(parent);
    }
  };

  let group = 'ungrouped';
  let state: SectionKind = 'hosts';

  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const raw = lines[index]!.replace(/\r$/, '');
    const line = raw.trim();
    const indent = raw.length - raw.trimStart().length;
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;

    const section = SECTION_RE.exec(line);
    if (section) {
      group = section[1]!;
      const kind = section[2] ?? 'hosts';
      if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
        fail(`section [${group}:${kind}] has an unknown type "${kind}"`, lineNo, indent + group.length + 3, 'a section is [group], [group:vars] or [group:children]');
      }
      state = kind as SectionKind;
      if (!data.groups.has(group)) {
        // [g:vars] alone does not define g: remember it and check at the end.
        if (state === 'vars' && !pending.has(group)) pending.set(group, { kind: 'vars', line: lineNo, parents: [] });
        data.addGroup(group);
      }
      if (state !== 'vars') {
        const p = pending.get(group);
        if (p?.kind === 'children') resolvePendingChildren(group);
        else if (p?.kind === 'vars') pending.delete(group);
      }
      continue;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      fail(`invalid section header ${line}`, lineNo, indent + 1, 'a section header is [name], [name:vars] or [name:children], without spaces');
    }
    if (line.startsWith('[') && !/^\[[^\]]*\]:\d+(\s|$)/.test(line)) {
      fail(`unterminated section header ${line}`, lineNo, indent + 1, 'close the section name with "]"');
    }

    if (state === 'hosts') {
      const tokens = splitHostLine(raw, (message, col) => fail(message, lineNo, col));
      if (tokens.length === 0) continue;
      const [first, ...rest] = tokens as [Token, ...Token[]];
      if (first.value === '---') fail('"---" is not a host: this looks like a YAML file', lineNo, first.col, 'name YAML inventories *.yml or *.yaml');
      if (first.value.trim().endsWith(':')) {
        fail(`invalid host "${first.value}": a trailing ":" must be followed by a port number`, lineNo, first.col);
      }
      const variables: [string, unknown][] = [];
      for (const t of rest) {
        const eq = t.value.indexOf('=');
        if (eq === -1) {
          fail(`expected key=value after the host name, got "${t.value}"`, lineNo, t.col, 'quote values that contain spaces: key="a b"');
        }
        variables.push([t.value.slice(0, eq), pythonLiteral(t.value.slice(eq + 1))]);
      }
      const { names, port } = guard(lineNo, first.col, () => expandHostEntry(first.value));
      for (const name of names) {
        guard(lineNo, first.col, () => data.addHost(name, group, port));
        for (const [k, v] of variables) data.setHostVar(name, k, v);
      }
    } else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq === -1) fail(`expected key=value in [${group}:vars], got "${line}"`, lineNo, indent + 1);
      const key = line.slice(0, eq).trim();
      const value = pythonLiteral(line.slice(eq + 1).trim());
      guard(lineNo, indent + 1, () => data.setGroupVar(group, key, value));
    } else {
      const m = GROUP_NAME_RE.exec(line);
      if (!m) {
        fail(`expected a group name in [${group}:children], got "${line}"`, lineNo, indent + 1, 'list one group per line; hosts and their variables go in a [group] section');
      }
      const child = m[1]!;
      if (!data.groups.has(child)) {
        const p = pending.get(child);
        if (p) p.parents.push(group);
        else pending.set(child, { kind: 'children', line: lineNo, parents: [group] });
      } else {
        guard(lineNo, indent + 1, () => data.addChild(group, child));
      }
    }
  }

  for (const [name, p] of pending) {
    if (p.kind === 'vars') {
      fail(`section [${name}:vars] is for a group that is not defined`, p.line, 2, `define the group with a [${name}] or [${name}:children] section`);
    }
    fail(`[${p.parents.at(-1)}:children] includes "${name}", which is not defined as a group`, p.line, 1, `add a [${name}] section, even an empty one`);
  }
}

interface Token {
  value: string;
  /** 1-based column where the token starts */
  col: number;
}

/**
 * Python's shlex.split(line, comments=True), with token columns: quotes group
 * words, a backslash escapes outside single quotes, `#` starts a comment even
 * in the middle of a word.
 */
export function splitHostLine(line: string, fail: (message: string, col: number) => never): Token[] {
  const tokens: Token[] = [];
  let current = '';
  let start = -1;
  let i = 0;
  const push = () => {
    if (start !== -1) tokens.push({ value: current, col: start + 1 });
    current = '';
    start = -1;
  };
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === '#') break;
    if (/\s/.test(ch)) {
      push();
      i++;
      continue;
    }
    if (start === -1) start = i;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) fail('no closing quotation (\')', i + 1);
      current += line.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      const open = i;
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i++;
        current += line[i];
        i++;
      }
      if (i >= line.length) fail('no closing quotation (")', open + 1);
      i++;
    } else if (ch === '\\') {
      if (i + 1 >= line.length) fail('a backslash at the end of the line escapes nothing', i + 1);
      current += line[i + 1];
      i += 2;
    } else {
      current += ch;
      i++;
    }
  }
  push();
  return tokens;
}
