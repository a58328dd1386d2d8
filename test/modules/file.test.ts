import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateArgs } from '../../src/modules/argspec.js';
import copy from '../../src/modules/copy.js';
import template from '../../src/modules/template.js';
import lineinfile from '../../src/modules/lineinfile.js';
import blockinfile from '../../src/modules/blockinfile.js';
import stat from '../../src/modules/stat.js';
import file, { resolveMode } from '../../src/modules/file.js';
import type { FileState } from '../../src/facts/file.js';
import { aDir, aFile, aLink, absent, mismatches, planFor, requestsFor, type Expect } from './context.js';

describe('resolveMode (Ansible symbolic modes)', () => {
  it.each([
    { mode: '0644', current: 0o600, isDir: false, umask: 0o022, expected: 0o644 },
    { mode: '0750', current: 0o755, isDir: true, umask: 0o022, expected: 0o750 },
    { mode: 'u+x', current: 0o644, isDir: false, umask: 0o022, expected: 0o744 },
    { mode: '+x', current: 0o644, isDir: false, umask: 0o022, expected: 0o755 },
    { mode: '+x', current: 0o644, isDir: false, umask: 0o077, expected: 0o744 },
    { mode: 'a+x', current: 0o644, isDir: false, umask: 0o077, expected: 0o755 },
    { mode: 'u=rwX,g=rX,o=', current: 0o777, isDir: true, umask: 0o022, expected: 0o750 },
    { mode: 'u=rwX,g=rX,o=', current: 0o644, isDir: false, umask: 0o022, expected: 0o640 },
    { mode: 'u=rwX,g=rX,o=', current: 0o744, isDir: false, umask: 0o022, expected: 0o750 },
    { mode: 'go-w', current: 0o666, isDir: false, umask: 0o022, expected: 0o644 },
    { mode: 'u+s', current: 0o755, isDir: false, umask: 0o022, expected: 0o4755 },
    { mode: 'g+s', current: 0o775, isDir: true, umask: 0o022, expected: 0o2775 },
    { mode: 'o+t', current: 0o777, isDir: true, umask: 0o022, expected: 0o1777 },
    { mode: 'g=u', current: 0o640, isDir: false, umask: 0o022, expected: 0o660 },
    { mode: 'u=rw,g=r,o=r', current: 0o600, isDir: false, umask: 0o022, expected: 0o644 },
    { mode: '=r', current: 0o777, isDir: false, umask: 0o022, expected: 0o444 },
    { mode: 'u=', current: 0o755, isDir: false, umask: 0o022, expected: 0o055 },
    { mode: 'u=rwx,u-x', current: 0o000, isDir: false, umask: 0o022, expected: 0o600 },
    { mode: 'u=rw,g=u-w', current: 0o000, isDir: false, umask: 0o022, expected: 0o640 },
  ])('$mode on 0$current.toString(8) (dir: $isDir, umask $umask)', ({ mode, current, isDir, umask, expected }) => {
    expect(resolveMode(mode, current, isDir, umask).toString(8)).toBe(expected.toString(8));
  });

  it('refuses nonsense', () => {
    expect(() => resolveMode('u+q', 0o644, false, 0o022)).toThrow(/bad symbolic permission/);
  });
});

interface Row {
  name: string;
  args: Record<string, unknown>;
  facts: { path: FileState; src?: FileState };
  expect: Expect;
}

