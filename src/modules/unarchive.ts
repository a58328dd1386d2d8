/**
 * unarchive: the contents of a tar (plain, gz, bz2/tbz, xz) or zip archive,
 * present in a directory.
 *
 * "Already extracted" means, for every member of the archive (after
 * include/exclude and --strip-components): the path exists in dest with the
 * same type (file, directory, symlink), regular files with the same size,
 * and, when owner/group/mode are given, those too. Nothing is written into
 * dest to remember an extraction. Members are listed on the host (`tar -tvf`,
 * `unzip -Z`), so every format the host's tar understands works.
 *
 * An archive from the controller is uploaded to a cache directory on the host
 * (/var/cache/tsible/unarchive) and stays there: the next run compares its
 * checksum with the controller's file, and lists it, without uploading again.
 * A changed archive on the controller is uploaded and extracted again.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type Plan } from './types.js';

export const CACHE_DIR = '/var/cache/tsible/unarchive';

// ------------------------------------------------------------------ listings

export type MemberType = 'file' | 'dir' | 'link' | 'hardlink' | 'other';

export interface Member {
  name: string;
  type: MemberType;
  size: number;
}

export interface DestStat {
  size: number;
  /** stat's %F: regular file, regular empty file, directory, symbolic link, ... */
  kind: string;
  uid: string;
  user: string;
  gid: string;
  group: string;
  /** octal permission bits as stat %a prints them (755, 4755) */
  mode: string;
}

const TYPE_CHARS: Record<string, MemberType> = { '-': 'file', d: 'dir', l: 'link', h: 'hardlink' };

/** One line of `tar -tvf` (GNU tar): type and size; the name comes from `tar -tf`. */
export function parseTarVerbose(line: string): Pick<Member, 'type' | 'size'> | undefined {
  const m = /^(\S)\S*\s+\S+\s+(\d+|\d+,\s*\d+)\s+\d{4}-\d\d-\d\d\s/.exec(line);
  if (!m) return undefined;
  return { type: TYPE_CHARS[m[1]!] ?? 'other', size: /^\d+$/.test(m[2]!) ? Number(m[2]) : 0 };
}

/** One entry line of `unzip -Z` (zipinfo's default format). */
export function parseZipVerbose(line: string): Pick<Member, 'type' | 'size'> | undefined {
  const m = /^(\S)\S{5,9}\s+\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+\S+\s+\S+\s/.exec(line);
  if (!m) return undefined;
  return { type: TYPE_CHARS[m[1]!] ?? 'other', size: Number(m[2]) };
}

export function parseStat(line: string): DestStat | undefined {
  const f = line.split('|');
  if (f.length < 7) return undefined;
  const [size, kind, uid, user, gid, group, mode] = f as [string, string, string, string, string, string, string];
  return { size: Number(size), kind, uid, user, gid, group, mode };
}

// ------------------------------------------------------------------ modes

const WHO_SHIFT: Record<string, number> = { u: 6, g: 3, o: 0 };

/**
 * The permission bits a chmod mode gives a path that has `current`: octal
 * modes as they are, symbolic ones (u+x,g-w,o=r,a+X) applied to `current`.
 */
