import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import unarchive, {
  CACHE_DIR,
  applyMode,
  compareMembers,
  globToRegex,
  memberFilter,
  parseArchiveState,
  parseStat,
  parseTarVerbose,
  parseZipVerbose,
  selected,
  stripComponents,
  type ArchiveState,
} from '../../src/modules/unarchive.js';
import { assertRowsShellSyntax, factsFor, mismatches, planWith, type Expectation } from './disk-context.js';

// A MOSIX-like tarball made in the lab: a directory, an empty file, a script with a hard link, a symlink, a name with a space.
const TAR_TV = `drwxr-xr-x root/root         0 2026-12-05 07:20 mosix-4.4.0/
-rw-r--r-- root/root         0 2026-12-05 07:20 mosix-4.4.0/empty
-rwxr-xr-x root/root        23 2026-12-05 07:20 mosix-4.4.0/hard
lrwxrwxrwx root/root         0 2026-12-05 07:20 mosix-4.4.0/link -> mosix.install
hrwxr-xr-x root/root         0 2026-12-05 07:20 mosix-4.4.0/mosix.install link to mosix-4.4.0/hard
drwxr-xr-x root/root         0 2026-12-05 07:20 mosix-4.4.0/sub/
-rw-r--r-- root/root         6 2026-12-05 07:20 mosix-4.4.0/sub/read me.txt`;
const NAMES = ['mosix-4.4.0/', 'mosix-4.4.0/empty', 'mosix-4.4.0/hard', 'mosix-4.4.0/link', 'mosix-4.4.0/mosix.install', 'mosix-4.4.0/sub/', 'mosix-4.4.0/sub/read me.txt'];
// `stat -c '%s|%F|%u|%U|%g|%G|%a'` of the extracted tree (real).
const STATS = ['4096|directory|0|root|0|root|755', '0|regular empty file|0|root|0|root|644', '23|regular file|0|root|0|root|755', '13|symbolic link|0|root|0|root|777', '23|regular file|0|root|0|root|755', '4096|directory|0|root|0|root|755', '6|regular file|0|root|0|root|644'];
const ZIP_Z = `Archive:  m.zip
Zip file size: 1241 bytes, number of entries: 7
drwxr-xr-x  3.0 unx        0 bx stor 26-Dec-05 07:20 mosix-4.4.0/
-rw-r--r--  3.0 unx        0 bx stor 26-Dec-05 07:20 mosix-4.4.0/empty
-rwxr-xr-x  3.0 unx       23 tx stor 26-Dec-05 07:20 mosix-4.4.0/hard
lrwxrwxrwx  3.0 unx       13 bx stor 26-Dec-05 07:20 mosix-4.4.0/link
-rwxr-xr-x  3.0 unx       23 tx stor 26-Dec-05 07:20 mosix-4.4.0/mosix.install
drwxr-xr-x  3.0 unx        0 bx stor 26-Dec-05 07:20 mosix-4.4.0/sub/
-rw-r--r--  3.0 unx        6 tx stor 26-Dec-05 07:20 mosix-4.4.0/sub/read me.txt
7 files, 65 bytes uncompressed, 65 bytes compressed:  0.0%`;

const SHA = 'a8a880fad09094dd4fd387c62c852855c1884e1671a8d9c5f6645397997685a4';
function factOutput(stats: string[], opts: { zip?: boolean; sha?: string; cachedir?: boolean } = {}): string {
  const pairs = NAMES.map((n, i) => `n:${n}\ns:${stats[i]}`).join('\n');
  return [opts.cachedir === false ? '' : '@@tsible-cachedir', `@@tsible-sha ${opts.sha ?? SHA}`, '@@tsible-list 0', opts.zip ? ZIP_Z : TAR_TV, '@@tsible-names', pairs].filter(Boolean).join('\n');
}