const rows: Row[] = [
  // ---- directory
  {
    name: 'directory already there with the asked attributes',
    args: { path: '/srv/nfs', state: 'directory', mode: '0755', owner: 'root' },
    facts: { path: aDir() },
    expect: { noop: /directory \/srv\/nfs exists/, result: { path: '/srv/nfs', state: 'directory', mode: '0755', owner: 'root' } },
  },
  {
    name: 'directory absent, parent there: mkdir only (0755 is the umask default)',
    args: { path: '/srv/nfs', state: 'directory', mode: '0755' },
    facts: { path: absent('/srv/nfs') },
    expect: { changes: ['exec: mkdir -p -- /srv/nfs'], diff: [{ before: '{\n    "path": "/srv/nfs",\n    "state": "absent"\n}\n', after: '{\n    "path": "/srv/nfs",\n    "state": "directory"\n}\n' }] },
  },
  {
    name: 'directory absent two levels deep: mode and owner on every directory created',
    args: { path: '/srv/nfs/home', state: 'directory', mode: '0750', owner: 'nobody', group: 'users' },
    facts: { path: absent('/srv/nfs/home', '/srv') },
    expect: { changes: ['exec: mkdir -p -- /srv/nfs/home', 'exec: chown nobody:users -- /srv/nfs /srv/nfs/home', 'exec: chmod 0750 -- /srv/nfs /srv/nfs/home'] },
  },
  {
    name: 'directory with a file in the way of its parent',
    args: { path: '/srv/x/y', state: 'directory' },
    facts: { path: absent('/srv/x/y', { path: '/srv/x', isDir: false }) },
    expect: { failure: /\/srv\/x exists and is not a directory/ },
  },
  {
    name: 'directory where a file is',
    args: { path: '/srv/nfs', state: 'directory' },
    facts: { path: aFile() },
    expect: { failure: /already exists as a file/ },
  },
  {
    name: 'directory mode-only difference: chmod only',
    args: { path: '/srv/nfs', state: 'directory', mode: '0700' },
    facts: { path: aDir({ mode: '0755' }) },
    expect: { changes: ['exec: chmod 0700 -- /srv/nfs'], result: { mode: '0700' } },
  },
  {
    name: 'directory owner-only difference: chown only',
    args: { path: '/srv/nfs', state: 'directory', owner: 'www-data', mode: '0755' },
    facts: { path: aDir() },
    expect: { changes: ['exec: chown www-data -- /srv/nfs'] },
  },
  {
    name: 'owner given as the uid it already has',
    args: { path: '/srv/nfs', state: 'directory', owner: '0', group: 'root' },
    facts: { path: aDir() },
    expect: { noop: true },
  },
  {
    name: 'group-only difference',
    args: { path: '/srv/nfs', state: 'directory', group: 'adm' },
    facts: { path: aDir() },
    expect: { changes: ['exec: chown :adm -- /srv/nfs'] },
  },
  {
    name: 'directory through a link (follow): managed at the real path',
    args: { path: '/home', state: 'directory', mode: '0711' },
    facts: { path: aLink('/srv/nfs/home', aDir()) },
    expect: { changes: ['exec: chmod 0711 -- /srv/nfs/home'] },
  },
  {
    name: 'directory where a link is, follow=no',
    args: { path: '/home', state: 'directory', follow: false },
    facts: { path: aLink('/srv/nfs/home') },
    expect: { failure: /already exists as a link/ },
  },
  {
    name: 'recurse: everything below matches the symbolic mode and owner',
    args: { path: '/srv/www', state: 'directory', recurse: true, owner: 'www-data', mode: 'u=rwX,g=rX,o=rX' },
    facts: {
      path: aDir({
        owner: 'www-data',
        uid: 33,
        tree: [
          { type: 'directory', mode: '0755', uid: 33, gid: 0, owner: 'www-data', group: 'root' },
          { type: 'file', mode: '0644', uid: 33, gid: 0, owner: 'www-data', group: 'root' },
          { type: 'link', uid: 33, gid: 0, owner: 'www-data', group: 'root' },
        ],
      }),
    },
    expect: { noop: /everything below it matches/ },
  },
  {
    name: 'recurse: one file below with another mode',
    args: { path: '/srv/www', state: 'directory', recurse: true, mode: 'u=rwX,g=rX,o=rX' },
    facts: {
      path: aDir({
        tree: [
          { type: 'directory', mode: '0755', uid: 0, gid: 0, owner: 'root', group: 'root' },
          { type: 'file', mode: '0600', uid: 0, gid: 0, owner: 'root', group: 'root' },
        ],
      }),
    },
    expect: { changes: ['exec: chmod -R -- u=rwX,g=rX,o=rX /srv/www'] },
  },
  {
    name: 'recurse: an owner below differs (mode fine)',
    args: { path: '/srv/www', state: 'directory', recurse: true, owner: 'root', mode: '0755' },
    facts: { path: aDir({ tree: [{ type: 'directory', mode: '0755', uid: 1000, gid: 0, owner: 'alice', group: 'root' }] }) },
    expect: { changes: ['exec: chown -R root -- /srv/www'] },
  },
  {
    name: 'recurse: a tree too big to summarise is re-applied',
    args: { path: '/srv/www', state: 'directory', recurse: true, owner: 'root' },
    facts: { path: aDir({ tree: [], treeIncomplete: true }) },
    expect: { changes: ['exec: chown -R root -- /srv/www'] },
  },
  {
    name: 'no state, path missing, recurse: a directory',
    args: { path: '/srv/new', recurse: true },
    facts: { path: absent('/srv/new') },
    expect: { changes: ['exec: mkdir -p -- /srv/new'] },
  },

  // ---- absent
  {
    name: 'absent: file there',
    args: { path: '/etc/motd', state: 'absent' },
    facts: { path: aFile() },
    expect: { changes: ['exec: rm -f -- /etc/motd'], result: { path: '/etc/motd', state: 'absent' } },
  },
  {
    name: 'absent: directory there, removed with its content',
    args: { path: '/srv/old dir', state: 'absent' },
    facts: { path: aDir() },
    expect: { changes: ["exec: rm -rf -- '/srv/old dir'"] },
  },
  {
    name: 'absent: a link is removed, not what it points to',
    args: { path: '/home', state: 'absent' },
    facts: { path: aLink('/srv/nfs/home') },
    expect: { changes: ['exec: rm -f -- /home'] },
  },
  {
    name: 'absent: already absent',
    args: { path: '/etc/motd', state: 'absent' },
    facts: { path: absent('/etc/motd') },
    expect: { noop: /already absent/ },
  },

  // ---- file (attributes only)
  {
    name: 'file: mode-only difference',
    args: { path: '/etc/shadow', mode: '0640', state: 'file' },
    facts: { path: aFile({ mode: '0600' }) },
    expect: { changes: ['exec: chmod 0640 -- /etc/shadow'] },
  },
  {
    name: 'file: owner and mode: chown before chmod',
    args: { path: '/etc/shadow', mode: '0640', owner: 'root', group: 'shadow' },
    facts: { path: aFile({ mode: '0600' }) },
    expect: { changes: ['exec: chown :shadow -- /etc/shadow', 'exec: chmod 0640 -- /etc/shadow'] },
  },
  {
    name: 'file: setuid file whose owner changes gets its mode back after chown',
    args: { path: '/usr/bin/x', mode: '4755', owner: 'daemon' },
    facts: { path: aFile({ mode: '4755' }) },
    expect: { changes: ['exec: chown daemon -- /usr/bin/x', 'exec: chmod 4755 -- /usr/bin/x'] },
  },
  {
    name: 'file: symbolic mode already satisfied',
    args: { path: '/etc/motd', mode: 'u=rw,g=r,o=r' },
    facts: { path: aFile() },
    expect: { noop: /is a file with the asked attributes/ },
  },
  {
    name: 'file: symbolic mode applied as the octal result',
    args: { path: '/etc/motd', mode: 'g+w' },
    facts: { path: aFile() },
    expect: { changes: ['exec: chmod 0664 -- /etc/motd'] },
  },
  {
    name: 'file: absent fails like Ansible',
    args: { path: '/etc/motd', state: 'file' },
    facts: { path: absent('/etc/motd') },
    expect: { failure: /file \(\/etc\/motd\) is absent, cannot continue/ },
  },
  {
    name: 'no state and nothing there: file, which fails',
    args: { path: '/etc/motd', mode: '0644' },
    facts: { path: absent('/etc/motd') },
    expect: { failure: /is absent, cannot continue/ },
  },
  {
    name: 'file: a directory is not a file',
    args: { path: '/etc', state: 'file' },
    facts: { path: aDir() },
    expect: { failure: /is directory, cannot continue/ },
  },
  {
    name: 'no state on a directory: attributes of the directory',
    args: { path: '/srv', mode: '0700' },
    facts: { path: aDir() },
    expect: { changes: ['exec: chmod 0700 -- /srv'] },
  },
  {
    name: 'file through a link: chmod on the real file',
    args: { path: '/etc/localtime', state: 'file', mode: '0600' },
    facts: { path: aLink('/usr/share/zoneinfo/UTC', aFile()) },
    expect: { changes: ['exec: chmod 0600 -- /usr/share/zoneinfo/UTC'] },
  },
  {
    name: 'a file with several links (hard) is a file to manage',
    args: { path: '/etc/motd', owner: 'root', mode: '0644' },
    facts: { path: aFile({ nlink: 2 }) },
    expect: { noop: true, result: { state: 'hard' } },
  },
  {
    name: 'file: modification_time=now touches',
    args: { path: '/etc/motd', state: 'file', modification_time: 'now' },
    facts: { path: aFile() },
    expect: { changes: ['exec: touch -c -m -- /etc/motd'] },
  },

  // ---- touch
  {
    name: 'touch: creates an empty file with the asked mode',
    args: { path: '/var/lib/flag', state: 'touch', mode: '0600' },
    facts: { path: absent('/var/lib/flag') },
    expect: { changes: ['exec: touch -- /var/lib/flag', 'exec: chmod 0600 -- /var/lib/flag'], result: { mode: '0600', size: 0 } },
  },
  {
    name: 'touch: existing file gets its times updated (always a change, like Ansible)',
    args: { path: '/var/lib/flag', state: 'touch' },
    facts: { path: aFile() },
    expect: { changes: ['exec: touch -c -- /var/lib/flag'] },
  },
  {
    name: 'touch with both times preserved: existing file is left alone',
    args: { path: '/var/lib/flag', state: 'touch', modification_time: 'preserve', access_time: 'preserve' },
    facts: { path: aFile() },
    expect: { noop: true },
  },
  {
    name: 'touch: missing directory fails',
    args: { path: '/var/lib/nope/flag', state: 'touch' },
    facts: { path: absent('/var/lib/nope/flag', '/var/lib') },
    expect: { failure: /directory \/var\/lib\/nope does not exist/ },
  },

  // ---- link
  {
    name: 'link: absent → created',
    args: { src: '/srv/nfs/home', dest: '/home', state: 'link' },
    facts: { path: absent('/home'), src: aDir() },
    expect: { changes: ['exec: ln -sfn -- /srv/nfs/home /home'], result: { dest: '/home', src: '/srv/nfs/home', state: 'link' } },
  },
  {
    name: 'link: src given without state means link',
    args: { src: '/srv/nfs/home', dest: '/home' },
    facts: { path: absent('/home'), src: aDir() },
    expect: { changes: ['exec: ln -sfn -- /srv/nfs/home /home'] },
  },
  {
    name: 'link: already pointing there',
    args: { src: '/srv/nfs/home', dest: '/home', state: 'link' },
    facts: { path: aLink('/srv/nfs/home'), src: aDir() },
    expect: { noop: /already links to \/srv\/nfs\/home/ },
  },
  {
    name: 'link: pointing elsewhere → relinked (no force needed)',
    args: { src: '/srv/nfs/home', dest: '/home', state: 'link' },
    facts: { path: aLink('/old/home'), src: aDir() },
    expect: { changes: ['exec: ln -sfn -- /srv/nfs/home /home'] },
  },
  {
    name: 'link: a file in the way without force',
    args: { src: '/srv/a', dest: '/srv/b', state: 'link' },
    facts: { path: aFile(), src: aFile() },
    expect: { failure: /refusing to convert from file to symlink for \/srv\/b/ },
  },
  {
    name: 'link: a file in the way with force is replaced',
    args: { src: '/srv/a', dest: '/srv/b', state: 'link', force: true },
    facts: { path: aFile(), src: aFile() },
    expect: { changes: ['exec: ln -sfn -- /srv/a /srv/b'] },
  },
  {
    name: 'link: src missing without force',
    args: { src: 'target.conf', dest: '/etc/app/current.conf', state: 'link' },
    facts: { path: absent('/etc/app/current.conf'), src: absent('/etc/app/target.conf') },
    expect: { failure: /src file does not exist, use "force=yes".*: \/etc\/app\/target\.conf/ },
  },
  {
    name: 'link: src missing with force: a dangling link',
    args: { src: 'target.conf', dest: '/etc/app/current.conf', state: 'link', force: true },
    facts: { path: absent('/etc/app/current.conf'), src: absent('/etc/app/target.conf') },
    expect: { changes: ['exec: ln -sfn -- target.conf /etc/app/current.conf'] },
  },
  {
    name: 'link: empty directory in the way with force',
    args: { src: '/srv/nfs/home', dest: '/home', state: 'link', force: true },
    facts: { path: aDir({ empty: true }), src: aDir() },
    expect: { changes: ['exec: rmdir -- /home && ln -sfn -- /srv/nfs/home /home'] },
  },
  {
    name: 'link: non-empty directory in the way, even with force',
    args: { src: '/srv/nfs/home', dest: '/home', state: 'link', force: true },
    facts: { path: aDir(), src: aDir() },
    expect: { failure: /the directory \/home is not empty, refusing to convert it/ },
  },
  {
    name: 'link: directory in the way without force',
    args: { src: '/srv/nfs/home', dest: '/home', state: 'link' },
    facts: { path: aDir({ empty: true }), src: aDir() },
    expect: { failure: /refusing to convert from directory to symlink/ },
  },
  {
    name: 'link: owner of the link itself (chown -h)',
    args: { src: '/srv/nfs/home', dest: '/home', state: 'link', owner: 'nobody' },
    facts: { path: aLink('/srv/nfs/home'), src: aDir() },
    expect: { changes: ['exec: chown -h nobody -- /home'] },
  },
  {
    name: 'link: mode is ignored for links (Linux has no link modes)',
    args: { src: '/srv/nfs/home', dest: '/home', state: 'link', mode: '0700' },
    facts: { path: aLink('/srv/nfs/home'), src: aDir() },
    expect: { noop: true },
  },
  {
    name: 'link: parent directory missing',
    args: { src: '/srv/a', dest: '/srv/missing/b', state: 'link' },
    facts: { path: absent('/srv/missing/b', '/srv'), src: aFile() },
    expect: { failure: /directory \/srv\/missing does not exist/ },
  },

  // ---- hard
  {
    name: 'hard: absent → ln',
    args: { src: '/srv/a', dest: '/srv/b', state: 'hard' },
    facts: { path: absent('/srv/b'), src: aFile({ inode: 7 }) },
    expect: { changes: ['exec: ln -fL -- /srv/a /srv/b'] },
  },
  {
    name: 'hard: same inode already',
    args: { src: '/srv/a', dest: '/srv/b', state: 'hard' },
    facts: { path: aFile({ inode: 7, nlink: 2 }), src: aFile({ inode: 7, nlink: 2 }) },
    expect: { noop: /already a hard link/ },
  },
  {
    name: 'hard: another file there without force',
    args: { src: '/srv/a', dest: '/srv/b', state: 'hard' },
    facts: { path: aFile({ inode: 8 }), src: aFile({ inode: 7 }) },
    expect: { failure: /Cannot link, file exists at destination/ },
  },
  {
    name: 'hard: another file there with force',
    args: { src: '/srv/a', dest: '/srv/b', state: 'hard', force: true },
    facts: { path: aFile({ inode: 8 }), src: aFile({ inode: 7 }) },
    expect: { changes: ['exec: ln -fL -- /srv/a /srv/b'] },
  },
  {
    name: 'hard: src missing',
    args: { src: '/srv/a', dest: '/srv/b', state: 'hard' },
    facts: { path: absent('/srv/b'), src: absent('/srv/a') },
    expect: { failure: /src does not exist/ },
  },
];

