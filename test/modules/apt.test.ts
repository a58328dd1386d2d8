import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import apt, {
  compareDebVersions,
  debCachePath,
  fnmatch,
  parseAptPackages,
  parseCacheAge,
  parseDebState,
  parsePackageSpec,
  parsePolicy,
  parseSimulation,
  type AptCacheAge,
  type AptFacts,
  type DebState,
} from '../../src/modules/apt.js';
import { checkRowsShellSyntax, factRequests, mismatches, planRow, type SysExpect, type SystemContextOptions } from './system-context.js';

// ------------------------------------------------------------------ real outputs (Debian 13 container, apt 3.0.4)

/** The packages fact for bash passwd nginx nopkg mail-transport-agent awk, state latest, with trixie-security added. */
const REAL_LATEST = `@@tsible-dpkg
awk\tunknown ok not-installed\t
bash\tinstall ok installed\t5.2.37-2+b10
passwd\tinstall ok installed\t1:4.17.4-2
@@tsible-auto
@@tsible-policy
bash:
  Installed: 5.2.37-2+b10
  Candidate: 5.2.37-2+b10
  Version table:
 *** 5.2.37-2+b10 500
        500 http://deb.debian.org/debian trixie/main amd64 Packages
        100 /var/lib/dpkg/status
passwd:
  Installed: 1:4.17.4-2
  Candidate: 1:4.17.4-2+deb13u1
  Version table:
     1:4.17.4-2+deb13u1 500
        500 http://deb.debian.org/debian-security trixie-security/main amd64 Packages
 *** 1:4.17.4-2 500
        500 http://deb.debian.org/debian trixie/main amd64 Packages
        100 /var/lib/dpkg/status
nginx:
  Installed: (none)
  Candidate: 1.26.3-3+deb13u12
  Version table:
     1.26.3-3+deb13u12 500
        500 http://deb.debian.org/debian-security trixie-security/main amd64 Packages
     1.26.3-3+deb13u10 500
        500 http://deb.debian.org/debian trixie/main amd64 Packages
mail-transport-agent:
  Installed: (none)
  Candidate: (none)
  Version table:
awk:
  Installed: (none)
  Candidate: (none)
  Version table:
@@tsible-provides mail-transport-agent
courier-mta
dma
esmtp-run
exim4-daemon-heavy
exim4-daemon-light
msmtp-mta
nullmailer
opensmtpd
postfix
sendmail-bin
ssmtp
@@tsible-provider-status
@@tsible-provides awk
gawk
mawk
original-awk
@@tsible-provider-status
mawk\tinstall ok installed\t1.3.4.20250131-1
`;

/** state absent for nginx nginx-common bash, after `apt-get remove nginx-common` (its conffiles stay). */
const REAL_REMOVED = `@@tsible-dpkg
bash\tinstall ok installed\t5.2.37-2+b10
nginx\tunknown ok not-installed\t
nginx-common\tdeinstall ok config-files\t1.26.3-3+deb13u12
@@tsible-auto
`;

/** nginx installed; nginx-common came with it as a dependency. */
const REAL_AUTO = `@@tsible-dpkg
bash\tinstall ok installed\t5.2.37-2+b10
nginx\tinstall ok installed\t1.26.3-3+deb13u12
nginx-common\tinstall ok installed\t1.26.3-3+deb13u12
@@tsible-auto
nginx-common
`;

const REAL_SIM_UPGRADE = `Reading package lists...
Building dependency tree...
Reading state information...
Calculating upgrade...
The following packages will be upgraded:
  libgssapi-krb5-2 libk5crypto3 libkrb5-3 libkrb5support0 libzstd1
5 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.
Inst libzstd1 [1.5.7+dfsg-1] (1.5.7+dfsg-1+deb13u1 Debian-Security:13/stable-security [amd64])
Conf libzstd1 (1.5.7+dfsg-1+deb13u1 Debian-Security:13/stable-security [amd64])
Inst libk5crypto3 [1.21.3-5+deb13u1] (1.21.3-5+deb13u2 Debian-Security:13/stable-security [amd64]) []
Inst libgssapi-krb5-2 [1.21.3-5+deb13u1] (1.21.3-5+deb13u2 Debian-Security:13/stable-security [amd64]) []
Inst libkrb5support0 [1.21.3-5+deb13u1] (1.21.3-5+deb13u2 Debian-Security:13/stable-security [amd64]) [libkrb5-3:amd64 ]
Inst libkrb5-3 [1.21.3-5+deb13u1] (1.21.3-5+deb13u2 Debian-Security:13/stable-security [amd64])
Conf libk5crypto3 (1.21.3-5+deb13u2 Debian-Security:13/stable-security [amd64])
Conf libgssapi-krb5-2 (1.21.3-5+deb13u2 Debian-Security:13/stable-security [amd64])
Conf libkrb5support0 (1.21.3-5+deb13u2 Debian-Security:13/stable-security [amd64])
Conf libkrb5-3 (1.21.3-5+deb13u2 Debian-Security:13/stable-security [amd64])
`;

