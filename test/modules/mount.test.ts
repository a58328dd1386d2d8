import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import mount, { editFstab, escapeFstab, formatEntry, matchesEntry, normalisePath, parseFstabLine, parseMountState, unescapeFstab, type FstabEntry, type MountState } from '../../src/modules/mount.js';
import { assertRowsShellSyntax, factsFor, mismatches, planWith, type Expectation } from './disk-context.js';

/** The NFS server's fstab from the thesis (Imagen 11), with the bind line it adds. */
const THESIS_FSTAB = `# /etc/fstab: static file system information.
#
# Use 'blkid' to print the universally unique identifier for a
# device; this may be used with UUID= as a more robust way to name devices
# that works even if disks are added and removed. See fstab(5).
#
# <file system> <mount point> <type> <options> <dump> <pass>
# / was on /dev/sda1 during installation
UUID=febcae86-713a-400a-a0cf-6660df175c9e / ext4 errors=remount-ro 0 1
# /home was on /dev/sda2 during installation
UUID=e150a23a-9a53-4d1a-878f-355b38b5a392 /home ext4 defaults 0 2
# swap was on /dev/sda3 during installation
UUID=f4cbc0a9-ad3d-47a8-a7df-9ddb6f3424c1 none swap sw 0 0
`;

const entry = (over: Partial<FstabEntry>): FstabEntry => ({ src: '/home', path: '/nfs', fstype: 'none', opts: 'bind', dump: '0', passno: '0', ...over });

describe('fstab escaping', () => {
  it.each([
    ['/mnt/my disk', '/mnt/my\\040disk'],
    ['a\tb', 'a\\011b'],
    ['back\\slash', 'back\\134slash'],
    ['/plain', '/plain'],
  ])('%j ↔ %j', (raw, escaped) => {
    expect(escapeFstab(raw)).toBe(escaped);
    expect(unescapeFstab(escaped)).toBe(raw);
  });

  it.each([
    ['/nfs/', '/nfs'],
    ['/nfs//', '/nfs'],
    ['/', '/'],
    ['none', 'none'],
  ])('normalisePath(%j) = %j', (p, n) => expect(normalisePath(p)).toBe(n));
});

describe('parseFstabLine and matchesEntry', () => {
  it.each([
    ['# comment', undefined],
    ['   ', undefined],
    ['onlytwo fields', undefined],
    ['/home /nfs none bind 0 0', entry({})],
    ['nas:/nfs\t/nfs\tnfs\tauto,rsize=8192,wsiz=8192\t0\t0', entry({ src: 'nas:/nfs', fstype: 'nfs', opts: 'auto,rsize=8192,wsiz=8192' })],
    ['/dev/sdb1 /export/brick1 xfs', entry({ src: '/dev/sdb1', path: '/export/brick1', fstype: 'xfs', opts: 'defaults' })],
    ['/dev/sdc1 /mnt/my\\040disk ext4 defaults 0 2', entry({ src: '/dev/sdc1', path: '/mnt/my disk', fstype: 'ext4', opts: 'defaults', passno: '2' })],
  ])('%j', (line, parsed) => {
    expect(parseFstabLine(line)).toEqual(parsed);
  });

  it.each([
    ['same mount point', entry({}), entry({ src: '/other' }), true],
    ['trailing slash', entry({ path: '/nfs/' }), entry({}), true],
    ['other mount point', entry({ path: '/srv' }), entry({}), false],
    ['swap: same source', entry({ src: '/dev/sda3', path: 'none', fstype: 'swap' }), entry({ src: '/dev/sda3', path: 'swap', fstype: 'swap' }), true],
    ['swap: another source with the same "none"', entry({ src: '/dev/sda3', path: 'none', fstype: 'swap' }), entry({ src: '/dev/sdb2', path: 'none', fstype: 'swap' }), false],
    ['swap vs a filesystem on "none"', entry({ src: '/dev/sda3', path: 'none', fstype: 'ext4' }), entry({ src: '/dev/sda3', path: 'none', fstype: 'swap' }), false],
  ])('%s', (_name, line, wanted, same) => {
    expect(matchesEntry(line, wanted)).toBe(same);
  });
});

