import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import filesystem, { filesystemSize, parseDeviceState, splitOpts, type DeviceState } from '../../src/modules/filesystem.js';
import { assertRowsShellSyntax, factsFor, mismatches, planWith, type Expectation } from './disk-context.js';

// Real `blkid -p -o export` output (util-linux 2.41.5) on loop-device partitions and image files.
const EXT4_PARTITION = `DEVNAME=/dev/loop5p1
UUID=36f8c070-f9f7-42d8-bad3-37050d91593b
VERSION=1.0
FSBLOCKSIZE=1024
BLOCK_SIZE=1024
FSLASTBLOCK=204800
FSSIZE=209715200
TYPE=ext4
USAGE=filesystem
PART_ENTRY_SCHEME=dos
PART_ENTRY_UUID=f46e7e4f-01
PART_ENTRY_TYPE=0x83
PART_ENTRY_FLAGS=0x80
PART_ENTRY_NUMBER=1
PART_ENTRY_OFFSET=2048
PART_ENTRY_SIZE=409600
PART_ENTRY_DISK=7:5`;

const EMPTY_PARTITION = `DEVNAME=/dev/loop5p3
PART_ENTRY_SCHEME=dos
PART_ENTRY_UUID=f46e7e4f-03
PART_ENTRY_TYPE=0x83
PART_ENTRY_NUMBER=3
PART_ENTRY_OFFSET=616448
PART_ENTRY_SIZE=1480704
PART_ENTRY_DISK=7:5`;

const PARTITIONED_DISK = `DEVNAME=/dev/loop5
PTUUID=f46e7e4f
PTTYPE=dos`;

const XFS_IMAGE = `DEVNAME=fs.img
UUID=327f6a8e-009f-4561-a2e9-98b55adbdf15
FSSIZE=247463936
FSLASTBLOCK=76800
FSBLOCKSIZE=4096
BLOCK_SIZE=512
TYPE=xfs
USAGE=filesystem`;

const SWAP_PARTITION = `DEVNAME=/dev/loop5p2
UUID=04b9770e-91c9-4a9a-8942-61913d32b31d
TYPE=swap
PARTUUID=f46e7e4f-02`;

const kv = (text: string) => Object.fromEntries(text.split('\n').map((l) => l.split('=', 2) as [string, string]).map(([k, ...v]) => [k, v.join('=')]));

describe('device fact', () => {
  it('reads the device, mount and blkid in one script with the values as variables', () => {
    const req = factsFor(filesystem, { dev: '/dev/sda1', fstype: 'xfs' }).device!;
    const text = req.fact.command(req.args).text;
    expect(text.split('\n')[0]).toBe('d=/dev/sda1; p=mkfs.xfs');
    expect(text).toContain('blkid -p -o export "$d"');
    // only the program's name is looked up (command -v "$p"), nothing is written
    expect(text.split('\n').slice(1).join('\n')).not.toMatch(/mkfs\.|wipefs|mkswap/);
  });

  it.each([
    {
      name: 'mounted ext4 partition (real)',
      stdout: `@@tsible-kind block\n@@tsible-size 209715200\n@@tsible-mkfs yes\n@@tsible-mount /mnt/sda1\n@@tsible-blkid\n${EXT4_PARTITION}`,
      expected: { kind: 'block', size: 209715200, mkfsFound: true, mountpoint: '/mnt/sda1', blkid: kv(EXT4_PARTITION) },
    },
    {
      name: 'empty partition (real)',
      stdout: `@@tsible-kind block\n@@tsible-size 758120448\n@@tsible-mkfs yes\n@@tsible-blkid\n${EMPTY_PARTITION}`,
      expected: { kind: 'block', size: 758120448, mkfsFound: true, blkid: kv(EMPTY_PARTITION) },
    },
    {
      name: 'blank image file, mkfs.btrfs missing',
      stdout: '@@tsible-kind file\n@@tsible-size 104857600\n@@tsible-blkid\n',
      expected: { kind: 'file', size: 104857600, mkfsFound: false, blkid: {} },
    },
    { name: 'missing device', stdout: '@@tsible-kind missing', expected: { kind: 'missing', blkid: {} } },
    {
      name: 'mount point with a space',
      stdout: '@@tsible-kind block\n@@tsible-size 1\n@@tsible-mount /mnt/my\\040disk\n@@tsible-blkid',
      expected: { mountpoint: '/mnt/my disk' },
    },
  ])('$name', ({ stdout, expected }) => {
    expect(parseDeviceState(stdout)).toMatchObject(expected);
  });
});

