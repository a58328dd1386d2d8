import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync, linkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ancestorsOf, fileStateFact, followed, parseFileState, type FileStateArgs, type PresentFile } from '../../src/facts/file.js';

const STAT = (o: Record<string, string | number> = {}) =>
  Object.entries({
    ftype: '81a4',
    uid: 0,
    gid: 0,
    owner: 'root',
    group: 'root',
    size: 6,
    mtime: '1700000000.250000000',
    atime: '1700000001.000000000',
    ctime: '1700000002.000000000',
    inode: 42,
    dev: 2049,
    nlink: 1,
    blocks: 8,
    block_size: 512,
    rdev: '0,0',
    ...o,
  })
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** toMatchObject, where an expected `undefined` means "not set". */
function expectShape(actual: unknown, shape: Record<string, unknown>): void {
  const a = actual as Record<string, unknown>;
  for (const [k, v] of Object.entries(shape)) {
    if (v === undefined) expect(a[k], k).toBeUndefined();
    else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && !Array.isArray(v)) expect(a[k], k).toMatchObject(v);
    else expect(a[k], k).toEqual(v);
  }
}

describe('parseFileState', () => {
  it.each<{ name: string; args?: Partial<FileStateArgs>; stdout: string; value: Record<string, unknown> }>([
    {
      name: 'absent, parent exists',
      args: { path: '/etc/motd' },
      stdout: 'umask=0022\nexists=0\nancestor=0 d\n',
      value: { exists: false, umask: 0o022, ancestor: { path: '/etc', isDir: true } },
    },
    {
      name: 'absent, deeper ancestor',
      args: { path: '/srv/a/b/c' },
      stdout: 'umask=0077\nexists=0\nancestor=2 d\n',
      value: { exists: false, umask: 0o077, ancestor: { path: '/srv', isDir: true } },
    },
    {
      name: 'absent, a file where a directory should be',
      args: { path: '/srv/a/b' },
      stdout: 'umask=0022\nexists=0\nancestor=0 f\n',
      value: { exists: false, ancestor: { path: '/srv/a', isDir: false } },
    },
    {
      name: 'regular file with checksum and content',
      args: { path: '/etc/motd', checksum: 'sha1', content: 100 },
      stdout: `umask=0022\nexists=1\n@lstat\n${STAT()}\n@access\nreadable=1\nwriteable=1\n@checksum\nf572d396fae9206628714fb2ce00f72e94f2258f\n@content\n${b64('hello\n')}\n`,
      value: { exists: true, type: 'file', kind: 'file', mode: '0644', owner: 'root', size: 6, mtime: 1700000000.25, inode: 42, readable: true, writeable: true, executable: false, checksum: 'f572d396fae9206628714fb2ce00f72e94f2258f', content: Buffer.from('hello\n') },
    },
    {
      name: 'content over the limit is reported, not returned',
      args: { path: '/big', content: 4 },
      stdout: `umask=0022\nexists=1\n@lstat\n${STAT()}\n@access\nreadable=1\n@content\n${b64('hello')}\n`,
      value: { exists: true, contentTruncated: true, content: undefined },
    },
    {
      name: 'setuid executable, owner without a name',
      args: { path: '/usr/bin/x' },
      stdout: `umask=0022\nexists=1\n@lstat\n${STAT({ ftype: '89ed', uid: 1234, owner: 'UNKNOWN' })}\n@access\nreadable=1\nexecutable=1\n`,
      value: { type: 'file', mode: '4755', uid: 1234, owner: '1234', executable: true },
    },
    {
      name: 'directory, empty, with a tree summary',
      args: { path: '/srv', recurse: true },
      stdout: `umask=0022\nexists=1\n@lstat\n${STAT({ ftype: '41ed' })}\n@access\nreadable=1\nempty=1\n@tree\nd 755 0 0 root root\nf 600 33 33 www-data www-data\nl - 0 0 root root\n@tree-end\n`,
      value: {
        type: 'directory',
        mode: '0755',
        empty: true,
        tree: [
          { type: 'directory', mode: '0755', uid: 0, gid: 0, owner: 'root', group: 'root' },
          { type: 'file', mode: '0600', uid: 33, gid: 33, owner: 'www-data', group: 'www-data' },
          { type: 'link', mode: undefined, uid: 0, gid: 0, owner: 'root', group: 'root' },
        ],
        treeIncomplete: undefined,
      },
    },
    {
      name: 'a tree whose find failed is incomplete',
      args: { path: '/srv', recurse: true },
      stdout: `umask=0022\nexists=1\n@lstat\n${STAT({ ftype: '41ed' })}\n@tree\nd 755 0 0 root root\nfind-failed\n@tree-end\n`,
      value: { treeIncomplete: true },
    },
    {
      name: 'a tree cut off before its end marker is incomplete',
      args: { path: '/srv', recurse: true },
      stdout: `umask=0022\nexists=1\n@lstat\n${STAT({ ftype: '41ed' })}\n@tree\nd 755 0 0 root root\n`,
      value: { treeIncomplete: true },
    },
    {
      name: 'symbolic link, not followed',
      args: { path: '/home' },
      stdout: `umask=0022\nexists=1\n@lstat\n${STAT({ ftype: 'a1ff', size: 13 })}\n@access\n@link\nlink=${b64('/srv/nfs/home\n')}\nreal=${b64('/srv/nfs/home\n')}\n`,
      value: { type: 'link', mode: '0777', linkTarget: '/srv/nfs/home', realPath: '/srv/nfs/home', target: undefined },
    },
    {
      name: 'symbolic link followed to a file',
      args: { path: '/etc/localtime', follow: true, checksum: 'sha1' },
      stdout: `umask=0022\nexists=1\n@lstat\n${STAT({ ftype: 'a1ff' })}\n@access\nreadable=1\n@link\nlink=${b64('../usr/share/zoneinfo/UTC\n')}\nreal=${b64('/usr/share/zoneinfo/UTC\n')}\n@target\n${STAT({ size: 114, inode: 7 })}\n@checksum\n0123456789abcdef0123456789abcdef01234567\n`,
      value: { type: 'link', linkTarget: '../usr/share/zoneinfo/UTC', target: { exists: true, type: 'file', size: 114, inode: 7 }, checksum: '0123456789abcdef0123456789abcdef01234567' },
    },
    {
      name: 'dangling link followed',
      args: { path: '/x', follow: true },
      stdout: `umask=0022\nexists=1\n@lstat\n${STAT({ ftype: 'a1ff' })}\n@access\n@link\nlink=${b64('nowhere\n')}\nreal=${b64('/nowhere\n')}\n@target-missing\n`,
      value: { type: 'link', target: { exists: false } },
    },
    {
      name: 'a link target with a newline in it',
      args: { path: '/x' },
      stdout: `umask=0022\nexists=1\n@lstat\n${STAT({ ftype: 'a1ff' })}\n@link\nlink=${b64('a\nb\n')}\nreal=${b64('/a\nb\n')}\n`,
      value: { linkTarget: 'a\nb' },
    },
    {
      name: 'character device',
      args: { path: '/dev/null' },
      stdout: `umask=0022\nexists=1\n@lstat\n${STAT({ ftype: '21b6', rdev: '1,3' })}\n`,
      value: { type: 'other', kind: 'char', mode: '0666', rdev: { major: 1, minor: 3 } },
    },
    {
      name: 'mime and attributes',
      args: { path: '/etc/motd', mime: true, attributes: true },
      stdout: `umask=0022\nexists=1\n@lstat\n${STAT()}\n@mime\ntype=text/plain\ncharset=us-ascii\n@attributes\n--------------e-------\n`,
      value: { mime: { type: 'text/plain', charset: 'us-ascii' }, attributes: '--------------e-------' },
    },
    {
      name: 'stat failed after the existence test (a race): absent',
      args: { path: '/tmp/gone' },
      stdout: 'umask=0022\nexists=1\n@lstat\n',
      value: { exists: false },
    },
    {
      name: 'garbage',
      args: { path: '/x' },
      stdout: 'sh: 1: stat: not found\n',
      value: { exists: false, umask: 0o022 },
    },
  ])('$name', ({ args, stdout, value }) => {
    const parsed = parseFileState({ stdout, exitCode: 0 }, { path: '/x', ...args });
    expectShape(parsed, value);
  });

  it.each([
    ['/a/b/c', ['/a/b', '/a', '/']],
    ['/a/b/', ['/a', '/']],
    ['/', []],
    ['rel/x', ['rel', '.']],
  ])('ancestorsOf(%j)', (p, list) => expect(ancestorsOf(p)).toEqual(list));
});

