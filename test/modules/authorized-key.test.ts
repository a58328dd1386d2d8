import { describe, expect, it } from 'vitest';
import authorizedKey, { editAuthorizedKeys, formatKey, parseAuthorizedKeysState, parseKeyLine, parseOptions, type AuthorizedKeysState } from '../../src/modules/authorized-key.js';
import { checkRowsShellSyntax, factRequests, mismatches, planRow, runFact, type SysExpect } from './system-context.js';

const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMZwWAw3G2qRDzgm2aob3YKwjflnK49JhFoGKPcaixmq jordi@laptop';
const RSA = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 admin@master';
const ECDSA = 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY= ops';

// Real outputs of the fact on Debian 13.
/** ana's file after the first run (keys with options), base64 as the fact sends it. */
const REAL_ANA = `@@tsible-user 1000:3001:/home/ana
@@tsible-path /home/ana/.ssh/authorized_keys
@@tsible-dir 700 1000 3001
@@tsible-file 600 1000
ZnJvbT0iMTAuMC4wLjAvOCIsbm8tcHR5IHNzaC1lZDI1NTE5IEFBQUFDM056YUMxbFpESTFOVEU1QUFBQUlNWndXQXczRzJxUkR6Z20yYW9iM1lLd2pmbG5LNDlKaEZvR0tQY2FpeG1xIGpvcmRpQGxhcHRvcApmcm9tPSIxMC4wLjAuMC84Iixuby1wdHkgc3NoLXJzYSBBQUFBQjNOemFDMXljMkVBQUFBREFRQUJBQUFCQVFDNyBhZG1pbkBtYXN0ZXIK
`;
/** bob has no ~/.ssh (nor a home). */
const REAL_BOB = `@@tsible-user 1002:1002:/home/bob
@@tsible-path /home/bob/.ssh/authorized_keys
`;
const REAL_NOUSER = '@@tsible-nouser\n';

const ANA_FILE = `from="10.0.0.0/8",no-pty ${ED}\nfrom="10.0.0.0/8",no-pty ${RSA}\n`;

describe('key lines', () => {
  it.each([
    [ED, { type: 'ssh-ed25519', blob: 'AAAAC3NzaC1lZDI1NTE5AAAAIMZwWAw3G2qRDzgm2aob3YKwjflnK49JhFoGKPcaixmq', options: [], comment: 'jordi@laptop' }],
    [`no-pty,command="echo a, b" ${RSA}`, { type: 'ssh-rsa', blob: 'AAAAB3NzaC1yc2EAAAADAQABAAABAQC7', options: [['no-pty', null], ['command', '"echo a, b"']], comment: 'admin@master' }],
    ['ssh-rsa AAAA', { type: 'ssh-rsa', blob: 'AAAA', options: [], comment: '' }],
  ])('parseKeyLine(%j)', (l, want) => expect(parseKeyLine(l)).toEqual(want));

  it.each(['# a comment', '', 'not a key', 'ssh-rsa'])('%j is not a key', (l) => expect(parseKeyLine(l)).toBeUndefined());

  it('options: quoted commas stay, flags have no value', () => {
    expect(parseOptions('from="10.0.0.1,10.0.0.2",no-agent-forwarding,permitopen="host:80"')).toEqual([['from', '"10.0.0.1,10.0.0.2"'], ['no-agent-forwarding', null], ['permitopen', '"host:80"']]);
  });

  it('formatKey', () => expect(formatKey(parseKeyLine(`no-pty ${RSA}`)!)).toBe(`no-pty ${RSA}`));
});