const REAL_SIM_NOTHING = `Reading package lists...
Building dependency tree...
Calculating upgrade...
0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.
`;

const REAL_SIM_AUTOREMOVE = `Reading package lists...
Building dependency tree...
Reading state information...
The following packages will be REMOVED:
  nginx-common*
0 upgraded, 0 newly installed, 1 to remove and 5 not upgraded.
Purg nginx-common [1.26.3-3+deb13u12]
`;

const REAL_SIM_BUILDDEP = `Reading package lists...
E: You must put some 'deb-src' URIs in your sources.list
`;

const REAL_DEB_HOST = `@@tsible-deb host
exists
Package: tsible-hello
Version: 1.0-1
Architecture: all
`;

const REAL_DEB_CACHED = `@@tsible-deb host
@@tsible-deb cache
exists
sha256 f639fd08dad51e3d46cd00fd61d1b907a58249db38093563a9a50bf1c8cbb9a4
Package: tsible-hello
Version: 1.0-1
Architecture: all
dpkg tsible-hello\tinstall ok installed\t1.0-1
`;

const REAL_DEB_BAD = `@@tsible-deb host
exists
error dpkg-deb: error: '/root/bad.deb' is not a Debian format archive
`;

// ------------------------------------------------------------------ pure helpers

describe('Debian versions', () => {
  // Each row checked with dpkg --compare-versions on Debian 13.
  it.each([
    ['1.0', '1.0', 0],
    ['1:1.0', '2.0', 1],
    ['1.0~rc1', '1.0', -1],
    ['1.26.3-3+deb13u12', '1.26.3-3+deb13u10', 1],
    ['5.2.37-2+b10', '5.2.37-2', 1],
    ['1.0a', '1.0', 1],
    ['1.0', '1.0-0', 0],
    ['2.30', '2.4', 1],
    ['1:4.17.4-2+deb13u1', '1:4.17.4-2', 1],
    ['1.0~~', '1.0~', -1],
    ['1.0+dfsg', '1.0.1', -1],
    ['0:1.2', '1.2', 0],
    ['1.2-3~bpo13+1', '1.2-3', -1],
  ])('%s vs %s → %i', (a, b, sign) => {
    expect(Math.sign(compareDebVersions(a, b)) || 0).toBe(sign);
    expect(Math.sign(compareDebVersions(b, a)) || 0).toBe(-sign || 0);
  });

  it.each([
    ['1.26.3-3+deb13u12', '1.26*', true],
    ['1.26.3-3+deb13u12', '1.26.3-3+deb13u1*', true],
    ['1.26.3-3+deb13u10', '1.26.3-3+deb13u1?', true],
    ['1.24.0-2', '1.26*', false],
    ['1:4.17.4-2', '1:4.17.[0-4]-2', true],
    ['1:4.17.4-2', '1:4.17.[!4]-2', false],
    ['1.2+b1', '1.2+b1', true],
  ])('fnmatch(%s, %s) = %s', (v, p, r) => expect(fnmatch(v, p)).toBe(r));

  it.each([
    ['nginx', { name: 'nginx' }],
    ['nginx=1.26*', { name: 'nginx', op: '=', version: '1.26*' }],
    ['nginx>=1.20', { name: 'nginx', op: '>=', version: '1.20' }],
    [' libc6:i386 ', { name: 'libc6:i386' }],
  ])('parsePackageSpec(%j)', (spec, want) => expect(parsePackageSpec(spec)).toEqual(want));
});

