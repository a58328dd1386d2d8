/**
 * copy: a file with given content on the host, from a controller file, from
 * `content`, or (remote_src) from another file on the host.
 *
 * The host's SHA-1 of dest is compared with the content's: an unchanged file
 * is never rewritten, and a file whose content matches but whose mode or
 * owner does not gets only chmod/chown. `planCopy` is shared with template,
 * which differs only in where the content comes from.
 *
 * Ansible's dest rules: dest ending in `/`, or an existing directory, gets
 * the file inside it under src's basename; a dest ending in `/` has its
 * missing directories created (with directory_mode), any other dest needs
 * its directory to exist.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { posix } from 'node:path';
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type FactRequest } from '../facts/types.js';
import { fileStateFact, followed, formatMode, type FileState, type PresentFile } from '../facts/file.js';
import { ArgError } from './argspec.js';
import { attributeChanges, contentChanges, diffText, makeDirsChanges, newPathMode, resolveMode, sameId, type WantedAttrs } from './file.js';
import { defineModule, type Change, type FileDiff, type ModuleContext, type Plan } from './types.js';

/** The largest current content read for a diff; larger files are only compared by checksum. */
export const DIFF_LIMIT = 256 * 1024;

export const sha1 = (b: Buffer | string): string => createHash('sha1').update(b).digest('hex');
const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');

/** The destination arguments copy and template share. */
export interface CopyDestArgs {
  dest: string;
  mode?: string;
  owner?: string;
  group?: string;
  backup: boolean;
  validate?: string;
  force: boolean;
  follow: boolean;
  directory_mode?: string;
}

/** What gets copied: the content (or, remote_src, a file on the host) and its name for directory destinations. */
export type CopySource =
  | { kind: 'content'; content: Buffer; name?: string; label?: string; mode?: string }
  | { kind: 'remote'; path: string };

/**
 * The facts a copy needs: dest itself and, when the file may go inside it
 * (dest/ or an existing directory), dest/name, plus the remote source. All
 * read in the one round trip.
 */
export function copyFacts(dest: string, name: string | undefined, remoteSrc: string | undefined, wantDiff: boolean): Record<string, FactRequest<FileState>> {
  const opts = { follow: true, checksum: 'sha1' as const, content: wantDiff ? DIFF_LIMIT : undefined };
  const requests: Record<string, FactRequest<FileState>> = { dest: factRequest(fileStateFact, { path: stripSlash(dest), ...opts }) };
  if (name !== undefined) requests.inside = factRequest(fileStateFact, { path: posix.join(dest, name), ...opts });
  if (remoteSrc !== undefined) requests.src = factRequest(fileStateFact, { path: remoteSrc, ...opts });
  return requests;
}

function stripSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

function showText(st: FileState, content: Buffer | undefined, size: number): string {
  if (!st.exists) return '';
  if (content === undefined) return `(${size > DIFF_LIMIT ? 'too large' : 'binary or unreadable'}: ${size} bytes, not shown)\n`;
  return diffText(content) ?? `(binary: ${size} bytes, not shown)\n`;
}

/** Copies a remote file over dest through a temp file in dest's directory, like the executor's atomic write. */
export function remoteCopyCommand(src: string, dest: string, o: { mode?: string; owner?: string; group?: string; backup?: boolean; validate?: string; keepDestAttrs: boolean }): ShellCommand {
  const steps: ShellCommand[] = [
    sh`t=$(mktemp "$(dirname -- ${dest})/.tsible-tmp.XXXXXX") || exit 1`,
    ShellCommand.script(`trap 'rm -f "$t"' EXIT`),
    sh`cp --preserve=mode,timestamps -- ${src} "$t" || exit 1`,
  ];
  if (o.keepDestAttrs) steps.push(sh`chmod --reference=${dest} "$t" && chown --reference=${dest} "$t" || exit 1`);
  if (o.owner !== undefined || o.group !== undefined) steps.push(sh`chown ${`${o.owner ?? ''}${o.group !== undefined ? ':' + o.group : ''}`} "$t" || exit 1`);
  if (o.mode !== undefined) steps.push(sh`chmod ${o.mode} "$t" || exit 1`);
  if (o.validate) {
    // The validate command is the playbook author's, like a shell task; only the temp path is ours.
    const parts = o.validate.split('%s');
    steps.push(ShellCommand.script(`${parts.join('"$t"')} >&2 || { echo 'validation failed' >&2; exit 3; }`));
  }
  if (o.backup) steps.push(sh`if [ -e ${dest} ]; then b=${dest}.$(date +%Y-%m-%d@%H:%M:%S)~; cp -p -- ${dest} "$b" || exit 1; fi`);
  steps.push(sh`mv -f -- "$t" ${dest}`);
  return ShellCommand.join(steps, '\n');
}