export function applyMode(current: number, mode: string, isDir: boolean): number {
  if (/^0?[0-7]{3,4}$/.test(mode)) return parseInt(mode, 8);
  let bits = current & 0o7777;
  for (const clause of mode.split(',')) {
    const m = /^([ugoa]*)((?:[-+=][rwxXst]*)+)$/.exec(clause);
    if (!m) throw new ArgError(`cannot read mode ${JSON.stringify(mode)}`, 'mode');
    const who = (m[1] || 'a').replace('a', 'ugo');
    for (const op of m[2]!.match(/[-+=][rwxXst]*/g) ?? []) {
      const sign = op[0]!;
      const perms = op.slice(1);
      let mask = 0;
      for (const w of new Set(who)) {
        const shift = WHO_SHIFT[w]!;
        for (const p of perms) {
          if (p === 'r') mask |= 4 << shift;
          else if (p === 'w') mask |= 2 << shift;
          else if (p === 'x') mask |= 1 << shift;
          else if (p === 'X' && (isDir || (bits & 0o111) !== 0)) mask |= 1 << shift;
          else if (p === 's' && w === 'u') mask |= 0o4000;
          else if (p === 's' && w === 'g') mask |= 0o2000;
          else if (p === 't' && w === 'o') mask |= 0o1000;
        }
      }
      if (sign === '+') bits |= mask;
      else if (sign === '-') bits &= ~mask;
      else {
        let clear = 0;
        for (const w of new Set(who)) clear |= 7 << WHO_SHIFT[w]!;
        if (who.includes('u')) clear |= 0o4000;
        if (who.includes('g')) clear |= 0o2000;
        if (who.includes('o')) clear |= 0o1000;
        bits = (bits & ~clear) | mask;
      }
    }
  }
  return bits;
}

// ------------------------------------------------------------------ filters

/** A tar/unzip wildcard as a regex: anchored, `*` and `?` match any characters including `/`. */
export function globToRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        re += '[' + pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Does a member belong to the extraction? As tar (--anchored --wildcards) and
 * unzip match: a pattern matches the whole name from its start, `*` crosses
 * `/`, and a pattern that matches a directory covers everything below it.
 */
export function selected(name: string, include: readonly string[], exclude: readonly string[]): boolean {
  const n = name.replace(/\/+$/, '');
  const hit = (pattern: string) => {
    const re = globToRegex(pattern.replace(/\/+$/, ''));
    if (re.test(n)) return true;
    const parts = n.split('/');
    for (let i = 1; i < parts.length; i++) if (re.test(parts.slice(0, i).join('/'))) return true;
    return false;
  };
  if (include.length && !include.some(hit)) return false;
  return !exclude.some(hit);
}

/** N from --strip-components=N / --strip-components N / --strip=N in tar's extra options. */
export function stripComponents(extraOpts: readonly string[]): number {
  for (let i = 0; i < extraOpts.length; i++) {
    const m = /^--strip(?:-components)?(?:=(\d+))?$/.exec(extraOpts[i]!);
    if (m) return Number(m[1] ?? extraOpts[i + 1] ?? 0);
  }
  return 0;
}

// ------------------------------------------------------------------ the fact

export interface ArchiveState {
  creates: boolean;
  destMissing: boolean;
  archiveMissing: boolean;
  /** the extractor (tar or unzip) is missing */
  noTool: boolean;
  /** sha256 of the archive on the host */
  sha256?: string;
  cacheDirExists: boolean;
  /** listing failed with this message */
  listError?: string;
  /** members with what dest has for each (null: missing; undefined: stripped away) */
  members: (Member & { dest: DestStat | null | undefined })[];
}

const M = '@@tsible-';

// Values: a (archive on the host), d (dest), z (1 for zip), s (strip), c (creates), k (cache dir to look for).
const ARCHIVE_SCRIPT = `
if [ -n "$c" ] && [ -e "$c" ]; then echo '${M}creates'; exit 0; fi
[ -n "$k" ] && [ -d "$k" ] && echo '${M}cachedir'
if [ ! -d "$d" ]; then echo '${M}nodest'; exit 0; fi
if [ ! -f "$a" ]; then echo '${M}noarchive'; exit 0; fi
if [ "$z" = 1 ]; then command -v unzip >/dev/null 2>&1 || { echo '${M}notool'; exit 0; }; else command -v tar >/dev/null 2>&1 || { echo '${M}notool'; exit 0; }; fi
echo "${M}sha $(sha256sum "$a" | cut -d' ' -f1)"
if [ "$z" = 1 ]; then out=$(LC_ALL=C unzip -Z "$a" 2>&1); else out=$(LC_ALL=C tar -tvf "$a" 2>&1); fi
rc=$?
echo "${M}list $rc"
printf '%s\\n' "$out"
[ $rc = 0 ] || exit 0
echo '${M}names'
if [ "$z" = 1 ]; then unzip -Z1 "$a"; else tar -tf "$a"; fi 2>/dev/null | while IFS= read -r n; do
  printf 'n:%s\\n' "$n"
  m=$n; i=0
  while [ $i -lt "$s" ]; do case $m in */*) m=\${m#*/} ;; *) m= ;; esac; i=$((i+1)); done
  if [ -z "$m" ]; then echo 's:skip'; else printf 's:%s\\n' "$(stat -c '%s|%F|%u|%U|%g|%G|%a' -- "$d/$m" 2>/dev/null || echo -)"; fi
done
true
`;