describe('fact parsers (real outputs)', () => {
  it('packages fact: dpkg status, policy, providers', () => {
    const st = parseAptPackages(REAL_LATEST);
    expect(st.dpkg).toEqual({
      awk: { want: 'unknown', status: 'not-installed', version: '' },
      bash: { want: 'install', status: 'installed', version: '5.2.37-2+b10' },
      passwd: { want: 'install', status: 'installed', version: '1:4.17.4-2' },
    });
    expect(st.policy!.passwd).toEqual({ installed: '1:4.17.4-2', candidate: '1:4.17.4-2+deb13u1', versions: ['1:4.17.4-2+deb13u1', '1:4.17.4-2'] });
    expect(st.policy!.nginx).toEqual({ candidate: '1.26.3-3+deb13u12', versions: ['1.26.3-3+deb13u12', '1.26.3-3+deb13u10'] });
    expect(st.policy!['mail-transport-agent']).toEqual({ versions: [] });
    expect(st.policy!.nopkg).toBeUndefined();
    expect(st.providers.awk).toEqual([
      { name: 'gawk', installed: false },
      { name: 'mawk', installed: true, version: '1.3.4.20250131-1' },
      { name: 'original-awk', installed: false },
    ]);
    expect(st.providers['mail-transport-agent']).toHaveLength(11);
    expect(st.auto).toEqual([]);
  });

  it('packages fact: config-files and auto-installed', () => {
    expect(parseAptPackages(REAL_REMOVED).dpkg['nginx-common']).toEqual({ want: 'deinstall', status: 'config-files', version: '1.26.3-3+deb13u12' });
    expect(parseAptPackages(REAL_REMOVED).policy).toBeUndefined();
    expect(parseAptPackages(REAL_AUTO).auto).toEqual(['nginx-common']);
  });

  it('policy of a package installed for two architectures and an unknown one', () => {
    const text = 'libc6:\n  Installed: 2.41-12\n  Candidate: 2.41-12\n  Version table:\n *** 2.41-12 500\n        500 http://deb.debian.org/debian trixie/main amd64 Packages\n        100 /var/lib/dpkg/status\nlibc6:i386:\n  Installed: (none)\n  Candidate: 2.41-12\n  Version table:\n     2.41-12 500\n';
    expect(parsePolicy(text)).toEqual({ libc6: { installed: '2.41-12', candidate: '2.41-12', versions: ['2.41-12'] }, 'libc6:i386': { candidate: '2.41-12', versions: ['2.41-12'] } });
  });

  it.each([
    ['upgrade', REAL_SIM_UPGRADE, 0, 5, { action: 'Inst', name: 'libzstd1', from: '1.5.7+dfsg-1', to: '1.5.7+dfsg-1+deb13u1' }],
    ['nothing', REAL_SIM_NOTHING, 0, 0, undefined],
    ['autoremove --purge', REAL_SIM_AUTOREMOVE, 0, 1, { action: 'Purg', name: 'nginx-common', from: '1.26.3-3+deb13u12' }],
  ])('apt-get -s: %s', (_n, out, rc, count, first) => {
    const sim = parseSimulation(out, rc);
    expect(sim.actions).toHaveLength(count);
    if (first) expect(sim.actions[0]).toEqual(first);
    expect(sim.error).toBeUndefined();
  });

  it('apt-get -s: an error', () => {
    expect(parseSimulation(REAL_SIM_BUILDDEP, 100)).toEqual({ actions: [], error: "You must put some 'deb-src' URIs in your sources.list" });
  });

  it.each([
    ['stamp (real)', '1796457283\n1796456488 /var/lib/apt/periodic/update-success-stamp\n', { now: 1796457283, mtime: 1796456488, source: '/var/lib/apt/periodic/update-success-stamp' }],
    ['lists directory', '1796457283\n1796454099 /var/lib/apt/lists\n', { now: 1796457283, mtime: 1796454099, source: '/var/lib/apt/lists' }],
    ['nothing', '1796457283\n0 none\n', { now: 1796457283, mtime: 0, source: 'none' }],
  ])('cache age: %s', (_n, out, want) => expect(parseCacheAge(out)).toEqual(want));

  it.each([
    ['on the host, not installed', REAL_DEB_HOST, { host: { exists: true, package: 'tsible-hello', version: '1.0-1', architecture: 'all' } }],
    ['cached copy, installed', REAL_DEB_CACHED, { host: { exists: false }, cache: { exists: true, sha256: 'f639fd08dad51e3d46cd00fd61d1b907a58249db38093563a9a50bf1c8cbb9a4', package: 'tsible-hello', version: '1.0-1', architecture: 'all', installed: { want: 'install', status: 'installed', version: '1.0-1' } } }],
    ['not a package', REAL_DEB_BAD, { host: { exists: true, error: "dpkg-deb: error: '/root/bad.deb' is not a Debian format archive" } }],
  ])('deb fact: %s', (_n, out, want) => expect(parseDebState(out)).toEqual(want));
});

// ------------------------------------------------------------------ facts asked