/**
 * Plans a copy: where the file goes, whether its content or only its
 * attributes differ, and the diff. Shared by copy and template.
 */
export function planCopy(args: CopyDestArgs, source: CopySource, facts: Record<string, FileState | undefined>, ctx: Pick<ModuleContext, 'wantDiff'>): Plan {
  const name = source.kind === 'content' ? source.name : posix.basename(source.path);
  const destSt = facts.dest!;
  const dirSyntax = args.dest.endsWith('/');
  const want: WantedAttrs = { mode: args.mode, owner: args.owner, group: args.group };
  const changes: Change[] = [];

  // Where the file goes.
  let final = args.dest;
  let st = destSt;
  const destTarget = followed(destSt);
  const destIsDir = destTarget.exists && destTarget.type === 'directory';
  if (dirSyntax || destIsDir) {
    if (name === undefined) return { changes: [], failure: { message: 'can not use content with a dir as dest' } };
    final = posix.join(args.dest, name);
    st = facts.inside ?? { exists: false, umask: destSt.umask };
    const dir = stripSlash(args.dest);
    if (!destSt.exists) {
      const ancestor = destSt.ancestor;
      if (ancestor && !ancestor.isDir) return { changes: [], failure: { message: `cannot create ${dir}: ${ancestor.path} is not a directory` } };
      changes.push(...makeDirsChanges(dir, ancestor?.path ?? '/', destSt.umask, { mode: args.directory_mode, owner: args.owner, group: args.group }));
    } else if (!destIsDir) {
      return { changes: [], failure: { message: `Destination ${dir} exists and is not a directory` } };
    }
  } else if (!destSt.exists && destSt.ancestor && destSt.ancestor.path !== posix.dirname(final)) {
    const dir = posix.dirname(final);
    return { changes: [], failure: { message: `Destination directory ${dir} does not exist`, missing: dir } };
  }

  const result: Record<string, unknown> = { dest: final, state: 'file' };
  if (source.kind === 'remote') result.src = source.path;
  else if (source.label !== undefined) result.src = source.label;

  if (!args.force && st.exists) {
    return { changes: [], noopReason: `${final} exists and force=no`, result };
  }

  // A link at dest is written through (follow) or replaced by the file.
  const isLink = st.exists && st.type === 'link';
  const target = isLink && args.follow ? followed(st) : st;
  const path = isLink && args.follow && (st as PresentFile).realPath ? (st as PresentFile).realPath! : final;
  if (target.exists && target.type === 'directory') return { changes: [], failure: { message: `${final} is a directory` }, result };

  let content: Buffer | undefined;
  let checksum: string;
  let sourceMode: string | undefined;
  if (source.kind === 'content') {
    content = source.content;
    checksum = sha1(content);
    sourceMode = source.mode;
    result.md5sum = md5(content);
    result.size = content.length;
  } else {
    const src = facts.src ? followed(facts.src) : undefined;
    if (!src || !src.exists) return { changes: [], failure: { message: `Source ${source.path} not found`, missing: source.path }, result };
    if (src.type === 'directory') return { changes: [], failure: { message: `remote_src: copying the directory ${source.path} is not supported; copy its files one by one` }, result };
    if (!src.checksum) return { changes: [], failure: { message: `Source ${source.path} not readable` }, result };
    checksum = src.checksum;
    sourceMode = src.mode;
    content = src.content;
    result.size = src.size;
  }
  result.checksum = checksum;

  const mode = want.mode === 'preserve' ? sourceMode : want.mode;
  const effective = { ...want, mode };
  const same = target.exists && !(isLink && !args.follow) && target.checksum === checksum;
  const regular = target.exists && target.type !== 'link';
  const what = !target.exists ? `create ${path}` : isLink && !args.follow ? `replace link ${final} with a file` : `update ${path}`;

  if (source.kind === 'content') {
    const plan = contentChanges({ path, state: target, content: source.content, same, want: effective, backup: args.backup, validate: args.validate, describe: `${what} (${source.content.length} bytes, sha1 ${checksum.slice(0, 12)})` });
    changes.push(...plan.changes);
  } else if (!same) {
    const m = mode !== undefined ? formatMode(regular ? resolveMode(mode, parseInt((target as PresentFile).mode, 8), false, target.umask) : newPathMode(mode, target.umask, false)) : undefined;
    changes.push({
      kind: 'exec',
      command: remoteCopyCommand(source.path, path, { mode: m, owner: want.owner, group: want.group, backup: args.backup && st.exists, validate: args.validate, keepDestAttrs: regular }),
      describe: `${what} from ${source.path} (sha1 ${checksum.slice(0, 12)})`,
    });
  } else {
    changes.push(...attributeChanges(path, target as PresentFile, target.umask, effective).changes);
  }

  // What the file will look like, for register.
  const cur = target.exists ? (target as PresentFile) : undefined;
  const base = cur && regular ? parseInt(cur.mode, 8) : (source.kind === 'remote' && sourceMode ? parseInt(sourceMode, 8) : newPathMode(undefined, target.umask, false));
  result.mode = formatMode(mode !== undefined ? resolveMode(mode, base, false, target.umask) : base);
  result.owner = want.owner ?? cur?.owner;
  result.group = want.group ?? cur?.group;
  if (cur && (want.owner === undefined || sameId(want.owner, cur.owner, cur.uid))) result.uid = cur.uid;
  if (cur && (want.group === undefined || sameId(want.group, cur.group, cur.gid))) result.gid = cur.gid;

  if (changes.length === 0) return { changes, noopReason: `${final} has the same content (sha1 ${checksum.slice(0, 12)}) and attributes`, result };
  let diff: FileDiff[] | undefined;
  if (ctx.wantDiff && !same) {
    const before = showText(target, target.exists ? (target as PresentFile).content : undefined, cur?.size ?? 0);
    const after = content !== undefined ? (diffText(content) ?? `(binary: ${content.length} bytes, not shown)\n`) : `(${String(result.size)} bytes from ${source.kind === 'remote' ? source.path : 'src'}, not shown)\n`;
    diff = [{ path: final, before, after, beforeHeader: `${final} (content)`, afterHeader: source.kind === 'content' && source.label ? source.label : `${final} (content)` }];
  }
  return { changes, result, diff };
}