describe('editFstab', () => {
  it.each([
    {
      name: 'thesis: append the bind line, comments stay',
      content: THESIS_FSTAB,
      wanted: entry({}),
      action: 'set' as const,
      expected: THESIS_FSTAB + '/home /nfs none bind 0 0\n',
      changed: true,
    },
    {
      name: 'already there with other spacing → untouched',
      content: THESIS_FSTAB + '/home\t/nfs    none  bind  0 0\n',
      wanted: entry({}),
      action: 'set' as const,
      expected: THESIS_FSTAB + '/home\t/nfs    none  bind  0 0\n',
      changed: false,
    },
    {
      name: 'missing dump/passno count as 0',
      content: '/home /nfs none bind\n',
      wanted: entry({}),
      action: 'set' as const,
      expected: '/home /nfs none bind\n',
      changed: false,
    },
    {
      name: 'replace options in place, other lines kept',
      content: '# nodes\nnas:/nfs /nfs nfs auto,rsize=8192,wsiz=8192 0 0\n/dev/sdb1 /export/brick1 xfs defaults 0 0\n',
      wanted: entry({ src: 'nas:/nfs', fstype: 'nfs', opts: 'auto,rsize=8192,wsize=8192' }),
      action: 'set' as const,
      expected: '# nodes\nnas:/nfs /nfs nfs auto,rsize=8192,wsize=8192 0 0\n/dev/sdb1 /export/brick1 xfs defaults 0 0\n',
      changed: true,
    },
    {
      name: 'a mount point with a space is escaped',
      content: '',
      wanted: entry({ src: '/dev/sdc1', path: '/mnt/my disk', fstype: 'ext4', opts: 'defaults' }),
      action: 'set' as const,
      expected: '/dev/sdc1 /mnt/my\\040disk ext4 defaults 0 0\n',
      changed: true,
    },
    {
      name: 'no final newline in the file',
      content: '/dev/sda1 / ext4 defaults 0 1',
      wanted: entry({ src: '/dev/sdb1', path: '/export/brick1', fstype: 'xfs', opts: 'defaults' }),
      action: 'set' as const,
      expected: '/dev/sda1 / ext4 defaults 0 1\n/dev/sdb1 /export/brick1 xfs defaults 0 0\n',
      changed: true,
    },
    {
      name: 'every duplicate is updated',
      content: '/a /nfs none bind 0 0\n/b /nfs none bind 0 0\n',
      wanted: entry({}),
      action: 'set' as const,
      expected: '/home /nfs none bind 0 0\n/home /nfs none bind 0 0\n',
      changed: true,
    },
    {
      name: 'remove by mount point',
      content: THESIS_FSTAB + '/home /nfs none bind 0 0\n',
      wanted: entry({ src: '', fstype: '' }),
      action: 'remove' as const,
      expected: THESIS_FSTAB,
      changed: true,
    },
    {
      name: 'remove a swap entry by source only',
      content: '/dev/sda3 none swap sw 0 0\n/dev/sdb2 none swap sw 0 0\n',
      wanted: entry({ src: '/dev/sdb2', path: 'none', fstype: 'swap' }),
      action: 'remove' as const,
      expected: '/dev/sda3 none swap sw 0 0\n',
      changed: true,
    },
    {
      name: 'remove what is not there',
      content: THESIS_FSTAB,
      wanted: entry({ path: '/srv' }),
      action: 'remove' as const,
      expected: THESIS_FSTAB,
      changed: false,
    },
    {
      name: 'the last line removed leaves an empty file',
      content: '/home /nfs none bind 0 0\n',
      wanted: entry({}),
      action: 'remove' as const,
      expected: '',
      changed: true,
    },
  ])('$name', ({ content, wanted, action, expected, changed }) => {
    expect(editFstab(content, wanted, action)).toEqual({ content: expected, changed });
  });

  it('formats with single spaces, like Ansible', () => {
    expect(formatEntry(entry({ src: 'san1:/gv0', path: '/mnt/gv0', fstype: 'glusterfs', opts: 'defaults,_netdev' }))).toBe('san1:/gv0 /mnt/gv0 glusterfs defaults,_netdev 0 0');
  });
});

