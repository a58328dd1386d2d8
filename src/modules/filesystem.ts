/**
 * filesystem: a filesystem (or swap signature) on a device or image file.
 *
 * The state is what `blkid -p` (a low-level probe that ignores the blkid
 * cache) finds on the device. A device with no signature gets mkfs; the same
 * type is left alone; another type, or a partition table on a whole disk,
 * is refused unless `force` (like Ansible, `force` recreates even a
 * filesystem of the same type). `resizefs` grows ext2/3/4, xfs and btrfs to
 * the size of the device.
 */
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { defineModule, type Change, type Plan } from './types.js';
import { ArgError } from './argspec.js';

export const FSTYPES = ['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'vfat', 'swap'] as const;
export type FsType = (typeof FSTYPES)[number];

/** How to make each filesystem: the program, the flags that skip its own "already contains a filesystem" question, and its package. */
export const MKFS: Record<FsType, { program: string; force: string[]; pkg: string }> = {
  ext2: { program: 'mkfs.ext2', force: ['-F'], pkg: 'e2fsprogs' },
  ext3: { program: 'mkfs.ext3', force: ['-F'], pkg: 'e2fsprogs' },
  ext4: { program: 'mkfs.ext4', force: ['-F'], pkg: 'e2fsprogs' },
  xfs: { program: 'mkfs.xfs', force: ['-f'], pkg: 'xfsprogs' },
  btrfs: { program: 'mkfs.btrfs', force: ['-f'], pkg: 'btrfs-progs' },
  vfat: { program: 'mkfs.vfat', force: [], pkg: 'dosfstools' },
  swap: { program: 'mkswap', force: ['-f'], pkg: 'util-linux' },
};

export interface DeviceState {
  kind: 'block' | 'file' | 'other' | 'missing';
  /** device or file size in bytes */
  size: number;
  /** blkid -p export values (TYPE, UUID, PTTYPE, FSSIZE, FSLASTBLOCK, FSBLOCKSIZE, ...) */
  blkid: Record<string, string>;
  /** the mkfs program for the requested type exists */
  mkfsFound: boolean;
  /** where the device is mounted, if it is */
  mountpoint?: string;
}

const M = '@@tsible-';

const DEVICE_SCRIPT = `
if [ -b "$d" ]; then echo '${M}kind block'; echo "${M}size $(blockdev --getsize64 "$d" 2>/dev/null)"
elif [ -f "$d" ]; then echo '${M}kind file'; echo "${M}size $(stat -L -c %s "$d")"
elif [ -e "$d" ]; then echo '${M}kind other'; exit 0
else echo '${M}kind missing'; exit 0
fi
if [ -n "$p" ] && command -v "$p" >/dev/null 2>&1; then echo '${M}mkfs yes'; fi
r=$(readlink -f "$d")
TSIBLE_D="$r" awk '$1 == ENVIRON["TSIBLE_D"] { print "${M}mount", $2; exit }' /proc/mounts 2>/dev/null
echo '${M}blkid'
blkid -p -o export "$d" 2>/dev/null
true
`;

export function parseDeviceState(stdout: string): DeviceState {
  const state: DeviceState = { kind: 'missing', size: 0, blkid: {}, mkfsFound: false };
  let inBlkid = false;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(M)) {
      const [tag = '', ...rest] = line.slice(M.length).split(' ');
      const value = rest.join(' ');
      if (tag === 'kind') state.kind = value as DeviceState['kind'];
      else if (tag === 'size') state.size = Number(value) || 0;
      else if (tag === 'mkfs') state.mkfsFound = true;
      else if (tag === 'mount') state.mountpoint = value.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
      else if (tag === 'blkid') inBlkid = true;
      continue;
    }
    if (!inBlkid) continue;
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) state.blkid[m[1]!] = m[2]!;
  }
  return state;
}

export const deviceFact: Fact<{ dev: string; mkfs?: string }, DeviceState> = {
  name: 'filesystem_device',
  command: ({ dev, mkfs }) => ShellCommand.join([sh`d=${dev}; p=${mkfs ?? ''}`, ShellCommand.script(DEVICE_SCRIPT)], '\n'),
  parse: (out) => parseDeviceState(out.stdout),
};

/** The filesystem's size in bytes as blkid reports it (last block × block size, which counts what xfs keeps for its log). */
export function filesystemSize(blkid: Record<string, string>): number | undefined {
  const last = Number(blkid.FSLASTBLOCK);
  const block = Number(blkid.FSBLOCKSIZE);
  if (last > 0 && block > 0) return last * block;
  const size = Number(blkid.FSSIZE);
  return size > 0 ? size : undefined;
}

