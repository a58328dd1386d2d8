import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import debconf, { debconfValue, parseDebconf, sameAnswer, type DebconfState } from '../../src/modules/debconf.js';
import { checkRowsShellSyntax, factRequests, mismatches, planRow, runFact, type SysExpect } from './system-context.js';

// Real outputs of the fact on Debian 13 (debconf 1.5.91).
/** nis/domain preseeded with debconf-set-selections before nis is installed. */
const REAL_NIS = `@@tsible-show
* nis/domain: cluster.lab
@@tsible-record /var/cache/debconf/config.dat
Name: nis/domain
Template: nis/domain
Owners: nis
Flags: seen
value cluster.lab
`;

/** A password question: only the hash of the stored value comes back (this one is "s3cr3t"). */
const REAL_PASSWORD = `@@tsible-show
* tsible/secret: (password omitted)
@@tsible-record /var/cache/debconf/passwords.dat
Name: tsible/secret
Template: tsible/secret
Owners: tsible-x
Flags: seen
sha256 4e738ca5563c06cfd0018299933d58db1dd8bf97f6973dc99bf6cdc64b5550bd
`;

/** A question never answered: no Value in the database, debconf-show shows the template default. */
const REAL_DEFAULT = `@@tsible-show
  openssh-server/password-authentication: true
  openssh-server/permit-root-login: true
@@tsible-record /var/cache/debconf/config.dat
Name: openssh-server/password-authentication
Template: openssh-server/password-authentication
Owners: openssh-server
`;

/** An empty answer. */
const REAL_EMPTY = `@@tsible-show
* nis/domain:
@@tsible-record /var/cache/debconf/config.dat
Name: nis/domain
Template: nis/domain
Owners: nis
Flags: seen
value 
`;

const NOTHING = '@@tsible-show\n';

describe('fact parser (real outputs)', () => {
  it.each([
    ['preseeded string', REAL_NIS, { selections: { 'nis/domain': 'cluster.lab' }, question: { value: 'cluster.lab', owners: ['nis'], flags: ['seen'] } }],
    ['password', REAL_PASSWORD, { selections: { 'tsible/secret': '(password omitted)' }, question: { sha256: '4e738ca5563c06cfd0018299933d58db1dd8bf97f6973dc99bf6cdc64b5550bd', owners: ['tsible-x'], flags: ['seen'] } }],
    ['template default', REAL_DEFAULT, { selections: { 'openssh-server/password-authentication': 'true', 'openssh-server/permit-root-login': 'true' }, question: { owners: ['openssh-server'], flags: [] } }],
    ['empty answer', REAL_EMPTY, { selections: { 'nis/domain': '' }, question: { value: '', owners: ['nis'], flags: ['seen'] } }],
    ['unknown package and question', NOTHING, { selections: {} }],
  ])('%s', (_n, out, want) => expect(parseDebconf(out)).toEqual(want));

  it('the stored password hash is the SHA-256 of the value', () => {
    expect(createHash('sha256').update('s3cr3t').digest('hex')).toBe(parseDebconf(REAL_PASSWORD).question!.sha256);
  });
});

describe('answers', () => {
  it.each([
    [true, 'boolean', 'true'],
    ['Yes', 'string', 'Yes'],
    ['True', 'boolean', 'true'],
    [['b', 'a'], 'multiselect', 'b, a'],
    [42, 'string', '42'],
  ])('debconfValue(%j, %s) = %j', (v, t, s) => expect(debconfValue(v, t)).toBe(s));

  const st = (o: Partial<DebconfState>): DebconfState => ({ selections: {}, ...o });
  it.each([
    ['multiselect in another order', st({ selections: { q: 'a, b' } }), 'multiselect', 'b, a', true],
    ['boolean case', st({ selections: { q: 'True' } }), 'boolean', 'true', true],
    ['seen flag set', st({ question: { owners: [], flags: ['seen'] } }), 'seen', 'true', true],
    ['seen flag wanted off', st({ question: { owners: [], flags: ['seen'] } }), 'seen', 'false', false],
    ['password without a stored one', st({ selections: { q: '(password omitted)' } }), 'password', 'x', false],
    ['question owned by another package (database only)', st({ question: { value: 'v', owners: ['other'], flags: [] } }), 'string', 'v', true],
  ])('%s', (_n, state, vtype, wanted, same) => expect(sameAnswer(state, 'q', vtype, wanted)).toBe(same));
});

const NIS = { name: 'nis', question: 'nis/domain', vtype: 'string', value: 'cluster.lab' };