describe('editAuthorizedKeys', () => {
  it.each([
    { name: 'add to an empty file', existing: '', keys: ED, opts: {}, content: `${ED}\n`, added: 1 },
    { name: 'already there → unchanged', existing: `# admins\n${ED}\n`, keys: ED, opts: {}, content: `# admins\n${ED}\n`, added: 0 },
    { name: 'several keys at once, one new', existing: `${ED}\n`, keys: `${ED}\n\n# ops\n${RSA}\n`, opts: {}, content: `${ED}\n${RSA}\n`, added: 1 },
    { name: 'the same key twice in the task counts once', existing: '', keys: `${ED}\n${ED}\n`, opts: {}, content: `${ED}\n`, added: 1 },
    { name: 'a duplicate already in the file is left alone', existing: `${ED}\n${ED}\n`, keys: ED, opts: {}, content: `${ED}\n${ED}\n`, added: 0 },
    { name: 'key_options replace the options, in place', existing: `${ED}\n${RSA}\n`, keys: ED, opts: { keyOptions: 'no-pty' }, content: `no-pty ${ED}\n${RSA}\n`, added: 0 },
    { name: 'same options in another order → unchanged', existing: `no-pty,from="10.0.0.0/8" ${ED}\n`, keys: ED, opts: { keyOptions: 'from="10.0.0.0/8",no-pty' }, content: `no-pty,from="10.0.0.0/8" ${ED}\n`, added: 0 },
    { name: 'comment replaces the comment', existing: `${ED}\n`, keys: ED, opts: { comment: 'jordi' }, content: `${ED.replace('jordi@laptop', 'jordi')}\n`, added: 0 },
    { name: 'exclusive keeps only the listed keys (and drops comments)', existing: `# old\n${RSA}\n${ED}\n${ECDSA}\n`, keys: ED, opts: { exclusive: true }, content: `${ED}\n`, added: 0 },
    { name: 'exclusive removes duplicates', existing: `${ED}\n${ED}\n`, keys: ED, opts: { exclusive: true }, content: `${ED}\n`, added: 0 },
    { name: 'exclusive with nothing else → unchanged', existing: `${ED}\n${RSA}\n`, keys: `${RSA}\n${ED}`, opts: { exclusive: true }, content: `${ED}\n${RSA}\n`, added: 0 },
  ])('$name', ({ existing, keys, opts, content, added }) => {
    const e = editAuthorizedKeys(existing, keys, { state: 'present', ...opts });
    expect(e.content).toBe(content);
    expect(e.added).toHaveLength(added);
    expect(e.changed).toBe(content !== existing);
  });

  it.each([
    { name: 'absent removes every line with the blob, whatever its options', existing: `no-pty ${ED}\n${RSA}\n${ED}\n`, keys: ED, content: `${RSA}\n` },
    { name: 'absent, last key → empty file', existing: `${ED}\n`, keys: ED, content: '' },
    { name: 'absent, not there', existing: `${RSA}\n`, keys: ED, content: `${RSA}\n` },
  ])('$name', ({ existing, keys, content }) => {
    expect(editAuthorizedKeys(existing, keys, { state: 'absent' }).content).toBe(content);
  });

  it('refuses a line that is no key', () => expect(() => editAuthorizedKeys('', 'hello world', { state: 'present' })).toThrow(/invalid key specified: hello world/));
});

describe('fact (real outputs)', () => {
  it.each([
    ['keys in place', REAL_ANA, { user: { uid: 1000, gid: 3001, home: '/home/ana' }, path: '/home/ana/.ssh/authorized_keys', dir: { exists: true, mode: '0700', uid: 1000, gid: 3001 }, file: { exists: true, mode: '0600', uid: 1000, content: ANA_FILE } }],
    ['no ~/.ssh', REAL_BOB, { user: { uid: 1002, gid: 1002, home: '/home/bob' }, path: '/home/bob/.ssh/authorized_keys', dir: { exists: false }, file: { exists: false } }],
    ['no such user', REAL_NOUSER, {}],
  ])('%s', (_n, out, want) => expect(parseAuthorizedKeysState(out)).toEqual(want));

  it('runs in sh: the default path and ~/ are the user’s home', () => {
    const fake = { getent: "echo 'ana:x:1000:3001::/tsible-no-such-home:/bin/bash'" };
    expect(parseAuthorizedKeysState(runFact(factRequests(authorizedKey, { user: 'ana', key: ED }).keys!.command, fake)).path).toBe('/tsible-no-such-home/.ssh/authorized_keys');
    expect(parseAuthorizedKeysState(runFact(factRequests(authorizedKey, { user: 'ana', key: ED, path: '~/.ssh/authorized_keys2' }).keys!.command, fake)).path).toBe('/tsible-no-such-home/.ssh/authorized_keys2');
  });
});

