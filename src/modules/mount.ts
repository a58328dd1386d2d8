/**
 * mount: an fstab entry and whether it is mounted.
 *
 * The fstab file is edited here, in TypeScript (one `write` change), and the
 * mounted state comes from /proc/mounts (or /proc/swaps for swap), so a task
 * that has nothing to do costs one read. Filesystems are mounted by their
 * mount point, through the fstab entry (`mount PATH`, or `mount -T FSTAB
 * PATH` for another fstab), as Ansible does; swap is switched with
 * swapon/swapoff. Bind mounts (`src: /home, fstype: none, opts: bind`), NFS
 * (`server:/export`) and GlusterFS (`server:/gv0`) sources are plain text here.
 */
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type Plan } from './types.js';

// ------------------------------------------------------------------ fstab text

export interface FstabEntry {
  src: string;
  path: string;
  fstype: string;
  opts: string;
  dump: string;
  passno: string;
}

/** fstab(5) and /proc/mounts escape blanks and backslashes as octal. */
export function escapeFstab(value: string): string {
  return value.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011').replace(/\n/g, '\\012');
}

export function unescapeFstab(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** A mount point as compared: no trailing slash (except /). */
export function normalisePath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') || '/' : path;
}

export function isSwap(entry: Pick<FstabEntry, 'fstype'>): boolean {
  return entry.fstype === 'swap';
}

export function formatEntry(e: FstabEntry): string {
  return [e.src, e.path, e.fstype, e.opts, e.dump, e.passno].map(escapeFstab).join(' ');
}

/** The fields of an fstab line, unescaped; undefined for comments, blank and malformed lines. */
export function parseFstabLine(line: string): FstabEntry | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return undefined;
  const f = t.split(/\s+/);
  if (f.length < 3) return undefined;
  return {
    src: unescapeFstab(f[0]!),
    path: unescapeFstab(f[1]!),
    fstype: f[2]!,
    opts: f[3] ?? 'defaults',
    dump: f[4] ?? '0',
    passno: f[5] ?? '0',
  };
}

/**
 * Which line is "this entry": the same mount point, or for swap (whose mount
 * point is just `none`) the same source.
 */
export function matchesEntry(line: FstabEntry, wanted: Pick<FstabEntry, 'src' | 'path' | 'fstype'>): boolean {
  if (isSwap(wanted)) return isSwap(line) && line.src === wanted.src;
  return normalisePath(line.path) === normalisePath(wanted.path);
}

function sameEntry(a: FstabEntry, b: FstabEntry): boolean {
  return a.src === b.src && a.fstype === b.fstype && a.opts === b.opts && a.dump === b.dump && a.passno === b.passno && normalisePath(a.path) === normalisePath(b.path);
}

/**
 * Sets (entry given) or removes (remove) the entry in fstab text. Every
 * matching line is updated or dropped; all other lines, comments included,
 * stay byte for byte; a missing entry is appended.
 */
export function editFstab(content: string, wanted: FstabEntry, action: 'set' | 'remove'): { content: string; changed: boolean } {
  const lines = content === '' ? [] : content.replace(/\n$/, '').split('\n');
  let found = false;
  let changed = false;
  const out: string[] = [];
  for (const line of lines) {
    const e = parseFstabLine(line);
    if (!e || !matchesEntry(e, wanted)) {
      out.push(line);
      continue;
    }
    found = true;
    if (action === 'remove') {
      changed = true;
      continue;
    }
    if (sameEntry(e, wanted)) out.push(line);
    else {
      out.push(formatEntry(wanted));
      changed = true;
    }
  }
  if (action === 'set' && !found) {
    out.push(formatEntry(wanted));
    changed = true;
  }
  return { content: out.length ? out.join('\n') + '\n' : '', changed };
}

// ------------------------------------------------------------------ the fact

export interface MountState {
  /** fstab content, null when the file does not exist */
  fstab: string | null;
  /** the mount point's entries in /proc/mounts (last one is on top) */
  mounted: { src: string; fstype: string; opts: string }[];
  /** the mount point is a directory */
  dirExists: boolean;
  /** ... and it is empty */
  dirEmpty: boolean;
  /** swap: the source resolved to a device or file path ('' if it cannot be resolved) */
  swapSource?: string;
  /** swap: active swap areas from /proc/swaps */
  swaps: string[];
}

const M = '@@tsible-';

// Values arrive as variables: f (fstab), p (mount point, escaped as in /proc/mounts), d (mount point), s (swap source).
const MOUNT_SCRIPT = `
# ENVIRON, not awk -v: -v would turn the \\040 escapes into blanks.
TSIBLE_P="$p" awk '$2 == ENVIRON["TSIBLE_P"] { print "${M}mounted", $1, $3, $4 }' /proc/mounts 2>/dev/null
if [ -n "$d" ] && [ -d "$d" ]; then echo '${M}dir'; [ -z "$(ls -A "$d" 2>/dev/null)" ] && echo '${M}empty'; fi
if [ -n "$s" ]; then
  case "$s" in
    UUID=*|LABEL=*|PARTUUID=*|PARTLABEL=*) r=$(findfs "$s" 2>/dev/null) ;;
    *) r=$(readlink -f "$s" 2>/dev/null) ;;
  esac
  echo "${M}swapsrc $r"
  awk 'NR > 1 { print "${M}swap", $1 }' /proc/swaps 2>/dev/null
fi
if [ -f "$f" ]; then echo '${M}fstab'; cat "$f"; else echo '${M}nofstab'; fi
`;

