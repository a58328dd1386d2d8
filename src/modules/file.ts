/**
 * file: a path's type (file, directory, link, hard link, absent, touched)
 * and its mode, owner and group.
 *
 * The plan reads one `fileState` fact (two for links: the path and the link
 * source) and compares. Mode differences are planned by computing the mode
 * Ansible would set (symbolic modes included, with the remote umask), so a
 * symbolic mode that is already satisfied is not re-applied every run. With
 * `recurse`, the fact lists the distinct (type, mode, owner) combinations
 * below the directory, so a tree that already matches costs no change.
 *
 * This file also holds the attribute helpers the content modules (copy,
 * template, lineinfile, blockinfile) share: Ansible's "file common
 * arguments" live in one place there too.
 */
import { posix } from 'node:path';
import { sh } from '../util/shell.js';
import { factRequest, type FactRequest } from '../facts/types.js';
import { fileStateFact, followed, formatMode, type FileStat, type FileState, type PresentFile } from '../facts/file.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type FileDiff, type Plan } from './types.js';

// ------------------------------------------------------------------ modes

const PERM_BITS = 0o7777;

/**
 * The mode bits a `mode` argument gives a path whose bits are `current`:
 * an octal mode as it is, a symbolic one computed exactly like Ansible's
 * `_symbolic_mode_to_octal` (clauses in order; no "who" means "a" minus the
 * umask; X counts the execute bits as they are at that clause).
 */
export function resolveMode(mode: string, current: number, isDir: boolean, umask: number): number {
  if (/^0?[0-7]{1,4}$/.test(mode)) return parseInt(mode, 8);
  let bits = current & PERM_BITS;
  for (const clause of mode.split(',')) {
    const ops = clause.match(/[-+=]/g) ?? [];
    const parts = clause.split(/[-+=]/);
    let users = parts.shift() ?? '';
    if (ops.length === 0) throw new ArgError(`bad symbolic permission for mode: ${clause}`, 'mode');
    const useUmask = users === '';
    users = [...new Set((users === '' ? 'a' : users).replace(/a/g, 'ugo'))].join('');
    if (/[^ugo]/.test(users)) throw new ArgError(`bad symbolic permission for mode: ${clause}`, 'mode');
    parts.forEach((perms, i) => {
      if (/[^rwxXstugo]/.test(perms)) throw new ArgError(`bad symbolic permission for mode: ${clause}`, 'mode');
      for (const user of users) {
        const apply = [...perms].reduce((acc, p) => acc | permBits(user, p, useUmask, bits, isDir, umask), 0);
        bits = applyOperation(user, ops[i]!, apply, bits);
      }
    });
  }
  return bits;
}

const SHIFT: Record<string, number> = { u: 6, g: 3, o: 0 };

function permBits(user: string, perm: string, useUmask: boolean, prev: number, isDir: boolean, umask: number): number {
  const shift = SHIFT[user]!;
  const keep = useUmask ? ~umask & PERM_BITS : PERM_BITS;
  switch (perm) {
    case 'r':
      return (4 << shift) & keep;
    case 'w':
      return (2 << shift) & keep;
    case 'x':
      return (1 << shift) & keep;
    case 'X':
      return isDir || (prev & 0o111) !== 0 ? 1 << shift : 0;
    case 's':
      return user === 'u' ? 0o4000 : user === 'g' ? 0o2000 : 0;
    case 't':
      return user === 'o' ? 0o1000 : 0;
    default: {
      // u, g, o: copy that class's current bits
      const from = SHIFT[perm]!;
      return ((prev >> from) & 7) << shift;
    }
  }
}

function applyOperation(user: string, op: string, apply: number, current: number): number {
  if (op === '+') return current | apply;
  if (op === '-') return current & ~apply;
  const mask = user === 'u' ? 0o4700 : user === 'g' ? 0o2070 : 0o1007;
  return (current & (mask ^ PERM_BITS)) | apply;
}