describe('listing parsers (real GNU tar 1.35 and unzip 6.0 output)', () => {
  it('tar -tvf lines', () => {
    expect(TAR_TV.split('\n').map(parseTarVerbose)).toEqual([
      { type: 'dir', size: 0 },
      { type: 'file', size: 0 },
      { type: 'file', size: 23 },
      { type: 'link', size: 0 },
      { type: 'hardlink', size: 0 },
      { type: 'dir', size: 0 },
      { type: 'file', size: 6 },
    ]);
    expect(parseTarVerbose('crw-r--r-- root/root     1,3 2026-12-05 07:20 dev/null')).toEqual({ type: 'other', size: 0 });
    expect(parseTarVerbose('tar: This does not look like a tar archive')).toBeUndefined();
  });

  it('unzip -Z lines (header and summary ignored)', () => {
    expect(ZIP_Z.split('\n').map(parseZipVerbose).filter(Boolean)).toEqual([
      { type: 'dir', size: 0 },
      { type: 'file', size: 0 },
      { type: 'file', size: 23 },
      { type: 'link', size: 13 },
      { type: 'file', size: 23 },
      { type: 'dir', size: 0 },
      { type: 'file', size: 6 },
    ]);
  });

  it('stat lines', () => {
    expect(parseStat('13|symbolic link|0|root|0|root|777')).toEqual({ size: 13, kind: 'symbolic link', uid: '0', user: 'root', gid: '0', group: 'root', mode: '777' });
    expect(parseStat('garbage')).toBeUndefined();
  });

  it('the whole fact output', () => {
    const st = parseArchiveState(factOutput([...STATS.slice(0, 6), '-']), false);
    expect(st).toMatchObject({ sha256: SHA, cacheDirExists: true, creates: false, destMissing: false });
    expect(st.members).toHaveLength(7);
    expect(st.members[4]).toEqual({ name: 'mosix-4.4.0/mosix.install', type: 'hardlink', size: 0, dest: parseStat(STATS[4]!) });
    expect(st.members[6]).toEqual({ name: 'mosix-4.4.0/sub/read me.txt', type: 'file', size: 6, dest: null });
  });

  it.each([
    ['@@tsible-creates', { creates: true }],
    ['@@tsible-cachedir\n@@tsible-nodest', { destMissing: true, cacheDirExists: true }],
    ['@@tsible-noarchive', { archiveMissing: true }],
    ['@@tsible-notool', { noTool: true }],
    [`@@tsible-sha ${SHA}\n@@tsible-list 2\ntar: This does not look like a tar archive\ntar: Exiting with failure status due to previous errors`, { listError: 'tar: This does not look like a tar archive\ntar: Exiting with failure status due to previous errors' }],
  ])('%j', (stdout, expected) => {
    expect(parseArchiveState(stdout, false)).toMatchObject(expected);
  });
});