export function parseMountState(stdout: string): MountState {
  const state: MountState = { fstab: null, mounted: [], dirExists: false, dirEmpty: false, swaps: [] };
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith(M)) continue;
    const [tag = '', ...rest] = line.slice(M.length).split(' ');
    switch (tag) {
      case 'mounted':
        state.mounted.push({ src: unescapeFstab(rest[0] ?? ''), fstype: rest[1] ?? '', opts: rest[2] ?? '' });
        break;
      case 'dir':
        state.dirExists = true;
        break;
      case 'empty':
        state.dirEmpty = true;
        break;
      case 'swapsrc':
        state.swapSource = rest.join(' ');
        break;
      case 'swap':
        state.swaps.push(unescapeFstab(rest.join(' ')));
        break;
      case 'fstab':
        // The file is the last section: everything after the marker, byte for byte.
        state.fstab = lines.slice(i + 1).join('\n');
        return state;
    }
  }
  return state;
}

export const mountFact: Fact<{ fstab: string; path: string; swapSource?: string }, MountState> = {
  name: 'mount_state',
  command: ({ fstab, path, swapSource }) =>
    ShellCommand.join([sh`f=${fstab}; d=${swapSource ? '' : path}; p=${escapeFstab(normalisePath(path))}; s=${swapSource ?? ''}`, ShellCommand.script(MOUNT_SCRIPT)], '\n'),
  parse: (out) => parseMountState(out.stdout),
};

// ------------------------------------------------------------------ the module

const REQUIRES_SOURCE = new Set(['present', 'mounted']);

