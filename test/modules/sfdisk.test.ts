import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sfdisk, {
  isExplicit,
  layoutFromYaml,
  normaliseTable,
  normaliseType,
  parseDiskState,
  parseDump,
  parseSfdiskScript,
  parseSize,
  renderScript,
  resolveLayout,
  sameLayout,
  type DiskState,
  type PartitionTable,
} from '../../src/modules/sfdisk.js';
import { assertRowsShellSyntax, factsFor, mismatches, planWith, type Expectation } from './disk-context.js';

// ---------------------------------------------------------------- real outputs (util-linux 2.41.5, Debian 13)

/** `sfdisk -d a.img` of a 1 GiB image made with "label: dos / ,200M,83,* / ,100M,82 / ,,83". */
const DOS_DUMP = `label: dos
label-id: 0xf46e7e4f
device: a.img
unit: sectors
sector-size: 512

a.img1 : start=        2048, size=      409600, type=83, bootable
a.img2 : start=      411648, size=      204800, type=82
a.img3 : start=      616448, size=     1480704, type=83
`;

/** The same table as read from /dev/loop5 (another image with the dump applied): only names differ. */
const DOS_DUMP_LOOP = `label: dos
label-id: 0xf46e7e4f
device: /dev/loop5
unit: sectors
sector-size: 512

/dev/loop5p1 : start=        2048, size=      409600, type=83, bootable
/dev/loop5p2 : start=      411648, size=      204800, type=82
/dev/loop5p3 : start=      616448, size=     1480704, type=83
`;

/** `sfdisk -d g.img`, 1 GiB, from "size=1M, type=21686148-… / size=512M, type=L, name="root fs" / size=100M, type=S / size=+, type=L". */
const GPT_DUMP = `label: gpt
label-id: 18399D9F-10DA-48BF-8160-F13C52EFB3DD
device: g.img
unit: sectors
first-lba: 2048
last-lba: 2097118
sector-size: 512

g.img1 : start=        2048, size=        2048, type=21686148-6449-6E6F-744E-656564454649, uuid=508E57E3-5F66-48A4-9D2C-939A838474EF
g.img2 : start=        4096, size=     1048576, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=E0C4FAFA-0889-45D3-B81E-F3BF3E827253, name="root fs"
g.img3 : start=     1052672, size=      204800, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, uuid=18994701-865E-46BC-9C9A-11F2F5026A5F
g.img4 : start=     1257472, size=      837632, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=02D363E6-E65F-4228-9727-5E036712B687
`;

/** `sfdisk -d d.img`, 1 GiB, from "start=1000,size=5000,type=83 / ,10M,S,* / ,,E / ,100M,L / ,,L": logical partitions. */
const EXTENDED_DUMP = `label: dos
label-id: 0xe1b72c60
device: d.img
unit: sectors
sector-size: 512

d.img1 : start=        1000, size=        5000, type=83
d.img2 : start=        6144, size=       20480, type=82, bootable
d.img3 : start=       26624, size=     2070528, type=5
d.img5 : start=       28672, size=      204800, type=83
d.img6 : start=      235520, size=     1861632, type=83
`;

/** The format of the thesis's era (sfdisk 2.20, Ubuntu 14.04): Id=, empty slots; util-linux 2.41 still accepts it. */
const OLD_DUMP = `# partition table of /dev/sda
unit: sectors

/dev/sda1 : start=     2048, size=   999424, Id=83, bootable
/dev/sda2 : start=  1001472, size=   204800, Id=82
/dev/sda3 : start=        0, size=        0, Id= 0
/dev/sda4 : start=        0, size=        0, Id= 0
`;

const GiB = 2 ** 30;

// ---------------------------------------------------------------- pure functions