/** Splits mkfs options like the shell would (quotes respected), for `opts: -L root -m 1`. */
export function splitOpts(opts: string | undefined): string[] {
  if (!opts) return [];
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(opts); m; m = re.exec(opts)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

function resizeChange(fstype: FsType, dev: string, mountpoint: string | undefined): Change | string {
  switch (fstype) {
    case 'ext2':
    case 'ext3':
    case 'ext4':
      return { kind: 'exec', command: sh`resize2fs ${dev}`, describe: `resize2fs ${dev}` };
    case 'xfs':
      if (!mountpoint) return `xfs can only grow while mounted; mount ${dev} first`;
      return { kind: 'exec', command: sh`xfs_growfs ${mountpoint}`, describe: `xfs_growfs ${mountpoint}` };
    case 'btrfs':
      if (!mountpoint) return `btrfs can only grow while mounted; mount ${dev} first`;
      return { kind: 'exec', command: sh`btrfs filesystem resize max ${mountpoint}`, describe: `btrfs filesystem resize max ${mountpoint}` };
    default:
      return `resizefs is not supported for ${fstype}`;
  }
}

export default defineModule({
  name: 'filesystem',
  collections: ['community.general'],
  description:
    'Make a filesystem (ext2/3/4, xfs, btrfs, vfat) or swap signature on a device, a partition or an image file, unless one is already there. Another filesystem type is only overwritten with force.',
  args: {
    dev: { type: 'path', required: true, aliases: ['device'], description: 'The device, partition (/dev/sda1, /dev/loop0p1) or image file.' },
    fstype: { type: 'str', aliases: ['type'], choices: FSTYPES, description: 'Filesystem type to make (required with state=present).' },
    force: { type: 'bool', default: false, description: 'Make the filesystem even if the device already holds one (even of the same type) or a partition table.' },
    opts: { type: 'str', description: 'Extra options for mkfs, e.g. "-L data -m 1".' },
    resizefs: { type: 'bool', default: false, description: 'Grow the filesystem to the size of the device (ext2/3/4 offline or online; xfs and btrfs when mounted).' },
    state: { type: 'str', choices: ['present', 'absent'], default: 'present', description: 'present makes the filesystem; absent wipes every signature (wipefs -a).' },
  },
  returns: { fstype: 'the filesystem type on the device after the task', uuid: 'its UUID, when one was there before' },
  example: [
    '- name: Format the node\'s root partition (thesis 4.3.3)',
    '  community.general.filesystem:',
    '    dev: /dev/sda1',
    '    fstype: ext4',
    '',
    '- name: Swap on the third partition',
    '  community.general.filesystem:',
    '    dev: /dev/sda3',
    '    fstype: swap',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (args.state === 'present' && !args.fstype) throw new ArgError('fstype is required when state is present', 'fstype');
  },
  facts: (args) => ({ device: factRequest(deviceFact, { dev: args.dev, mkfs: args.fstype && args.state === 'present' ? MKFS[args.fstype].program : undefined }) }),
  plan(args, facts): Plan {
    const dev = facts.device;
    if (dev.kind === 'missing') return { changes: [], failure: { message: `Device ${args.dev} not found.`, missing: args.dev } };
    if (dev.kind === 'other') return { changes: [], failure: { message: `${args.dev} is neither a block device nor a regular file` } };
    const current = dev.blkid.TYPE;
    const table = dev.blkid.PTTYPE;

    if (args.state === 'absent') {
      if (!current && !table) return { changes: [], noopReason: `${args.dev} holds no signature`, result: { fstype: '' } };
      return {
        changes: [{ kind: 'exec', command: sh`wipefs --all ${args.dev}`, describe: `wipefs --all ${args.dev} (${current ?? `${table} partition table`})` }],
        result: { fstype: '' },
      };
    }

    const fstype = args.fstype!;
    const mkfs = MKFS[fstype];
    const result: Record<string, unknown> = { fstype };
    if (dev.blkid.UUID) result.uuid = dev.blkid.UUID;
    if (current === fstype && !args.force) {
      if (!args.resizefs) return { changes: [], noopReason: `${args.dev} already holds ${fstype}`, result };
      const fsSize = filesystemSize(dev.blkid);
      const block = Number(dev.blkid.FSBLOCKSIZE) || 4096;
      if (fsSize === undefined) return { changes: [], result, failure: { message: `cannot read the size of the ${fstype} filesystem on ${args.dev} (blkid reports no FSSIZE)` } };
      if (dev.size - fsSize < block) return { changes: [], noopReason: `${args.dev} already holds ${fstype} filling the device (${fsSize} bytes)`, result };
      const change = resizeChange(fstype, args.dev, dev.mountpoint);
      if (typeof change === 'string') return { changes: [], result, failure: { message: change } };
      return { changes: [change], result: { ...result, size_before: fsSize, size_after: dev.size } };
    }
    if (current && current !== fstype && !args.force) {
      return { changes: [], result, failure: { message: `'${args.dev}' is already used as ${current}, use force=true to overwrite` } };
    }
    if (!current && table && !args.force) {
      return { changes: [], result, failure: { message: `'${args.dev}' holds a ${table} partition table, use force=true to overwrite it (or make the filesystem on a partition)` } };
    }
    if (dev.mountpoint) return { changes: [], result, failure: { message: `${args.dev} is mounted on ${dev.mountpoint}; unmount it before making a filesystem` } };
    if (!dev.mkfsFound) return { changes: [], result, failure: { message: `${mkfs.program} is not installed on the host (package ${mkfs.pkg})`, missing: mkfs.program } };
    const opts = splitOpts(args.opts);
    const words = [mkfs.program, ...mkfs.force, ...opts, args.dev];
    return { changes: [{ kind: 'exec', command: sh`${words}`, describe: words.join(' ') }], result };
  },
});