export function parseArchiveState(stdout: string, zip: boolean): ArchiveState {
  const state: ArchiveState = { creates: false, destMissing: false, archiveMissing: false, noTool: false, cacheDirExists: false, members: [] };
  let section: 'list' | 'names' | undefined;
  let listRc = 0;
  const verbose: Pick<Member, 'type' | 'size'>[] = [];
  const listLines: string[] = [];
  const names: string[] = [];
  const stats: (DestStat | null | undefined)[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(M)) {
      const [tag, value] = line.slice(M.length).split(' ');
      switch (tag) {
        case 'creates': state.creates = true; break;
        case 'nodest': state.destMissing = true; break;
        case 'noarchive': state.archiveMissing = true; break;
        case 'notool': state.noTool = true; break;
        case 'cachedir': state.cacheDirExists = true; break;
        case 'sha': state.sha256 = value; break;
        case 'list': section = 'list'; listRc = Number(value); break;
        case 'names': section = 'names'; break;
      }
      continue;
    }
    if (section === 'list') {
      listLines.push(line);
      const v = zip ? parseZipVerbose(line) : parseTarVerbose(line);
      if (v) verbose.push(v);
    } else if (section === 'names') {
      if (line.startsWith('n:')) names.push(line.slice(2));
      else if (line.startsWith('s:')) {
        const s = line.slice(2);
        stats.push(s === 'skip' ? undefined : s === '-' ? null : (parseStat(s) ?? null));
      }
    }
  }
  if (listRc !== 0) state.listError = listLines.join('\n').trim() || `listing failed with exit code ${listRc}`;
  state.members = names.map((name, i) => ({ name, type: verbose[i]?.type ?? (name.endsWith('/') ? 'dir' : 'file'), size: verbose[i]?.size ?? 0, dest: stats[i] }));
  return state;
}

export interface ArchiveFactArgs {
  archive: string;
  dest: string;
  zip: boolean;
  strip: number;
  creates?: string;
  cacheDir?: string;
}

export const archiveFact: Fact<ArchiveFactArgs, ArchiveState> = {
  name: 'unarchive',
  command: (a) =>
    ShellCommand.join([sh`a=${a.archive}; d=${a.dest}; z=${a.zip ? 1 : 0}; s=${a.strip}; c=${a.creates ?? ''}; k=${a.cacheDir ?? ''}`, ShellCommand.script(ARCHIVE_SCRIPT)], '\n'),
  parse: (out, a) => parseArchiveState(out.stdout, a.zip),
};

// ------------------------------------------------------------------ comparing

export interface Comparison {
  /** members missing in dest or different (type, size) */
  differ: string[];
  /** members whose owner or group differ */
  owner: string[];
  /** members (not symlinks) whose mode differs */
  mode: string[];
  /** members that count (after filters and stripping) */
  members: (Member & { dest: DestStat | null })[];
}

