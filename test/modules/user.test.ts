import { describe, expect, it } from 'vitest';
import user, { expireDate, looksHashed, parseUserState, type UserState } from '../../src/modules/user.js';
import { checkRowsShellSyntax, factRequests, mismatches, planRow, runFact, type SysExpect } from './system-context.js';

const HASH = '$6$rounds=5000$saltsalt$Kq0b0xJ5/9E2PqR3o6CDJbW3pMkNQIGFP1b8xJ7vGvx6Ucx0yq2fQxW4A0o7Wv0r0kKq1Xy8I3E/2k6mXo0sT1';
const OTHER_HASH = '$y$j9T$abcdefghijklmnop$0123456789012345678901234567890123456789012';

// Real outputs of the fact on Debian 13 for the thesis user (useradd jordi -s /bin/bash -b /nfs -m).
/** Before: no user, no /nfs, the groups cluster and condor (gid 3000) exist. */
const REAL_NEW = `@@tsible-passwd
@@tsible-groups
cluster:x:1000:
condor:x:3000:
@@tsible-home
@@tsible-key
@@tsible-login
home_mode 0700
`;

/** After the first run. */
const REAL_CREATED = `@@tsible-passwd
jordi:x:1001:1001::/nfs/jordi:/bin/bash
@@tsible-primary
jordi
@@tsible-member
cluster
condor
@@tsible-shadow
has-password
sha256 12625b57daaab2771d34919894ba3cb2bd2cd7e7b9382d132d73fe4d0a272a11
expire 
@@tsible-groups
jordi:x:1001:
cluster:x:1000:jordi
condor:x:3000:jordi
@@tsible-home
exists
parent
@@tsible-key
exists
pub ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFXRvmx++1aNGpwdxoU989/r0tp1qCE0J3+8OFYANnM4 ansible-generated on node01
@@tsible-login
home_mode 0700
`;

/** After usermod -L -e 2030-01-01. */
const REAL_LOCKED = `@@tsible-passwd
jordi:x:1001:1001::/nfs/jordi:/bin/bash
@@tsible-primary
jordi
@@tsible-member
cluster
condor
@@tsible-shadow
locked
has-password
sha256 12625b57daaab2771d34919894ba3cb2bd2cd7e7b9382d132d73fe4d0a272a11
expire 21915
@@tsible-groups
jordi:x:1001:
@@tsible-home
exists
parent
@@tsible-login
home_mode 0700
`;

const THESIS = { name: 'jordi', shell: '/bin/bash', home: '/nfs/jordi', create_home: true, groups: ['cluster', '3000'], password: HASH };
const GROUPS = ['jordi', 'cluster', '3000'];

