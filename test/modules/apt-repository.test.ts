import { describe, expect, it } from 'vitest';
import aptRepository, { deb822Entries, editSources, normaliseSource, parseSourceFiles, parseSourceLine, suggestFilename, type SourceFile } from '../../src/modules/apt-repository.js';
import { checkRowsShellSyntax, factRequests, mismatches, planRow, runFact, type SysExpect } from './system-context.js';

/** The fact on the Debian 13 lab container: a one-line sources.list plus two deb822 files. */
const REAL_SOURCES = `@@tsible-file 644 /etc/apt/sources.list
deb http://deb.debian.org/debian trixie main

@@tsible-file 644 /etc/apt/sources.list.d/security.sources
Types: deb
URIs: http://deb.debian.org/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

@@tsible-file 644 /etc/apt/sources.list.d/updates.sources
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

`;

/** Debian 13's installer default: everything in debian.sources. */
const DEBIAN_SOURCES = `Types: deb deb-src
URIs: http://deb.debian.org/debian/
Suites: trixie trixie-updates
Components: main non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.debian.org/debian-security/
Suites: trixie-security
Components: main non-free-firmware
Enabled: no
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

const HTC = 'deb [signed-by=/etc/apt/keyrings/htcondor.gpg] https://research.cs.wisc.edu/htcondor/repo/debian/23.x trixie main';

describe('source lines', () => {
  it('parses the real fact output', () => {
    const files = parseSourceFiles(REAL_SOURCES);
    expect(files.map((f) => [f.path, f.mode])).toEqual([
      ['/etc/apt/sources.list', '644'],
      ['/etc/apt/sources.list.d/security.sources', '644'],
      ['/etc/apt/sources.list.d/updates.sources', '644'],
    ]);
    expect(files[0]!.content).toBe('deb http://deb.debian.org/debian trixie main\n');
  });

  it('a file without a final newline keeps it that way', () => {
    expect(parseSourceFiles('@@tsible-file 600 /etc/apt/sources.list.d/x.list\ndeb http://x y z\n')[0]).toEqual({ path: '/etc/apt/sources.list.d/x.list', mode: '600', content: 'deb http://x y z' });
  });

  it.each([
    ['deb  [ arch=amd64   signed-by=/k.gpg ]  http://x/debian   trixie main ', 'deb [arch=amd64 signed-by=/k.gpg] http://x/debian trixie main'],
    ['deb http://x trixie main', 'deb http://x trixie main'],
  ])('normaliseSource(%j)', (a, b) => expect(normaliseSource(a)).toBe(b));

  it.each([
    ['# deb http://x trixie main', { valid: true, enabled: false, source: 'deb http://x trixie main', comment: '' }],
    ['deb http://x trixie main # mirror', { valid: true, enabled: true, source: 'deb http://x trixie main', comment: 'mirror' }],
    ['# a comment', { valid: false, enabled: false, source: 'a comment', comment: '' }],
  ])('parseSourceLine(%j)', (l, want) => expect(parseSourceLine(l)).toEqual(want));

  it.each([
    [HTC, 'research_cs_wisc_edu_htcondor_repo_debian_23_x'],
    ['deb http://deb.debian.org/debian trixie-backports main', 'deb_debian_org_debian'],
    ['deb https://user:pw@repo.example.org/apt stable main', 'repo_example_org_apt'],
  ])("suggestFilename: Ansible's name for %s", (repo, name) => expect(suggestFilename(repo)).toBe(name));

  it('deb822 stanzas as one-line entries; disabled ones are skipped', () => {
    expect(deb822Entries(DEBIAN_SOURCES).map((e) => `${e.type} ${e.uri} ${e.suite} ${e.components.join(',')}`)).toEqual([
      'deb http://deb.debian.org/debian trixie main,non-free-firmware',
      'deb http://deb.debian.org/debian trixie-updates main,non-free-firmware',
      'deb-src http://deb.debian.org/debian trixie main,non-free-firmware',
      'deb-src http://deb.debian.org/debian trixie-updates main,non-free-firmware',
    ]);
  });
});

describe('editSources', () => {
  const list = (path: string, content: string): SourceFile => ({ path, mode: '644', content });
  it('appends to the target file', () => {
    const e = editSources([list('/etc/apt/sources.list', 'deb http://a b c\n')], HTC, 'present', '/etc/apt/sources.list.d/htcondor.list');
    expect([...e.files]).toEqual([['/etc/apt/sources.list.d/htcondor.list', HTC + '\n']]);
  });
  it('enables a commented-out copy instead of adding one', () => {
    const e = editSources([list('/etc/apt/sources.list', `# ${HTC}\ndeb http://a b c\n`)], HTC, 'present', '/x.list');
    expect([...e.files]).toEqual([['/etc/apt/sources.list', `${HTC}\ndeb http://a b c\n`]]);
    expect(e.enabled).toEqual(['/etc/apt/sources.list']);
  });
  it('absent removes every enabled copy and deletes a file left empty', () => {
    const e = editSources([list('/a.list', `${HTC}\n`), list('/b.list', `deb http://a b c\n${HTC}\n`)], HTC, 'absent', '/x.list');
    expect([...e.files]).toEqual([['/a.list', null], ['/b.list', 'deb http://a b c\n']]);
  });
});