// The fact command is POSIX sh + coreutils: run it for real on this Linux controller.
describe('fileState on a real filesystem', () => {
  let dir: string;
  const run = (args: FileStateArgs) => {
    const out = execFileSync('/bin/sh', ['-c', fileStateFact.command(args).text]);
    return fileStateFact.parse({ stdout: out.toString('utf8'), exitCode: 0 }, args);
  };
  const sha1 = (b: string | Buffer) => createHash('sha1').update(b).digest('hex');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsible fact '));
    mkdirSync(join(dir, 'tree/sub'), { recursive: true });
    mkdirSync(join(dir, 'empty'));
    writeFileSync(join(dir, 'with space.txt'), 'hello\n');
    writeFileSync(join(dir, 'new\nline'), 'x');
    writeFileSync(join(dir, "it's $(id)"), 'quoted');
    writeFileSync(join(dir, 'binary'), Buffer.from([0, 1, 2, 255, 10]));
    writeFileSync(join(dir, 'tree/sub/f'), 'f');
    chmodSync(join(dir, 'tree/sub/f'), 0o600);
    symlinkSync('with space.txt', join(dir, 'link'));
    symlinkSync('tree', join(dir, 'dirlink'));
    symlinkSync('nowhere', join(dir, 'dangling'));
    linkSync(join(dir, 'binary'), join(dir, 'hardlink'));
    chmodSync(join(dir, 'with space.txt'), 0o640);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a file with a space: type, mode, size, checksum, content', () => {
    const p = join(dir, 'with space.txt');
    const st = run({ path: p, checksum: 'sha1', content: 1024 }) as PresentFile;
    expect(st).toMatchObject({ exists: true, type: 'file', mode: '0640', size: 6, uid: process.getuid!(), checksum: sha1('hello\n'), content: Buffer.from('hello\n'), readable: true });
    expect(st.inode).toBe(statSync(p).ino);
    expect(st.mtime).toBeCloseTo(statSync(p).mtimeMs / 1000, 2);
  });

  it('names with a newline and shell syntax in them', () => {
    expect(run({ path: join(dir, 'new\nline'), content: -1 })).toMatchObject({ exists: true, type: 'file', content: Buffer.from('x') });
    expect(run({ path: join(dir, "it's $(id)"), checksum: 'sha256' })).toMatchObject({ exists: true, checksum: createHash('sha256').update('quoted').digest('hex') });
  });

  it('binary content comes back byte for byte; the hard link shows nlink 2', () => {
    const st = run({ path: join(dir, 'binary'), content: -1, checksum: 'md5' }) as PresentFile;
    expect(st.content).toEqual(Buffer.from([0, 1, 2, 255, 10]));
    expect(st.nlink).toBe(2);
    expect(st.checksum).toBe(createHash('md5').update(Buffer.from([0, 1, 2, 255, 10])).digest('hex'));
  });

  it('content limit: one byte too many is truncated', () => {
    expectShape(run({ path: join(dir, 'with space.txt'), content: 5 }), { contentTruncated: true, content: undefined });
    expect(run({ path: join(dir, 'with space.txt'), content: 6 })).toMatchObject({ content: Buffer.from('hello\n') });
  });

  it('a link, not followed: no checksum, its target as written', () => {
    const st = run({ path: join(dir, 'link'), checksum: 'sha1' }) as PresentFile;
    expectShape(st, { type: 'link', linkTarget: 'with space.txt', realPath: join(dir, 'with space.txt'), checksum: undefined, target: undefined });
  });

  it('a link, followed: the target stat and checksum', () => {
    const st = run({ path: join(dir, 'link'), follow: true, checksum: 'sha1', content: 100 }) as PresentFile;
    expect(st.target).toMatchObject({ exists: true, type: 'file', mode: '0640', size: 6 });
    expect(st.checksum).toBe(sha1('hello\n'));
    expect(followed(st)).toMatchObject({ exists: true, type: 'file', mode: '0640', linkTarget: 'with space.txt' });
  });

  it('a dangling link', () => {
    const st = run({ path: join(dir, 'dangling'), follow: true });
    expect(st).toMatchObject({ exists: true, type: 'link', linkTarget: 'nowhere', target: { exists: false } });
    expect(followed(st).exists).toBe(false);
  });

  it('a missing path reports its deepest existing ancestor', () => {
    expect(run({ path: join(dir, 'a/b/c') })).toEqual({ exists: false, umask: expect.any(Number), ancestor: { path: dir, isDir: true } });
    expect(run({ path: join(dir, 'with space.txt/sub') })).toMatchObject({ exists: false, ancestor: { path: join(dir, 'with space.txt'), isDir: false } });
  });

  it('directories: empty or not, the tree below, through a link', () => {
    expect(run({ path: join(dir, 'empty') })).toMatchObject({ type: 'directory', empty: true });
    const tree = run({ path: join(dir, 'tree'), recurse: true }) as PresentFile;
    expect(tree.empty).toBeUndefined();
    expect(tree.treeIncomplete).toBeUndefined();
    expect(tree.tree?.map((e) => `${e.type} ${e.mode}`).sort()).toEqual(['directory 0755', 'file 0600']);
    const via = run({ path: join(dir, 'dirlink'), follow: true, recurse: true }) as PresentFile;
    expect(via.target).toMatchObject({ type: 'directory' });
    expect(via.tree?.length).toBe(2);
  });

  it('a fifo is "other" and is never read', () => {
    expectShape(run({ path: join(dir, 'fifo'), content: -1, checksum: 'sha1' }), { type: 'other', kind: 'fifo', content: undefined, checksum: undefined });
  });

  it('the batch wrapper sees exit code 0 even for odd paths', () => {
    for (const p of [join(dir, 'missing'), join(dir, 'dangling'), '/proc/1/root/nope', '']) {
      const res = execFileSync('/bin/sh', ['-c', `( ${fileStateFact.command({ path: p }).text}\n); echo "rc=$?"`]).toString();
      expect(res).toMatch(/rc=0\n$/);
    }
  });
});
