import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import sysctl, { editSysctl, fileValue, normaliseKey, parseSysctlState, sameValue, sysctlValue, type SysctlState } from '../../src/modules/sysctl.js';
import { assertRowsShellSyntax, factsFor, mismatches, planWith, type Expectation } from './disk-context.js';

/** A Debian 12 /etc/sysctl.conf (procps 3.3), trimmed: comments with commented-out keys. */
const DEBIAN12_SYSCTL = `#
# /etc/sysctl.conf - Configuration file for setting system variables
# See /etc/sysctl.d/ for additional system variables.
# See sysctl.conf (5) for information.
#

#kernel.domainname = example.com

# Uncomment the next line to enable packet forwarding for IPv4
#net.ipv4.ip_forward=1

; another comment style
vm.swappiness = 10
`;

describe('values and keys', () => {
  it.each([
    [1, '1'],
    [true, '1'],
    [false, '0'],
    ['yes', '1'],
    ['Off', '0'],
    [' 10 ', '10'],
    ['4096 87380 6291456', '4096 87380 6291456'],
    [null, ''],
  ])('sysctlValue(%j) = %j', (v, s) => expect(sysctlValue(v)).toBe(s));

  it.each([
    ['4096 87380 6291456', '4096\t87380   6291456', true],
    ['1', ' 1 ', true],
    ['1', '0', false],
  ])('sameValue(%j, %j) = %s', (a, b, same) => expect(sameValue(a, b)).toBe(same));

  it.each([
    ['net.ipv4.ip_forward', 'net.ipv4.ip_forward'],
    ['net/ipv4/ip_forward', 'net.ipv4.ip_forward'],
    ['-net.ipv4.ip_forward ', 'net.ipv4.ip_forward'],
  ])('normaliseKey(%j) = %j', (k, n) => expect(normaliseKey(k)).toBe(n));
});

describe('editSysctl', () => {
  it.each([
    {
      name: 'thesis: ip_forward appended; the commented example stays a comment',
      content: DEBIAN12_SYSCTL,
      key: 'net.ipv4.ip_forward',
      value: '1',
      expected: DEBIAN12_SYSCTL + 'net.ipv4.ip_forward=1\n',
      changed: true,
    },
    { name: 'same value with spaces around = is kept', content: DEBIAN12_SYSCTL, key: 'vm.swappiness', value: '10', expected: DEBIAN12_SYSCTL, changed: false },
    { name: 'other value rewritten in place', content: DEBIAN12_SYSCTL, key: 'vm.swappiness', value: '1', expected: DEBIAN12_SYSCTL.replace('vm.swappiness = 10', 'vm.swappiness=1'), changed: true },
    { name: 'slash spelling matches', content: 'net/ipv4/ip_forward = 0\n', key: 'net.ipv4.ip_forward', value: '1', expected: 'net.ipv4.ip_forward=1\n', changed: true },
    { name: 'the "-" (ignore errors) prefix is kept', content: '-net.ipv4.ip_forward = 0\n', key: 'net.ipv4.ip_forward', value: '1', expected: '-net.ipv4.ip_forward=1\n', changed: true },
    { name: 'whitespace inside values does not matter', content: 'net.ipv4.tcp_rmem = 4096\t87380\t6291456\n', key: 'net.ipv4.tcp_rmem', value: '4096 87380 6291456', expected: 'net.ipv4.tcp_rmem = 4096\t87380\t6291456\n', changed: false },
    { name: 'duplicates all set', content: 'vm.swappiness=1\nvm.swappiness=2\n', key: 'vm.swappiness', value: '2', expected: 'vm.swappiness=2\nvm.swappiness=2\n', changed: true },
    { name: 'new file', content: '', key: 'net.ipv4.ip_forward', value: '1', expected: 'net.ipv4.ip_forward=1\n', changed: true },
    { name: 'remove', content: DEBIAN12_SYSCTL, key: 'vm.swappiness', value: null, expected: DEBIAN12_SYSCTL.replace('vm.swappiness = 10\n', ''), changed: true },
    { name: 'remove what is not there', content: DEBIAN12_SYSCTL, key: 'net.ipv4.ip_forward', value: null, expected: DEBIAN12_SYSCTL, changed: false },
  ])('$name', ({ content, key, value, expected, changed }) => {
    expect(editSysctl(content, key, value)).toEqual({ content: expected, changed });
  });

  it('fileValue: the last line wins', () => {
    expect(fileValue('vm.swappiness=1\n# vm.swappiness=5\nvm.swappiness = 2\n', 'vm.swappiness')).toBe('2');
    expect(fileValue(DEBIAN12_SYSCTL, 'net.ipv4.ip_forward')).toBeUndefined();
  });
});