describe('facts asked', () => {
  it('several names are one query (duplicates and pins by name)', () => {
    const r = factRequests(apt, { name: ['nis', 'nfs-common', 'nginx=1.26*', 'nginx', 'rpcbind'] });
    expect(Object.keys(r)).toEqual(['packages']);
    expect(r.packages!.args).toEqual({ names: ['nis', 'nfs-common', 'nginx', 'rpcbind'], policy: true });
    expect(r.packages!.command.split('\n')[0]).toBe('set -- nis nfs-common nginx rpcbind');
  });

  it('absent needs no policy; update_cache adds the cache age', () => {
    expect(factRequests(apt, { name: 'nginx', state: 'absent' }).packages!.args).toEqual({ names: ['nginx'], policy: false });
    expect(Object.keys(factRequests(apt, { name: 'nginx', update_cache: true }))).toEqual(['packages', 'cache']);
    expect(Object.keys(factRequests(apt, { update_cache: true }))).toEqual(['cache']);
  });

  it('default_release reaches apt-cache policy', () => {
    expect(factRequests(apt, { name: 'nginx', default_release: 'trixie-backports' }).packages!.command).toContain("rel=-oAPT::Default-Release=trixie-backports");
  });

  it('upgrade and autoremove are simulated with apt-get -s', () => {
    expect(factRequests(apt, { upgrade: 'dist' }).simulation!.command).toBe('LC_ALL=C apt-get -s -q -o Debug::NoLocking=1 dist-upgrade 2>&1');
    expect(factRequests(apt, { upgrade: 'yes', autoremove: true }).simulation!.args).toEqual({ argv: ['upgrade', '--with-new-pkgs', '--auto-remove'] });
    expect(factRequests(apt, { name: '*', state: 'latest' }).simulation!.args).toEqual({ argv: ['upgrade', '--with-new-pkgs'] });
    expect(factRequests(apt, { autoremove: true, purge: true }).simulation!.args).toEqual({ argv: ['--purge', 'autoremove'] });
    expect(factRequests(apt, { name: 'nginx', state: 'build-dep' }).simulation!.args).toEqual({ argv: ['build-dep', 'nginx'] });
  });

  it('a .deb: the host path and, when the controller has it, the uploaded copy', () => {
    expect(factRequests(apt, { deb: '/root/x.deb' }).deb!.args).toEqual({ host: '/root/x.deb' });
    const r = factRequests(apt, { deb: 'mosix.deb' }, { controllerFiles: { 'mosix.deb': 'x' } });
    expect(r.deb!.args).toEqual({ host: 'mosix.deb', cache: debCachePath('/controller/files/mosix.deb') });
    expect(debCachePath('/controller/files/mosix.deb')).toMatch(/^\/var\/cache\/tsible\/deb\/[0-9a-f]{12}-mosix\.deb$/);
  });
});

// ------------------------------------------------------------------ plans

const LATEST = parseAptPackages(REAL_LATEST);
const REMOVED = parseAptPackages(REAL_REMOVED);
const AUTO = parseAptPackages(REAL_AUTO);
const FRESH: AptCacheAge = { now: 1796457283, mtime: 1796456488, source: '/var/lib/apt/periodic/update-success-stamp' };
const OPTS = '-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -o DPkg::Lock::Timeout=600';
const APT = `DEBIAN_FRONTEND=noninteractive apt-get ${OPTS}`;
const UPDATE = 'apt-get -q -o DPkg::Lock::Timeout=600 update && mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/update-success-stamp';
const DEB = Buffer.from('!<arch>\ndebian-binary   fake package for the table\n');
const DEB_SHA = createHash('sha256').update(DEB).digest('hex');
const DEB_CACHE = debCachePath('/controller/files/tsible-hello_1.0-1_all.deb');
const cached = (over: Partial<NonNullable<DebState['cache']>> = {}): DebState => ({
  host: { exists: false },
  cache: { exists: true, sha256: DEB_SHA, package: 'tsible-hello', version: '1.0-1', architecture: 'all', installed: { want: 'install', status: 'installed', version: '1.0-1' }, ...over },
});
const CTL = { controllerFiles: { 'tsible-hello_1.0-1_all.deb': DEB } };

