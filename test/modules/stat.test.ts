import { describe, expect, it } from 'vitest';
import stat from '../../src/modules/stat.js';
import type { FileState } from '../../src/facts/file.js';
import { aDir, aFile, aLink, absent, planFor, requestsFor } from './context.js';

const rows: { name: string; args: Record<string, unknown>; path: FileState; stat: Record<string, unknown> }[] = [
  { name: 'missing path', args: { path: '/nope' }, path: absent('/nope'), stat: { exists: false } },
  {
    name: 'regular file',
    args: { path: '/etc/hostname' },
    path: aFile({ text: 'core1\n', mode: '0644' }),
    stat: { exists: true, path: '/etc/hostname', mode: '0644', isreg: true, isdir: false, islnk: false, size: 6, uid: 0, pw_name: 'root', gr_name: 'root', rusr: true, wusr: true, xusr: false, roth: true, woth: false, isuid: false, readable: true, checksum: 'aa44190a487be4ae0350156ec8b5f6a23e279446' },
  },
  { name: 'directory', args: { path: '/srv' }, path: aDir({ mode: '1777' }), stat: { exists: true, isdir: true, isreg: false, mode: '1777', xoth: true } },
  { name: 'setuid binary', args: { path: '/usr/bin/passwd' }, path: aFile({ mode: '4755' }), stat: { isuid: true, isgid: false, xusr: true, mode: '4755' } },
  { name: 'owner without a name: no pw_name', args: { path: '/x' }, path: aFile({ uid: 1234, owner: '1234' }), stat: { uid: 1234, pw_name: undefined } },
  {
    name: 'link, not followed',
    args: { path: '/etc/localtime' },
    path: aLink('/usr/share/zoneinfo/UTC'),
    stat: { exists: true, islnk: true, isreg: false, mode: '0777', lnk_target: '/usr/share/zoneinfo/UTC', lnk_source: '/usr/share/zoneinfo/UTC', checksum: undefined },
  },
  { name: 'link, followed', args: { path: '/etc/localtime', follow: true }, path: aLink('/usr/share/zoneinfo/UTC', aFile({ size: 114 })), stat: { islnk: false, isreg: true, size: 114, lnk_source: undefined } },
  { name: 'dangling link, followed: does not exist', args: { path: '/x', follow: true }, path: aLink('/nowhere', absent('/nowhere')), stat: { exists: false } },
  { name: 'char device', args: { path: '/dev/null' }, path: aFile({ type: 'other', kind: 'char', mode: '0666', rdev: { major: 1, minor: 3 } }), stat: { ischr: true, isreg: false, device_type: 259 } },
];

describe('stat plans', () => {
  it.each(rows)('$name', async ({ args, path, stat: expected }) => {
    const plan = await planFor(stat, args, { path });
    expect(plan.changes).toEqual([]);
    expect(plan.noopReason).toBeTruthy();
    const got = plan.result!.stat as Record<string, unknown>;
    for (const [k, v] of Object.entries(expected)) expect(got[k], k).toEqual(v);
  });

  it.each([
    { args: { path: '/x' }, fact: { path: '/x', follow: false, checksum: 'sha1', mime: undefined, attributes: undefined } },
    { args: { path: '/x', get_checksum: false, follow: true }, fact: { path: '/x', follow: true, checksum: undefined } },
    { args: { path: '/x', checksum_algorithm: 'sha256', get_mime: true, get_attributes: true }, fact: { checksum: 'sha256', mime: true, attributes: true } },
    { args: { path: '/x', checksum_algo: 'md5' }, fact: { checksum: 'md5' } },
  ])('fact request for $args', ({ args, fact }) => {
    const reqs = requestsFor(stat, args);
    expect(reqs.path![0]).toBe('file_state');
    expect(reqs.path![1]).toMatchObject(fact);
  });

  it('refuses an unknown checksum algorithm', async () => {
    await expect(planFor(stat, { path: '/x', checksum_algorithm: 'crc32' }, { path: absent('/x') })).rejects.toThrow(/must be one of/);
  });
});
