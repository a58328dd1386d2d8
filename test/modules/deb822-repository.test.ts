import { describe, expect, it } from 'vitest';
import deb822, { legacySlug, renderDeb822, sameSources, slugOf } from '../../src/modules/deb822-repository.js';
import type { FileState } from '../../src/facts/file.js';
import { aDir, aFile, absent } from './context.js';
import { checkRowsShellSyntax, factRequests, mismatches, planRow, type SysExpect } from './system-context.js';

const KEY = `-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEZ+Gq1RYJKwYBBAHaRw8BAQdARlh1OX84KPJRedAP/M7WxPFEthWypAp8nved
=abcd
-----END PGP PUBLIC KEY BLOCK-----
`;

/** What Ansible's deb822_repository writes for these arguments (fields in sorted argument order). */
const HTC_SOURCES = `Components: main
X-Repolib-Name: htcondor
Signed-By: /etc/apt/keyrings/htcondor.gpg
Suites: trixie
Types: deb
URIs: https://research.cs.wisc.edu/htcondor/repo/debian/23.x
`;

const HTC = { name: 'htcondor', uris: 'https://research.cs.wisc.edu/htcondor/repo/debian/23.x', suites: 'trixie', components: 'main', signed_by: '/etc/apt/keyrings/htcondor.gpg' };

describe('rendering', () => {
  it("matches Ansible's field order and formatting", () => {
    expect(renderDeb822({ ...HTC, types: ['deb'], components: ['main'], suites: ['trixie'], uris: [HTC.uris] })).toBe(HTC_SOURCES);
  });

  it('booleans, numbers, lists and multi-line values', () => {
    expect(renderDeb822({ name: 'x', types: ['deb', 'deb-src'], uris: ['http://a', 'http://b'], suites: ['s'], components: ['main', 'contrib'], enabled: false, check_valid_until: true, date_max_future: 60, signed_by: 'line1\n\nline3' })).toBe(
      'Check-Valid-Until: yes\nComponents: main contrib\nDate-Max-Future: 60\nEnabled: no\nX-Repolib-Name: x\nSigned-By:\n    line1\n    .\n    line3\nSuites: s\nTypes: deb deb-src\nURIs: http://a http://b\n',
    );
  });

  it.each([
    ['Debian Backports', 'Debian-Backports', 'debian-backports'],
    ['my_repo', 'my_repo', 'my-repo'],
  ])('file names for %j', (name, slug, legacy) => {
    expect(slugOf(name)).toBe(slug);
    expect(legacySlug(name)).toBe(legacy);
  });

  it('comparison ignores trailing whitespace', () => {
    expect(sameSources(HTC_SOURCES, HTC_SOURCES.replace('main\n', 'main  \n') + '\n\n')).toBe(true);
    expect(sameSources(HTC_SOURCES, HTC_SOURCES.replace('trixie', 'bookworm'))).toBe(false);
  });
});

interface Facts {
  sources: FileState;
  asc: FileState;
  gpg: FileState;
  keyringsDir: FileState;
  keyring?: FileState;
  legacy?: FileState;
  legacyAsc?: FileState;
  legacyGpg?: FileState;
}

const SRC = '/etc/apt/sources.list.d/htcondor.sources';
const none = (p: string) => absent(p);
const base = (over: Partial<Facts> = {}): Facts => ({
  sources: none(SRC),
  asc: none('/etc/apt/keyrings/htcondor.asc'),
  gpg: none('/etc/apt/keyrings/htcondor.gpg'),
  keyringsDir: aDir(),
  keyring: aFile(),
  ...over,
});
const PASTED = HTC_SOURCES.replace('/etc/apt/keyrings/htcondor.gpg', '/etc/apt/keyrings/htcondor.asc');