const rows: { name: string; args: Record<string, unknown>; facts: AptFacts; ctx?: SystemContextOptions; expect: SysExpect }[] = [
  { name: 'installed → no change', args: { name: ['bash', 'passwd'] }, facts: { packages: LATEST }, expect: { noop: /^bash 5\.2\.37-2\+b10 is installed; passwd 1:4\.17\.4-2 is installed$/ } },
  {
    name: 'one missing of several → one apt-get install, never prompting',
    args: { name: ['bash', 'nginx'] },
    facts: { packages: LATEST },
    expect: { changes: ['exec: install nginx'], commands: [`${APT} install nginx`], result: { cache_updated: false } },
  },
  { name: 'installed is present', args: { name: 'nginx', state: 'installed' }, facts: { packages: LATEST }, expect: { changes: ['exec: install nginx'] } },
  {
    name: 'latest with an upgrade available',
    args: { name: ['bash', 'passwd'], state: 'latest' },
    facts: { packages: LATEST },
    expect: { changes: ['exec: upgrade passwd 1:4.17.4-2 → 1:4.17.4-2+deb13u1'], commands: [`${APT} install passwd`] },
  },
  { name: 'latest, all newest', args: { name: 'bash', state: 'latest' }, facts: { packages: LATEST }, expect: { noop: /bash 5\.2\.37-2\+b10 is the newest version/ } },
  { name: 'exact pin', args: { name: 'nginx=1.26.3-3+deb13u10' }, facts: { packages: LATEST }, expect: { changes: ['exec: install nginx=1.26.3-3+deb13u10'], commands: [`${APT} install nginx=1.26.3-3+deb13u10`] } },
  { name: 'glob pin takes the best match', args: { name: 'nginx=1.26*' }, facts: { packages: LATEST }, expect: { changes: ['exec: install nginx=1.26.3-3+deb13u12'] } },
  { name: 'pin matched by the installed version', args: { name: 'passwd=1:4.17*' }, facts: { packages: LATEST }, expect: { noop: /passwd 1:4\.17\.4-2 is installed/ } },
  { name: 'pin to the newer version upgrades', args: { name: 'passwd=1:4.17.4-2+deb13u1' }, facts: { packages: LATEST }, expect: { changes: ['exec: upgrade passwd 1:4.17.4-2 → 1:4.17.4-2+deb13u1'], commands: [`${APT} install passwd=1:4.17.4-2+deb13u1`] } },
  {
    name: 'pin nothing matches → missing prerequisite',
    args: { name: 'nginx=9.*' },
    facts: { packages: LATEST },
    expect: { failure: /no version of nginx matches 9\.\* \(available: 1\.26\.3-3\+deb13u12, 1\.26\.3-3\+deb13u10\)/, missing: 'package nginx=9.* (maybe from a repository added earlier)' },
  },
  { name: '>= satisfied', args: { name: 'passwd>=1:4.0' }, facts: { packages: LATEST }, expect: { noop: /passwd 1:4\.17\.4-2 is installed \(>= 1:4\.0\)/ } },
  { name: '>= needs the candidate', args: { name: 'passwd>=1:4.17.4-2+deb13u1' }, facts: { packages: LATEST }, expect: { changes: ['exec: upgrade passwd 1:4.17.4-2 → 1:4.17.4-2+deb13u1'], commands: [`${APT} install passwd=1:4.17.4-2+deb13u1`] } },
  { name: '>= compares Debian versions (the epoch wins)', args: { name: 'passwd>=5' }, facts: { packages: LATEST }, expect: { noop: /passwd 1:4\.17\.4-2 is installed \(>= 5\)/ } },
  { name: '>= beyond the candidate', args: { name: 'passwd>=1:5' }, facts: { packages: LATEST }, expect: { failure: /no version of passwd >= 1:5 is available \(candidate: 1:4\.17\.4-2\+deb13u1\)/, missing: 'package passwd>=1:5 (maybe from a repository added earlier)' } },
  {
    name: 'unknown package → failure naming it as missing',
    args: { name: ['bash', 'nopkg'] },
    facts: { packages: LATEST },
    expect: { failure: /^No package matching 'nopkg' is available$/, missing: 'package nopkg (maybe from a repository added earlier)' },
  },
  { name: 'virtual package provided by an installed one', args: { name: 'awk' }, facts: { packages: LATEST }, expect: { noop: /awk is a virtual package provided by installed mawk/ } },
  { name: 'virtual package with several providers', args: { name: 'mail-transport-agent' }, facts: { packages: LATEST }, expect: { failure: /mail-transport-agent is a virtual package provided by courier-mta, dma, .*ssmtp; name the one to install/ } },
  {
    name: 'virtual package with one provider → apt picks it',
    args: { name: 'awk' },
    facts: { packages: { ...LATEST, providers: { awk: [{ name: 'mawk', installed: false }] } } },
    expect: { changes: ['exec: install awk (provided by mawk)'], commands: [`${APT} install awk`] },
  },
  { name: 'absent, installed', args: { name: ['nginx', 'bash'], state: 'absent' }, facts: { packages: AUTO }, expect: { changes: ['exec: remove nginx, bash'], commands: [`${APT} remove nginx bash`] } },
  { name: 'removed is absent; not installed → no change', args: { name: 'nginx', state: 'removed' }, facts: { packages: REMOVED }, expect: { noop: /^nginx is not installed$/ } },
  { name: 'absent without purge leaves configuration files', args: { name: 'nginx-common', state: 'absent' }, facts: { packages: REMOVED }, expect: { noop: /nginx-common is removed \(its configuration files remain; purge: true removes them\)/ } },
  { name: 'absent + purge removes leftover configuration files', args: { name: ['nginx', 'nginx-common'], state: 'absent', purge: true }, facts: { packages: REMOVED }, expect: { changes: ['exec: purge nginx-common'], commands: [`${APT} --purge remove nginx-common`] } },
  { name: 'absent + purge + autoremove', args: { name: 'nginx', state: 'absent', purge: true, autoremove: true }, facts: { packages: AUTO }, expect: { changes: ['exec: purge nginx'], commands: [`${APT} --purge --auto-remove remove nginx`] } },
  {
    name: 'a package installed as a dependency is marked manual (autoremove keeps it)',
    args: { name: ['nginx', 'nginx-common'] },
    facts: { packages: { ...AUTO, policy: { nginx: { installed: '1.26.3-3+deb13u12', candidate: '1.26.3-3+deb13u12', versions: [] }, 'nginx-common': { installed: '1.26.3-3+deb13u12', candidate: '1.26.3-3+deb13u12', versions: [] } } } },
    expect: { changes: ['exec: mark nginx-common as manually installed (so autoremove keeps them)'], commands: ['apt-mark manual nginx-common'] },
  },
  {
    name: 'install options',
    args: { name: 'nginx', install_recommends: false, default_release: 'trixie-backports', dpkg_options: 'force-confnew', lock_timeout: 60, allow_change_held_packages: true },
    facts: { packages: LATEST },
    expect: { changes: ['exec: install nginx'], commands: ['DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Options::=--force-confnew -o DPkg::Lock::Timeout=60 install -t trixie-backports --no-install-recommends --allow-change-held-packages nginx'] },
  },
  { name: 'force', args: { name: 'nginx', force: true }, facts: { packages: LATEST }, expect: { commands: [`${APT} install --allow-unauthenticated --allow-downgrades --allow-remove-essential --allow-change-held-packages nginx`] } },
  { name: 'only_upgrade skips what is not installed', args: { name: ['nginx', 'passwd'], state: 'latest', only_upgrade: true }, facts: { packages: LATEST }, expect: { changes: ['exec: upgrade passwd 1:4.17.4-2 → 1:4.17.4-2+deb13u1'], commands: [`${APT} install --only-upgrade passwd`] } },

  // The package cache.
  { name: 'update_cache alone, stale', args: { update_cache: true }, facts: { cache: FRESH }, expect: { changes: ['exec: refresh the package lists (apt-get update; last refresh 795 s ago)'], commands: [UPDATE], result: { cache_updated: true, cache_update_time: 1796456488 } } },
  { name: 'update_cache alone, fresh enough', args: { update_cache: true, cache_valid_time: 3600 }, facts: { cache: FRESH }, expect: { noop: /the package lists are 795 s old \(cache_valid_time 3600 s\)/, result: { cache_updated: false } } },
  { name: 'cache_valid_time implies update_cache', args: { cache_valid_time: 600 }, facts: { cache: FRESH }, expect: { changes: [/^exec: refresh the package lists/] } },
  { name: 'never refreshed', args: { update_cache: true, cache_valid_time: 3600 }, facts: { cache: { now: 1796457283, mtime: 0, source: 'none' } }, expect: { changes: ['exec: refresh the package lists (apt-get update)'] } },
  { name: 'update_cache + install → refresh first', args: { name: 'nginx', update_cache: true }, facts: { packages: LATEST, cache: FRESH }, expect: { changes: [/^exec: refresh the package lists/, 'exec: install nginx'], result: { cache_updated: true } } },
  { name: 'update_cache with everything installed: no refresh, no change', args: { name: 'bash', update_cache: true }, facts: { packages: LATEST, cache: FRESH }, expect: { noop: /bash 5\.2\.37-2\+b10 is installed \(the package lists were not refreshed: nothing to install\)/ } },
  { name: 'update_cache makes an unknown package worth a try', args: { name: 'htcondor', update_cache: true }, facts: { packages: LATEST, cache: FRESH }, expect: { changes: [/^exec: refresh the package lists/, 'exec: install htcondor'] } },
  { name: 'fresh cache and unknown package → failure', args: { name: 'htcondor', update_cache: true, cache_valid_time: 3600 }, facts: { packages: LATEST, cache: FRESH }, expect: { failure: /No package matching 'htcondor'/, missing: 'package htcondor (maybe from a repository added earlier)' } },
  {
    name: 'latest with a stale cache: the newest version is known only after the refresh',
    args: { name: ['bash', 'passwd'], state: 'latest', update_cache: true, cache_valid_time: 600 },
    facts: { packages: LATEST, cache: FRESH },
    expect: { changes: [/^exec: refresh/, 'exec: upgrade passwd 1:4.17.4-2 → 1:4.17.4-2+deb13u1; upgrade bash if the refreshed lists have newer versions'], commands: [UPDATE, `${APT} install bash passwd`] },
  },
  { name: 'latest with a fresh cache', args: { name: 'bash', state: 'latest', update_cache: true, cache_valid_time: 3600 }, facts: { packages: LATEST, cache: FRESH }, expect: { noop: /newest version/ } },

  // .deb files.
  { name: 'deb on the host, not installed', args: { deb: '/root/tsible-hello_1.0-1_all.deb' }, facts: { deb: parseDebState(REAL_DEB_HOST) }, expect: { changes: ['exec: install tsible-hello 1.0-1 from /root/tsible-hello_1.0-1_all.deb'], commands: [`${APT} install /root/tsible-hello_1.0-1_all.deb`] } },
  {
    name: 'deb on the host, same version installed',
    args: { deb: '/root/tsible-hello_1.0-1_all.deb' },
    facts: { deb: { host: { ...parseDebState(REAL_DEB_HOST).host, installed: { want: 'install', status: 'installed', version: '1.0-1' } } } },
    expect: { noop: /tsible-hello 1\.0-1 from \/root\/tsible-hello_1\.0-1_all\.deb is installed/ },
  },
  {
    name: 'deb on the host, older version installed',
    args: { deb: '/root/tsible-hello_1.0-1_all.deb' },
    facts: { deb: { host: { ...parseDebState(REAL_DEB_HOST).host, installed: { want: 'install', status: 'installed', version: '0.9-1' } } } },
    expect: { changes: ['exec: install tsible-hello 1.0-1 (replacing 0.9-1) from /root/tsible-hello_1.0-1_all.deb'] },
  },
  { name: 'deb that is not a package', args: { deb: '/root/bad.deb' }, facts: { deb: parseDebState(REAL_DEB_BAD) }, expect: { failure: /\/root\/bad\.deb is not a Debian package: dpkg-deb: error/ } },
  {
    name: 'deb from the controller, first time: upload then install',
    args: { deb: 'tsible-hello_1.0-1_all.deb' },
    facts: { deb: { host: { exists: false } } },
    ctx: CTL,
    expect: {
      changes: ['exec: mkdir -p /var/cache/tsible/deb', `write: upload tsible-hello_1.0-1_all.deb to ${DEB_CACHE}`, 'exec: install tsible-hello_1.0-1_all.deb (uploaded from the controller)'],
      commands: ['mkdir -p -m 0755 /var/cache/tsible/deb', DEB_CACHE, `${APT} install ${DEB_CACHE}`],
      result: { deb: DEB_CACHE },
    },
  },
  { name: 'deb from the controller, uploaded and installed', args: { deb: 'tsible-hello_1.0-1_all.deb' }, facts: { deb: cached() }, ctx: CTL, expect: { noop: /tsible-hello 1\.0-1 from tsible-hello_1\.0-1_all\.deb is installed/ } },
  { name: 'deb from the controller, uploaded, removed since', args: { deb: 'tsible-hello_1.0-1_all.deb' }, facts: { deb: cached({ installed: undefined }) }, ctx: CTL, expect: { changes: ['exec: install tsible-hello 1.0-1 from tsible-hello_1.0-1_all.deb'], commands: [`${APT} install ${DEB_CACHE}`] } },
  { name: 'deb changed on the controller → upload again', args: { deb: 'tsible-hello_1.0-1_all.deb' }, facts: { deb: cached({ sha256: '0'.repeat(64) }) }, ctx: CTL, expect: { changes: [/^exec: mkdir/, /^write: upload/, /^exec: install/] } },
  { name: 'deb nowhere → missing file', args: { deb: 'nowhere.deb' }, facts: { deb: { host: { exists: false } } }, expect: { failure: /nowhere\.deb exists neither on the host nor on the controller/, missing: 'file nowhere.deb' } },

  // Whole-system operations.
  { name: 'upgrade: dist', args: { upgrade: 'dist' }, facts: { simulation: parseSimulation(REAL_SIM_UPGRADE, 0) }, expect: { changes: ['exec: apt-get dist-upgrade: upgrade libzstd1, libk5crypto3, libgssapi-krb5-2, libkrb5support0, libkrb5-3'], commands: [`${APT} dist-upgrade`] } },
  { name: 'upgrade: yes, nothing to do', args: { upgrade: 'yes' }, facts: { simulation: parseSimulation(REAL_SIM_NOTHING, 0) }, expect: { noop: /^all packages are up to date$/ } },
  { name: "name '*' + latest is upgrade: yes", args: { name: '*', state: 'latest' }, facts: { simulation: parseSimulation(REAL_SIM_UPGRADE, 0) }, expect: { commands: [`${APT} upgrade --with-new-pkgs`] } },
  { name: 'upgrade with a stale cache', args: { upgrade: 'safe', update_cache: true }, facts: { simulation: parseSimulation(REAL_SIM_NOTHING, 0), cache: FRESH }, expect: { changes: [/^exec: refresh/, 'exec: apt-get upgrade (after refreshing the lists)'] } },
  { name: 'autoremove alone', args: { autoremove: true, purge: true }, facts: { simulation: parseSimulation(REAL_SIM_AUTOREMOVE, 0) }, expect: { changes: ['exec: apt-get autoremove: remove nginx-common'], commands: [`${APT} --purge autoremove`] } },
  { name: 'autoremove alone, nothing to remove', args: { autoremove: true }, facts: { simulation: parseSimulation(REAL_SIM_NOTHING, 0) }, expect: { noop: /no package needs to be autoremoved/ } },
  { name: 'build-dep without deb-src', args: { name: 'nginx', state: 'build-dep' }, facts: { simulation: parseSimulation(REAL_SIM_BUILDDEP, 100) }, expect: { failure: /the build dependencies of nginx: You must put some 'deb-src' URIs/ } },
  {
    name: 'policy_rc_d: services installed are not started; an existing policy-rc.d is put back',
    args: { name: 'nginx', policy_rc_d: 101 },
    facts: { packages: LATEST },
    expect: {
      changes: ['exec: install nginx'],
      commands: [
        `p=/usr/sbin/policy-rc.d; if [ -e "$p" ]; then mv -f "$p" "$p.tsible-saved" || exit 1; fi\nprintf '#!/bin/sh\\nexit %d\\n' 101 > "$p" && chmod 0755 "$p" || exit 1\n${APT} install nginx\nrc=$?; rm -f "$p"; if [ -e "$p.tsible-saved" ]; then mv -f "$p.tsible-saved" "$p"; fi; exit $rc`,
      ],
    },
  },
  { name: 'autoclean with obsolete files', args: { autoclean: true }, facts: { autoclean: parseSimulation('Reading package lists...\nDel nginx 1.26.3-3+deb13u10 [640 kB]\nDel nginx-common 1.26.3-3+deb13u10 [100 kB]\n', 0) }, expect: { changes: ['exec: apt-get autoclean: delete 2 obsolete package files'], commands: [`${APT} autoclean`] } },
  { name: 'autoclean, nothing obsolete (real: apt-get -s autoclean)', args: { autoclean: true }, facts: { autoclean: parseSimulation('Reading package lists...\nBuilding dependency tree...\nReading state information...\n', 0) }, expect: { noop: /no obsolete package file to autoclean/ } },
  { name: 'compatibility arguments are accepted', args: { name: 'bash', force_apt_get: true, update_cache_retries: 3, update_cache_retry_max_delay: 5 }, facts: { packages: LATEST }, expect: { noop: true } },
  { name: 'clean always changes', args: { name: 'bash', clean: true }, facts: { packages: LATEST }, expect: { changes: ['exec: apt-get clean'] } },
];