describe('mount fact', () => {
  it('passes the escaped mount point and matches it with ENVIRON (awk -v would unescape \\040)', () => {
    const req = factsFor(mount, { path: '/mnt/my disk/', state: 'unmounted' }).mount!;
    const text = req.fact.command(req.args).text;
    expect(text.split('\n')[0]).toBe("f=/etc/fstab; d='/mnt/my disk/'; p='/mnt/my\\040disk'; s=''");
    expect(text).toContain('ENVIRON["TSIBLE_P"]');
  });

  it('for swap, resolves the source instead of looking at a directory', () => {
    const req = factsFor(mount, { path: 'none', src: 'UUID=04b9770e-91c9-4a9a-8942-61913d32b31d', fstype: 'swap', state: 'mounted' }).mount!;
    expect(req.fact.command(req.args).text.split('\n')[0]).toBe("f=/etc/fstab; d=''; p=none; s=UUID=04b9770e-91c9-4a9a-8942-61913d32b31d");
  });

  const FSTAB = '# /etc/fstab: static file system information.\n#\n# <file system> <mount point>   <type>  <options>       <dump>  <pass>\nUUID=febcae86-713a-400a-a0cf-6660df175c9e / ext4 errors=remount-ro 0 1\n/dev/sda3 none swap sw 0 0\n/home /nfs none bind 0 0\n';
  it.each([
    {
      name: 'bind-mounted /nfs in a container (real)',
      stdout: `@@tsible-mounted overlay overlay rw,relatime,lowerdir=/var/lib/docker/overlay2/l/MJ7M:/var/lib/docker/overlay2/l/27R4\n@@tsible-dir\n@@tsible-empty\n@@tsible-fstab\n${FSTAB}`,
      expected: { fstab: FSTAB, mounted: [{ src: 'overlay', fstype: 'overlay', opts: 'rw,relatime,lowerdir=/var/lib/docker/overlay2/l/MJ7M:/var/lib/docker/overlay2/l/27R4' }], dirExists: true, dirEmpty: true, swaps: [] },
    },
    {
      name: 'swap by UUID, resolved by findfs (real)',
      stdout: '@@tsible-swapsrc /dev/loop5p2\n@@tsible-swap /dev/loop5p2\n@@tsible-nofstab',
      expected: { fstab: null, mounted: [], dirExists: false, dirEmpty: false, swapSource: '/dev/loop5p2', swaps: ['/dev/loop5p2'] },
    },
    {
      name: 'nothing mounted, no directory, empty fstab',
      stdout: '@@tsible-fstab\n',
      expected: { fstab: '', mounted: [], dirExists: false, swaps: [] },
    },
    {
      name: 'a file whose last line has no newline keeps it that way',
      stdout: '@@tsible-fstab\n/dev/sda1 / ext4 defaults 0 1',
      expected: { fstab: '/dev/sda1 / ext4 defaults 0 1' },
    },
  ])('$name', ({ stdout, expected }) => {
    expect(parseMountState(stdout)).toMatchObject(expected);
  });
});

describe('mount fact in sh', () => {
  it('finds / mounted and reads a missing fstab as absent', () => {
    const req = factsFor(mount, { path: '/', fstab: '/nonexistent/fstab', state: 'unmounted' }).mount!;
    const state = parseMountState(execFileSync('/bin/sh', ['-c', req.fact.command(req.args).text]).toString());
    expect(state.mounted.length).toBeGreaterThan(0);
    expect(state).toMatchObject({ fstab: null, dirExists: true, dirEmpty: false });
  });
});

function st(over: Partial<MountState> = {}): MountState {
  return { fstab: THESIS_FSTAB, mounted: [], dirExists: true, dirEmpty: true, swaps: [], ...over };
}
const BIND = { path: '/nfs', src: '/home', fstype: 'none', opts: 'bind' };
const MOUNTED = [{ src: '/dev/sda2', fstype: 'ext4', opts: 'rw,relatime' }];