/** The mode a new file or directory gets: the asked one (relative to the umask default) or the umask default. */
export function newPathMode(mode: string | undefined, umask: number, isDir: boolean): number {
  const base = (isDir ? 0o777 : 0o666) & ~umask;
  return mode === undefined || mode === 'preserve' ? base : resolveMode(mode, base, isDir, umask);
}

/** An owner or group as asked (name or numeric id) against what the host reports. */
export function sameId(wanted: string, name: string, id: number): boolean {
  return wanted === name || wanted === String(id);
}

// ------------------------------------------------------------------ attributes

export interface WantedAttrs {
  mode?: string;
  owner?: string;
  group?: string;
}

export interface AttrPlan {
  changes: Change[];
  /** the attributes that differ, before and after (for diffs and messages) */
  before: Record<string, string>;
  after: Record<string, string>;
}

/**
 * chown/chmod changes that bring an existing path to the asked attributes.
 * chown comes first: it clears setuid/setgid bits, which chmod then sets.
 * For a link itself (`link`), ownership is changed with -h and the mode is
 * left alone (Linux has no link modes).
 */
export function attributeChanges(path: string, st: FileStat, umask: number, want: WantedAttrs, opts: { link?: boolean } = {}): AttrPlan {
  const out: AttrPlan = { changes: [], before: {}, after: {} };
  const owner = want.owner !== undefined && !sameId(want.owner, st.owner, st.uid) ? want.owner : undefined;
  const group = want.group !== undefined && !sameId(want.group, st.group, st.gid) ? want.group : undefined;
  if (owner !== undefined || group !== undefined) {
    const who = `${owner ?? ''}${group !== undefined ? ':' + group : ''}`;
    const argv = [...(opts.link ? ['-h'] : []), who, '--', path];
    out.changes.push({ kind: 'exec', command: sh`chown ${argv}`, describe: `chown ${opts.link ? '-h ' : ''}${who} ${path} (was ${st.owner}:${st.group})` });
    if (owner !== undefined) {
      out.before.owner = st.owner;
      out.after.owner = owner;
    }
    if (group !== undefined) {
      out.before.group = st.group;
      out.after.group = group;
    }
  }
  if (want.mode !== undefined && want.mode !== 'preserve' && !opts.link) {
    const current = parseInt(st.mode, 8);
    const target = resolveMode(want.mode, current, st.type === 'directory', umask);
    // chown drops setuid/setgid: re-apply the mode when it had them, even if it looked right.
    const dropped = (owner !== undefined || group !== undefined) && (current & 0o6000) !== 0 && st.type !== 'directory';
    if (target !== current || dropped) {
      const m = formatMode(target);
      out.changes.push({ kind: 'exec', command: sh`chmod ${m} -- ${path}`, describe: `chmod ${m} ${path} (was ${st.mode})` });
      out.before.mode = st.mode;
      out.after.mode = m;
    }
  }
  return out;
}

/** The attributes a path will have after the plan: for `register` results. */
export function predictedAttrs(st: FileStat | undefined, umask: number, want: WantedAttrs, isDir: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const mode = st ? (want.mode && want.mode !== 'preserve' ? resolveMode(want.mode, parseInt(st.mode, 8), isDir, umask) : parseInt(st.mode, 8)) : newPathMode(want.mode, umask, isDir);
  out.mode = formatMode(mode);
  if (want.owner !== undefined) out.owner = want.owner;
  else if (st) out.owner = st.owner;
  if (want.group !== undefined) out.group = want.group;
  else if (st) out.group = st.group;
  if (st && (want.owner === undefined || sameId(want.owner, st.owner, st.uid))) out.uid = st.uid;
  if (st && (want.group === undefined || sameId(want.group, st.group, st.gid))) out.gid = st.gid;
  if (st) out.size = st.size;
  return out;
}

// ------------------------------------------------------------------ content