describe('fact parser (real outputs)', () => {
  it('no such user', () => {
    expect(parseUserState(REAL_NEW, GROUPS)).toEqual({
      memberOf: [],
      groups: { cluster: { name: 'cluster', gid: 1000, members: [] }, '3000': { name: 'condor', gid: 3000, members: [] } },
      homeExists: false,
      homeParentExists: false,
      sshKey: { exists: false },
      homeMode: '0700',
    });
  });

  it('an existing user', () => {
    const st = parseUserState(REAL_CREATED, GROUPS);
    expect(st.passwd).toEqual({ name: 'jordi', uid: 1001, gid: 1001, comment: '', home: '/nfs/jordi', shell: '/bin/bash' });
    expect(st.primaryGroup).toBe('jordi');
    expect(st.memberOf).toEqual(['cluster', 'condor']);
    expect(st.shadow).toEqual({ sha256: '12625b57daaab2771d34919894ba3cb2bd2cd7e7b9382d132d73fe4d0a272a11', locked: false, hasPassword: true });
    expect(st.groups['3000']).toEqual({ name: 'condor', gid: 3000, members: ['jordi'] });
    expect(st.sshKey).toEqual({ exists: true, publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFXRvmx++1aNGpwdxoU989/r0tp1qCE0J3+8OFYANnM4 ansible-generated on node01' });
  });

  it('locked, with an expiry', () => expect(parseUserState(REAL_LOCKED).shadow).toEqual({ sha256: '12625b57daaab2771d34919894ba3cb2bd2cd7e7b9382d132d73fe4d0a272a11', locked: true, hasPassword: true, expireDays: 21915 }));

  it('the hash never leaves the host: the fact sends its SHA-256', () => {
    const cmd = factRequests(user, THESIS).user!.command;
    expect(cmd).not.toContain(HASH);
    const out = runFact(cmd, {
      getent: `case "$1" in passwd) [ "$2" = jordi ] && echo 'jordi:x:1001:1001::/nfs/jordi:/bin/bash' ;; shadow) echo 'jordi:!${HASH}:19000:0:99999:7::21915:' ;; group) [ -z "$2" ] && echo 'cluster:x:1000:jordi,ana' && echo 'other:x:5:ana' ;; esac; true`,
      id: 'echo jordi',
    });
    const st = parseUserState(out, GROUPS);
    expect(st.shadow).toEqual({ sha256: '12625b57daaab2771d34919894ba3cb2bd2cd7e7b9382d132d73fe4d0a272a11', locked: true, hasPassword: true, expireDays: 21915 });
    expect(st.memberOf).toEqual(['cluster']);
    expect(out).not.toContain('saltsalt');
  });
});

describe('helpers', () => {
  it.each([
    [HASH, true],
    [OTHER_HASH, true],
    ['!' + HASH, true],
    ['*', true],
    ['secret', false],
    ['correct horse', false],
  ])('looksHashed(%j) = %s', (p, r) => expect(looksHashed(p)).toBe(r));

  it.each([
    [1893456000, '2030-01-01'],
    [1893456000.5, '2030-01-01'],
    [-1, ''],
  ])('expireDate(%d) = %j', (e, d) => expect(expireDate(e)).toBe(d));
});

const NEW = parseUserState(REAL_NEW, GROUPS);
const CREATED = parseUserState(REAL_CREATED, GROUPS);
const LOCKED = parseUserState(REAL_LOCKED, GROUPS);
const withGroups = (st: UserState, extra: Record<string, { name: string; gid: number }>): UserState => ({ ...st, groups: { ...st.groups, ...Object.fromEntries(Object.entries(extra).map(([k, g]) => [k, { ...g, members: [] }])) } });

const rows: { name: string; args: Record<string, unknown>; facts: { user: UserState }; expect: SysExpect }[] = [
  {
    name: 'thesis: create with shell, home on /nfs and groups; the hash goes through stdin',
    args: THESIS,
    facts: { user: NEW },
    expect: {
      changes: ['exec: mkdir -p /nfs', 'exec: useradd -G cluster,condor -d /nfs/jordi -s /bin/bash -m jordi', 'exec: set the password of jordi (new user)'],
      commands: ['mkdir -p /nfs', 'useradd -G cluster,condor -d /nfs/jordi -s /bin/bash -m jordi', 'chpasswd -e'],
      data: [undefined, undefined, `jordi:${HASH}\n`],
    },
  },
  { name: 'thesis: second run → no change', args: THESIS, facts: { user: CREATED }, expect: { noop: /^user jordi \(uid 1001\) is as wanted; the password is the wanted one$/ } },
  { name: 'modify the shell', args: { name: 'jordi', shell: '/bin/zsh' }, facts: { user: CREATED }, expect: { changes: ['exec: usermod jordi: shell /bin/bash → /bin/zsh'], commands: ['usermod -s /bin/zsh jordi'] } },
  { name: 'another password', args: { name: 'jordi', password: OTHER_HASH }, facts: { user: CREATED }, expect: { changes: ['exec: set the password of jordi (it differs)'], commands: ['chpasswd -e'], data: [`jordi:${OTHER_HASH}\n`] } },
  { name: 'update_password on_create keeps the existing one', args: { name: 'jordi', password: OTHER_HASH, update_password: 'on_create' }, facts: { user: CREATED }, expect: { noop: /the password is only set on create/ } },
  { name: 'several properties in one usermod', args: { name: 'jordi', uid: 2001, comment: 'Jordi P', home: '/home/jordi', move_home: true }, facts: { user: CREATED }, expect: { changes: ['exec: usermod jordi: uid 1001 → 2001; comment "" → "Jordi P"; home /nfs/jordi → /home/jordi (moved)'], commands: ["usermod -u 2001 -c 'Jordi P' -d /home/jordi -m jordi"] } },
  { name: 'groups: the list replaces the others', args: { name: 'jordi', groups: ['cluster'] }, facts: { user: CREATED }, expect: { changes: ['exec: usermod jordi: remove from condor'], commands: ['usermod -G cluster jordi'] } },
  { name: 'groups: append adds only', args: { name: 'jordi', groups: ['docker'], append: true }, facts: { user: withGroups(CREATED, { docker: { name: 'docker', gid: 999 } }) }, expect: { changes: ['exec: usermod jordi: add to docker'], commands: ['usermod -a -G docker jordi'] } },
  { name: 'groups: append, already a member', args: { name: 'jordi', groups: ['cluster'], append: true }, facts: { user: CREATED }, expect: { noop: true } },
  { name: 'groups: empty list removes all', args: { name: 'jordi', groups: [] }, facts: { user: CREATED }, expect: { commands: ["usermod -G '' jordi"] } },
  { name: 'groups by gid', args: { name: 'jordi', groups: ['cluster', '3000'] }, facts: { user: CREATED }, expect: { noop: true } },
  { name: 'a group that does not exist → missing prerequisite', args: { name: 'jordi', groups: ['hpc'] }, facts: { user: CREATED }, expect: { failure: /^Group hpc does not exist$/, missing: 'group hpc' } },
  { name: 'primary group change', args: { name: 'jordi', group: 'cluster' }, facts: { user: CREATED }, expect: { changes: ['exec: usermod jordi: primary group jordi → cluster'], commands: ['usermod -g cluster jordi'] } },
  { name: 'lock and expire', args: { name: 'jordi', password_lock: true, expires: 1893456000 }, facts: { user: CREATED }, expect: { changes: ['exec: usermod jordi: expires 2030-01-01; lock the password'], commands: ['usermod -e 2030-01-01 -L jordi'] } },
  { name: 'locked and expiring already', args: { name: 'jordi', password_lock: true, expires: 1893456000 }, facts: { user: LOCKED }, expect: { noop: true } },
  { name: 'remove the expiry', args: { name: 'jordi', expires: -1 }, facts: { user: LOCKED }, expect: { commands: ["usermod -e '' jordi"] } },
  {
    name: 'home missing for an existing user → created from /etc/skel',
    args: { name: 'jordi' },
    facts: { user: { ...CREATED, homeExists: false } },
    expect: { changes: ['exec: create the home directory /nfs/jordi from /etc/skel'], commands: ['mkdir -p /nfs/jordi && chmod 0700 /nfs/jordi && { [ ! -d /etc/skel ] || cp -a /etc/skel/. /nfs/jordi; } && chown -R 1001:1001 /nfs/jordi'] },
  },
  { name: 'create_home false leaves a missing home alone', args: { name: 'jordi', create_home: false }, facts: { user: { ...CREATED, homeExists: false } }, expect: { noop: true } },
  { name: 'ssh key exists → its public key is returned', args: { name: 'jordi', generate_ssh_key: true, ssh_key_type: 'ed25519' }, facts: { user: CREATED }, expect: { noop: /\/nfs\/jordi\/\.ssh\/id_ed25519 exists/, result: { ssh_public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFXRvmx++1aNGpwdxoU989/r0tp1qCE0J3+8OFYANnM4 ansible-generated on node01' } } },
  {
    name: 'ssh key generated for an existing user',
    args: { name: 'jordi', generate_ssh_key: true },
    facts: { user: { ...CREATED, sshKey: { exists: false } } },
    expect: { changes: ['exec: generate an SSH key /nfs/jordi/.ssh/id_rsa'], commands: ['mkdir -p /nfs/jordi/.ssh && chmod 0700 /nfs/jordi/.ssh && chown jordi:1001 /nfs/jordi/.ssh && ssh-keygen -q -t rsa -b 4096 -f /nfs/jordi/.ssh/id_rsa -N \'\' -C "ansible-generated on $(hostname)" && chown jordi:1001 /nfs/jordi/.ssh/id_rsa /nfs/jordi/.ssh/id_rsa.pub'] },
  },
  { name: 'system user without a home', args: { name: 'condor', system: true, create_home: false, shell: '/usr/sbin/nologin' }, facts: { user: { memberOf: [], groups: {}, homeExists: false, homeParentExists: false } }, expect: { changes: ['exec: useradd -s /usr/sbin/nologin -M -r condor'] } },
  { name: 'a group named like the user exists → -N, as Ansible', args: { name: 'condor', uid: 3000 }, facts: { user: withGroups(NEW, { condor: { name: 'condor', gid: 3000 } }) }, expect: { commands: ['useradd -u 3000 -N -m condor'] } },
  { name: 'primary group given → -g; it is not repeated in -G', args: { name: 'ana', group: 'cluster', groups: ['cluster', '3000'] }, facts: { user: withGroups(NEW, { cluster: { name: 'cluster', gid: 1000 } }) }, expect: { commands: ['useradd -g cluster -G condor -m ana'] } },
  { name: 'not hashed → a warning, like Ansible', args: { name: 'ana', password: 'secret' }, facts: { user: NEW }, expect: { changes: [/useradd/, 'exec: set the password of ana (new user)'], result: { warnings: ['The input password appears not to have been hashed. The password argument must be a crypted hash (see the password_hash filter).'] } } },
  { name: 'remove with its home (userdel -r, as the thesis does)', args: { name: 'jordi', state: 'absent', remove: true }, facts: { user: CREATED }, expect: { changes: ['exec: userdel -r jordi (removes /nfs/jordi)'], commands: ['userdel -r jordi'] } },
  { name: 'remove, force', args: { name: 'jordi', state: 'absent', force: true }, facts: { user: CREATED }, expect: { commands: ['userdel -f jordi'] } },
  { name: 'absent, no such user', args: { name: 'jordi', state: 'absent', remove: true }, facts: { user: NEW }, expect: { noop: /^user jordi does not exist$/ } },
];

describe('user plans', () => {
  it.each(rows)('$name', async ({ args, facts, expect: e }) => {
    expect(mismatches(await planRow(user, args, facts), e)).toEqual([]);
  });

  it('the password is in no command, description or result', async () => {
    for (const st of [NEW, CREATED]) {
      const plan = await planRow(user, { name: 'jordi', password: OTHER_HASH }, { user: st });
      for (const c of plan.changes) expect(c.describe + (c.kind === 'exec' ? c.command.text : '')).not.toContain(OTHER_HASH);
      expect(JSON.stringify(plan.result)).not.toContain(OTHER_HASH);
    }
  });

  it('facts: one request naming the groups (and the group named like the user)', () => {
    expect(factRequests(user, THESIS).user!.args).toEqual({ name: 'jordi', home: '/nfs/jordi', groups: ['jordi', 'cluster', '3000'] });
    expect(factRequests(user, { name: 'x', group: 'users', generate_ssh_key: true }).user!.args).toEqual({ name: 'x', key: '.ssh/id_rsa', groups: ['users'] });
  });

  it.each([
    [{ name: 'bad name' }, /is not a valid login name/],
    [{ name: 'x', password: 'a:b' }, /without ":" or newlines/],
    [{ name: 'x', comment: 'a:b' }, /comment must not contain/],
    [{ name: 'x', local: true }, /luseradd\) is not supported/],
    [{ name: 'x', update_password: 'never' }, /update_password must be one of/],
  ])('%j is refused', async (args, message) => {
    await expect(planRow(user, args, { user: NEW })).rejects.toThrow(message);
  });

  it('shell syntax', async () => {
    expect(await checkRowsShellSyntax(user, rows)).toBeGreaterThan(30);
  });
});