const rows: { name: string; args: Record<string, unknown>; facts: { mount: MountState }; expect: Expectation }[] = [
  {
    name: 'thesis bind mount, first run: fstab line + mount',
    args: { ...BIND, state: 'mounted' },
    facts: { mount: st() },
    expect: { changes: [{ kind: 'write', describe: 'set /nfs in /etc/fstab', content: THESIS_FSTAB + '/home /nfs none bind 0 0\n' }, { kind: 'exec', describe: 'mount /nfs', command: /^mount \/nfs$/ }] },
  },
  {
    name: 'thesis bind mount, mount point missing → mkdir first',
    args: { ...BIND, state: 'mounted' },
    facts: { mount: st({ dirExists: false, dirEmpty: false }) },
    expect: { changes: [{ kind: 'write', describe: 'set /nfs in /etc/fstab' }, { kind: 'exec', describe: 'mkdir -p /nfs' }, { kind: 'exec', describe: 'mount /nfs' }] },
  },
  {
    name: 'thesis bind mount, second run → nothing',
    args: { ...BIND, state: 'mounted' },
    facts: { mount: st({ fstab: THESIS_FSTAB + '/home /nfs none bind 0 0\n', mounted: MOUNTED }) },
    expect: { noop: /\/etc\/fstab has the entry for \/nfs; \/nfs is mounted/ },
  },
  {
    name: 'options changed while mounted → write + remount',
    args: { path: '/nfs', src: 'nas:/nfs', fstype: 'nfs', opts: 'auto,rsize=8192,wsize=8192', state: 'mounted' },
    facts: { mount: st({ fstab: 'nas:/nfs /nfs nfs auto 0 0\n', mounted: [{ src: 'nas:/nfs', fstype: 'nfs4', opts: 'rw' }] }) },
    expect: {
      changes: [
        { kind: 'write', describe: 'set /nfs in /etc/fstab', content: 'nas:/nfs /nfs nfs auto,rsize=8192,wsize=8192 0 0\n' },
        { kind: 'exec', describe: 'remount /nfs', command: /^mount -o remount \/nfs 2>\/dev\/null \|\| \{ umount \/nfs && mount \/nfs; \}$/ },
      ],
    },
  },
  {
    name: 'present only writes fstab',
    args: { path: '/mnt/gv0', src: 'san1:/gv0', fstype: 'glusterfs', opts: 'defaults,_netdev', state: 'present' },
    facts: { mount: st({ dirExists: false }) },
    expect: { changes: [{ kind: 'write', describe: 'set /mnt/gv0 in /etc/fstab', content: /san1:\/gv0 \/mnt\/gv0 glusterfs defaults,_netdev 0 0\n$/ }] },
  },
  {
    name: 'boot: false adds noauto',
    args: { path: '/export/brick1', src: '/dev/sdb1', fstype: 'xfs', boot: false, state: 'present' },
    facts: { mount: st({ fstab: '' }) },
    expect: { changes: [{ kind: 'write', describe: 'set /export/brick1 in /etc/fstab', content: '/dev/sdb1 /export/brick1 xfs defaults,noauto 0 0\n' }], result: { opts: 'defaults,noauto' } },
  },
  {
    name: 'another fstab file is mounted with -T',
    args: { ...BIND, fstab: '/etc/fstab.d/lab', state: 'mounted' },
    facts: { mount: st({ fstab: null }) },
    expect: { changes: [{ kind: 'write', describe: 'set /nfs in /etc/fstab.d/lab', content: '/home /nfs none bind 0 0\n' }, { kind: 'exec', describe: 'mount /nfs', command: /^mount -T \/etc\/fstab.d\/lab \/nfs$/ }] },
  },
  { name: 'unmounted: mounted → umount, fstab untouched', args: { path: '/nfs', state: 'unmounted' }, facts: { mount: st({ mounted: MOUNTED }) }, expect: { changes: [{ kind: 'exec', describe: 'umount /nfs' }] } },
  { name: 'unmounted: already', args: { path: '/nfs', state: 'unmounted' }, facts: { mount: st() }, expect: { noop: /\/nfs is not mounted/ } },
  {
    name: 'absent: umount, remove the line, remove the mount point',
    args: { path: '/nfs', state: 'absent' },
    facts: { mount: st({ fstab: THESIS_FSTAB + '/home /nfs none bind 0 0\n', mounted: MOUNTED }) },
    expect: { changes: [{ kind: 'write', describe: 'remove /nfs in /etc/fstab', content: THESIS_FSTAB }, { kind: 'exec', describe: 'umount /nfs' }, { kind: 'exec', describe: 'rmdir /nfs' }] },
  },
  { name: 'absent: a non-empty directory is kept', args: { path: '/srv', state: 'absent' }, facts: { mount: st({ dirEmpty: false }) }, expect: { noop: /\/srv is not in \/etc\/fstab; \/srv is not mounted/ } },
  { name: 'absent: nothing there', args: { path: '/nfs', state: 'absent' }, facts: { mount: st({ dirExists: false, dirEmpty: false }) }, expect: { noop: true } },
  { name: 'remounted: mounted', args: { path: '/nfs', state: 'remounted' }, facts: { mount: st({ mounted: MOUNTED }) }, expect: { changes: [{ kind: 'exec', describe: 'remount /nfs', command: /^mount -o remount \/nfs$/ }] } },
  { name: 'remounted: not mounted → mount', args: { path: '/nfs', state: 'remounted' }, facts: { mount: st() }, expect: { changes: [{ kind: 'exec', describe: 'mount /nfs' }] } },
  {
    name: 'thesis swap: fstab line + swapon',
    args: { path: 'none', src: '/dev/sda3', fstype: 'swap', opts: 'sw', state: 'mounted' },
    facts: { mount: st({ fstab: '', swapSource: '/dev/sda3', swaps: [] }) },
    expect: { changes: [{ kind: 'write', describe: 'set swap /dev/sda3 in /etc/fstab', content: '/dev/sda3 none swap sw 0 0\n' }, { kind: 'exec', describe: 'swapon /dev/sda3', command: /^swapon \/dev\/sda3$/ }] },
  },
  {
    name: 'swap by UUID already active → nothing',
    args: { path: 'none', src: 'UUID=04b9770e-91c9-4a9a-8942-61913d32b31d', fstype: 'swap', opts: 'sw', state: 'mounted' },
    facts: { mount: st({ fstab: 'UUID=04b9770e-91c9-4a9a-8942-61913d32b31d none swap sw 0 0\n', swapSource: '/dev/loop5p2', swaps: ['/dev/loop5p2'] }) },
    expect: { noop: /swap UUID=04b9770e-91c9-4a9a-8942-61913d32b31d is mounted/ },
  },
  {
    name: 'swap options changed while active → swapoff + swapon',
    args: { path: 'none', src: '/dev/sda3', fstype: 'swap', opts: 'sw,pri=10', state: 'mounted' },
    facts: { mount: st({ fstab: '/dev/sda3 none swap sw 0 0\n', swapSource: '/dev/sda3', swaps: ['/dev/sda3'] }) },
    expect: { changes: [{ kind: 'write', describe: 'set swap /dev/sda3 in /etc/fstab' }, { kind: 'exec', describe: 'swapoff and swapon /dev/sda3', command: /^swapoff \/dev\/sda3 && swapon \/dev\/sda3$/ }] },
  },
  {
    name: 'swap unmounted → swapoff',
    args: { path: 'none', src: '/dev/sda3', fstype: 'swap', state: 'unmounted' },
    facts: { mount: st({ swapSource: '/dev/sda3', swaps: ['/dev/sda3'] }) },
    expect: { changes: [{ kind: 'exec', describe: 'swapoff /dev/sda3' }] },
  },
  {
    name: 'swap absent → swapoff and remove only that swap line, no rmdir',
    args: { path: 'none', src: '/dev/sdb2', fstype: 'swap', state: 'absent' },
    facts: { mount: st({ fstab: '/dev/sda3 none swap sw 0 0\n/dev/sdb2 none swap sw 0 0\n', swapSource: '/dev/sdb2', swaps: ['/dev/sdb2'] }) },
    expect: { changes: [{ kind: 'write', describe: 'remove swap /dev/sdb2 in /etc/fstab', content: '/dev/sda3 none swap sw 0 0\n' }, { kind: 'exec', describe: 'swapoff /dev/sdb2' }] },
  },
  {
    name: 'swap source that does not resolve counts as not active',
    args: { path: 'none', src: 'UUID=0000', fstype: 'swap', state: 'mounted' },
    facts: { mount: st({ fstab: 'UUID=0000 none swap defaults 0 0\n', swapSource: '', swaps: ['/dev/sda3'] }) },
    expect: { changes: [{ kind: 'exec', describe: 'swapon UUID=0000' }] },
  },
];