function kindMatches(member: Member, dest: DestStat): boolean {
  switch (member.type) {
    case 'dir':
      return dest.kind === 'directory';
    case 'link':
      return dest.kind === 'symbolic link';
    case 'file':
      return dest.kind.startsWith('regular') && dest.size === member.size;
    case 'hardlink':
      return dest.kind.startsWith('regular');
    default:
      return true;
  }
}

export function compareMembers(
  members: ArchiveState['members'],
  opts: { include: readonly string[]; exclude: readonly string[]; owner?: string; group?: string; mode?: string },
): Comparison {
  const out: Comparison = { differ: [], owner: [], mode: [], members: [] };
  for (const m of members) {
    if (m.dest === undefined || !selected(m.name, opts.include, opts.exclude)) continue;
    out.members.push(m as Member & { dest: DestStat | null });
    if (m.dest === null || !kindMatches(m, m.dest)) {
      out.differ.push(m.name);
      continue;
    }
    const d = m.dest;
    const owner = opts.owner !== undefined && (/^\d+$/.test(opts.owner) ? d.uid !== opts.owner : d.user !== opts.owner);
    const group = opts.group !== undefined && (/^\d+$/.test(opts.group) ? d.gid !== opts.group : d.group !== opts.group);
    const mode = opts.mode !== undefined && m.type !== 'link' && applyMode(parseInt(d.mode, 8), opts.mode, m.type === 'dir') !== parseInt(d.mode, 8);
    if (owner || group) out.owner.push(m.name);
    if (mode) out.mode.push(m.name);
  }
  return out;
}

// ------------------------------------------------------------------ the module

const ZIP_RE = /\.(zip|jar|war|ear)$/i;

function cachePathFor(controllerPath: string): string {
  const tag = createHash('sha256').update(controllerPath).digest('hex').slice(0, 12);
  return `${CACHE_DIR}/${tag}-${posix.basename(controllerPath)}`;
}

function stripName(name: string, strip: number): string {
  let m = name;
  for (let i = 0; i < strip; i++) m = m.includes('/') ? m.slice(m.indexOf('/') + 1) : '';
  return m;
}

/**
 * A shell loop that reads member names and prints, NUL-terminated, the paths
 * in dest of those that were extracted: the same include/exclude selection
 * (case patterns: anchored, `*` crosses `/`, a directory covers what is
 * below it) and --strip-components as the extraction.
 */
export function memberFilter(include: readonly string[], exclude: readonly string[], strip: number): ShellCommand {
  const patterns = (list: readonly string[]) => list.map((p) => p.replace(/\/+$/, ''));
  return ShellCommand.join(
    [
      ShellCommand.script('while IFS= read -r n; do n=${n%/}'),
      include.length ? sh`ok=1; for p in ${patterns(include)}; do case $n in $p|$p/*) ok=0 ;; esac; done; [ $ok = 0 ] || continue` : ShellCommand.script(':'),
      exclude.length ? sh`ok=0; for p in ${patterns(exclude)}; do case $n in $p|$p/*) ok=1 ;; esac; done; [ $ok = 0 ] || continue` : ShellCommand.script(':'),
      sh`m=$n; i=0; while [ $i -lt ${strip} ]; do case $m in */*) m=\${m#*/} ;; *) m= ;; esac; i=$((i+1)); done`,
      ShellCommand.script(`[ -n "$m" ] && printf '%s\\0' "$m"; done`),
    ],
    ';',
  );
}

