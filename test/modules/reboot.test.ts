import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import reboot, { BOOT_IDENTITY, bootIdentityFact } from '../../src/modules/reboot.js';
import { assertRowsShellSyntax, mismatches, planWith, type Expectation } from './disk-context.js';

// Read in a systemd container before and after `shutdown -r now` (docker --restart unless-stopped):
// the kernel's boot id stays, PID 1's start time changes.
const BEFORE = 'c10addd8-0ad7-4d21-9b99-acce65ad64d6 1060944';
const AFTER = 'c10addd8-0ad7-4d21-9b99-acce65ad64d6 1061303';

describe('boot identity', () => {
  it('reads boot id and PID 1 start time on this machine', () => {
    const out = execFileSync('/bin/sh', ['-c', BOOT_IDENTITY.text]).toString();
    expect(bootIdentityFact.parse({ stdout: out, exitCode: 0 }, undefined)).toMatch(/^[0-9a-f-]{36} \d+$/);
  });
});

const rows: { name: string; args: Record<string, unknown>; expect: Expectation }[] = [
  {
    name: 'defaults: reboot, then check identity and whoami',
    args: {},
    expect: {
      changes: [
        { kind: 'reboot', describe: 'reboot (shutdown -r now "Reboot initiated by tsible"), wait up to 600 s', command: /^shutdown -r now 'Reboot initiated by tsible' && sleep 300$/ },
        { kind: 'exec', describe: 'check that the host rebooted and that "whoami" succeeds', command: new RegExp(`\\[ "\\$now" = '${BEFORE}' \\][\\s\\S]* && whoami$`) },
      ],
      result: { rebooted: true, boot_identity_before: BEFORE },
    },
  },
  {
    name: 'delays, own command and test',
    args: { pre_reboot_delay: 5, post_reboot_delay: 30, reboot_command: 'systemctl reboot', test_command: 'systemctl is-system-running --wait', reboot_timeout: 900, msg: 'nodes' },
    expect: {
      changes: [
        { kind: 'exec', describe: 'wait 5 s before rebooting', command: /^sleep 5$/ },
        { kind: 'reboot', describe: 'reboot (systemctl reboot), wait up to 900 s', command: /^systemctl reboot && sleep 300$/ },
        { kind: 'exec', describe: 'wait 30 s after the reboot', command: /^sleep 30$/ },
        { kind: 'exec', describe: 'check that the host rebooted and that "systemctl is-system-running --wait" succeeds' },
      ],
    },
  },
];

describe('reboot plans', () => {
  it.each(rows)('$name', async ({ args, expect: e }) => {
    expect(mismatches(await planWith(reboot, args, { boot: BEFORE }), e)).toEqual([]);
  });

  it('the reboot change carries the timeout and the test command', async () => {
    const plan = await planWith(reboot, { reboot_timeout: 120, test_command: 'uptime' }, { boot: BEFORE });
    expect(plan.changes.find((c) => c.kind === 'reboot')).toMatchObject({ timeoutSeconds: 120, testCommand: { text: 'uptime' } });
  });

  it('the check fails on the same boot and passes on a new one (run in sh)', async () => {
    const plan = await planWith(reboot, {}, { boot: BEFORE });
    const check = plan.changes.at(-1)!;
    if (check.kind !== 'exec') throw new Error('expected an exec');
    const runWith = (identity: string) => {
      // BOOT_IDENTITY's printf is replaced by a fixed identity.
      const text = check.command.text.replace(BOOT_IDENTITY.text, `echo '${identity}'`);
      try {
        execFileSync('/bin/sh', ['-c', text], { stdio: 'pipe' });
        return 0;
      } catch (err) {
        return (err as { status: number }).status;
      }
    };
    expect(runWith(BEFORE)).toBe(1);
    expect(runWith(AFTER)).toBe(0);
  });

  it.each([
    [{ reboot_timeout: 0 }, /reboot_timeout must be at least 1 second/],
    [{ pre_reboot_delay: -1 }, /pre_reboot_delay must not be negative/],
    [{ test_command: ' ' }, /test_command must not be empty/],
  ])('%j is refused', async (args, message) => {
    await expect(planWith(reboot, args, { boot: BEFORE })).rejects.toThrow(message);
  });
});

describe('shell syntax', () => {
  it('every fact and change command parses in sh -n', async () => {
    expect(await assertRowsShellSyntax(reboot, rows.map((r) => ({ args: r.args, facts: { boot: BEFORE } })))).toBeGreaterThan(0);
  });
});