describe('archive fact in sh with the real tar and unzip of this machine', () => {
  function tree() {
    const dir = mkdtempSync(join(tmpdir(), 'tsible-unarchive-'));
    execFileSync('/bin/sh', ['-c', 'mkdir -p src/mosix-4.4.0/sub dest && cd src && printf "#!/bin/sh\\n" > mosix-4.4.0/mosix.install && printf hello > "mosix-4.4.0/sub/read me.txt" && ln -s mosix.install mosix-4.4.0/link && tar -czf ../m.tgz mosix-4.4.0'], { cwd: dir });
    return dir;
  }
  it('lists a tarball, then finds every member after extraction', () => {
    const dir = tree();
    const req = factsFor(unarchive, { src: join(dir, 'm.tgz'), dest: join(dir, 'dest'), remote_src: true }).archive!;
    const before = parseArchiveState(execFileSync('/bin/sh', ['-c', req.fact.command(req.args).text]).toString(), false);
    expect(before.members.map((m) => [m.name, m.type, m.dest])).toEqual([
      ['mosix-4.4.0/', 'dir', null],
      ['mosix-4.4.0/mosix.install', 'file', null],
      ['mosix-4.4.0/link', 'link', null],
      ['mosix-4.4.0/sub/', 'dir', null],
      ['mosix-4.4.0/sub/read me.txt', 'file', null],
    ].sort((a, b) => before.members.findIndex((m) => m.name === a[0]) - before.members.findIndex((m) => m.name === b[0])));
    expect(compareMembers(before.members, { include: [], exclude: [] }).differ).toHaveLength(5);
    execFileSync('tar', ['-xzf', join(dir, 'm.tgz'), '-C', join(dir, 'dest')]);
    const after = parseArchiveState(execFileSync('/bin/sh', ['-c', req.fact.command(req.args).text]).toString(), false);
    expect(compareMembers(after.members, { include: [], exclude: [] }).differ).toEqual([]);
    expect(after.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
  it('strips components like tar does', () => {
    const dir = tree();
    execFileSync('tar', ['-xzf', join(dir, 'm.tgz'), '-C', join(dir, 'dest'), '--strip-components=1']);
    const req = factsFor(unarchive, { src: join(dir, 'm.tgz'), dest: join(dir, 'dest'), remote_src: true, extra_opts: ['--strip-components=1'] }).archive!;
    const st = parseArchiveState(execFileSync('/bin/sh', ['-c', req.fact.command(req.args).text]).toString(), false);
    const cmp = compareMembers(st.members, { include: [], exclude: [] });
    expect(cmp).toMatchObject({ differ: [] });
    expect(cmp.members).toHaveLength(4);
  });
});

describe('applyMode', () => {
  it.each([
    [0o644, '0755', false, 0o755],
    [0o644, '600', false, 0o600],
    [0o644, 'u+x', false, 0o744],
    [0o755, 'go-rx', true, 0o700],
    [0o600, 'u=rwX,go=rX', true, 0o755],
    [0o600, 'u=rwX,go=rX', false, 0o644],
    [0o744, 'a+X', false, 0o755],
    [0o644, 'a=r', false, 0o444],
    [0o755, 'u+s,g+s,o+t', true, 0o7755],
    [0o644, '+x', false, 0o755],
  ])('%o with %s (dir=%s) → %o', (current, mode, dir, expected) => {
    expect(applyMode(current, mode, dir)).toBe(expected);
  });
  it('refuses nonsense', () => expect(() => applyMode(0o644, 'rwx', false)).toThrow(/cannot read mode/));
});

describe('selection like tar --anchored --wildcards and unzip', () => {
  it.each([
    ['*.txt', 'mosix-4.4.0/sub/read me.txt', true],
    ['mosix-4.4.0/s*', 'mosix-4.4.0/sub/read me.txt', true],
    ['sub', 'mosix-4.4.0/sub/read me.txt', false],
    ['mosix-4.4.0/sub', 'mosix-4.4.0/sub/', true],
    ['mosix-4.4.0/sub/', 'mosix-4.4.0/sub/read me.txt', true],
    ['mosix-4.4.0/[eh]*', 'mosix-4.4.0/hard', true],
    ['mosix-4.4.0/[!eh]*', 'mosix-4.4.0/hard', false],
    ['a.b', 'axb', false],
  ])('%j selects %j: %s', (pattern, name, hit) => {
    expect(selected(name, [pattern], [])).toBe(hit);
    expect(selected(name, [], [pattern])).toBe(!hit);
  });
  it('regex escapes', () => expect(globToRegex('a+(b)?.tgz').test('a+(b)x.tgz')).toBe(true));

  it.each([
    [[], 0],
    [['--strip-components=2'], 2],
    [['--strip-components', '1'], 1],
    [['--strip=3', '-v'], 3],
    [['--no-same-owner'], 0],
  ])('stripComponents(%j) = %d', (opts, n) => expect(stripComponents(opts)).toBe(n));

  it('memberFilter in sh selects exactly what selected() does', () => {
    const include = ['mosix-4.4.0/s*', 'mosix-4.4.0/empty'];
    const exclude = ['*.txt'];
    const out = execFileSync('/bin/sh', ['-c', memberFilter(include, exclude, 1).text], { input: NAMES.join('\n') + '\n' }).toString();
    const expected = NAMES.filter((n) => selected(n, include, exclude)).map((n) => n.replace(/\/$/, '').split('/').slice(1).join('/')).filter(Boolean);
    expect(out.split('\0').filter(Boolean)).toEqual(expected);
    expect(expected).toEqual(['empty', 'sub']);
  });
});

describe('compareMembers', () => {
  const st = parseArchiveState(factOutput(STATS), false);
  it('everything in place', () => {
    expect(compareMembers(st.members, { include: [], exclude: [] })).toMatchObject({ differ: [], owner: [], mode: [] });
  });
  it('a file with another size, a missing file, a directory that is a file', () => {
    const other = parseArchiveState(factOutput([STATS[0]!, '5|regular file|0|root|0|root|644', STATS[2]!, STATS[3]!, '-', '0|regular empty file|0|root|0|root|644', STATS[6]!]), false);
    expect(compareMembers(other.members, { include: [], exclude: [] }).differ).toEqual(['mosix-4.4.0/empty', 'mosix-4.4.0/mosix.install', 'mosix-4.4.0/sub/']);
  });
  it('owner and mode; symlinks have no mode', () => {
    const c = compareMembers(st.members, { include: [], exclude: [], owner: 'nobody', mode: 'u=rwX,go=rX' });
    expect(c.owner).toHaveLength(7);
    expect(c.mode).toEqual([]);
    expect(compareMembers(st.members, { include: [], exclude: [], owner: '0', group: 'root', mode: '0755' }).mode).toEqual(['mosix-4.4.0/empty', 'mosix-4.4.0/sub/read me.txt']);
  });
  it('stripped members and filtered ones do not count', () => {
    const stripped = parseArchiveState(factOutput(['skip', ...STATS.slice(1)]), false);
    expect(compareMembers(stripped.members, { include: [], exclude: ['*/sub'] }).members.map((m) => m.name)).toEqual(['mosix-4.4.0/empty', 'mosix-4.4.0/hard', 'mosix-4.4.0/link', 'mosix-4.4.0/mosix.install']);
  });
});

const files = { 'MOSIX-4.4.0.tbz': Buffer.from('pretend bzip2 data'), 'm.zip': Buffer.from('zip') };
const CONTROLLER_SHA = createHash('sha256').update(files['MOSIX-4.4.0.tbz']).digest('hex');
const cached = (name: string) => expect.stringMatching(new RegExp(`^${CACHE_DIR}/[0-9a-f]{12}-${name.replace('.', '\\.')}$`));

const rows: { name: string; args: Record<string, unknown>; facts: { archive: ArchiveState }; expect: Expectation }[] = [
  {
    name: 'thesis MOSIX from the controller, first run: upload to the cache, extract',
    args: { src: 'MOSIX-4.4.0.tbz', dest: '/root' },
    facts: { archive: { ...parseArchiveState('', false), archiveMissing: true } },
    expect: {
      changes: [
        { kind: 'exec', describe: `mkdir -p ${CACHE_DIR}` },
        { kind: 'write', describe: /^upload MOSIX-4.4.0.tbz to \/var\/cache\/tsible\/unarchive\/[0-9a-f]{12}-MOSIX-4.4.0.tbz$/, content: 'pretend bzip2 data' },
        { kind: 'exec', describe: /^tar -xf \/var\/cache\/tsible\/unarchive\/[0-9a-f]{12}-MOSIX-4.4.0.tbz -C \/root \(new archive\)$/ },
      ],
    },
  },
  {
    name: 'thesis MOSIX, second run: same archive, all members there',
    args: { src: 'MOSIX-4.4.0.tbz', dest: '/root' },
    facts: { archive: parseArchiveState(factOutput(STATS, { sha: CONTROLLER_SHA }), false) },
    expect: { noop: /all 7 members of MOSIX-4.4.0.tbz are in \/root/, result: { extracted: false } },
  },
  {
    name: 'a new archive on the controller is uploaded and extracted again',
    args: { src: 'MOSIX-4.4.0.tbz', dest: '/root' },
    facts: { archive: parseArchiveState(factOutput(STATS, { sha: SHA }), false) },
    expect: { changes: [{ kind: 'write', describe: /^upload/ }, { kind: 'exec', describe: /\(the archive changed\)$/ }] },
  },
  {
    name: 'a member deleted from dest → extract again (no upload)',
    args: { src: 'MOSIX-4.4.0.tbz', dest: '/root' },
    facts: { archive: parseArchiveState(factOutput([...STATS.slice(0, 6), '-'], { sha: CONTROLLER_SHA }), false) },
    expect: { changes: [{ kind: 'exec', describe: /\(1 of 7 members missing or different\)$/ }] },
  },
  {
    name: 'remote_src with strip-components, owner and mode',
    args: { src: '/srv/MOSIX-4.4.0.tbz', dest: '/opt/mosix', remote_src: true, extra_opts: ['--strip-components=1'], owner: 'nobody', mode: 'u=rwX,go=rX' },
    facts: { archive: parseArchiveState(factOutput(['skip', '-', '-', '-', '-', '-', '-']), false) },
    expect: {
      changes: [
        { kind: 'exec', describe: 'tar -xf /srv/MOSIX-4.4.0.tbz -C /opt/mosix --strip-components=1 (6 of 6 members missing or different)' },
        { kind: 'exec', describe: 'set owner nobody, mode u=rwX,go=rX on the extracted members', command: /^tar -tf \/srv\/MOSIX-4.4.0.tbz \| while IFS= read -r n; [\s\S]*xargs -0 -r chown -h nobody --\) && tar -tf/ },
      ],
    },
  },
  {
    name: 'only the mode of one member drifted → chmod that one, nothing extracted',
    args: { src: '/srv/MOSIX-4.4.0.tbz', dest: '/opt/mosix', remote_src: true, extra_opts: ['--strip-components=1'], mode: 'u=rwX,go=rX' },
    facts: { archive: parseArchiveState(factOutput(['skip', '0|regular empty file|0|root|0|root|600', ...STATS.slice(2)]), false) },
    expect: { changes: [{ kind: 'exec', describe: 'chmod u=rwX,go=rX on 1 members', command: /^cd \/opt\/mosix && xargs -0 -r chmod u=rwX,go=rX --$/, content: 'empty\0' }] },
  },
  {
    name: 'zip with exclude: unzip -x with the directory and its contents',
    args: { src: 'm.zip', dest: '/opt/z', exclude: ['mosix-4.4.0/sub'] },
    facts: { archive: { ...parseArchiveState('@@tsible-cachedir', true), archiveMissing: true } },
    expect: { changes: [{ kind: 'write', describe: /^upload m.zip/ }, { kind: 'exec', describe: /^unzip -o \/var\/cache\/tsible\/unarchive\/[0-9a-f]{12}-m.zip -x mosix-4.4.0\/sub mosix-4.4.0\/sub\/\* -d \/opt\/z \(new archive\)$/ }] },
  },
  {
    name: 'zip listing, all there except the excluded ones',
    args: { src: '/srv/m.zip', dest: '/opt/z', remote_src: true, exclude: ['mosix-4.4.0/sub'], list_files: true },
    facts: { archive: parseArchiveState(factOutput([...STATS.slice(0, 5), '-', '-'], { zip: true }), true) },
    expect: { noop: /all 5 members/, result: { files: ['mosix-4.4.0/', 'mosix-4.4.0/empty', 'mosix-4.4.0/hard', 'mosix-4.4.0/link', 'mosix-4.4.0/mosix.install'] } },
  },
  {
    name: 'tar include and exclude flags',
    args: { src: '/srv/MOSIX-4.4.0.tbz', dest: '/opt/y', remote_src: true, include: ['mosix-4.4.0/s*'], exclude: ['*.txt'] },
    facts: { archive: parseArchiveState(factOutput(STATS.map(() => '-')), false) },
    expect: { changes: [{ kind: 'exec', describe: 'tar -xf /srv/MOSIX-4.4.0.tbz -C /opt/y --anchored --wildcards --exclude=*.txt --wildcards mosix-4.4.0/s* (1 of 1 members missing or different)' }] },
  },
  { name: 'creates exists', args: { src: 'MOSIX-4.4.0.tbz', dest: '/root', creates: '/root/mosix-4.4.0/mosix.install' }, facts: { archive: parseArchiveState('@@tsible-creates', false) }, expect: { noop: /\/root\/mosix-4.4.0\/mosix.install exists/ } },
  { name: 'dest missing', args: { src: 'MOSIX-4.4.0.tbz', dest: '/nope' }, facts: { archive: parseArchiveState('@@tsible-nodest', false) }, expect: { failure: /dest '\/nope' must be an existing dir/ } },
  { name: 'remote archive missing', args: { src: '/srv/x.tgz', dest: '/opt', remote_src: true }, facts: { archive: parseArchiveState('@@tsible-noarchive', false) }, expect: { failure: /Source '\/srv\/x.tgz' does not exist/ } },
  { name: 'not an archive', args: { src: '/etc/hostname', dest: '/opt', remote_src: true }, facts: { archive: parseArchiveState(`@@tsible-sha ${SHA}\n@@tsible-list 2\ntar: This does not look like a tar archive`, false) }, expect: { failure: /cannot list \/etc\/hostname with tar: tar: This does not look like a tar archive/ } },
  { name: 'unzip missing', args: { src: 'm.zip', dest: '/opt' }, facts: { archive: parseArchiveState('@@tsible-notool', true) }, expect: { failure: /unzip is not installed/ } },
];

describe('unarchive plans', () => {
  it.each(rows)('$name', async ({ args, facts, expect: e }) => {
    expect(mismatches(await planWith(unarchive, args, facts, files), e)).toEqual([]);
  });

  it('the fact looks at the cached copy for a controller archive, at src for remote_src', () => {
    expect(factsFor(unarchive, { src: 'MOSIX-4.4.0.tbz', dest: '/root' }, files).archive!.args).toEqual({ archive: cached('MOSIX-4.4.0.tbz'), dest: '/root', zip: false, strip: 0, creates: undefined, cacheDir: CACHE_DIR });
  });

  it.each([
    [{ src: 'https://example.com/a.tgz', dest: '/opt' }, /src as a URL is not supported/],
    [{ src: 'a.tgz', dest: '/opt', mode: 'u+q' }, /must be an octal mode|cannot read mode/],
  ])('%j is refused', async (args, message) => {
    await expect(planWith(unarchive, args, { archive: parseArchiveState('', false) }, files)).rejects.toThrow(message);
  });
});

describe('shell syntax', () => {
  it('every fact and change command parses in sh -n', async () => {
    expect(await assertRowsShellSyntax(unarchive, rows, files)).toBeGreaterThan(0);
  });
});