describe('device fact in sh', () => {
  it('probes a blank image file for real', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsible-fs-'));
    const img = join(dir, 'blank.img');
    writeFileSync(img, Buffer.alloc(1 << 20));
    const req = factsFor(filesystem, { dev: img, fstype: 'ext4' }).device!;
    const state = parseDeviceState(execFileSync('/bin/sh', ['-c', req.fact.command(req.args).text]).toString());
    expect(state).toMatchObject({ kind: 'file', size: 1 << 20, blkid: {} });
    expect(state.mountpoint).toBeUndefined();
  });
});

describe('filesystemSize', () => {
  it.each([
    ['ext4: last block × block size', kv(EXT4_PARTITION), 209715200],
    ['xfs: counts the log (FSSIZE does not)', kv(XFS_IMAGE), 314572800],
    ['only FSSIZE', { FSSIZE: '1000' }, 1000],
    ['nothing', {}, undefined],
  ])('%s', (_name, blkid, size) => {
    expect(filesystemSize(blkid)).toBe(size);
  });
});

describe('splitOpts', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['-L root -m 1', ['-L', 'root', '-m', '1']],
    ['-L "my disk" -O ^has_journal', ['-L', 'my disk', '-O', '^has_journal']],
    ["-n 'x y'", ['-n', 'x y']],
  ])('%j', (opts, words) => {
    expect(splitOpts(opts)).toEqual(words);
  });
});

function device(over: Partial<DeviceState> = {}): DeviceState {
  return { kind: 'block', size: 209715200, blkid: kv(EMPTY_PARTITION), mkfsFound: true, ...over };
}