export interface ContentWrite {
  /** where the content goes (a link's real path when links are followed) */
  path: string;
  /** the state of that path (followed) */
  state: FileState;
  content: Buffer;
  /** the content already there is this one */
  same: boolean;
  want: WantedAttrs;
  backup?: boolean;
  validate?: string;
  /** the write's one-line description */
  describe: string;
}

export interface ContentPlan {
  changes: Change[];
  contentChanged: boolean;
  attrsChanged: boolean;
  /** the mode the file will have */
  mode?: string;
}

/**
 * One write when the content differs (with the asked mode, owner and group
 * applied to the temp file before it is renamed into place), else only the
 * chown/chmod the attributes need. The content modules all end here.
 */
export function contentChanges(w: ContentWrite): ContentPlan {
  const st = w.state;
  const regular = st.exists && st.type !== 'link' && st.type !== 'directory';
  if (!w.same || !regular) {
    let mode: string | undefined;
    if (w.want.mode !== undefined && w.want.mode !== 'preserve') {
      mode = formatMode(regular ? resolveMode(w.want.mode, parseInt(st.mode, 8), false, st.umask) : newPathMode(w.want.mode, st.umask, false));
    } else if (!st.exists) {
      // A new file gets what the remote umask gives (Ansible: 0666 & ~umask), stated explicitly.
      mode = formatMode(newPathMode(undefined, st.umask, false));
    }
    const change: Change = { kind: 'write', path: w.path, content: w.content, describe: w.describe };
    if (mode !== undefined) change.mode = mode;
    if (w.want.owner !== undefined) change.owner = w.want.owner;
    if (w.want.group !== undefined) change.group = w.want.group;
    if (w.backup && st.exists) change.backup = true;
    if (w.validate) change.validate = w.validate;
    return { changes: [change], contentChanged: true, attrsChanged: false, mode: mode ?? (regular ? st.mode : formatMode(newPathMode(undefined, st.umask, false))) };
  }
  const attrs = attributeChanges(w.path, st, st.umask, w.want);
  return { changes: attrs.changes, contentChanged: false, attrsChanged: attrs.changes.length > 0, mode: attrs.after.mode ?? st.mode };
}

/**
 * mkdir -p for the directories missing above `path`, with the asked mode,
 * owner and group on each directory it creates (what Ansible does for
 * `file state=directory` and for `copy` into `dir/`). `ancestor` is the
 * deepest existing one, from the fact.
 */
export function makeDirsChanges(dir: string, ancestor: string, umask: number, want: WantedAttrs): Change[] {
  const created: string[] = [];
  for (let d = dir; d !== ancestor && d !== posix.dirname(d); d = posix.dirname(d)) created.unshift(d);
  if (created.length === 0) return [];
  const changes: Change[] = [{ kind: 'exec', command: sh`mkdir -p -- ${dir}`, describe: `mkdir -p ${dir}` }];
  if (want.owner !== undefined || want.group !== undefined) {
    const who = `${want.owner ?? ''}${want.group !== undefined ? ':' + want.group : ''}`;
    changes.push({ kind: 'exec', command: sh`chown ${who} -- ${created}`, describe: `chown ${who} ${created.join(' ')}` });
  }
  if (want.mode !== undefined && want.mode !== 'preserve') {
    const m = formatMode(newPathMode(want.mode, umask, true));
    if (m !== formatMode(newPathMode(undefined, umask, true)) || want.owner !== undefined || want.group !== undefined) {
      changes.push({ kind: 'exec', command: sh`chmod ${m} -- ${created}`, describe: `chmod ${m} ${created.join(' ')}` });
    }
  }
  return changes;
}

/** Text that is safe to show in a diff, or undefined for binary content. */
export function diffText(content: Buffer | undefined): string | undefined {
  if (content === undefined || content.includes(0)) return undefined;
  const text = content.toString('utf8');
  return text.includes('\uFFFD') && !content.toString('latin1').includes('\uFFFD') ? undefined : text;
}

// ------------------------------------------------------------------ the module

export type FileStateName = 'absent' | 'file' | 'directory' | 'link' | 'hard' | 'touch';