describe('sysctl fact', () => {
  it('passes the key and file as variables', () => {
    const req = factsFor(sysctl, { name: 'net.ipv4.ip_forward', value: 1, sysctl_file: '/etc/sysctl.d/99 x.conf' }).sysctl!;
    expect(req.fact.command(req.args).text.split('\n')[0]).toBe("k=net.ipv4.ip_forward; f='/etc/sysctl.d/99 x.conf'");
  });

  it.each([
    ['known key, file in /etc/sysctl.d (real, Debian 13 container)', '@@tsible-live 0\n1\n@@tsible-file\nnet.ipv4.ip_forward=1\n', { live: '1', file: 'net.ipv4.ip_forward=1\n', notReadAtBoot: false }],
    ['unknown key; /etc/sysctl.conf missing and not read at boot (real)', '@@tsible-live 1\nsysctl: cannot stat /proc/sys/net/nope: No such file or directory\n@@tsible-notatboot\n', { liveError: 'sysctl: cannot stat /proc/sys/net/nope: No such file or directory', file: null, notReadAtBoot: true }],
    ['tabs in a live value', '@@tsible-live 0\n4096\t131072\t33554432\n', { live: '4096\t131072\t33554432' }],
  ])('%s', (_n, stdout, expected) => {
    expect(parseSysctlState(stdout)).toMatchObject(expected);
  });

  it('runs in sh (with a fake sysctl)', () => {
    const req = factsFor(sysctl, { name: 'net.ipv4.ip_forward', value: 1, sysctl_file: '/nonexistent/sysctl.conf' }).sysctl!;
    const out = execFileSync('/bin/sh', ['-c', 'sysctl() { echo 0; }\n' + req.fact.command(req.args).text]).toString();
    expect(parseSysctlState(out)).toMatchObject({ live: '0', file: null });
  });
});

function st(over: Partial<SysctlState> = {}): SysctlState {
  return { file: DEBIAN12_SYSCTL, live: '0', notReadAtBoot: false, ...over };
}
const FWD = { name: 'net.ipv4.ip_forward', value: 1 };