const rows: { name: string; args: Record<string, unknown>; facts: { device: DeviceState }; expect: Expectation }[] = [
  {
    name: 'thesis: mkfs -t ext4 /dev/sda1 on an empty partition',
    args: { dev: '/dev/sda1', fstype: 'ext4' },
    facts: { device: device() },
    expect: { changes: [{ kind: 'exec', describe: 'mkfs.ext4 -F /dev/sda1', command: /^mkfs\.ext4 -F \/dev\/sda1$/ }] },
  },
  {
    name: 'second run: ext4 already there',
    args: { dev: '/dev/sda1', fstype: 'ext4' },
    facts: { device: device({ blkid: kv(EXT4_PARTITION) }) },
    expect: { noop: /\/dev\/sda1 already holds ext4/, result: { fstype: 'ext4', uuid: '36f8c070-f9f7-42d8-bad3-37050d91593b' } },
  },
  {
    name: 'thesis: mkswap /dev/sda3',
    args: { dev: '/dev/sda3', fstype: 'swap' },
    facts: { device: device() },
    expect: { changes: [{ kind: 'exec', describe: 'mkswap -f /dev/sda3' }] },
  },
  { name: 'swap already there', args: { dev: '/dev/sda2', fstype: 'swap' }, facts: { device: device({ blkid: kv(SWAP_PARTITION) }) }, expect: { noop: /already holds swap/ } },
  {
    name: 'thesis 4.4.1: mkfs.xfs for a gluster brick, with options',
    args: { dev: '/dev/sdb1', fstype: 'xfs', opts: '-i size=512 -L "brick 1"' },
    facts: { device: device() },
    expect: { changes: [{ kind: 'exec', describe: 'mkfs.xfs -f -i size=512 -L brick 1 /dev/sdb1', command: /^mkfs\.xfs -f -i size=512 -L 'brick 1' \/dev\/sdb1$/ }] },
  },
  { name: 'another filesystem → refused like Ansible', args: { dev: '/dev/sda1', fstype: 'xfs' }, facts: { device: device({ blkid: kv(EXT4_PARTITION) }) }, expect: { failure: /'\/dev\/sda1' is already used as ext4, use force=true to overwrite/ } },
  {
    name: 'another filesystem with force (and not mounted) → mkfs',
    args: { dev: '/dev/sda1', fstype: 'xfs', force: true },
    facts: { device: device({ blkid: kv(EXT4_PARTITION) }) },
    expect: { changes: [{ kind: 'exec', describe: 'mkfs.xfs -f /dev/sda1' }] },
  },
  {
    name: 'force recreates even the same type (Ansible semantics)',
    args: { dev: '/dev/sda1', fstype: 'ext4', force: true },
    facts: { device: device({ blkid: kv(EXT4_PARTITION) }) },
    expect: { changes: [{ kind: 'exec', describe: 'mkfs.ext4 -F /dev/sda1' }] },
  },
  { name: 'a partitioned whole disk is refused', args: { dev: '/dev/loop5', fstype: 'ext4' }, facts: { device: device({ blkid: kv(PARTITIONED_DISK) }) }, expect: { failure: /holds a dos partition table, use force=true/ } },
  { name: 'mounted and forced → refused, mkfs would fail anyway', args: { dev: '/dev/sda1', fstype: 'xfs', force: true }, facts: { device: device({ blkid: kv(EXT4_PARTITION), mountpoint: '/mnt/sda1' }) }, expect: { failure: /is mounted on \/mnt\/sda1/ } },
  { name: 'mkfs program missing', args: { dev: '/dev/sdb1', fstype: 'btrfs' }, facts: { device: device({ mkfsFound: false }) }, expect: { failure: /mkfs\.btrfs is not installed on the host \(package btrfs-progs\)/ } },
  { name: 'device missing', args: { dev: '/dev/sdz1', fstype: 'ext4' }, facts: { device: device({ kind: 'missing' }) }, expect: { failure: /Device \/dev\/sdz1 not found/ } },
  {
    name: 'plain image file',
    args: { dev: '/srv/disk.img', fstype: 'vfat' },
    facts: { device: device({ kind: 'file', blkid: {} }) },
    expect: { changes: [{ kind: 'exec', describe: 'mkfs.vfat /srv/disk.img' }] },
  },
  {
    name: 'resizefs: the device grew',
    args: { dev: '/dev/sda1', fstype: 'ext4', resizefs: true },
    facts: { device: device({ size: 2 * 209715200, blkid: kv(EXT4_PARTITION) }) },
    expect: { changes: [{ kind: 'exec', describe: 'resize2fs /dev/sda1' }], result: { size_before: 209715200, size_after: 419430400 } },
  },
  { name: 'resizefs: already full size', args: { dev: '/dev/sda1', fstype: 'ext4', resizefs: true }, facts: { device: device({ blkid: kv(EXT4_PARTITION) }) }, expect: { noop: /filling the device/ } },
  {
    name: 'resizefs: xfs grows through its mount point',
    args: { dev: '/srv/fs.img', fstype: 'xfs', resizefs: true },
    facts: { device: device({ kind: 'file', size: 400 * 2 ** 20, blkid: kv(XFS_IMAGE), mountpoint: '/srv/data' }) },
    expect: { changes: [{ kind: 'exec', describe: 'xfs_growfs /srv/data' }] },
  },
  { name: 'resizefs: xfs not mounted', args: { dev: '/srv/fs.img', fstype: 'xfs', resizefs: true }, facts: { device: device({ size: 400 * 2 ** 20, blkid: kv(XFS_IMAGE) }) }, expect: { failure: /xfs can only grow while mounted/ } },
  { name: 'resizefs: swap is not supported', args: { dev: '/dev/sda2', fstype: 'swap', resizefs: true }, facts: { device: device({ size: 2 ** 30, blkid: { ...kv(SWAP_PARTITION), FSSIZE: '1000', FSBLOCKSIZE: '4096' } }) }, expect: { failure: /resizefs is not supported for swap/ } },
  { name: 'state=absent wipes signatures', args: { dev: '/dev/sda1', state: 'absent' }, facts: { device: device({ blkid: kv(EXT4_PARTITION) }) }, expect: { changes: [{ kind: 'exec', describe: 'wipefs --all /dev/sda1 (ext4)', command: /^wipefs --all \/dev\/sda1$/ }] } },
  { name: 'state=absent on a blank device', args: { dev: '/dev/sda3', state: 'absent' }, facts: { device: device() }, expect: { noop: /holds no signature/ } },
];

describe('filesystem plans', () => {
  it.each(rows)('$name', async ({ args, facts, expect: e }) => {
    expect(mismatches(await planWith(filesystem, args, facts), e)).toEqual([]);
  });

  it('fstype is required for state=present', async () => {
    await expect(planWith(filesystem, { dev: '/dev/sda1' }, { device: device() })).rejects.toThrow(/fstype is required/);
  });
});

describe('shell syntax', () => {
  it('every fact and change command parses in sh -n', async () => {
    expect(await assertRowsShellSyntax(filesystem, rows.filter((r) => !r.expect.failure))).toBeGreaterThan(0);
  });
});
