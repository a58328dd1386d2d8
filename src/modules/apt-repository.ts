/**
 * apt_repository: a one-line APT source (`deb [options] URI suite
 * components`) present or absent (ansible.builtin.apt_repository).
 *
 * Like Ansible, the line counts as present when any .list file has it
 * (whitespace normalised), a commented-out copy is enabled again rather than
 * duplicated, and a new line goes to /etc/apt/sources.list.d/<filename>.list,
 * the file name derived from the URI unless given. Debian 13 ships its
 * sources as deb822 (.sources) files; a repository already listed there with
 * the same type, URI, suite and components counts as present too, so the
 * module does not add a duplicate of debian.sources. The package lists are
 * refreshed after a change (update_cache, default yes).
 */
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { aptUpdateCommand } from './apt.js';
import { defineModule, type Change, type FileDiff, type Plan } from './types.js';

export const SOURCES_DIR = '/etc/apt/sources.list.d';
const VALID_TYPES = new Set(['deb', 'deb-src']);

export interface SourceFile {
  path: string;
  /** permission bits as stat %a prints them */
  mode: string;
  content: string;
}

const M = '@@tsible-file';

const SOURCES_SCRIPT = `for f in /etc/apt/sources.list ${SOURCES_DIR}/*.list ${SOURCES_DIR}/*.sources; do
  [ -f "$f" ] || continue
  printf '%s %s %s\\n' '${M}' "$(stat -L -c %a "$f")" "$f"
  cat "$f"
  echo
done
true`;

export function parseSourceFiles(stdout: string): SourceFile[] {
  const files: SourceFile[] = [];
  const chunks = stdout.split(`${M} `).slice(1);
  for (const chunk of chunks) {
    const nl = chunk.indexOf('\n');
    const head = nl < 0 ? chunk : chunk.slice(0, nl);
    const sp = head.indexOf(' ');
    const body = nl < 0 ? '' : chunk.slice(nl + 1);
    // The script adds one newline after each file.
    files.push({ mode: head.slice(0, sp), path: head.slice(sp + 1), content: body.endsWith('\n') ? body.slice(0, -1) : body });
  }
  return files;
}

export const aptSourcesFact: Fact<void, SourceFile[]> = {
  name: 'apt_sources',
  command: () => ShellCommand.script(SOURCES_SCRIPT),
  parse: (out) => parseSourceFiles(out.stdout),
};

// ------------------------------------------------------------------ lines

export interface SourceLine {
  valid: boolean;
  enabled: boolean;
  /** the source, whitespace normalised: `deb [signed-by=/k.gpg] http://x trixie main` */
  source: string;
  comment: string;
}

/** Collapses whitespace, also inside the [options]. */
export function normaliseSource(text: string): string {
  return text
    .trim()
    .replace(/\[\s*([^\]]*?)\s*\]/g, (_m, inner: string) => `[${inner.split(/\s+/).join(' ')}]`)
    .split(/\s+/)
    .join(' ');
}

/** Ansible's SourcesList._parse: a leading # disables, a later # starts a comment. */
export function parseSourceLine(line: string): SourceLine {
  let text = line.trim();
  let enabled = true;
  let comment = '';
  if (text.startsWith('#')) {
    enabled = false;
    text = text.slice(1);
  }
  const i = text.indexOf('#');
  if (i > 0) {
    comment = text.slice(i + 1).trim();
    text = text.slice(0, i);
  }
  const source = normaliseSource(text);
  const first = source.split(' ')[0] ?? '';
  return { valid: VALID_TYPES.has(first), enabled, source, comment };
}

/** The .list file name Ansible picks: the URI without scheme and credentials, non-alphanumerics as `_`. */
export function suggestFilename(repo: string): string {
  let line = repo.replace(/\[[^\]]+\]/g, '').replace(/\w+:\/\//g, '');
  const parts = line.split(/\s+/).filter((p) => p !== '' && !VALID_TYPES.has(p));
  let first = parts[0] ?? '';
  if (first.includes('@')) first = first.slice(first.indexOf('@') + 1);
  line = first.replace(/[^a-zA-Z0-9]/g, ' ').split(/\s+/).filter(Boolean).join('_');
  return line;
}

interface Entry {
  type: string;
  uri: string;
  suite: string;
  components: string[];
}

const trimSlash = (u: string) => u.replace(/\/+$/, '');