const ANA = parseAuthorizedKeysState(REAL_ANA);
const BOB = parseAuthorizedKeysState(REAL_BOB);
const OPTS = 'from="10.0.0.0/8",no-pty';

const rows: { name: string; args: Record<string, unknown>; facts: { keys: AuthorizedKeysState }; expect: SysExpect }[] = [
  { name: 'keys with options in place → no change', args: { user: 'ana', key: `${ED}\n${RSA}`, key_options: OPTS }, facts: { keys: ANA }, expect: { noop: /^\/home\/ana\/\.ssh\/authorized_keys has the keys$/ } },
  {
    name: 'first key: ~/.ssh 0700 owned by the user, file 0600',
    args: { user: 'bob', key: RSA },
    facts: { keys: BOB },
    expect: { changes: ['exec: create /home/bob/.ssh (0700, owned by bob)', 'write: add 1 key in /home/bob/.ssh/authorized_keys'], commands: ['mkdir -p -m 0700 /home/bob/.ssh && chown 1002:1002 /home/bob/.ssh', '/home/bob/.ssh/authorized_keys'], data: [undefined, `${RSA}\n`] },
  },
  { name: 'exclusive', args: { user: 'ana', key: RSA, key_options: OPTS, exclusive: true }, facts: { keys: ANA }, expect: { changes: ['write: remove 1 line in /home/ana/.ssh/authorized_keys'], data: [`${OPTS} ${RSA}\n`] } },
  { name: 'options changed', args: { user: 'ana', key: ED }, facts: { keys: ANA }, expect: { changes: ['write: update 1 in /home/ana/.ssh/authorized_keys'], data: [`${ED}\n${OPTS} ${RSA}\n`] } },
  { name: 'absent', args: { user: 'ana', key: RSA, state: 'absent' }, facts: { keys: ANA }, expect: { changes: ['write: remove 1 line in /home/ana/.ssh/authorized_keys'], data: [`${OPTS} ${ED}\n`] } },
  { name: 'absent, no file', args: { user: 'bob', key: RSA, state: 'absent' }, facts: { keys: BOB }, expect: { noop: /does not have the key$/ } },
  { name: 'wrong mode of ~/.ssh is fixed', args: { user: 'ana', key: `${ED}\n${RSA}`, key_options: OPTS }, facts: { keys: { ...ANA, dir: { exists: true, mode: '0755', uid: 1000, gid: 3001 } } }, expect: { changes: ['exec: chmod 0700 and chown ana /home/ana/.ssh (was 0755, uid 1000)'] } },
  { name: 'manage_dir false and no directory → missing', args: { user: 'bob', key: RSA, manage_dir: false }, facts: { keys: BOB }, expect: { failure: /\/home\/bob\/\.ssh does not exist \(manage_dir is false\)/, missing: 'directory /home/bob/.ssh' } },
  { name: 'no such user → missing prerequisite', args: { user: 'nosuch', key: RSA }, facts: { keys: parseAuthorizedKeysState(REAL_NOUSER) }, expect: { failure: /^user nosuch does not exist$/, missing: 'user nosuch' } },
];

describe('authorized_key plans', () => {
  it.each(rows)('$name', async ({ args, facts, expect: e }) => {
    expect(mismatches(await planRow(authorizedKey, args, facts), e)).toEqual([]);
  });

  it('the file is written 0600, owned by the user', async () => {
    const plan = await planRow(authorizedKey, { user: 'bob', key: RSA }, { keys: BOB });
    const w = plan.changes[1]!;
    expect(w.kind === 'write' && [w.mode, w.owner, w.group]).toEqual(['0600', '1002', '1002']);
  });

  it.each([
    [{ user: 'ana', key: 'hello' }, /invalid key specified/],
    [{ user: 'ana', key: ED, validate_certs: false }, /validate_certs: false is not supported/],
  ])('%j is refused', async (args, message) => {
    await expect(planRow(authorizedKey, args, { keys: ANA })).rejects.toThrow(message);
  });

  it('shell syntax', async () => {
    expect(await checkRowsShellSyntax(authorizedKey, rows)).toBeGreaterThan(8);
  });
});