describe('apt plans', () => {
  it.each(rows)('$name', async ({ args, facts, ctx, expect: e }) => {
    expect(mismatches(await planRow(apt, args, facts as Record<string, unknown>, ctx), e)).toEqual([]);
  });

  it('returns the state of each named package', async () => {
    const plan = await planRow(apt, { name: ['passwd', 'nginx'] }, { packages: LATEST });
    expect(plan.result?.packages).toEqual({
      passwd: { status: 'installed', version: '1:4.17.4-2', candidate: '1:4.17.4-2+deb13u1' },
      nginx: { status: 'not-installed', version: undefined, candidate: '1.26.3-3+deb13u12' },
    });
  });

  it('the install is the change whose output the task returns', async () => {
    const plan = await planRow(apt, { name: 'nginx', update_cache: true }, { packages: LATEST, cache: FRESH });
    expect(plan.changes.map((c) => c.kind === 'exec' && !!c.returnsOutput)).toEqual([false, true]);
  });

  it.each([
    [{ name: 'ngin*' }, /wildcards in package names are not supported/],
    [{ name: 'nginx=1=2' }, /invalid package spec/],
    [{ name: 'Nginx Web' }, /is not a Debian package name/],
    [{ name: 'nginx=' }, /the version after = is empty/],
    [{ name: 'nginx', deb: '/x.deb' }, /mutually exclusive/],
    [{ state: 'present' }, /one of name, deb, upgrade, update_cache, autoremove or autoclean is required/],
    [{ deb: '/x.deb', state: 'absent' }, /deb only supports state=present/],
    [{ deb: 'https://example.org/x.deb' }, /deb as a URL is not supported/],
    [{ name: '*' }, /only works alone with state=latest/],
    [{ name: 'nginx', state: 'fixed' }, /state must be one of/],
  ])('%j is refused', async (args, message) => {
    await expect(planRow(apt, args, {})).rejects.toThrow(message);
  });
});

describe('shell syntax', () => {
  it('every fact and change command parses in sh -n', async () => {
    expect(await checkRowsShellSyntax(apt, rows)).toBeGreaterThan(40);
  });
});