describe('normaliseType', () => {
  it.each([
    ['83', 'dos', '83'],
    [83, 'dos', '83'],
    ['0x83', 'dos', '83'],
    ['L', 'dos', '83'],
    ['linux', 'dos', '83'],
    ['S', 'dos', '82'],
    ['swap', 'dos', '82'],
    ['Ex', 'dos', '5'],
    ['E', 'dos', '5'],
    ['05', 'dos', '5'],
    ['EF', 'dos', 'ef'],
    ['lvm', 'dos', '8e'],
    [undefined, 'dos', '83'],
    ['L', 'gpt', '0FC63DAF-8483-4772-8E79-3D69D8477DE4'],
    ['linux', 'gpt', '0FC63DAF-8483-4772-8E79-3D69D8477DE4'],
    ['83', 'gpt', '0FC63DAF-8483-4772-8E79-3D69D8477DE4'],
    ['82', 'gpt', '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F'],
    ['swap', 'gpt', '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F'],
    ['bios', 'gpt', '21686148-6449-6E6F-744E-656564454649'],
    ['U', 'gpt', 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B'],
    ['0fc63daf-8483-4772-8e79-3d69d8477de4', 'gpt', '0FC63DAF-8483-4772-8E79-3D69D8477DE4'],
  ] as const)('%s on %s → %s', (type, label, expected) => {
    expect(normaliseType(type, label)).toBe(expected);
  });

  it.each([
    ['bios', 'dos', /unknown MBR partition type "bios"/],
    ['xyz', 'gpt', /unknown GPT partition type "xyz"/],
    ['1234', 'dos', /unknown MBR/],
  ] as const)('%s on %s is refused', (type, label, message) => {
    expect(() => normaliseType(type, label)).toThrow(message);
  });
});

describe('parseSize', () => {
  it.each([
    [2048, { sectors: 2048 }],
    ['409600', { sectors: 409600 }],
    ['512M', { bytes: 512 * 2 ** 20 }],
    ['1G', { bytes: GiB }],
    ['1GiB', { bytes: GiB }],
    ['+4K', { bytes: 4096 }],
    ['1.5G', { bytes: 1.5 * GiB }],
    ['+', 'rest'],
    ['', 'rest'],
    [undefined, 'rest'],
  ])('%j → %j', (input, expected) => {
    expect(parseSize(input)).toEqual(expected);
  });

  it.each([['12X'], [-5], ['big']])('%j is refused', (input) => {
    expect(() => parseSize(input)).toThrow(/size must be/);
  });
});

describe('parseSfdiskScript', () => {
  it.each([
    {
      name: 'modern dos dump',
      text: DOS_DUMP,
      expected: {
        label: 'dos',
        labelId: '0xf46e7e4f',
        sectorSize: 512,
        partitions: [
          { number: 1, start: 2048, size: { sectors: 409600 }, type: '83', bootable: true },
          { number: 2, start: 411648, size: { sectors: 204800 }, type: '82' },
          { number: 3, start: 616448, size: { sectors: 1480704 }, type: '83' },
        ],
      },
    },
    {
      name: 'gpt dump with names and uuids',
      text: GPT_DUMP,
      expected: {
        label: 'gpt',
        labelId: '18399D9F-10DA-48BF-8160-F13C52EFB3DD',
        firstLba: 2048,
        lastLba: 2097118,
        sectorSize: 512,
        partitions: [
          { number: 1, start: 2048, size: { sectors: 2048 }, type: '21686148-6449-6E6F-744E-656564454649', uuid: '508E57E3-5F66-48A4-9D2C-939A838474EF' },
          { number: 2, start: 4096, size: { sectors: 1048576 }, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', uuid: 'E0C4FAFA-0889-45D3-B81E-F3BF3E827253', name: 'root fs' },
          { number: 3, start: 1052672, size: { sectors: 204800 }, type: '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F', uuid: '18994701-865E-46BC-9C9A-11F2F5026A5F' },
          { number: 4, start: 1257472, size: { sectors: 837632 }, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', uuid: '02D363E6-E65F-4228-9727-5E036712B687' },
        ],
      },
    },
    {
      name: 'old 2.2x dump: Id=, empty slots skipped, label defaults to dos',
      text: OLD_DUMP,
      expected: {
        label: 'dos',
        partitions: [
          { number: 1, start: 2048, size: { sectors: 999424 }, type: '83', bootable: true },
          { number: 2, start: 1001472, size: { sectors: 204800 }, type: '82' },
        ],
      },
    },
    {
      name: 'positional script',
      text: 'label: dos\n,200M,83,*\n,100M,82\n,,83\n',
      expected: {
        label: 'dos',
        partitions: [
          { size: { bytes: 200 * 2 ** 20 }, type: '83', bootable: true },
          { size: { bytes: 100 * 2 ** 20 }, type: '82' },
          { size: 'rest', type: '83' },
        ],
      },
    },
    {
      name: 'blank-separated positional with a start',
      text: '2048 409600 L *\n',
      expected: { label: 'dos', partitions: [{ start: 2048, size: { sectors: 409600 }, type: 'L', bootable: true }] },
    },
    {
      name: 'named fields without device names',
      text: 'label: gpt\nsize=1M, type=21686148-6449-6E6F-744E-656564454649\nsize=512M, type=L, name="root, fs"\nsize=+, type=S\n',
      expected: {
        label: 'gpt',
        partitions: [
          { size: { bytes: 2 ** 20 }, type: '21686148-6449-6E6F-744E-656564454649' },
          { size: { bytes: 512 * 2 ** 20 }, type: 'L', name: 'root, fs' },
          { size: 'rest', type: 'S' },
        ],
      },
    },
  ])('$name', ({ text, expected }) => {
    expect(parseSfdiskScript(text)).toEqual(expected);
  });

  it.each([
    ['unit: cylinders\n', /unit: cylinders is not supported/],
    ['label: sun\n', /label: sun is not supported/],
    ['start=abc\n', /line 1: start must be a sector number/],
    ['start=2048, colour=red\n', /line 1: unknown field "colour"/],
  ])('%j is refused', (text, message) => {
    expect(() => parseSfdiskScript(text)).toThrow(message);
  });

  it('tells explicit dumps from scripts sfdisk still has to place', () => {
    expect(isExplicit(parseSfdiskScript(DOS_DUMP))).toBe(true);
    expect(isExplicit(parseSfdiskScript(OLD_DUMP))).toBe(true);
    expect(isExplicit(parseSfdiskScript(',200M,83\n'))).toBe(false);
    expect(isExplicit(parseSfdiskScript('start=2048, size=1G\n'))).toBe(false);
  });
});

describe('resolveLayout (each row was checked against sfdisk on a real image)', () => {
  it.each([
    {
      name: 'dos: explicit start, unaligned next start, extended with logicals (d.img)',
      script: 'label: dos\nstart=1000,size=5000,type=83\n,10M,S,*\n,,E\n,100M,L\n,,L\n',
      sizeBytes: GiB,
      expected: parseDump(EXTENDED_DUMP)!.partitions,
    },
    {
      name: 'gpt: the rest ends at the last aligned sector before the backup table (g.img)',
      script: 'label: gpt\nsize=1M, type=21686148-6449-6E6F-744E-656564454649\nsize=512M, type=L, name="root fs"\nsize=100M, type=S\nsize=+, type=L\n',
      sizeBytes: GiB,
      expected: parseDump(GPT_DUMP)!.partitions.map(({ uuid: _u, ...p }) => p),
    },
    {
      name: 'gpt on an unaligned disk (1e9 bytes): sizes are not rounded, starts are',
      script: 'label: gpt\nsize=1001, type=L\nsize=3000,type=L\n,\n',
      sizeBytes: 1e9,
      expected: [
        { number: 1, start: 2048, size: 1001, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', bootable: false },
        { number: 2, start: 4096, size: 3000, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', bootable: false },
        { number: 3, start: 8192, size: 1943552, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', bootable: false },
      ],
    },
    {
      name: 'dos on an unaligned disk: the rest runs to the last sector',
      script: 'label: dos\nsize=1001, type=L\nsize=3000,type=L\n,\n',
      sizeBytes: 1e9,
      expected: [
        { number: 1, start: 2048, size: 1001, type: '83', bootable: false },
        { number: 2, start: 4096, size: 3000, type: '83', bootable: false },
        { number: 3, start: 8192, size: 1944933, type: '83', bootable: false },
      ],
    },
    {
      name: 'dos thesis layout (a.img)',
      script: 'label: dos\n,200M,83,*\n,100M,82\n,,83\n',
      sizeBytes: GiB,
      expected: parseDump(DOS_DUMP)!.partitions,
    },
    {
      name: 'dos: a partition without start fills the lowest free gap',
      script: 'label: dos\nsize=100M\nsize=12345, type=S\nstart=500000, size=1G, type=V\nsize=+, type=R\n',
      sizeBytes: 3e9,
      expected: [
        { number: 1, start: 2048, size: 204800, type: '83', bootable: false },
        { number: 2, start: 206848, size: 12345, type: '82', bootable: false },
        { number: 3, start: 500000, size: 2096864, type: '8e', bootable: false },
        { number: 4, start: 221184, size: 278816, type: 'fd', bootable: false },
      ],
    },
    {
      name: 'gpt: a partition without start follows the previous one',
      script: 'label: gpt\nsize=100M\nsize=12345, type=S\nstart=500000, size=1G, type=V\nsize=+, type=R\n',
      sizeBytes: 3e9,
      expected: [
        { number: 1, start: 2048, size: 204800, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', bootable: false },
        { number: 2, start: 206848, size: 12345, type: '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F', bootable: false },
        { number: 3, start: 500000, size: 2096864, type: 'E6D6D379-F507-44C2-A23C-238F2A3DF928', bootable: false },
        { number: 4, start: 2596864, size: 3262464, type: 'A19D880F-05FC-4D3B-A006-743F0F84911E', bootable: false },
      ],
    },
    {
      name: 'dos: unaligned start, sizes with units end on the nearest boundary',
      script: 'label: dos\nstart=1000, size=10M\nsize=10M\nstart=100000,size=1001\n',
      sizeBytes: GiB,
      expected: [
        { number: 1, start: 1000, size: 19480, type: '83', bootable: false },
        { number: 2, start: 20480, size: 20480, type: '83', bootable: false },
        { number: 3, start: 100000, size: 1001, type: '83', bootable: false },
      ],
    },
    ...(
      [
        ['dos', '300K', 601],
        ['gpt', '300K', 600],
        ['dos', '1023K', 2047],
        ['dos', '1536K', 4096],
        ['gpt', '1536K', 2048],
        ['gpt', '1537K', 4096],
        ['dos', '1535K', 2048],
      ] as const
    ).map(([label, size, sectors]) => ({
      name: `${label}: size=${size} → ${sectors} sectors (libfdisk rounding)`,
      script: `label: ${label}\nsize=${size}\n`,
      sizeBytes: GiB,
      expected: [{ number: 1, start: 2048, size: sectors, type: normaliseType('L', label), bootable: false }],
    })),
  ])('$name', ({ script, sizeBytes, expected }) => {
    expect(resolveLayout(parseSfdiskScript(script), { sizeBytes, sectorSize: 512 }).partitions).toEqual(expected);
  });

  it('an explicit dump resolves to itself', () => {
    for (const dump of [DOS_DUMP, GPT_DUMP, EXTENDED_DUMP, OLD_DUMP]) {
      const table = resolveLayout(parseSfdiskScript(dump), { sizeBytes: GiB, sectorSize: 512 });
      expect(sameLayout(parseDump(dump), table)).toBe(true);
    }
  });

  it('refuses a layout that does not fit', () => {
    expect(() => resolveLayout(parseSfdiskScript(',1023M,L\n,,L\n'), { sizeBytes: GiB, sectorSize: 512 })).toThrow(/partition 2 has no room left/);
    expect(() => resolveLayout(parseSfdiskScript(',1G,L\n'), { sizeBytes: GiB, sectorSize: 512 })).toThrow(/partition 1 does not fit: it would end at sector 2099199/);
  });
});

describe('normaliseTable and sameLayout', () => {
  it('ignores the disk identifier, device names and uuids', () => {
    expect(normaliseTable(parseDump(DOS_DUMP))).toBe(normaliseTable(parseDump(DOS_DUMP_LOOP)));
    expect(normaliseTable(parseDump(DOS_DUMP))).toBe(
      'label: dos\n1: start=2048, size=409600, type=83, bootable\n2: start=411648, size=204800, type=82\n3: start=616448, size=1480704, type=83\n',
    );
    expect(sameLayout(parseDump(DOS_DUMP_LOOP), parseDump(DOS_DUMP)!)).toBe(true);
    expect(sameLayout(parseDump(DOS_DUMP.replace('0xf46e7e4f', '0x12345678')), parseDump(DOS_DUMP)!)).toBe(true);
  });

  const base = parseDump(DOS_DUMP)!;
  const edit = (f: (t: PartitionTable) => void): PartitionTable => {
    const t = structuredClone(base);
    f(t);
    return t;
  };
  it.each([
    ['another size', edit((t) => (t.partitions[2]!.size -= 2048)), false],
    ['another start', edit((t) => (t.partitions[1]!.start += 2048)), false],
    ['another type', edit((t) => (t.partitions[1]!.type = '83')), false],
    ['bootable flag moved', edit((t) => ((t.partitions[0]!.bootable = false), (t.partitions[1]!.bootable = true))), false],
    ['a partition less', edit((t) => t.partitions.pop()), false],
    ['another label', edit((t) => (t.label = 'gpt')), false],
    ['same layout, other label-id', edit((t) => (t.labelId = '0x1')), true],
  ])('%s → same=%s', (_name, desired, same) => {
    expect(sameLayout(base, desired)).toBe(same);
  });

  it('compares GPT names only when the desired layout sets them', () => {
    const current = parseDump(GPT_DUMP)!;
    const unnamed = structuredClone(current);
    unnamed.partitions.forEach((p) => delete p.name);
    expect(sameLayout(current, unnamed)).toBe(true);
    const renamed = structuredClone(current);
    renamed.partitions[1]!.name = 'data';
    expect(sameLayout(current, renamed)).toBe(false);
    expect(normaliseTable(current, true)).toContain('2: start=4096, size=1048576, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root fs"');
  });

  it('no table on the device never matches', () => {
    expect(sameLayout(undefined, base)).toBe(false);
    expect(parseDump('')).toBeUndefined();
  });
});

describe('renderScript', () => {
  it('writes exact sectors and keeps the current disk identifier', () => {
    const desired = resolveLayout(layoutFromYaml('dos', [{ size: '200M', type: 83, bootable: true }, { size: '100M', type: 'swap' }, { size: '+', type: 'linux' }]), { sizeBytes: GiB, sectorSize: 512 });
    expect(renderScript(desired, parseDump(DOS_DUMP))).toBe(
      'label: dos\nlabel-id: 0xf46e7e4f\nunit: sectors\n\n1: start=2048, size=409600, type=83, bootable\n2: start=411648, size=204800, type=82\n3: start=616448, size=1480704, type=83\n',
    );
    expect(renderScript(desired)).not.toContain('label-id');
  });

  it('keeps a GPT partition uuid and name where the partition stays in place', () => {
    const current = parseDump(GPT_DUMP)!;
    const desired = resolveLayout(layoutFromYaml('gpt', [{ size: '1M', type: 'bios' }, { size: '512M', type: 'linux' }, { size: '200M', type: 'swap' }]), { sizeBytes: GiB, sectorSize: 512 });
    expect(renderScript(desired, current)).toBe(
      [
        'label: gpt',
        'label-id: 18399D9F-10DA-48BF-8160-F13C52EFB3DD',
        'unit: sectors',
        '',
        '1: start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, uuid=508E57E3-5F66-48A4-9D2C-939A838474EF',
        '2: start=4096, size=1048576, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=E0C4FAFA-0889-45D3-B81E-F3BF3E827253, name="root fs"',
        '3: start=1052672, size=409600, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, uuid=18994701-865E-46BC-9C9A-11F2F5026A5F',
        '',
      ].join('\n'),
    );
  });

  it('round-trips: a rendered script parses back to the same layout', () => {
    const desired = resolveLayout(parseSfdiskScript('label: dos\nstart=1000,size=5000,type=83\n,10M,S,*\n,,E\n,100M,L\n,,L\n'), { sizeBytes: GiB, sectorSize: 512 });
    expect(sameLayout(parseDump(renderScript(desired)), desired)).toBe(true);
  });
});

describe('layoutFromYaml', () => {
  it.each([
    [{ label: 'dos', partitions: [{ size: 100, typo: 1 }] }, /partitions\[0\]: unknown key "typo"/],
    [{ label: 'dos', partitions: [{ size: '1G', name: 'x' }] }, /names exist only on gpt/],
    [{ label: 'gpt', partitions: [{ size: '1G', bootable: true }] }, /bootable flag exists only on dos/],
    [{ label: 'dos', partitions: ['1G'] }, /must be a mapping/],
    [{ label: 'dos', partitions: [{ size: '1G', start: 'x' }] }, /start must be a sector number/],
  ])('%j is refused', ({ label, partitions }, message) => {
    expect(() => layoutFromYaml(label, partitions as never)).toThrow(message);
  });
});

// ---------------------------------------------------------------- the fact

describe('disk fact', () => {
  it('batches one read-only script with the device and dump file as variables', () => {
    const req = factsFor(sfdisk, { device: "/dev/sd'a", dump_remote: '/root/sda.out' }).disk!;
    const text = req.fact.command(req.args).text;
    expect(text.split('\n')[0]).toBe(`d='/dev/sd'\\''a'; r=/root/sda.out`);
    expect(text).toContain('sfdisk --dump "$d"');
    expect(text).not.toMatch(/sfdisk\s+(-f\s+)?"\$d"|mkfs|\bdd\b/);
  });

  it.each([
    {
      name: 'loop device with a mounted partition and active swap (real output, trimmed)',
      stdout: [
        '@@tsible-kind block',
        '@@tsible-size 1073741824',
        '@@tsible-ss 512',
        '@@tsible-member /dev/loop5',
        '@@tsible-member /dev/loop5p1',
        '@@tsible-member /dev/loop5p2',
        '@@tsible-member /dev/loop5p3',
        '@@tsible-mount /dev/vda /etc/resolv.conf',
        '@@tsible-mount /dev/loop5p1 /mnt/sda1',
        '@@tsible-swap /dev/loop5p2',
        '@@tsible-dump',
        DOS_DUMP_LOOP.trimEnd(),
        '@@tsible-dumprc 0',
      ].join('\n'),
      expected: {
        noSfdisk: false,
        kind: 'block',
        sizeBytes: GiB,
        sectorSize: 512,
        dump: DOS_DUMP_LOOP,
        members: ['/dev/loop5', '/dev/loop5p1', '/dev/loop5p2', '/dev/loop5p3'],
        holders: [],
        inUse: { '/dev/loop5p1': 'mounted on /mnt/sda1', '/dev/loop5p2': 'in use as swap' },
      },
    },
    {
      name: 'image file attached to a loop device, with the dump file read from the host',
      stdout: [
        '@@tsible-kind file',
        '@@tsible-size 1073741824',
        '@@tsible-ss 512',
        '@@tsible-member /dev/loop5',
        '@@tsible-member /dev/loop5p1',
        '@@tsible-swap /dev/loop5p2',
        '@@tsible-remote',
        DOS_DUMP,
        '@@tsible-remote-end',
        '@@tsible-dump',
        '@@tsible-dumprc 0',
      ].join('\n'),
      expected: { kind: 'file', members: ['/dev/loop5', '/dev/loop5p1'], inUse: {}, remoteDump: DOS_DUMP.trimEnd(), dump: '' },
    },
    {
      name: 'fresh sparse image: no partition table is not an error',
      stdout: '@@tsible-kind file\n@@tsible-size 104857600\n@@tsible-ss 512\n@@tsible-noremote\n@@tsible-dump\nsfdisk: /root/new.img: does not contain a recognized partition table\n@@tsible-dumprc 1',
      expected: { kind: 'file', sizeBytes: 104857600, dump: '', remoteDump: null, inUse: {} },
    },
    {
      name: 'missing device',
      stdout: '@@tsible-kind missing',
      expected: { kind: 'missing' },
    },
    {
      name: 'sfdisk not installed',
      stdout: '@@tsible-nosfdisk',
      expected: { noSfdisk: true },
    },
    {
      name: 'an sfdisk error is kept',
      stdout: '@@tsible-kind block\n@@tsible-size 0\n@@tsible-ss 512\n@@tsible-dump\nsfdisk: cannot open /dev/sdb: Permission denied\n@@tsible-dumprc 1',
      expected: { dumpError: 'sfdisk: cannot open /dev/sdb: Permission denied' },
    },
    {
      name: 'an LVM holder on a partition counts as in use',
      stdout: '@@tsible-kind block\n@@tsible-size 1073741824\n@@tsible-ss 512\n@@tsible-member /dev/sdb\n@@tsible-member /dev/sdb1\n@@tsible-holder /dev/dm-0\n@@tsible-mount /dev/dm-0 /srv\n@@tsible-dump\n@@tsible-dumprc 0',
      expected: { holders: ['/dev/dm-0'], inUse: { '/dev/dm-0': 'mounted on /srv' } },
    },
  ])('$name', ({ stdout, expected }) => {
    expect(parseDiskState(stdout)).toMatchObject(expected);
  });
});

describe('disk fact in sh', () => {
  it('runs on an image file with a fake sfdisk (awk, losetup and /proc parts run for real)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsible-sfdisk-'));
    const img = join(dir, 'node.img');
    writeFileSync(img, Buffer.alloc(4096));
    const req = factsFor(sfdisk, { device: img, dump: DOS_DUMP }).disk!;
    writeFileSync(join(dir, 'dump'), DOS_DUMP.trimEnd());
    const fake = `sfdisk() { cat '${join(dir, 'dump')}'; }\n`;
    const state = parseDiskState(execFileSync('/bin/sh', ['-c', fake + req.fact.command(req.args).text]).toString());
    expect(state).toMatchObject({ noSfdisk: false, kind: 'file', sizeBytes: 4096, sectorSize: 512, dump: DOS_DUMP, inUse: {} });
  });

  it('reports a missing device', () => {
    const req = factsFor(sfdisk, { device: '/nonexistent/disk', dump: DOS_DUMP }).disk!;
    const out = execFileSync('/bin/sh', ['-c', 'sfdisk() { :; }\n' + req.fact.command(req.args).text]).toString();
    expect(parseDiskState(out).kind).toBe('missing');
  });
});

// ---------------------------------------------------------------- the module

function disk(over: Partial<DiskState> = {}): DiskState {
  return { noSfdisk: false, kind: 'block', sizeBytes: GiB, sectorSize: 512, dump: '', members: ['/dev/sda'], holders: [], inUse: {}, ...over };
}

const THESIS_YAML = [{ size: '200M', type: 83, bootable: true }, { size: '100M', type: 82 }, { size: '+', type: 83 }];

interface Row {
  name: string;
  args: Record<string, unknown>;
  facts: { disk: DiskState };
  files?: Record<string, string>;
  expect: Expectation;
}

const rows: Row[] = [
  {
    name: 'thesis clone: the master dump applied to a node without a table',
    args: { device: '/dev/sda', dump: DOS_DUMP, force: true },
    facts: { disk: disk() },
    expect: {
      changes: [
        { kind: 'exec', describe: 'sfdisk --force --no-reread /dev/sda (dos, 3 partitions)', command: /^LC_ALL=C sfdisk --force --no-reread \/dev\/sda$/, content: DOS_DUMP },
        { kind: 'exec', describe: "partx: make the kernel's partitions of /dev/sda match the table", command: /^d=\/dev\/sda\n[\s\S]*partx -d "\$d" 2>\/dev\/null; partx -a "\$d"/ },
      ],
    },
  },
  {
    name: 'thesis clone, second run: the same table → no change',
    args: { device: '/dev/sda', dump: DOS_DUMP, force: true },
    facts: { disk: disk({ dump: DOS_DUMP_LOOP }) },
    expect: { noop: /already matches \(dos, 3 partitions\)/ },
  },
  {
    name: 'dump_remote read by the fact',
    args: { device: '/dev/sda', dump_remote: '/root/sda.out' },
    facts: { disk: disk({ remoteDump: OLD_DUMP }) },
    expect: { changes: [{ kind: 'exec', describe: 'sfdisk /dev/sda (dos, 2 partitions)', content: OLD_DUMP }, { kind: 'exec', describe: "partx: make the kernel's partitions of /dev/sda match the table" }] },
  },
  {
    name: 'dump_remote missing on the host',
    args: { device: '/dev/sda', dump_remote: '/root/sda.out' },
    facts: { disk: disk({ remoteDump: null }) },
    expect: { failure: /\/root\/sda.out does not exist on the host/ },
  },
  {
    name: 'dump_src from the controller, image file: no partx',
    args: { device: '/srv/node.img', dump_src: 'sda.out' },
    facts: { disk: disk({ kind: 'file' }) },
    files: { 'sda.out': DOS_DUMP },
    expect: { changes: [{ kind: 'exec', describe: 'sfdisk /srv/node.img (dos, 3 partitions)', command: /^LC_ALL=C sfdisk \/srv\/node.img$/, content: DOS_DUMP }] },
  },
  {
    name: 'YAML layout on a fresh image is rendered with exact sectors',
    args: { device: '/srv/b.img', partitions: THESIS_YAML },
    facts: { disk: disk({ kind: 'file' }) },
    expect: {
      changes: [
        {
          kind: 'exec',
          describe: 'sfdisk /srv/b.img (dos, 3 partitions)',
          content: 'label: dos\nunit: sectors\n\n1: start=2048, size=409600, type=83, bootable\n2: start=411648, size=204800, type=82\n3: start=616448, size=1480704, type=83\n',
        },
      ],
    },
  },
  {
    name: 'YAML layout equal to the current table → no change',
    args: { device: '/dev/loop5', partitions: THESIS_YAML },
    facts: { disk: disk({ dump: DOS_DUMP_LOOP }) },
    expect: { noop: /already matches/ },
  },
  {
    name: 'YAML gpt layout with names equal to the current table → no change',
    args: { device: '/srv/g.img', label: 'gpt', partitions: [{ size: '1M', type: 'bios' }, { size: '512M', type: 'L', name: 'root fs' }, { size: '100M', type: 'swap' }, { size: '+', type: 'linux' }] },
    facts: { disk: disk({ kind: 'file', dump: GPT_DUMP }) },
    expect: { noop: /already matches \(gpt, 4 partitions\)/ },
  },
  {
    name: 'a renamed GPT partition is a change',
    args: { device: '/srv/g.img', label: 'gpt', partitions: [{ size: '1M', type: 'bios' }, { size: '512M', type: 'L', name: 'data' }, { size: '100M', type: 'swap' }, { size: '+', type: 'linux' }] },
    facts: { disk: disk({ kind: 'file', dump: GPT_DUMP }) },
    expect: { changes: [{ kind: 'exec', describe: 'sfdisk /srv/g.img (gpt, 4 partitions)', content: /2: start=4096, size=1048576, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=E0C4FAFA-0889-45D3-B81E-F3BF3E827253, name="data"/ }] },
  },
  {
    name: 'different layout while a partition is mounted → refused',
    args: { device: '/dev/loop5', partitions: [{ size: '+', type: 'linux' }] },
    facts: { disk: disk({ dump: DOS_DUMP_LOOP, inUse: { '/dev/loop5p1': 'mounted on /mnt/sda1', '/dev/loop5p2': 'in use as swap' } }) },
    expect: { failure: /refusing to repartition \/dev\/loop5: \/dev\/loop5p1 is mounted on \/mnt\/sda1, \/dev\/loop5p2 is in use as swap \(set force: true/ },
  },
  {
    name: 'same layout while mounted is fine (nothing to do)',
    args: { device: '/dev/loop5', dump: DOS_DUMP },
    facts: { disk: disk({ dump: DOS_DUMP_LOOP, inUse: { '/dev/loop5p1': 'mounted on /mnt/sda1' } }) },
    expect: { noop: true },
  },
  {
    name: 'wipe adds --wipe always',
    args: { device: '/dev/sdb', partitions: [{ size: '+', type: 'lvm' }], wipe: true },
    facts: { disk: disk() },
    expect: { changes: [{ kind: 'exec', describe: 'sfdisk --wipe always /dev/sdb (dos, 1 partitions)', command: /sfdisk --wipe always \/dev\/sdb$/, content: /1: start=2048, size=2095104, type=8e/ }, { kind: 'exec', describe: "partx: make the kernel's partitions of /dev/sdb match the table" }] },
  },
  { name: 'sfdisk missing', args: { device: '/dev/sdb', partitions: THESIS_YAML }, facts: { disk: disk({ noSfdisk: true }) }, expect: { failure: /sfdisk is not installed/ } },
  { name: 'device missing', args: { device: '/dev/sdb', partitions: THESIS_YAML }, facts: { disk: disk({ kind: 'missing' }) }, expect: { failure: /\/dev\/sdb does not exist/ } },
  { name: 'a directory', args: { device: '/srv', partitions: THESIS_YAML }, facts: { disk: disk({ kind: 'other' }) }, expect: { failure: /neither a block device nor a regular file/ } },
  { name: 'unreadable table', args: { device: '/dev/sdb', partitions: THESIS_YAML }, facts: { disk: disk({ dumpError: 'Permission denied' }) }, expect: { failure: /cannot read the partition table of \/dev\/sdb: Permission denied/ } },
  { name: 'bad script', args: { device: '/dev/sdb', dump: 'unit: cylinders\n' }, facts: { disk: disk() }, expect: { failure: /invalid layout: unit: cylinders/ } },
  { name: 'too big', args: { device: '/dev/sdb', partitions: [{ size: '2G' }] }, facts: { disk: disk() }, expect: { failure: /partition 1 does not fit: it would end at sector 4196351, the usable space ends at 2097151/ } },
  { name: 'no room', args: { device: '/dev/sdb', partitions: [{ size: '1023M' }, { size: '+' }] }, facts: { disk: disk() }, expect: { failure: /no room left/ } },
  { name: 'sector size mismatch', args: { device: '/dev/sdb', dump: DOS_DUMP }, facts: { disk: disk({ sectorSize: 4096 }) }, expect: { failure: /512-byte sectors but \/dev\/sdb has 4096-byte sectors/ } },
];

describe('sfdisk plans', () => {
  it.each(rows)('$name', async ({ args, facts, files, expect: e }) => {
    const plan = await planWith(sfdisk, args, facts, files);
    expect(mismatches(plan, e)).toEqual([]);
  });

  it.each([
    [{ device: '/dev/sdb' }, /give the layout as dump, dump_src, dump_remote or partitions/],
    [{ device: '/dev/sdb', dump: 'x', partitions: [] }, /dump and partitions are mutually exclusive/],
  ])('%j is refused', async (args, message) => {
    await expect(planWith(sfdisk, args, { disk: disk() })).rejects.toThrow(message);
  });

  it('shows the layout change as a diff', async () => {
    const plan = await planWith(sfdisk, { device: '/dev/loop5', partitions: [{ size: '+', type: 'linux' }] }, { disk: disk({ dump: DOS_DUMP_LOOP }) });
    expect(plan.diff?.[0]).toMatchObject({
      before: normaliseTable(parseDump(DOS_DUMP_LOOP)),
      after: 'label: dos\n1: start=2048, size=2095104, type=83\n',
    });
  });
});

describe('shell syntax', () => {
  it('every fact and change command parses in sh -n', async () => {
    expect(await assertRowsShellSyntax(sfdisk, rows.filter((r) => !r.expect.failure))).toBeGreaterThan(0);
  });
});
