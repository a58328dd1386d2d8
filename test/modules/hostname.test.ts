import { describe, expect, it } from 'vitest';
import hostname, { checkHostname, fileHostname, parseHostnameState, type HostnameState } from '../../src/modules/hostname.js';
import { checkRowsShellSyntax, mismatches, planRow, type SysExpect } from './system-context.js';

// Real outputs on a Debian 13 container (/etc/hostname is a Docker bind mount).
const REAL_BEFORE = '@@tsible-current 42c35fd66f40\n@@tsible-file\n42c35fd66f40\n';
const REAL_AFTER = '@@tsible-current node01\n@@tsible-file\nnode01\n';

describe('fact', () => {
  it.each([
    ['container default', REAL_BEFORE, { current: '42c35fd66f40', file: '42c35fd66f40\n' }],
    ['after the task', REAL_AFTER, { current: 'node01', file: 'node01\n' }],
    ['no /etc/hostname', '@@tsible-current node01\n', { current: 'node01', file: null }],
  ])('%s', (_n, out, want) => expect(parseHostnameState(out)).toEqual(want));

  it.each([
    ['node01\n', 'node01'],
    ['# set by the installer\n\n  node01  \n', 'node01'],
    ['', undefined],
    [null, undefined],
  ])('fileHostname(%j) = %j', (c, n) => expect(fileHostname(c)).toBe(n));

  it.each(['node01', 'master.cluster.lab', 'a'.repeat(63)])('%s is a host name', (n) => expect(() => checkHostname(n)).not.toThrow());
  it.each(['-node', 'node_01', 'a..b', 'a'.repeat(65), 'node 1'])('%j is not', (n) => expect(() => checkHostname(n)).toThrow());
});

const rows: { name: string; args: Record<string, unknown>; facts: { hostname: HostnameState }; expect: SysExpect }[] = [
  {
    name: 'rename: /etc/hostname (a write, done in place on a bind mount) and the kernel name, no hostnamectl',
    args: { name: 'node01' },
    facts: { hostname: parseHostnameState(REAL_BEFORE) },
    expect: { changes: ['write: write node01 to /etc/hostname (was 42c35fd66f40)', 'exec: hostname node01 (was 42c35fd66f40)'], commands: ['/etc/hostname', 'hostname node01'], data: ['node01\n'] },
  },
  { name: 'second run → no change', args: { name: 'node01', use: 'systemd' }, facts: { hostname: parseHostnameState(REAL_AFTER) }, expect: { noop: /^the host name is node01$/, result: { ansible_facts: { ansible_hostname: 'node01', ansible_nodename: 'node01' } } } },
  { name: 'file right, kernel not (before a reboot)', args: { name: 'node01', use: 'debian' }, facts: { hostname: { current: 'localhost', file: 'node01\n' } }, expect: { changes: ['exec: hostname node01 (was localhost)'] } },
  { name: 'kernel right, file not', args: { name: 'node01' }, facts: { hostname: { current: 'node01', file: null } }, expect: { changes: ['write: write node01 to /etc/hostname'] } },
  { name: 'FQDN: ansible_hostname is the short name', args: { name: 'master.cluster.lab' }, facts: { hostname: { current: 'master.cluster.lab', file: 'master.cluster.lab\n' } }, expect: { noop: true, result: { ansible_facts: { ansible_hostname: 'master', ansible_nodename: 'master.cluster.lab' } } } },
];

describe('hostname plans', () => {
  it.each(rows)('$name', async ({ args, facts, expect: e }) => {
    expect(mismatches(await planRow(hostname, args, facts), e)).toEqual([]);
  });

  it('updates ansible_hostname for later tasks', async () => {
    expect((await planRow(hostname, { name: 'node01' }, { hostname: parseHostnameState(REAL_BEFORE) })).setFacts).toEqual({ ansible_hostname: 'node01', ansible_nodename: 'node01' });
  });

  it('a new /etc/hostname is 0644; an existing one keeps its mode', async () => {
    const mode = async (file: string | null) => {
      const c = (await planRow(hostname, { name: 'node01' }, { hostname: { current: 'x', file } })).changes[0]!;
      return c.kind === 'write' ? c.mode : 'none';
    };
    expect(await mode(null)).toBe('0644');
    expect(await mode('x\n')).toBeUndefined();
  });

  it.each([
    [{ name: 'bad_name' }, /is not a valid host name/],
    [{ name: 'node01', use: 'freebsd' }, /not supported/],
    [{ name: 'node01', use: 'windows' }, /use must be one of/],
  ])('%j is refused', async (args, message) => {
    await expect(planRow(hostname, args, { hostname: parseHostnameState(REAL_BEFORE) })).rejects.toThrow(message);
  });

  it('shell syntax', async () => {
    expect(await checkRowsShellSyntax(hostname, rows)).toBeGreaterThan(5);
  });
});