/** Python's json.dumps() (default separators, ASCII-only): how Ansible writes a dict or list `content`. */
export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? 'Infinity' : value < 0 ? '-Infinity' : 'NaN';
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (Array.isArray(value)) return '[' + value.map(pythonJson).join(', ') + ']';
  if (typeof value === 'object') return '{' + Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`).join(', ') + '}';
  return JSON.stringify(String(value));
}

/** The mode of a controller file, for mode=preserve. */
export function controllerMode(ctx: Pick<ModuleContext, 'findControllerFile'>, path: string, kind: 'files' | 'templates'): string | undefined {
  try {
    return formatMode(statSync(ctx.findControllerFile(path, kind)).mode);
  } catch {
    return undefined;
  }
}

export const DEST_ARGS = {
  dest: { type: 'path', required: true, description: 'Where the file goes on the host. Ending in / (or an existing directory): inside it, under the source\'s name.' },
  mode: { type: 'mode', description: "Permissions of the file: octal ('0644'), symbolic ('u=rw,g=r'), or preserve (the source's)." },
  owner: { type: 'str', description: 'User that should own the file (name or uid).' },
  group: { type: 'str', description: 'Group that should own the file (name or gid).' },
  backup: { type: 'bool', default: false, description: 'Keep the previous file as DEST.<timestamp>~ when it is replaced.' },
  validate: { type: 'str', description: 'A command run on the new file (%s is its temp path) before it replaces dest, e.g. "visudo -cf %s".' },
  force: { type: 'bool', default: true, aliases: ['thirsty'], description: 'Replace a file whose content differs. With no, an existing dest is left as it is.' },
  follow: { type: 'bool', default: false, description: 'When dest is a symbolic link, write the file it points to (else the link is replaced by the file).' },
  directory_mode: { type: 'mode', description: 'Mode of the directories created for a dest ending in /.' },
} as const;

export default defineModule({
  name: 'copy',
  collections: ['ansible.builtin'],
  description:
    'Put a file on the host: from the controller (src, searched in the role files/ dir), from `content`, or from another file on the host (remote_src). An unchanged file is never rewritten; a mode or owner difference alone is fixed with chmod/chown.',
  args: {
    src: { type: 'path', description: 'The file to copy: a controller path (relative paths are looked up in files/), or a path on the host with remote_src. Directories are not supported yet.' },
    content: { type: 'raw', description: 'The file content, instead of src (a mapping or list is written as JSON).' },
    ...DEST_ARGS,
    remote_src: { type: 'bool', default: false, description: 'src is a file on the host.' },
    local_follow: { type: 'bool', default: true, description: 'Accepted for compatibility: controller links are always followed.' },
    checksum: { type: 'str', description: 'Expected SHA-1 of the source; the task fails when it differs.' },
  },
  returns: {
    dest: 'the file written',
    src: 'the source',
    checksum: 'SHA-1 of the content',
    md5sum: 'MD5 of the content (controller sources)',
    size: 'size in bytes',
    mode: 'its mode afterwards',
    owner: 'its owner',
    group: 'its group',
    uid: 'owner id (when unchanged)',
    gid: 'group id (when unchanged)',
    state: 'file',
    backup_file: 'the backup, when one was made',
  },
  example: [
    '- name: Message of the day',
    '  ansible.builtin.copy:',
    '    src: motd',
    '    dest: /etc/motd',
    "    mode: '0644'",
    '',
    '- name: NIS domain',
    '  ansible.builtin.copy:',
    '    content: "{{ nis_domain }}\\n"',
    '    dest: /etc/defaultdomain',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (args.src === undefined && args.content === undefined) throw new ArgError('src (or content) is required', 'src');
    if (args.src !== undefined && args.content !== undefined) throw new ArgError('src and content are mutually exclusive', 'content');
    if (args.remote_src && args.src === undefined) throw new ArgError('remote_src needs src', 'remote_src');
    if (args.validate !== undefined && !args.validate.includes('%s')) throw new ArgError(`validate must contain %s: ${args.validate}`, 'validate');
    if (args.checksum !== undefined && !/^[0-9a-fA-F]{40}$/.test(args.checksum)) throw new ArgError(`checksum must be a SHA-1 (40 hex digits), got ${JSON.stringify(args.checksum)}`, 'checksum');
    if (args.src !== undefined && args.src.endsWith('/')) throw new ArgError('copying a directory (src ending in /) is not supported yet', 'src');
  },
  facts(args, ctx) {
    const name = args.src !== undefined ? posix.basename(args.src) : undefined;
    return copyFacts(args.dest, name, args.remote_src ? args.src : undefined, ctx.wantDiff);
  },
  async plan(args, facts, ctx) {
    let source: CopySource;
    if (args.remote_src) source = { kind: 'remote', path: args.src! };
    else if (args.src !== undefined) {
      let content: Buffer;
      try {
        content = await ctx.readControllerFile(args.src, 'files');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EISDIR') return { changes: [], failure: { message: `${args.src} is a directory: copying directories is not supported yet` } };
        throw err;
      }
      source = { kind: 'content', content, name: posix.basename(args.src), label: args.src, mode: args.mode === 'preserve' ? controllerMode(ctx, args.src, 'files') : undefined };
    } else {
      const c = args.content;
      source = { kind: 'content', content: Buffer.from(typeof c === 'string' ? c : typeof c === 'object' && c !== null ? pythonJson(c) : String(c)) };
    }
    if (args.checksum !== undefined && source.kind === 'content' && sha1(source.content) !== args.checksum.toLowerCase()) {
      return { changes: [], failure: { message: `Copied file does not match the expected checksum (${args.checksum}, the source has ${sha1(source.content)})` } };
    }
    return planCopy(args, source, facts as Record<string, FileState | undefined>, ctx);
  },
});