function entryOf(source: string): Entry | undefined {
  const words = source.replace(/\[[^\]]*\]/g, ' ').split(/\s+/).filter(Boolean);
  const [type, uri, suite, ...components] = words;
  if (!type || !uri || !suite) return undefined;
  return { type, uri: trimSlash(uri), suite, components: [...components].sort() };
}

/** The one-line equivalents of the enabled stanzas of a deb822 .sources file. */
export function deb822Entries(content: string): Entry[] {
  const out: Entry[] = [];
  for (const stanza of content.split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    let key = '';
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m) {
        key = m[1]!.toLowerCase();
        fields[key] = m[2]!;
      } else if (/^\s/.test(line) && key) fields[key] += ' ' + line.trim();
    }
    if (!fields.types || !fields.uris || !fields.suites) continue;
    if (/^(no|false|0)$/i.test((fields.enabled ?? 'yes').trim())) continue;
    const comps = (fields.components ?? '').split(/\s+/).filter(Boolean).sort();
    for (const type of fields.types.split(/\s+/).filter(Boolean))
      for (const uri of fields.uris.split(/\s+/).filter(Boolean))
        for (const suite of fields.suites.split(/\s+/).filter(Boolean)) out.push({ type, uri: trimSlash(uri), suite, components: comps });
  }
  return out;
}

const sameEntry = (a: Entry, b: Entry) => a.type === b.type && a.uri === b.uri && a.suite === b.suite && a.components.join(' ') === b.components.join(' ');

function renderLine(l: SourceLine): string {
  return `${l.enabled ? '' : '# '}${l.source}${l.comment ? ` # ${l.comment}` : ''}`;
}

export interface RepositoryEdit {
  /** new content per file path; null removes the file */
  files: Map<string, string | null>;
  added: string[];
  removed: string[];
  /** files where a commented-out copy is enabled */
  enabled: string[];
  /** why nothing changes */
  reason?: string;
}

/**
 * Adds or removes a source line across the given files (pure). New lines go
 * to `target`; only the lines concerned are rewritten.
 */
export function editSources(files: SourceFile[], repo: string, state: 'present' | 'absent', target: string): RepositoryEdit {
  const source = normaliseSource(repo);
  const out: RepositoryEdit = { files: new Map(), added: [], removed: [], enabled: [] };
  const lists = files.filter((f) => !f.path.endsWith('.sources'));
  const split = (c: string) => (c === '' ? [] : c.replace(/\n$/, '').split('\n'));
  if (state === 'present') {
    const enabledIn = lists.filter((f) => split(f.content).some((l) => {
      const p = parseSourceLine(l);
      return p.valid && p.enabled && p.source === source;
    }));
    if (enabledIn.length) {
      out.reason = `${source} is in ${enabledIn.map((f) => f.path).join(', ')}`;
      return out;
    }
    const want = entryOf(source);
    const in822 = want ? files.filter((f) => f.path.endsWith('.sources') && deb822Entries(f.content).some((e) => sameEntry(e, want))) : [];
    if (in822.length) {
      out.reason = `${source} is in ${in822.map((f) => f.path).join(', ')} (deb822)`;
      return out;
    }
    // Enable commented-out copies, like Ansible.
    for (const f of lists) {
      const lines = split(f.content);
      let touched = false;
      const next = lines.map((l) => {
        const p = parseSourceLine(l);
        if (p.valid && !p.enabled && p.source === source) {
          touched = true;
          return renderLine({ ...p, enabled: true });
        }
        return l;
      });
      if (touched) {
        out.files.set(f.path, next.join('\n') + '\n');
        out.enabled.push(f.path);
      }
    }
    if (out.files.size === 0) {
      const existing = files.find((f) => f.path === target);
      const lines = existing ? split(existing.content) : [];
      out.files.set(target, [...lines, source].join('\n') + '\n');
    }
    out.added.push(source);
    return out;
  }
  for (const f of lists) {
    const lines = split(f.content);
    const next = lines.filter((l) => {
      const p = parseSourceLine(l);
      return !(p.valid && p.enabled && p.source === source);
    });
    if (next.length !== lines.length) {
      // Ansible deletes a file that has no line left.
      out.files.set(f.path, next.length === 0 ? null : next.join('\n') + '\n');
    }
  }
  if (out.files.size) out.removed.push(source);
  else out.reason = `${source} is in no .list file`;
  return out;
}