const rows: { name: string; args: Record<string, unknown>; facts: { debconf: DebconfState }; expect: SysExpect }[] = [
  {
    name: 'thesis: preseed nis/domain before installing nis',
    args: NIS,
    facts: { debconf: parseDebconf(NOTHING) },
    expect: { changes: ['exec: set nis/domain (string) to "cluster.lab" for nis'], commands: ['debconf-set-selections'], data: ['nis nis/domain string cluster.lab\n'], result: { current: { 'nis/domain': 'cluster.lab' }, previous: { 'nis/domain': '' } } },
  },
  { name: 'already preseeded → no change', args: NIS, facts: { debconf: parseDebconf(REAL_NIS) }, expect: { noop: /^nis\/domain is "cluster.lab"$/ } },
  { name: 'another domain', args: { ...NIS, value: 'hpc.lab' }, facts: { debconf: parseDebconf(REAL_NIS) }, expect: { changes: ['exec: set nis/domain (string) to "hpc.lab" for nis'], data: ['nis nis/domain string hpc.lab\n'], result: { previous: { 'nis/domain': 'cluster.lab' } } } },
  { name: 'empty answer wanted and stored', args: { ...NIS, value: '' }, facts: { debconf: parseDebconf(REAL_EMPTY) }, expect: { noop: true } },
  { name: 'unseen', args: { ...NIS, unseen: true }, facts: { debconf: parseDebconf(NOTHING) }, expect: { commands: ['debconf-set-selections -u'] } },
  { name: 'boolean equal to the template default → no change', args: { name: 'openssh-server', question: 'openssh-server/password-authentication', vtype: 'boolean', value: true }, facts: { debconf: parseDebconf(REAL_DEFAULT) }, expect: { noop: true } },
  { name: 'boolean differs', args: { name: 'openssh-server', question: 'openssh-server/password-authentication', vtype: 'boolean', value: 'no' }, facts: { debconf: parseDebconf(REAL_DEFAULT) }, expect: { data: ['openssh-server openssh-server/password-authentication boolean no\n'] } },
  { name: 'password already set (compared by hash)', args: { name: 'tsible-x', question: 'tsible/secret', vtype: 'password', value: 's3cr3t' }, facts: { debconf: parseDebconf(REAL_PASSWORD) }, expect: { noop: /the wanted password/ } },
  {
    name: 'password differs: on stdin only, hidden in the result',
    args: { name: 'tsible-x', question: 'tsible/secret', vtype: 'password', value: 'other' },
    facts: { debconf: parseDebconf(REAL_PASSWORD) },
    expect: { changes: ['exec: set tsible/secret (password) to the given password for tsible-x'], commands: ['debconf-set-selections'], data: ['tsible-x tsible/secret password other\n'], result: { current: { 'tsible/secret': '********' }, previous: { 'tsible/secret': '********' } } },
  },
  { name: 'multiselect as a list', args: { name: 'locales', question: 'locales/locales_to_be_generated', vtype: 'multiselect', value: ['en_US.UTF-8 UTF-8', 'ca_ES.UTF-8 UTF-8'] }, facts: { debconf: { selections: { 'locales/locales_to_be_generated': 'ca_ES.UTF-8 UTF-8, en_US.UTF-8 UTF-8' } } }, expect: { noop: true } },
  { name: 'no question: report the answers', args: { name: 'nis' }, facts: { debconf: parseDebconf(REAL_NIS) }, expect: { noop: /read 1 answers of nis/, result: { current: { 'nis/domain': 'cluster.lab' } } } },
];

describe('debconf plans', () => {
  it.each(rows)('$name', async ({ args, facts, expect: e }) => {
    expect(mismatches(await planRow(debconf, args, facts), e)).toEqual([]);
  });

  it('the password never appears in the command or the description', async () => {
    const plan = await planRow(debconf, { name: 'x', question: 'x/pw', vtype: 'password', value: 'hunter2' }, { debconf: { selections: {} } });
    for (const c of plan.changes) expect(JSON.stringify({ d: c.describe, c: c.kind === 'exec' ? c.command.text : '' })).not.toContain('hunter2');
    expect(JSON.stringify(plan.result)).not.toContain('hunter2');
    expect(JSON.stringify(plan.diff)).not.toContain('hunter2');
    expect(factRequests(debconf, { name: 'x', question: 'x/pw', vtype: 'password', value: 'hunter2' }).debconf!.command).not.toContain('hunter2');
  });

  it.each([
    [{ name: 'nis', question: 'nis/domain', value: 'x' }, /must supply a valid vtype and value/],
    [{ name: 'nis', question: 'nis/domain', vtype: 'string' }, /must supply a valid vtype and value/],
    [{ name: 'nis', question: 'nis/domain', vtype: 'str', value: 'x' }, /vtype must be one of/],
    [{ name: 'nis', question: 'nis/domain', vtype: 'string', value: 'a\nb' }, /value must be one line/],
    [{ name: 'nis', question: 'nis domain', vtype: 'string', value: 'x' }, /must not contain spaces/],
  ])('%j is refused', async (args, message) => {
    await expect(planRow(debconf, args, { debconf: { selections: {} } })).rejects.toThrow(message);
  });
});

describe('fact command', () => {
  it('runs in sh with a fake debconf-show (no database here)', () => {
    const cmd = factRequests(debconf, NIS).debconf!.command.replace('debconf-show "$pkg"', 'fake_show "$pkg"');
    expect(parseDebconf(runFact(cmd, { fake_show: 'echo "* nis/domain: $1.lab"' }))).toMatchObject({ selections: { 'nis/domain': 'nis.lab' } });
  });

  it('shell syntax', async () => {
    expect(await checkRowsShellSyntax(debconf, rows)).toBeGreaterThan(10);
  });
});
