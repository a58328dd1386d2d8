import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import copy, { pythonJson, remoteCopyCommand, sha1, DIFF_LIMIT } from '../../src/modules/copy.js';
import type { FileState } from '../../src/facts/file.js';
import { aDir, aFile, aLink, absent, mismatches, planFor, requestsFor, type Expect } from './context.js';

const MOTD = 'Welcome to the cluster\n';

interface Row {
  name: string;
  args: Record<string, unknown>;
  facts: { dest: FileState; inside?: FileState; src?: FileState };
  files?: Record<string, string | Buffer>;
  wantDiff?: boolean;
  expect: Expect;
}

const rows: Row[] = [
  {
    name: 'same content (by SHA-1) and attributes: no change',
    args: { content: MOTD, dest: '/etc/motd', mode: '0644' },
    facts: { dest: aFile({ text: MOTD }) },
    expect: { noop: /\/etc\/motd has the same content \(sha1 [0-9a-f]{12}\) and attributes/, result: { dest: '/etc/motd', checksum: sha1(MOTD), size: MOTD.length, mode: '0644', owner: 'root', state: 'file' } },
  },
  {
    name: 'absent: one write with the asked mode',
    args: { content: MOTD, dest: '/etc/motd', mode: '0640', owner: 'root', group: 'adm' },
    facts: { dest: absent('/etc/motd') },
    expect: { changes: ['write: /etc/motd mode=0640 owner=root group=adm'], content: MOTD, result: { mode: '0640', owner: 'root', group: 'adm' } },
  },
  {
    name: 'absent, no mode: the write keeps the default (0644 under umask 022)',
    args: { content: MOTD, dest: '/etc/motd' },
    facts: { dest: absent('/etc/motd') },
    expect: { changes: ['write: /etc/motd mode=0644'], result: { mode: '0644' } },
  },
  {
    name: 'absent, no mode, umask 077: the new file gets 0600 like Ansible',
    args: { content: MOTD, dest: '/root/motd' },
    facts: { dest: { ...absent('/root/motd'), umask: 0o077 } },
    expect: { changes: ['write: /root/motd mode=0600'], result: { mode: '0600' } },
  },
  {
    name: 'content differs: write, with a diff of the text',
    args: { content: MOTD, dest: '/etc/motd' },
    facts: { dest: aFile({ text: 'old\n' }) },
    wantDiff: true,
    expect: { changes: ['write: /etc/motd'], diff: [{ before: 'old\n', after: MOTD }] },
  },
  {
    name: 'content differs, no --diff: no diff',
    args: { content: MOTD, dest: '/etc/motd' },
    facts: { dest: aFile({ text: 'old\n' }) },
    wantDiff: false,
    expect: { changes: ['write: /etc/motd'], diff: [] },
  },
  {
    name: 'diff against a file too large to read: a note instead of its text',
    args: { content: MOTD, dest: '/var/big' },
    facts: { dest: aFile({ size: DIFF_LIMIT + 1, checksum: 'f'.repeat(40), contentTruncated: true }) },
    wantDiff: true,
    expect: { changes: ['write: /var/big'], diff: [{ before: `(too large: ${DIFF_LIMIT + 1} bytes, not shown)\n`, after: MOTD }] },
  },
  {
    name: 'binary content: no text in the diff',
    args: { src: 'blob.bin', dest: '/opt/blob.bin' },
    files: { 'blob.bin': Buffer.from([0, 1, 2]) },
    facts: { dest: absent('/opt/blob.bin') },
    wantDiff: true,
    expect: { changes: ['write: /opt/blob.bin mode=0644'], diff: [{ before: '', after: '(binary: 3 bytes, not shown)\n' }] },
  },
  {
    name: 'mode-only difference: chmod, no rewrite',
    args: { content: MOTD, dest: '/etc/motd', mode: '0600' },
    facts: { dest: aFile({ text: MOTD }) },
    expect: { changes: ['exec: chmod 0600 -- /etc/motd'], result: { mode: '0600' } },
  },
  {
    name: 'owner-only difference: chown, no rewrite',
    args: { content: MOTD, dest: '/etc/motd', owner: 'nobody' },
    facts: { dest: aFile({ text: MOTD }) },
    expect: { changes: ['exec: chown nobody -- /etc/motd'], result: { owner: 'nobody' } },
  },
  {
    name: 'symbolic mode on a new file is computed from the umask default',
    args: { content: MOTD, dest: '/etc/motd', mode: 'u=rw,go=' },
    facts: { dest: absent('/etc/motd') },
    expect: { changes: ['write: /etc/motd mode=0600'] },
  },
  {
    name: 'symbolic mode already satisfied: no change',
    args: { content: MOTD, dest: '/etc/motd', mode: 'go-w' },
    facts: { dest: aFile({ text: MOTD }) },
    expect: { noop: true },
  },
  {
    name: 'force=no leaves an existing file alone, even with other content',
    args: { content: MOTD, dest: '/etc/motd', force: false },
    facts: { dest: aFile({ text: 'mine\n', mode: '0600' }) },
    expect: { noop: /exists and force=no/ },
  },
  {
    name: 'force=no still creates a missing file',
    args: { content: MOTD, dest: '/etc/motd', force: 'no' },
    facts: { dest: absent('/etc/motd') },
    expect: { changes: ['write: /etc/motd mode=0644'] },
  },
  {
    name: 'src from the controller: content and name',
    args: { src: 'motd', dest: '/etc/motd', mode: '0644' },
    files: { motd: MOTD },
    facts: { dest: aFile({ text: 'old\n' }) },
    expect: { changes: ['write: /etc/motd mode=0644'], content: MOTD, result: { src: 'motd', checksum: sha1(MOTD), md5sum: createHash('md5').update(MOTD).digest('hex') } },
  },
  {
    name: 'dest ending in /, directory there: the file goes inside under src\'s name',
    args: { src: 'files/motd', dest: '/srv/e2e/copy/' },
    files: { 'files/motd': MOTD },
    facts: { dest: aDir(), inside: absent('/srv/e2e/copy/motd') },
    expect: { changes: ['write: /srv/e2e/copy/motd mode=0644'], result: { dest: '/srv/e2e/copy/motd' } },
  },
  {
    name: 'dest ending in /, file inside already right: no change',
    args: { src: 'motd', dest: '/srv/e2e/copy/' },
    files: { motd: MOTD },
    facts: { dest: aDir(), inside: aFile({ text: MOTD }) },
    expect: { noop: /\/srv\/e2e\/copy\/motd has the same content/ },
  },
  {
    name: 'dest ending in /, directories missing: created with directory_mode, then the write',
    args: { src: 'motd', dest: '/srv/a/b/', directory_mode: '0750', owner: 'www-data' },
    files: { motd: MOTD },
    facts: { dest: absent('/srv/a/b', '/srv'), inside: absent('/srv/a/b/motd', { path: '/srv', isDir: true }) },
    expect: { changes: ['exec: mkdir -p -- /srv/a/b', 'exec: chown www-data -- /srv/a /srv/a/b', 'exec: chmod 0750 -- /srv/a /srv/a/b', 'write: /srv/a/b/motd mode=0644 owner=www-data'] },
  },
  {
    name: 'dest is an existing directory (no slash): inside it',
    args: { src: 'motd', dest: '/etc' },
    files: { motd: MOTD },
    facts: { dest: aDir(), inside: aFile({ text: 'old\n' }) },
    expect: { changes: ['write: /etc/motd'] },
  },
  {
    name: 'dest is a link to a directory: inside it',
    args: { src: 'motd', dest: '/etc/alt' },
    files: { motd: MOTD },
    facts: { dest: aLink('/srv/alt', aDir()), inside: absent('/etc/alt/motd') },
    expect: { changes: ['write: /etc/alt/motd mode=0644'] },
  },
  {
    name: 'content with a directory dest fails like Ansible',
    args: { content: MOTD, dest: '/etc/' },
    facts: { dest: aDir() },
    expect: { failure: /can not use content with a dir as dest/ },
  },
  {
    name: "dest's directory missing fails (and names what is missing for check mode)",
    args: { content: MOTD, dest: '/etc/app/app.conf' },
    facts: { dest: absent('/etc/app/app.conf', '/etc') },
    expect: { failure: /Destination directory \/etc\/app does not exist/ },
  },
  {
    name: 'dest is a link, follow=no: the link is replaced by the file even with the same content',
    args: { content: MOTD, dest: '/etc/motd' },
    facts: { dest: aLink('/usr/share/motd', aFile({ text: MOTD })) },
    expect: { changes: ['write: /etc/motd'], content: MOTD },
  },
  {
    name: 'dest is a link, follow=yes, same content: no change',
    args: { content: MOTD, dest: '/etc/motd', follow: true },
    facts: { dest: aLink('/usr/share/motd', aFile({ text: MOTD })) },
    expect: { noop: true },
  },
  {
    name: 'dest is a link, follow=yes, other content: the target is written',
    args: { content: MOTD, dest: '/etc/motd', follow: true },
    facts: { dest: aLink('/usr/share/motd', aFile({ text: 'x' })) },
    expect: { changes: ['write: /usr/share/motd'] },
  },
  {
    name: 'backup and validate go with the write',
    args: { content: 'root ALL=(ALL) ALL\n', dest: '/etc/sudoers', backup: true, validate: 'visudo -cf %s', mode: '0440' },
    facts: { dest: aFile({ text: 'x\n', mode: '0440' }) },
    expect: { changes: ['write: /etc/sudoers mode=0440 backup validate=visudo -cf %s'] },
  },
  {
    name: 'no backup of a file that does not exist',
    args: { content: MOTD, dest: '/etc/motd', backup: true },
    facts: { dest: absent('/etc/motd') },
    expect: { changes: ['write: /etc/motd mode=0644'] },
  },
  {
    name: 'a mapping as content is written as JSON (Python style)',
    args: { content: { a: 1, b: [true, null] }, dest: '/etc/app.json' },
    facts: { dest: absent('/etc/app.json') },
    expect: { content: '{"a": 1, "b": [true, null]}' },
  },
  {
    name: 'checksum argument that does not match the source',
    args: { content: MOTD, dest: '/etc/motd', checksum: '0'.repeat(40) },
    facts: { dest: absent('/etc/motd') },
    expect: { failure: /does not match the expected checksum/ },
  },
  {
    name: 'a directory where the file should be',
    args: { src: 'motd', dest: '/etc/' },
    files: { motd: MOTD },
    facts: { dest: aDir(), inside: aDir() },
    expect: { failure: /\/etc\/motd is a directory/ },
  },

  // ---- remote_src
  {
    name: 'remote_src, same checksum: no change',
    args: { src: '/etc/skel/.bashrc', dest: '/root/.bashrc', remote_src: true },
    facts: { dest: aFile({ text: 'bashrc\n' }), src: aFile({ text: 'bashrc\n' }) },
    expect: { noop: true, result: { src: '/etc/skel/.bashrc', checksum: sha1('bashrc\n') } },
  },
  {
    name: 'remote_src, other content: a copy on the host through a temp file',
    args: { src: '/etc/skel/.bashrc', dest: '/root/.bashrc', remote_src: true, mode: '0600' },
    facts: { dest: aFile({ text: 'old\n' }), src: aFile({ text: 'bashrc\n' }) },
    expect: { changes: [/^exec: t=\$\(mktemp "\$\(dirname -- \/root\/\.bashrc\)\/\.tsible-tmp\.XXXXXX"\)[\s\S]*cp --preserve=mode,timestamps -- \/etc\/skel\/\.bashrc "\$t"[\s\S]*chmod 0600 "\$t"[\s\S]*mv -f -- "\$t" \/root\/\.bashrc$/] },
  },
  {
    name: 'remote_src, same content, mode differs: chmod only',
    args: { src: '/etc/skel/.bashrc', dest: '/root/.bashrc', remote_src: true, mode: '0600' },
    facts: { dest: aFile({ text: 'bashrc\n' }), src: aFile({ text: 'bashrc\n' }) },
    expect: { changes: ['exec: chmod 0600 -- /root/.bashrc'] },
  },
  {
    name: 'remote_src, mode=preserve takes the source mode',
    args: { src: '/usr/local/bin/tool', dest: '/opt/tool', remote_src: true, mode: 'preserve' },
    facts: { dest: aFile({ text: 'x', mode: '0644' }), src: aFile({ text: 'tool', mode: '0755' }) },
    expect: { changes: [/chmod 0755 "\$t"/], result: { mode: '0755' } },
  },
  {
    name: 'remote_src, source missing: failure naming it',
    args: { src: '/nope', dest: '/root/x', remote_src: true },
    facts: { dest: absent('/root/x'), src: absent('/nope') },
    expect: { failure: /Source \/nope not found/ },
  },
  {
    name: 'remote_src, source is a directory: not supported',
    args: { src: '/etc/skel', dest: '/root/skel', remote_src: true },
    facts: { dest: absent('/root/skel'), src: aDir() },
    expect: { failure: /not supported/ },
  },
];