describe('file plans', () => {
  it.each(rows)('$name', async (row) => {
    const plan = await planFor(file, row.args, row.facts);
    expect(mismatches(plan, row.expect)).toEqual([]);
  });
});

describe('file argument checks', () => {
  it.each([
    [{ path: '/x', state: 'file', recurse: true }, /recurse option requires state to be 'directory'/],
    [{ path: '/x', state: 'directory', src: '/y' }, /src option requires state to be 'link' or 'hard'/],
    [{ path: '/x', state: 'touch', modification_time: '202401011200.00' }, /only "now" and "preserve"/],
  ])('%j is refused', async (args, message) => {
    await expect(planFor(file, args, { path: absent('/x') })).rejects.toThrow(message);
  });
});

describe('file fact requests', () => {
  it.each([
    { args: { path: '/srv', state: 'directory' }, expected: { path: ['file_state', { path: '/srv', follow: true, recurse: undefined }] } },
    { args: { path: '/srv', state: 'directory', recurse: true }, expected: { path: ['file_state', { path: '/srv', follow: true, recurse: true }] } },
    { args: { path: '/home', src: '/srv/home', state: 'link' }, expected: { path: ['file_state', { path: '/home', follow: false, recurse: undefined }], src: ['file_state', { path: '/srv/home', follow: true }] } },
    // A relative link source is looked up next to the link.
    { args: { path: '/etc/a/cur', src: '../b/t', state: 'link' }, expected: { path: ['file_state', { path: '/etc/a/cur', follow: false, recurse: undefined }], src: ['file_state', { path: '/etc/b/t', follow: true }] } },
    { args: { path: '/x', state: 'absent' }, expected: { path: ['file_state', { path: '/x', follow: false, recurse: undefined }] } },
  ])('$args', ({ args, expected }) => {
    expect(requestsFor(file, args)).toEqual(expected);
  });
});

describe('the examples in `tsible doc` are valid tasks', () => {
  const modules = { file, copy, template, lineinfile, blockinfile, stat } as Record<string, any>;
  it.each(Object.keys(modules))('%s', (name) => {
    const mod = modules[name];
    expect(mod.name).toBe(name);
    expect(mod.collections).toEqual(['ansible.builtin']);
    for (const spec of Object.values(mod.args) as { description: string }[]) expect(spec.description).not.toBe('');
    const tasks = parseYaml(mod.example) as Record<string, unknown>[];
    const mine = tasks.filter((t) => `ansible.builtin.${name}` in t);
    expect(mine.length).toBeGreaterThan(0);
    for (const t of mine) {
      const args = validateArgs(mod.args, t[`ansible.builtin.${name}`] as Record<string, unknown>, { allowTemplates: true });
      mod.check?.(args);
    }
  });
});