describe('mount plans', () => {
  it.each(rows)('$name', async ({ args, facts, expect: e }) => {
    expect(mismatches(await planWith(mount, args, facts), e)).toEqual([]);
  });

  it.each([
    [{ path: '/nfs', fstype: 'none', state: 'mounted' }, /src is required when state is mounted/],
    [{ path: '/nfs', src: '/home', state: 'present' }, /fstype is required when state is present/],
    [{ path: 'none', fstype: 'swap', state: 'unmounted' }, /swap entries are identified by src/],
    [{ path: '/nfs' }, /missing required argument "state"/],
  ])('%j is refused', async (args, message) => {
    await expect(planWith(mount, args, { mount: st() })).rejects.toThrow(message);
  });

  it('shows the fstab diff', async () => {
    const plan = await planWith(mount, { ...BIND, state: 'present' }, { mount: st() });
    expect(plan.diff).toEqual([{ path: '/etc/fstab', before: THESIS_FSTAB, after: THESIS_FSTAB + '/home /nfs none bind 0 0\n' }]);
  });
});

describe('shell syntax', () => {
  it('every fact and change command parses in sh -n', async () => {
    expect(await assertRowsShellSyntax(mount, rows.filter((r) => !r.expect.failure))).toBeGreaterThan(0);
  });
});