describe('copy plans', () => {
  it.each(rows)('$name', async (row) => {
    const plan = await planFor(copy, row.args, row.facts, { files: row.files, wantDiff: row.wantDiff ?? false });
    expect(mismatches(plan, row.expect)).toEqual([]);
  });

  it('argument checks', async () => {
    await expect(planFor(copy, { dest: '/x' }, {})).rejects.toThrow(/src \(or content\) is required/);
    await expect(planFor(copy, { dest: '/x', src: 'a', content: 'b' }, {})).rejects.toThrow(/mutually exclusive/);
    await expect(planFor(copy, { dest: '/x', content: 'b', validate: 'true' }, {})).rejects.toThrow(/validate must contain %s/);
    await expect(planFor(copy, { dest: '/x', src: 'dir/' }, {})).rejects.toThrow(/directory/);
  });
});

describe('copy fact requests (one round trip)', () => {
  it.each([
    { args: { content: 'x', dest: '/etc/motd' }, diff: false, keys: ['dest'], paths: ['/etc/motd'] },
    { args: { src: 'motd', dest: '/etc/motd' }, diff: false, keys: ['dest', 'inside'], paths: ['/etc/motd', '/etc/motd/motd'] },
    { args: { src: 'motd', dest: '/srv/x/' }, diff: false, keys: ['dest', 'inside'], paths: ['/srv/x', '/srv/x/motd'] },
    { args: { src: '/a/b', dest: '/c', remote_src: true }, diff: true, keys: ['dest', 'inside', 'src'], paths: ['/c', '/c/b', '/a/b'] },
  ])('$args', ({ args, diff, keys, paths }) => {
    const reqs = requestsFor(copy, args, { wantDiff: diff });
    expect(Object.keys(reqs)).toEqual(keys);
    expect(Object.values(reqs).map(([, a]) => (a as { path: string }).path)).toEqual(paths);
    for (const [name, a] of Object.values(reqs)) {
      expect(name).toBe('file_state');
      expect(a).toMatchObject({ follow: true, checksum: 'sha1', content: diff ? DIFF_LIMIT : undefined });
    }
  });
});