const FILES = parseSourceFiles(REAL_SOURCES);
const WITH_HTC: SourceFile[] = [...FILES, { path: '/etc/apt/sources.list.d/htcondor.list', mode: '644', content: `${HTC}\n` }];
const UPDATE = 'apt-get -q -o DPkg::Lock::Timeout=600 update && mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/update-success-stamp';

const rows: { name: string; args: Record<string, unknown>; facts: { sources: SourceFile[] }; expect: SysExpect }[] = [
  {
    name: 'new repository with filename, then the lists are refreshed',
    args: { repo: HTC, filename: 'htcondor' },
    facts: { sources: FILES },
    expect: {
      changes: [`write: add "${HTC}" in /etc/apt/sources.list.d/htcondor.list`, 'exec: refresh the package lists (apt-get update)'],
      commands: ['/etc/apt/sources.list.d/htcondor.list', UPDATE],
      data: [`${HTC}\n`],
      result: { sources_added: ['/etc/apt/sources.list.d/htcondor.list'] },
    },
  },
  { name: 'present (other spacing) → no change', args: { repo: HTC.replace(/ /g, '  '), filename: 'htcondor' }, facts: { sources: WITH_HTC }, expect: { noop: /is in \/etc\/apt\/sources.list.d\/htcondor.list$/ } },
  { name: 'present in sources.list under another file name → no change', args: { repo: 'deb http://deb.debian.org/debian trixie main', filename: 'debian' }, facts: { sources: FILES }, expect: { noop: /is in \/etc\/apt\/sources.list$/ } },
  { name: 'present in a deb822 .sources file → no change', args: { repo: 'deb http://deb.debian.org/debian-security/ trixie-security main' }, facts: { sources: FILES }, expect: { noop: /is in \/etc\/apt\/sources.list.d\/security.sources \(deb822\)/ } },
  { name: 'default file name from the URI', args: { repo: 'deb http://deb.debian.org/debian trixie-backports main', update_cache: false }, facts: { sources: FILES }, expect: { changes: ['write: add "deb http://deb.debian.org/debian trixie-backports main" in /etc/apt/sources.list.d/deb_debian_org_debian.list'] } },
  { name: 'absent', args: { repo: HTC, state: 'absent' }, facts: { sources: WITH_HTC }, expect: { changes: ['exec: remove /etc/apt/sources.list.d/htcondor.list (no source left in it)', 'exec: refresh the package lists (apt-get update)'], commands: ['rm -f /etc/apt/sources.list.d/htcondor.list'] } },
  { name: 'absent, not there', args: { repo: HTC, state: 'absent' }, facts: { sources: FILES }, expect: { noop: /is in no \.list file/ } },
  { name: 'mode of a new file', args: { repo: HTC, filename: 'htcondor', mode: '0600', update_cache: false }, facts: { sources: FILES }, expect: { changes: [/^write: add/] } },
];

describe('apt_repository plans', () => {
  it.each(rows)('$name', async ({ args, facts, expect: e }) => {
    expect(mismatches(await planRow(aptRepository, args, facts), e)).toEqual([]);
  });

  it('a new file gets the mode asked for (0644 by default)', async () => {
    const mode = async (args: Record<string, unknown>) => {
      const c = (await planRow(aptRepository, args, { sources: FILES })).changes[0]!;
      return c.kind === 'write' ? c.mode : undefined;
    };
    expect(await mode({ repo: HTC })).toBe('0644');
    expect(await mode({ repo: HTC, mode: '600' })).toBe('0600');
  });

  it.each([
    [{ repo: 'ppa:deadsnakes/ppa' }, /PPAs are not supported/],
    [{ repo: 'http://x trixie main' }, /Invalid repository string/],
    [{ repo: '# deb http://x trixie main' }, /Invalid repository string/],
    [{ repo: 'deb http://x' }, /a URI and a suite are needed/],
  ])('%j is refused', async (args, message) => {
    await expect(planRow(aptRepository, args, { sources: FILES })).rejects.toThrow(message);
  });
});

describe('fact command', () => {
  it('runs in sh and lists nothing on a host without sources', () => {
    const r = factRequests(aptRepository, { repo: HTC });
    expect(runFact(r.sources!.command.replace(/\/etc\/apt/g, '/nonexistent-apt'))).toBe('');
  });

  it('shell syntax', async () => {
    expect(await checkRowsShellSyntax(aptRepository, rows)).toBeGreaterThan(5);
  });
});