/** Ansible's get_state(): what a path is now, in the module's vocabulary. */
export function currentState(st: FileState): 'absent' | 'file' | 'directory' | 'link' | 'hard' {
  if (!st.exists) return 'absent';
  if (st.type === 'link') return 'link';
  if (st.type === 'directory') return 'directory';
  return st.nlink > 1 ? 'hard' : 'file';
}

/** The `src` of a link as a path on the host: relative sources are relative to the link's directory. */
export function linkSourcePath(path: string, src: string): string {
  return posix.isAbsolute(src) ? src : posix.join(posix.dirname(path), src);
}

function ansibleJson(obj: Record<string, unknown>): string {
  const sorted = Object.fromEntries(Object.entries(obj).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify(sorted, null, 4) + '\n';
}

/** Ansible's file diff: the changed properties as JSON, before and after. */
function propertyDiff(path: string, before: Record<string, unknown>, after: Record<string, unknown>): FileDiff[] {
  return [{ path, before: ansibleJson({ path, ...before }), after: ansibleJson({ path, ...after }) }];
}

type TimeSetting = 'now' | 'preserve';

function timeSetting(value: string | undefined, state: FileStateName, name: string): TimeSetting {
  if (value === undefined) return state === 'touch' ? 'now' : 'preserve';
  if (value === 'now' || value === 'preserve') return value;
  throw new ArgError(`${name}: only "now" and "preserve" are supported, got ${JSON.stringify(value)}`, name);
}

function touchChange(path: string, mtime: TimeSetting, atime: TimeSetting, follow: boolean): Change | undefined {
  if (mtime === 'preserve' && atime === 'preserve') return undefined;
  const which = mtime === 'now' && atime === 'now' ? [] : mtime === 'now' ? ['-m'] : ['-a'];
  const argv = ['-c', ...(follow ? [] : ['-h']), ...which, '--', path];
  return { kind: 'exec', command: sh`touch ${argv}`, describe: `touch ${[...which, path].join(' ')}` };
}

const STATES = ['absent', 'directory', 'file', 'hard', 'link', 'touch'] as const;

const fileModule = defineModule({
  name: 'file',
  collections: ['ansible.builtin'],
  description:
    'Manage a path: make it a file, directory, symbolic or hard link, touch it or remove it, and set its mode, owner and group (recursively for directories). Without state, an existing path keeps its type and only its attributes are managed.',
  args: {
    path: { type: 'path', required: true, aliases: ['dest', 'name'], description: 'The path to manage.' },
    state: {
      type: 'str',
      choices: STATES,
      description:
        'absent (remove it, recursively for directories), directory (create it with its parents), file (only manage attributes; the file must exist), link (symbolic link to src), hard (hard link to src), touch (create an empty file or update its times). Default: the current type of an existing path, link when src is given, else file.',
    },
    src: { type: 'path', description: 'What a link points to (state=link/hard). A relative src of a symbolic link is relative to the link\'s directory.' },
    mode: { type: 'mode', description: "Permissions: octal ('0644') or symbolic ('u=rwX,g=rX,o='), applied like chmod." },
    owner: { type: 'str', description: 'User that should own the path (name or uid).' },
    group: { type: 'str', description: 'Group that should own the path (name or gid).' },
    recurse: { type: 'bool', default: false, description: 'With state=directory: apply mode, owner and group to everything below it too (links themselves are chowned, never followed).' },
    force: {
      type: 'bool',
      default: false,
      description: 'Links: replace an existing file or empty directory with the link, and create a symbolic link whose src does not exist (yet).',
    },
    follow: { type: 'bool', default: true, description: 'When the path is a symbolic link, manage what it points to (state=file/directory/touch) rather than the link.' },
    modification_time: { type: 'str', description: 'now or preserve. Default: now for state=touch, else preserve.' },
    modification_time_format: { type: 'str', default: '%Y%m%d%H%M.%S', description: 'Accepted for compatibility; explicit timestamps are not supported.' },
    access_time: { type: 'str', description: 'now or preserve. Default: now for state=touch, else preserve.' },
    access_time_format: { type: 'str', default: '%Y%m%d%H%M.%S', description: 'Accepted for compatibility; explicit timestamps are not supported.' },
  },
  returns: {
    path: 'the path',
    state: 'its type after the task: file, directory, link, hard, absent',
    mode: "its permissions, '0644'",
    owner: 'its owner',
    group: 'its group',
    uid: 'owner id (when known without running the task)',
    gid: 'group id (when known without running the task)',
    size: 'size in bytes',
    src: 'link source (link, hard)',
    dest: 'the path (link, hard, touch)',
  },
  example: [
    '- name: NFS export root',
    '  ansible.builtin.file:',
    '    path: /srv/nfs/home',
    '    state: directory',
    '    owner: root',
    '    mode: "0755"',
    '',
    '- name: Point /home at the export',
    '  ansible.builtin.file:',
    '    src: /srv/nfs/home',
    '    dest: /home',
    '    state: link',
    '    force: true',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (args.recurse && args.state !== undefined && args.state !== 'directory') throw new ArgError("recurse option requires state to be 'directory'", 'recurse');
    if (args.src !== undefined && args.state !== undefined && args.state !== 'link' && args.state !== 'hard') {
      throw new ArgError("src option requires state to be 'link' or 'hard'", 'src');
    }
    timeSetting(args.modification_time, (args.state ?? 'file') as FileStateName, 'modification_time');
    timeSetting(args.access_time, (args.state ?? 'file') as FileStateName, 'access_time');
    if (args.mode !== undefined && args.mode !== 'preserve' && !/^0?[0-7]{1,4}$/.test(args.mode)) resolveMode(args.mode, 0o644, false, 0o022);
  },
  facts(args): Record<string, FactRequest<FileState>> {
    const state = args.state ?? (args.src !== undefined ? 'link' : undefined);
    const linkish = state === 'link' || state === 'hard' || state === 'absent';
    const requests: Record<string, FactRequest<FileState>> = {
      path: factRequest(fileStateFact, { path: args.path, follow: !linkish && args.follow, recurse: args.recurse || undefined }),
    };
    if ((state === 'link' || state === 'hard') && args.src !== undefined) {
      const src = state === 'link' ? linkSourcePath(args.path, args.src) : args.src;
      requests.src = factRequest(fileStateFact, { path: src, follow: true });
    }
    return requests;
  },
  plan(args, facts): Plan {
    const lst = facts.path!;
    const prev = currentState(lst);
    const state: FileStateName = (args.state as FileStateName | undefined) ?? (args.src !== undefined ? 'link' : prev === 'absent' ? (args.recurse ? 'directory' : 'file') : prev === 'hard' ? 'file' : prev);
    const want: WantedAttrs = { mode: args.mode, owner: args.owner, group: args.group };
    const mtime = timeSetting(args.modification_time, state, 'modification_time');
    const atime = timeSetting(args.access_time, state, 'access_time');
    const path = args.path;
    const fail = (message: string, missing?: string): Plan => ({ changes: [], failure: missing ? { message, missing } : { message }, result: { path, state: prev } });

    switch (state) {
      case 'absent': {
        if (!lst.exists) return { changes: [], noopReason: `${path} is already absent`, result: { path, state: 'absent' } };
        const dir = lst.type === 'directory';
        return {
          changes: [{ kind: 'exec', command: dir ? sh`rm -rf -- ${path}` : sh`rm -f -- ${path}`, describe: dir ? `remove directory ${path} and everything in it` : `remove ${path}` }],
          result: { path, state: 'absent' },
          diff: propertyDiff(path, { state: prev }, { state: 'absent' }),
        };
      }

      case 'directory':
        return planDirectory(path, lst, args.follow, args.recurse, want, mtime, atime);

      case 'file':
      case 'touch': {
        const st = args.follow ? followed(lst) : lst;
        const where = args.follow && lst.exists && lst.type === 'link' && lst.realPath ? lst.realPath : path;
        if (!st.exists) {
          if (state === 'file') return fail(`file (${path}) is absent, cannot continue`, path);
          const parent = posix.dirname(where);
          if (!lst.exists && lst.ancestor && lst.ancestor.path !== parent) return fail(`Error, could not touch target: directory ${parent} does not exist`, parent);
          const changes: Change[] = [{ kind: 'exec', command: sh`touch -- ${where}`, describe: `create empty file ${where}` }];
          const mode = newPathMode(want.mode, st.umask, false);
          if (want.owner !== undefined || want.group !== undefined) {
            const who = `${want.owner ?? ''}${want.group !== undefined ? ':' + want.group : ''}`;
            changes.push({ kind: 'exec', command: sh`chown ${who} -- ${where}`, describe: `chown ${who} ${where}` });
          }
          if (want.mode !== undefined && want.mode !== 'preserve') changes.push({ kind: 'exec', command: sh`chmod ${formatMode(mode)} -- ${where}`, describe: `chmod ${formatMode(mode)} ${where}` });
          return { changes, result: { path, dest: path, state: 'file', ...predictedAttrs(undefined, st.umask, want, false), size: 0 }, diff: propertyDiff(path, { state: 'absent' }, { state: 'touch' }) };
        }
        if (state === 'file' && (st.type === 'directory' || st.type === 'link')) return fail(`file (${path}) is ${currentState(st)}, cannot continue`);
        const attrs = attributeChanges(where, st, st.umask, want, { link: st.type === 'link' });
        const touch = touchChange(where, mtime, atime, args.follow);
        const changes = [...attrs.changes, ...(touch ? [touch] : [])];
        const result = { path, ...(state === 'touch' ? { dest: path } : {}), state: currentState(st), ...predictedAttrs(st, st.umask, want, st.type === 'directory') };
        if (changes.length === 0) return { changes, noopReason: `${path} is a ${currentState(st)} with the asked attributes`, result };
        const before: Record<string, unknown> = { ...attrs.before };
        const after: Record<string, unknown> = { ...attrs.after };
        if (touch) {
          before.state = currentState(st);
          after.state = 'touch';
        }
        return { changes, result, diff: propertyDiff(path, before, after) };
      }

      case 'link':
        return planLink(path, args.src, lst, facts.src, args.force, want, mtime, atime);

      case 'hard':
        return planHard(path, args.src, lst, facts.src, args.force, want);
    }
  },
});

export default fileModule;

function planDirectory(path: string, lst: FileState, follow: boolean, recurse: boolean, want: WantedAttrs, mtime: TimeSetting, atime: TimeSetting): Plan {
  const st = follow ? followed(lst) : lst;
  // A link to a directory is managed through the link; a dangling one gets its target created.
  const where = follow && lst.exists && lst.type === 'link' && lst.realPath ? lst.realPath : path;
  if (!st.exists) {
    const ancestor = !lst.exists ? lst.ancestor : undefined;
    if (ancestor && !ancestor.isDir) return { changes: [], failure: { message: `cannot create directory ${path}: ${ancestor.path} exists and is not a directory` } };
    // Without an ancestor (a dangling link's target), mkdir -p creates whatever is missing.
    const changes = ancestor ? makeDirsChanges(where, ancestor.path, st.umask, want) : [{ kind: 'exec' as const, command: sh`mkdir -p -- ${where}`, describe: `mkdir -p ${where}` }];
    return {
      changes,
      result: { path, state: 'directory', ...predictedAttrs(undefined, st.umask, want, true) },
      diff: propertyDiff(path, { state: 'absent' }, { state: 'directory' }),
    };
  }
  if (st.type !== 'directory') return { changes: [], failure: { message: `${path} already exists as a ${currentState(st)}` }, result: { path, state: currentState(st) } };

  const attrs = attributeChanges(where, st, st.umask, want);
  const changes = [...attrs.changes];
  const reasons: string[] = [];
  if (recurse && (want.mode !== undefined || want.owner !== undefined || want.group !== undefined)) {
    const p = st as PresentFile;
    const tree = p.tree ?? [];
    const incomplete = p.treeIncomplete === true || p.tree === undefined;
    const ownerDiffers = (want.owner !== undefined || want.group !== undefined) && (incomplete || tree.some((e) => (want.owner !== undefined && !sameId(want.owner, e.owner, e.uid)) || (want.group !== undefined && !sameId(want.group, e.group, e.gid))));
    const mode = want.mode !== undefined && want.mode !== 'preserve' ? want.mode : undefined;
    const modeDiffers =
      mode !== undefined &&
      (incomplete || tree.some((e) => e.type !== 'link' && e.mode !== undefined && resolveMode(mode, parseInt(e.mode, 8), e.type === 'directory', st.umask) !== parseInt(e.mode, 8)));
    if (ownerDiffers) {
      const who = `${want.owner ?? ''}${want.group !== undefined ? ':' + want.group : ''}`;
      changes.push({ kind: 'exec', command: sh`chown -R ${who} -- ${where}`, describe: `chown -R ${who} ${where}` });
    }
    if (modeDiffers) {
      // chown -R drops setuid bits below; octal modes are re-applied as they are, symbolic ones by chmod itself.
      const m = /^0?[0-7]{1,4}$/.test(mode) ? formatMode(parseInt(mode, 8)) : mode;
      changes.push({ kind: 'exec', command: sh`chmod -R -- ${m} ${where}`, describe: `chmod -R ${m} ${where}` });
    }
    if (!ownerDiffers && !modeDiffers) reasons.push('everything below it matches');
  }
  const touch = touchChange(where, mtime, atime, true);
  if (touch) changes.push(touch);
  const result = { path, state: 'directory', ...predictedAttrs(st, st.umask, want, true) };
  if (changes.length === 0) return { changes, noopReason: [`directory ${path} exists with the asked attributes`, ...reasons].join('; '), result };
  return { changes, result, diff: propertyDiff(path, attrs.before, attrs.after) };
}

function planLink(path: string, src: string | undefined, lst: FileState, srcState: FileState | undefined, force: boolean, want: WantedAttrs, mtime: TimeSetting, atime: TimeSetting): Plan {
  const prev = currentState(lst);
  const result: Record<string, unknown> = { path, dest: path, state: 'link' };
  if (src === undefined) {
    if (prev !== 'link') return { changes: [], failure: { message: 'src is required for creating new symlinks' } };
    src = (lst as PresentFile).linkTarget;
  }
  result.src = src;
  const absrc = linkSourcePath(path, src ?? '');
  if (!force && srcState && !srcState.exists) {
    return { changes: [], failure: { message: `src file does not exist, use "force=yes" if you really want to create the link: ${absrc}`, missing: absrc }, result };
  }
  const changes: Change[] = [];
  const link = sh`ln -sfn -- ${src ?? ''} ${path}`;
  if (prev === 'directory') {
    if (!force) return { changes: [], failure: { message: `refusing to convert from directory to symlink for ${path}` }, result };
    if (!(lst as PresentFile).empty) return { changes: [], failure: { message: `the directory ${path} is not empty, refusing to convert it` }, result };
    changes.push({ kind: 'exec', command: sh`rmdir -- ${path} && ${link}`, describe: `replace empty directory ${path} with a link to ${src}` });
  } else if (prev === 'file' || prev === 'hard') {
    if (!force) return { changes: [], failure: { message: `refusing to convert from ${prev} to symlink for ${path}` }, result };
    changes.push({ kind: 'exec', command: link, describe: `replace file ${path} with a link to ${src}` });
  } else if (prev === 'absent') {
    const parent = posix.dirname(path);
    if (!lst.exists && lst.ancestor && lst.ancestor.path !== parent) return { changes: [], failure: { message: `Error while linking: directory ${parent} does not exist`, missing: parent }, result };
    changes.push({ kind: 'exec', command: link, describe: `link ${path} -> ${src}` });
  } else if ((lst as PresentFile).linkTarget !== src) {
    changes.push({ kind: 'exec', command: link, describe: `relink ${path} -> ${src} (was -> ${(lst as PresentFile).linkTarget})` });
  }
  const created = changes.length > 0;
  if (lst.exists && lst.type === 'link' && !created) {
    changes.push(...attributeChanges(path, lst, lst.umask, { owner: want.owner, group: want.group }, { link: true }).changes);
  } else if (want.owner !== undefined || want.group !== undefined) {
    const who = `${want.owner ?? ''}${want.group !== undefined ? ':' + want.group : ''}`;
    changes.push({ kind: 'exec', command: sh`chown -h ${who} -- ${path}`, describe: `chown -h ${who} ${path}` });
  }
  const touch = touchChange(path, mtime, atime, false);
  if (touch) changes.push(touch);
  if (want.owner !== undefined) result.owner = want.owner;
  if (want.group !== undefined) result.group = want.group;
  if (changes.length === 0) return { changes, noopReason: `${path} already links to ${src}`, result };
  const before: Record<string, unknown> = { state: prev };
  if (prev === 'link') before.src = (lst as PresentFile).linkTarget;
  return { changes, result, diff: created ? propertyDiff(path, before, { state: 'link', src }) : undefined };
}

function planHard(path: string, src: string | undefined, lst: FileState, srcState: FileState | undefined, force: boolean, want: WantedAttrs): Plan {
  const prev = currentState(lst);
  const result: Record<string, unknown> = { path, dest: path, state: 'hard', src };
  if (src === undefined) {
    if (prev !== 'hard') return { changes: [], failure: { message: 'src is required for creating new hardlinks' } };
    const st = lst as PresentFile;
    const attrs = attributeChanges(path, st, st.umask, want);
    if (attrs.changes.length === 0) return { changes: [], noopReason: `${path} is a hard link with the asked attributes`, result };
    return { changes: attrs.changes, result };
  }
  const s = srcState ? followed(srcState) : undefined;
  if (!s || !s.exists) return { changes: [], failure: { message: `src does not exist: ${src}`, missing: src }, result };
  const link = sh`ln -fL -- ${src} ${path}`;
  const changes: Change[] = [];
  if (prev === 'absent') {
    const parent = posix.dirname(path);
    if (!lst.exists && lst.ancestor && lst.ancestor.path !== parent) return { changes: [], failure: { message: `Error while linking: directory ${parent} does not exist`, missing: parent }, result };
    changes.push({ kind: 'exec', command: link, describe: `hard link ${path} to ${src}` });
  } else if (prev === 'directory') {
    return { changes: [], failure: { message: `refusing to replace directory ${path} with a hard link` }, result };
  } else if (prev === 'link') {
    changes.push({ kind: 'exec', command: link, describe: `replace link ${path} with a hard link to ${src}` });
  } else if (lst.exists && (lst.inode !== s.inode || lst.dev !== s.dev)) {
    if (!force) return { changes: [], failure: { message: prev === 'hard' ? 'Cannot link, different hard link exists at destination' : `Cannot link, ${prev} exists at destination` }, result };
    changes.push({ kind: 'exec', command: link, describe: `replace ${path} with a hard link to ${src}` });
  }
  const created = changes.length > 0;
  // A hard link shares the source's inode: attributes compare against the source when (re)linking.
  const base = created ? s : (lst as PresentFile);
  const attrs = attributeChanges(path, base, s.umask, want);
  changes.push(...attrs.changes);
  Object.assign(result, predictedAttrs(base, s.umask, want, false));
  if (changes.length === 0) return { changes, noopReason: `${path} is already a hard link to ${src}`, result };
  return { changes, result, diff: created ? propertyDiff(path, { state: prev }, { state: 'hard', src }) : undefined };
}