describe('pythonJson', () => {
  it.each([
    [{ a: 1 }, '{"a": 1}'],
    [[1, 'two', false, null], '[1, "two", false, null]'],
    [{ s: 'é"' }, '{"s": "\\u00e9\\""}'],
    [{}, '{}'],
  ])('%j', (v, s) => expect(pythonJson(v)).toBe(s));
});

// The remote copy is plain sh + coreutils: run it for real on this Linux controller.
describe('remoteCopyCommand on a real filesystem', () => {
  let dir: string;
  const run = (cmd: string) => spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsible copy '));
    writeFileSync(join(dir, 'src file'), 'new\n', { mode: 0o755 });
    writeFileSync(join(dir, 'dest'), 'old\n', { mode: 0o600 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('copies over an existing file keeping its mode, with a backup', () => {
    const res = run(remoteCopyCommand(join(dir, 'src file'), join(dir, 'dest'), { keepDestAttrs: true, backup: true }).text);
    expect(res.status, res.stderr).toBe(0);
    expect(readFileSync(join(dir, 'dest'), 'utf8')).toBe('new\n');
    expect(statSync(join(dir, 'dest')).mode & 0o777).toBe(0o600);
    const backups = readdirSync(dir).filter((f) => f.startsWith('dest.') && f.endsWith('~'));
    expect(backups).toHaveLength(1);
    expect(readFileSync(join(dir, backups[0]!), 'utf8')).toBe('old\n');
  });

  it('a new file gets the source mode, or the asked one', () => {
    expect(run(remoteCopyCommand(join(dir, 'src file'), join(dir, 'fresh'), { keepDestAttrs: false }).text).status).toBe(0);
    expect(statSync(join(dir, 'fresh')).mode & 0o777).toBe(0o755);
    expect(run(remoteCopyCommand(join(dir, 'src file'), join(dir, 'fresh2'), { keepDestAttrs: false, mode: '0640' }).text).status).toBe(0);
    expect(statSync(join(dir, 'fresh2')).mode & 0o777).toBe(0o640);
  });

  it('a failing validate leaves dest alone and exits 3, leaving no temp file', () => {
    writeFileSync(join(dir, 'guarded'), 'keep\n');
    const res = run(remoteCopyCommand(join(dir, 'src file'), join(dir, 'guarded'), { keepDestAttrs: true, validate: 'grep -q nothing-like-this %s' }).text);
    expect(res.status).toBe(3);
    expect(readFileSync(join(dir, 'guarded'), 'utf8')).toBe('keep\n');
    expect(readdirSync(dir).filter((f) => f.startsWith('.tsible-tmp'))).toEqual([]);
  });

  it('a passing validate sees the new content', () => {
    const res = run(remoteCopyCommand(join(dir, 'src file'), join(dir, 'guarded'), { keepDestAttrs: true, validate: 'grep -q new %s' }).text);
    expect(res.status, res.stderr).toBe(0);
    expect(execFileSync('cat', [join(dir, 'guarded')]).toString()).toBe('new\n');
  });
});