export default defineModule({
  name: 'unarchive',
  collections: ['ansible.builtin'],
  description:
    'Extract a tar (gz, bz2/tbz, xz) or zip archive into an existing directory, from the controller (uploaded first) or from the host (remote_src). Skipped when every member is already in dest with the same type and size, or when creates exists.',
  args: {
    src: { type: 'str', required: true, description: 'The archive: a controller file (searched in the role files/ dir), or with remote_src a path on the host.' },
    dest: { type: 'path', required: true, description: 'Existing directory to extract into.' },
    remote_src: { type: 'bool', default: false, description: 'src is already on the host.' },
    creates: { type: 'path', description: 'If this path exists, nothing is done.' },
    extra_opts: { type: 'list', elements: 'str', default: [], description: 'Extra options for tar or unzip, e.g. [--strip-components=1].' },
    include: { type: 'list', elements: 'str', default: [], description: 'Only these members (names or globs; a directory includes its contents).' },
    exclude: { type: 'list', elements: 'str', default: [], description: 'Leave these members out (names or globs).' },
    owner: { type: 'str', description: 'Owner of the extracted members.' },
    group: { type: 'str', description: 'Group of the extracted members.' },
    mode: { type: 'mode', description: 'Mode of the extracted members (octal or symbolic, e.g. u+rwX,go+rX).' },
    list_files: { type: 'bool', default: false, description: 'Return the list of members as files.' },
  },
  returns: { dest: 'the directory', src: 'the archive on the host', files: 'the members (with list_files)', extracted: 'whether the archive is (or would be) extracted' },
  example: [
    '- name: Unpack MOSIX (thesis 4.6.2)',
    '  ansible.builtin.unarchive:',
    '    src: MOSIX-4.4.0.tbz',
    '    dest: /root',
    '',
    '- name: Unpack a tarball already on the host, without its top directory',
    '  ansible.builtin.unarchive:',
    '    src: /srv/dist/app-1.2.tar.gz',
    '    dest: /opt/app',
    '    remote_src: true',
    '    extra_opts: [--strip-components=1]',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(args.src)) throw new ArgError('src as a URL is not supported; download it with get_url first', 'src');
    if (args.mode !== undefined && args.mode !== 'preserve') applyMode(0o644, args.mode, false);
  },
  facts(args, ctx) {
    const zip = ZIP_RE.test(args.src);
    const archive = args.remote_src ? args.src : cachePathFor(ctx.findControllerFile(args.src, 'files'));
    return {
      archive: factRequest(archiveFact, {
        archive,
        dest: args.dest,
        zip,
        strip: zip ? 0 : stripComponents(args.extra_opts),
        creates: args.creates,
        cacheDir: args.remote_src ? undefined : CACHE_DIR,
      }),
    };
  },
  async plan(args, facts, ctx): Promise<Plan> {
    const st = facts.archive;
    const zip = ZIP_RE.test(args.src);
    const tool = zip ? 'unzip' : 'tar';
    const result: Record<string, unknown> = { dest: args.dest, src: args.src };
    if (st.creates) return { changes: [], result, noopReason: `${args.creates} exists` };
    if (st.destMissing) return { changes: [], result, failure: { message: `dest '${args.dest}' must be an existing dir`, missing: args.dest } };
    if (st.noTool) return { changes: [], result, failure: { message: `${tool} is not installed on the host (package ${zip ? 'unzip' : 'tar'})`, missing: tool } };

    const changes: Change[] = [];
    let archive = args.src;
    let uploaded = false;
    if (!args.remote_src) {
      const path = ctx.findControllerFile(args.src, 'files');
      const content = await ctx.readControllerFile(args.src, 'files');
      const sha = createHash('sha256').update(content).digest('hex');
      archive = cachePathFor(path);
      result.src = archive;
      if (st.archiveMissing || st.sha256 !== sha) {
        if (!st.cacheDirExists) changes.push({ kind: 'exec', command: sh`mkdir -p -m 0700 ${CACHE_DIR}`, describe: `mkdir -p ${CACHE_DIR}` });
        changes.push({ kind: 'write', path: archive, content, mode: '0600', describe: `upload ${args.src} to ${archive}` });
        uploaded = true;
      }
    } else if (st.archiveMissing) {
      return { changes: [], result, failure: { message: `Source '${args.src}' does not exist`, missing: args.src } };
    }
    if (!uploaded && st.listError) return { changes: [], result, failure: { message: `cannot list ${archive} with ${tool}: ${st.listError}` } };

    const strip = zip ? 0 : stripComponents(args.extra_opts);
    const mode = args.mode === 'preserve' ? undefined : args.mode;
    const cmp = uploaded ? undefined : compareMembers(st.members, { include: args.include, exclude: args.exclude, owner: args.owner, group: args.group, mode });
    if (args.list_files && cmp) result.files = cmp.members.map((m) => m.name);
    const extract = uploaded || (cmp !== undefined && cmp.differ.length > 0);

    if (extract) {
      const dirs = (patterns: readonly string[]) => patterns.flatMap((p) => [p, `${p.replace(/\/+$/, '')}/*`]);
      const argv = zip
        ? ['unzip', '-o', ...args.extra_opts, archive, ...dirs(args.include), ...(args.exclude.length ? ['-x', ...dirs(args.exclude)] : []), '-d', args.dest]
        : [
            'tar', '-xf', archive, '-C', args.dest, ...args.extra_opts,
            ...(args.exclude.length ? ['--anchored', '--wildcards', ...args.exclude.map((e) => `--exclude=${e}`)] : []),
            ...(args.include.length ? ['--wildcards', ...args.include] : []),
          ];
      const why = uploaded ? (st.archiveMissing ? 'new archive' : 'the archive changed') : `${cmp!.differ.length} of ${cmp!.members.length} members missing or different`;
      // unzip exits 11 when one of the two spellings of an include pattern matched nothing.
      changes.push({ kind: 'exec', command: sh`${argv}`, describe: `${argv.join(' ')} (${why})`, ...(zip && args.include.length ? { okExitCodes: [0, 11] } : {}) });
    }

    // Owner, group and mode go on the members (not dest itself), after an extraction or on their own.
    const who = `${args.owner ?? ''}${args.group ? `:${args.group}` : ''}`;
    const list = (names: readonly string[]) => names.map((n) => stripName(n, strip)).filter((n) => n !== '').map((n) => n.replace(/\/+$/, ''));
    if (extract && (who || mode)) {
      // The member list is read again on the host after extraction (the archive may be new), and
      // filtered there the way tar and unzip select members: include/exclude globs, then stripping.
      const lister = zip ? sh`unzip -Z1 ${archive}` : sh`tar -tf ${archive}`;
      const filter = memberFilter(args.include, args.exclude, strip);
      const apply: ShellCommand[] = [];
      if (who) apply.push(sh`${lister} | ${filter} | (cd ${args.dest} && xargs -0 -r chown -h ${who} --)`);
      if (mode) apply.push(sh`${lister} | ${filter} | (cd ${args.dest} && xargs -0 -r sh -c ${'for f; do [ -L "$f" ] || chmod "$0" "$f"; done'} ${mode})`);
      changes.push({ kind: 'exec', command: ShellCommand.join(apply, '&&'), describe: `set ${[args.owner && `owner ${args.owner}`, args.group && `group ${args.group}`, mode && `mode ${mode}`].filter(Boolean).join(', ')} on the extracted members` });
    } else if (cmp) {
      const owners = list(cmp.owner);
      if (who && owners.length) changes.push({ kind: 'exec', command: sh`cd ${args.dest} && xargs -0 -r chown -h ${who} --`, stdin: owners.map((n) => n + '\0').join(''), describe: `chown ${who} on ${owners.length} members` });
      const modes = list(cmp.mode);
      if (mode && modes.length) changes.push({ kind: 'exec', command: sh`cd ${args.dest} && xargs -0 -r chmod ${mode} --`, stdin: modes.map((n) => n + '\0').join(''), describe: `chmod ${mode} on ${modes.length} members` });
    }

    result.extracted = extract;
    if (changes.length === 0) return { changes, result, noopReason: `all ${cmp?.members.length ?? 0} members of ${args.src} are in ${args.dest}` };
    return { changes, result };
  },
});