const rows: { name: string; args: Record<string, unknown>; facts: Facts; expect: SysExpect }[] = [
  { name: 'new .sources file', args: HTC, facts: base(), expect: { changes: [`write: create ${SRC}`], commands: [SRC], data: [HTC_SOURCES] } },
  { name: 'already there → no change', args: HTC, facts: base({ sources: aFile({ text: HTC_SOURCES }) }), expect: { noop: /htcondor\.sources is as wanted, signed by \/etc\/apt\/keyrings\/htcondor\.gpg/ } },
  { name: 'another suite → rewritten', args: { ...HTC, suites: 'bookworm' }, facts: base({ sources: aFile({ text: HTC_SOURCES }) }), expect: { changes: [`write: update ${SRC}`] } },
  { name: 'mode differs', args: HTC, facts: base({ sources: aFile({ text: HTC_SOURCES, mode: '0600' }) }), expect: { changes: [`exec: chmod 0644 ${SRC} (was 0600)`] } },
  { name: 'signed_by path missing on the host → missing prerequisite', args: HTC, facts: base({ keyring: absent('/etc/apt/keyrings/htcondor.gpg') }), expect: { failure: /signed_by: \/etc\/apt\/keyrings\/htcondor\.gpg does not exist on the host/, missing: 'file /etc/apt/keyrings/htcondor.gpg' } },
  {
    name: 'pasted key → keyrings/<name>.asc and Signed-By points to it',
    args: { ...HTC, signed_by: KEY },
    facts: base({ keyring: undefined }),
    expect: { changes: ['write: write the signing key to /etc/apt/keyrings/htcondor.asc', `write: create ${SRC}`], data: [KEY, PASTED], result: { key_filename: '/etc/apt/keyrings/htcondor.asc' } },
  },
  { name: 'pasted key, keyrings dir missing', args: { ...HTC, signed_by: KEY }, facts: base({ keyring: undefined, keyringsDir: absent('/etc/apt/keyrings') }), expect: { changes: ['exec: mkdir -p /etc/apt/keyrings', /^write: write the signing key/, /^write: create/], commands: ['mkdir -p -m 0755 /etc/apt/keyrings'] } },
  { name: 'pasted key, both in place', args: { ...HTC, signed_by: KEY }, facts: base({ keyring: undefined, asc: aFile({ text: KEY }), sources: aFile({ text: PASTED }) }), expect: { noop: /as wanted/ } },
  { name: 'pasted key changed', args: { ...HTC, signed_by: KEY }, facts: base({ keyring: undefined, asc: aFile({ text: 'old key' }), sources: aFile({ text: PASTED }) }), expect: { changes: ['write: write the signing key to /etc/apt/keyrings/htcondor.asc'] } },
  {
    name: 'a file Ansible wrote under the old name is kept',
    args: { ...HTC, name: 'HTCondor Repo' },
    facts: base({ sources: none('/etc/apt/sources.list.d/HTCondor-Repo.sources'), legacy: aFile({ text: HTC_SOURCES.replace('X-Repolib-Name: htcondor', 'X-Repolib-Name: HTCondor Repo') }), legacyAsc: none('/a'), legacyGpg: none('/g') }),
    expect: { noop: /\/etc\/apt\/sources\.list\.d\/htcondor-repo\.sources is as wanted/ },
  },
  { name: 'absent removes the file and a key this module wrote', args: { name: 'htcondor', state: 'absent' }, facts: base({ sources: aFile({ text: PASTED }), asc: aFile({ text: KEY }) }), expect: { changes: [`exec: remove ${SRC}`, 'exec: remove /etc/apt/keyrings/htcondor.asc'], commands: [`rm -f ${SRC}`, 'rm -f /etc/apt/keyrings/htcondor.asc'] } },
  { name: 'absent, nothing there', args: { name: 'htcondor', state: 'absent' }, facts: base(), expect: { noop: /does not exist/ } },
];

describe('deb822_repository plans', () => {
  it.each(rows)('$name', async ({ args, facts, expect: e }) => {
    expect(mismatches(await planRow(deb822, args, facts as unknown as Record<string, unknown>), e)).toEqual([]);
  });

  it('facts: the .sources file, both key files, the keyrings dir and the signed_by path', () => {
    const r = factRequests(deb822, HTC);
    expect(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, (v.args as { path: string }).path]))).toEqual({
      sources: SRC,
      asc: '/etc/apt/keyrings/htcondor.asc',
      gpg: '/etc/apt/keyrings/htcondor.gpg',
      keyring: '/etc/apt/keyrings/htcondor.gpg',
      keyringsDir: '/etc/apt/keyrings',
    });
    expect(Object.keys(factRequests(deb822, { ...HTC, name: 'My Repo' }))).toContain('legacy');
  });

  it.each([
    [{ name: 'x', suites: 'trixie', components: 'main' }, /uris is required/],
    [{ name: 'x', uris: 'http://a', components: 'main' }, /suites is required/],
    [{ name: 'x', uris: 'http://a', suites: 'trixie' }, /components is required unless every suite is a path/],
    [{ name: 'x', uris: 'http://a', suites: 'trixie', components: 'main', signed_by: 'https://example.org/key.gpg' }, /signed_by as a URL is not supported/],
    [{ name: 'x', uris: 'http://a', suites: 'trixie', components: 'main', types: 'rpm' }, /types must be deb or deb-src/],
    [{ name: 'a/b', uris: 'http://a', suites: 'trixie', components: 'main' }, /name must be a plain name/],
  ])('%j is refused', async (args, message) => {
    await expect(planRow(deb822, args, base() as unknown as Record<string, unknown>)).rejects.toThrow(message);
  });

  it('a flat repository needs no components', async () => {
    const plan = await planRow(deb822, { name: 'local', uris: 'file:/srv/repo', suites: './' }, base({ keyring: undefined }) as unknown as Record<string, unknown>);
    expect(plan.changes[0]!.kind === 'write' && plan.changes[0]!.content).toBe('X-Repolib-Name: local\nSuites: ./\nTypes: deb\nURIs: file:/srv/repo\n');
  });

  it('shell syntax', async () => {
    expect(await checkRowsShellSyntax(deb822, rows)).toBeGreaterThan(20);
  });
});