export default defineModule({
  name: 'apt_repository',
  collections: ['ansible.builtin'],
  description:
    'A one-line APT source present or absent, in /etc/apt/sources.list.d/<filename>.list; refreshes the package lists after a change. A repository already in a deb822 .sources file (Debian 13) counts as present. For new repositories on Debian 13 prefer deb822_repository.',
  args: {
    repo: { type: 'str', required: true, description: 'The source line, e.g. "deb [signed-by=/etc/apt/keyrings/x.gpg] http://repo.example.org/debian trixie main".' },
    state: { type: 'str', default: 'present', choices: ['present', 'absent'] as const, description: 'Whether the line is there.' },
    filename: { type: 'str', description: 'The file in sources.list.d, without .list (default: from the URI, like Ansible: deb.example.org/debian → deb_example_org_debian).' },
    mode: { type: 'mode', description: 'Mode of a newly created file (default 0644).' },
    update_cache: { type: 'bool', default: true, aliases: ['update-cache'], description: 'Refresh the package lists (apt-get update) after a change.' },
    update_cache_retries: { type: 'int', default: 5, description: 'Accepted for compatibility; the refresh runs once and fails the task when it fails.' },
    update_cache_retry_max_delay: { type: 'int', default: 12, description: 'Accepted for compatibility (see update_cache_retries).' },
    validate_certs: { type: 'bool', default: true, description: 'Accepted for compatibility (only used for Ubuntu PPAs, which tsible does not support).' },
    install_python_apt: { type: 'bool', default: true, description: 'Accepted for compatibility; tsible needs no Python on the host.' },
    codename: { type: 'str', description: 'Accepted for compatibility (PPAs only).' },
  },
  returns: { repo: 'the normalised source line', sources_added: 'files that gained the line', sources_removed: 'files that lost it', dest: 'the file a new line goes to' },
  example: [
    '- name: HTCondor repository',
    '  ansible.builtin.apt_repository:',
    '    repo: deb [signed-by=/etc/apt/keyrings/htcondor.gpg] https://research.cs.wisc.edu/htcondor/repo/debian/23.x trixie main',
    '    filename: htcondor',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (args.repo.trim().startsWith('ppa:')) throw new ArgError('Ubuntu PPAs are not supported; give the deb line', 'repo');
    const p = parseSourceLine(args.repo);
    if (!p.valid || !p.enabled) throw new ArgError(`Invalid repository string: ${args.repo} (expected "deb URI suite [components]" or "deb-src ...")`, 'repo');
    if (!entryOf(p.source)) throw new ArgError(`Invalid repository string: ${args.repo} (a URI and a suite are needed)`, 'repo');
    if (args.filename !== undefined && (args.filename.trim() === '' || args.filename.includes('\0'))) throw new ArgError('filename must not be empty', 'filename');
  },
  facts: () => ({ sources: factRequest(aptSourcesFact, undefined) }),
  plan(args, facts): Plan {
    const source = normaliseSource(parseSourceLine(args.repo).source);
    const name = args.filename ?? suggestFilename(source);
    const target = name.includes('/') ? name : `${SOURCES_DIR}/${name}.list`;
    const edit = editSources(facts.sources, source, args.state, target);
    const result: Record<string, unknown> = { repo: source, dest: target, sources_added: [] as string[], sources_removed: [] as string[] };
    if (edit.files.size === 0) return { changes: [], noopReason: edit.reason ?? 'nothing to do', result };
    const changes: Change[] = [];
    const diff: FileDiff[] = [];
    for (const [path, content] of edit.files) {
      const before = facts.sources.find((f) => f.path === path);
      if (content === null) {
        changes.push({ kind: 'exec', command: sh`rm -f ${path}`, describe: `remove ${path} (no source left in it)` });
        (result.sources_removed as string[]).push(path);
      } else {
        const isNew = !before;
        changes.push({
          kind: 'write',
          path,
          content,
          ...(isNew ? { mode: args.mode ?? '0644' } : {}),
          describe: args.state === 'present' ? `${edit.enabled.includes(path) ? 'enable' : 'add'} "${source}" in ${path}` : `remove "${source}" from ${path}`,
        });
        (result[args.state === 'present' ? 'sources_added' : 'sources_removed'] as string[]).push(path);
      }
      diff.push({ path, before: before?.content ?? '', after: content ?? '' });
    }
    if (args.update_cache) changes.push({ kind: 'exec', command: aptUpdateCommand(600), describe: 'refresh the package lists (apt-get update)' });
    return { changes, result, diff };
  },
});