const rows: { name: string; args: Record<string, unknown>; facts: { sysctl: SysctlState }; expect: Expectation }[] = [
  {
    name: 'thesis ip_forward, persisted and set live',
    args: { ...FWD, sysctl_set: true, sysctl_file: '/etc/sysctl.d/99-forwarding.conf' },
    facts: { sysctl: st({ file: null }) },
    expect: {
      changes: [
        { kind: 'write', describe: 'set net.ipv4.ip_forward=1 in /etc/sysctl.d/99-forwarding.conf', content: 'net.ipv4.ip_forward=1\n' },
        { kind: 'exec', describe: 'sysctl -w net.ipv4.ip_forward=1 (was 0)', command: /^sysctl -w net.ipv4.ip_forward=1$/ },
        { kind: 'exec', describe: 'sysctl -p /etc/sysctl.d/99-forwarding.conf' },
      ],
    },
  },
  { name: 'thesis ip_forward, second run', args: { ...FWD, sysctl_set: true, sysctl_file: '/etc/sysctl.d/99-forwarding.conf' }, facts: { sysctl: st({ file: 'net.ipv4.ip_forward=1\n', live: '1' }) }, expect: { noop: /has net.ipv4.ip_forward=1; net.ipv4.ip_forward is 1/ } },
  {
    name: 'Ansible default file, reload applies it',
    args: FWD,
    facts: { sysctl: st() },
    expect: { changes: [{ kind: 'write', describe: 'set net.ipv4.ip_forward=1 in /etc/sysctl.conf', content: DEBIAN12_SYSCTL + 'net.ipv4.ip_forward=1\n' }, { kind: 'exec', describe: 'sysctl -p /etc/sysctl.conf' }] },
  },
  {
    name: 'Debian 13: /etc/sysctl.conf is not read at boot → warning',
    args: FWD,
    facts: { sysctl: st({ file: null, notReadAtBoot: true }) },
    expect: { changes: [{ kind: 'write', describe: 'set net.ipv4.ip_forward=1 in /etc/sysctl.conf' }, { kind: 'exec', describe: 'sysctl -p /etc/sysctl.conf' }], result: { warnings: ['/etc/sysctl.conf is not read at boot on this host (systemd-sysctl reads /etc/sysctl.d/*.conf); the value will not survive a reboot'] } },
  },
  { name: 'file right, live wrong, no sysctl_set → nothing (like Ansible)', args: FWD, facts: { sysctl: st({ file: 'net.ipv4.ip_forward=1\n', live: '0' }) }, expect: { noop: /\/etc\/sysctl.conf has net.ipv4.ip_forward=1/ } },
  {
    name: 'file right, live wrong, sysctl_set → -w then reload',
    args: { ...FWD, sysctl_set: true },
    facts: { sysctl: st({ file: 'net.ipv4.ip_forward=1\n', live: '0' }) },
    expect: { changes: [{ kind: 'exec', describe: 'sysctl -w net.ipv4.ip_forward=1 (was 0)' }, { kind: 'exec', describe: 'sysctl -p /etc/sysctl.conf' }] },
  },
  { name: 'reload: false', args: { ...FWD, reload: false }, facts: { sysctl: st() }, expect: { changes: [{ kind: 'write', describe: 'set net.ipv4.ip_forward=1 in /etc/sysctl.conf' }] } },
  { name: 'ignoreerrors reloads with -e', args: { ...FWD, ignoreerrors: true }, facts: { sysctl: st() }, expect: { changes: [{ kind: 'write', describe: /set/ }, { kind: 'exec', describe: 'sysctl -e -p /etc/sysctl.conf' }] } },
  { name: 'yes means 1', args: { name: 'net.ipv4.ip_forward', value: 'yes' }, facts: { sysctl: st({ file: 'net.ipv4.ip_forward = 1\n' }) }, expect: { noop: true, result: { value: '1' } } },
  { name: 'unknown key with sysctl_set', args: { name: 'net.nope', value: 1, sysctl_set: true }, facts: { sysctl: st({ live: undefined, liveError: 'sysctl: cannot stat /proc/sys/net/nope: No such file or directory' }) }, expect: { failure: /setting net.nope failed: sysctl: cannot stat/ } },
  {
    name: 'unknown key with sysctl_set and ignoreerrors',
    args: { name: 'net.nope', value: 1, sysctl_set: true, ignoreerrors: true },
    facts: { sysctl: st({ live: undefined, liveError: 'nope' }) },
    expect: { changes: [{ kind: 'write', describe: 'set net.nope=1 in /etc/sysctl.conf' }, { kind: 'exec', describe: 'sysctl -e -p /etc/sysctl.conf' }] },
  },
  { name: 'absent', args: { name: 'vm.swappiness', state: 'absent' }, facts: { sysctl: st() }, expect: { changes: [{ kind: 'write', describe: 'remove vm.swappiness from /etc/sysctl.conf', content: DEBIAN12_SYSCTL.replace('vm.swappiness = 10\n', '') }, { kind: 'exec', describe: 'sysctl -p /etc/sysctl.conf' }] } },
  { name: 'absent, not there', args: { name: 'net.ipv4.ip_forward', state: 'absent' }, facts: { sysctl: st() }, expect: { noop: /net.ipv4.ip_forward is not in \/etc\/sysctl.conf/ } },
];

describe('sysctl plans', () => {
  it.each(rows)('$name', async ({ args, facts, expect: e }) => {
    expect(mismatches(await planWith(sysctl, args, facts), e)).toEqual([]);
  });

  it.each([
    [{ name: 'net.ipv4.ip_forward' }, /value is required/],
    [{ name: 'net.ipv4.ip_forward = 1', value: 1 }, /name must be a parameter/],
    [{ name: 'x', value: { a: 1 } }, /value must be a string, number or boolean/],
  ])('%j is refused', async (args, message) => {
    await expect(planWith(sysctl, args, { sysctl: st() })).rejects.toThrow(message);
  });
});

describe('shell syntax', () => {
  it('every fact and change command parses in sh -n', async () => {
    expect(await assertRowsShellSyntax(sysctl, rows.filter((r) => !r.expect.failure))).toBeGreaterThan(0);
  });
});