export default defineModule({
  name: 'mount',
  collections: ['ansible.posix'],
  description:
    'Control an fstab entry and whether it is mounted: filesystems, bind mounts, NFS and GlusterFS shares, and swap (fstype swap: swapon/swapoff, state read from /proc/swaps).',
  args: {
    path: { type: 'path', required: true, aliases: ['name'], description: 'Mount point (none or swap for swap areas).' },
    src: { type: 'str', description: 'Device (/dev/sdb1, UUID=..., LABEL=...), bind source, NFS or GlusterFS share (server:/export). Required for present and mounted.' },
    fstype: { type: 'str', description: 'Filesystem type (ext4, xfs, nfs, glusterfs, none for bind mounts, swap). Required for present and mounted.' },
    opts: { type: 'str', default: 'defaults', description: 'Mount options (fstab field 4).' },
    dump: { type: 'str', default: '0', description: 'fstab field 5.' },
    passno: { type: 'str', default: '0', description: 'fstab field 6.' },
    state: {
      type: 'str',
      required: true,
      choices: ['mounted', 'unmounted', 'present', 'absent', 'remounted'],
      description:
        'mounted: in fstab and mounted (mount point created; remounted when the entry changed). present: in fstab only. unmounted: not mounted, fstab untouched. absent: unmounted, out of fstab, empty mount point removed. remounted: mount -o remount.',
    },
    fstab: { type: 'path', default: '/etc/fstab', description: 'The fstab file to edit.' },
    boot: { type: 'bool', default: true, description: 'false adds noauto to the options, so the entry is not mounted at boot.' },
    backup: { type: 'bool', default: false, description: 'Keep a copy of fstab before changing it.' },
  },
  returns: { name: 'the mount point', src: 'source', fstype: 'type', opts: 'options as written to fstab', fstab: 'the fstab file', dump: 'field 5', passno: 'field 6' },
  example: [
    '- name: Bind /home to /nfs (thesis 4.2, the NFS server)',
    '  ansible.posix.mount:',
    '    path: /nfs',
    '    src: /home',
    '    fstype: none',
    '    opts: bind',
    '    state: mounted',
    '',
    '- name: Mount the shared directory on the nodes',
    '  ansible.posix.mount:',
    '    path: /nfs',
    '    src: nas:/nfs',
    '    fstype: nfs',
    '    opts: auto,rsize=8192,wsize=8192',
    '    state: mounted',
    '',
    '- name: Swap on the third partition',
    '  ansible.posix.mount:',
    '    path: none',
    '    src: /dev/sda3',
    '    fstype: swap',
    '    opts: sw',
    '    state: mounted',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (REQUIRES_SOURCE.has(args.state)) {
      if (!args.src) throw new ArgError(`src is required when state is ${args.state}`, 'src');
      if (!args.fstype) throw new ArgError(`fstype is required when state is ${args.state}`, 'fstype');
    }
    if (args.fstype === 'swap' && !args.src) throw new ArgError('swap entries are identified by src; give src', 'src');
  },
  facts: (args) => ({
    mount: factRequest(mountFact, { fstab: args.fstab, path: args.path, swapSource: args.fstype === 'swap' ? args.src : undefined }),
  }),
  plan(args, facts): Plan {
    const state = facts.mount;
    const swap = args.fstype === 'swap';
    let opts = args.opts;
    if (!args.boot && !opts.split(',').includes('noauto')) opts = `${opts},noauto`;
    const entry: FstabEntry = { src: args.src ?? '', path: args.path, fstype: args.fstype ?? '', opts, dump: args.dump, passno: args.passno };
    const result = { name: args.path, src: args.src, fstype: args.fstype, opts, dump: args.dump, passno: args.passno, fstab: args.fstab, boot: args.boot };
    const mounted = swap ? state.swapSource !== undefined && state.swapSource !== '' && state.swaps.includes(state.swapSource) : state.mounted.length > 0;
    const what = swap ? `swap ${args.src}` : args.path;
    const changes: Change[] = [];
    const diff = [];
    const reasons: string[] = [];

    let fstabChanged = false;
    if (args.state === 'present' || args.state === 'mounted' || args.state === 'absent') {
      const before = state.fstab ?? '';
      const edit = args.state === 'absent' ? editFstab(before, { ...entry, src: args.src ?? '', fstype: args.fstype ?? '' }, 'remove') : editFstab(before, entry, 'set');
      fstabChanged = edit.changed;
      if (edit.changed) {
        changes.push({ kind: 'write', path: args.fstab, content: edit.content, backup: args.backup, describe: `${args.state === 'absent' ? 'remove' : 'set'} ${what} in ${args.fstab}` });
        diff.push({ path: args.fstab, before, after: edit.content });
      } else reasons.push(args.state === 'absent' ? `${what} is not in ${args.fstab}` : `${args.fstab} has the entry for ${what}`);
    }
    const mountCmd = args.fstab === '/etc/fstab' ? sh`mount ${args.path}` : sh`mount -T ${args.fstab} ${args.path}`;

    switch (args.state) {
      case 'mounted':
        if (!swap && !state.dirExists) changes.push({ kind: 'exec', command: sh`mkdir -p ${args.path}`, describe: `mkdir -p ${args.path}` });
        if (!mounted) {
          changes.push(swap ? { kind: 'exec', command: sh`swapon ${args.src!}`, describe: `swapon ${args.src}` } : { kind: 'exec', command: mountCmd, describe: `mount ${args.path}` });
        } else if (fstabChanged) {
          changes.push(
            swap
              ? { kind: 'exec', command: sh`swapoff ${args.src!} && swapon ${args.src!}`, describe: `swapoff and swapon ${args.src}` }
              : {
                  kind: 'exec',
                  // A remount applies new options; a new source or type needs a fresh mount.
                  command: args.fstab === '/etc/fstab'
                    ? sh`mount -o remount ${args.path} 2>/dev/null || { umount ${args.path} && mount ${args.path}; }`
                    : sh`mount -T ${args.fstab} -o remount ${args.path} 2>/dev/null || { umount ${args.path} && mount -T ${args.fstab} ${args.path}; }`,
                  describe: `remount ${args.path}`,
                },
          );
        } else reasons.push(`${what} is mounted`);
        break;
      case 'unmounted':
      case 'absent':
        if (mounted) changes.push(swap ? { kind: 'exec', command: sh`swapoff ${args.src!}`, describe: `swapoff ${args.src}` } : { kind: 'exec', command: sh`umount ${args.path}`, describe: `umount ${args.path}` });
        else reasons.push(`${what} is not mounted`);
        if (args.state === 'absent' && !swap && state.dirExists && (state.dirEmpty || mounted) && normalisePath(args.path) !== '/') {
          // Only an empty mount point is removed (it is empty once unmounted if nothing else was in it).
          changes.push({ kind: 'exec', command: sh`rmdir ${args.path}`, describe: `rmdir ${args.path}`, okExitCodes: mounted ? [0, 1] : [0] });
        }
        break;
      case 'remounted':
        if (swap) changes.push({ kind: 'exec', command: sh`swapoff ${args.src!} && swapon ${args.src!}`, describe: `swapoff and swapon ${args.src}` });
        else if (mounted) {
          changes.push({
            kind: 'exec',
            command: args.fstab === '/etc/fstab' ? sh`mount -o remount ${args.path}` : sh`mount -T ${args.fstab} -o remount ${args.path}`,
            describe: `remount ${args.path}`,
          });
        } else changes.push({ kind: 'exec', command: mountCmd, describe: `mount ${args.path}` });
        break;
      case 'present':
        break;
    }
    if (changes.length === 0) return { changes, noopReason: reasons.join('; '), result };
    return { changes, result, diff };
  },
});
