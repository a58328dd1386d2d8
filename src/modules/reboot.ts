/**
 * reboot: restart the host and carry on once it is back.
 *
 * The plan is a `reboot` change (the executor runs the command, waits for
 * the host to answer again and reconnects), framed by plain changes: the
 * pre-reboot delay before it, and after it the post-reboot delay and a check
 * that the host really booted again: its boot identity (the kernel's boot_id
 * plus the start time of PID 1, which also changes when a container with
 * systemd restarts) differs from the one read before, and test_command
 * succeeds. A reboot command that did nothing therefore fails the task
 * instead of passing silently.
 */
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type Plan } from './types.js';

/** The kernel's boot id and PID 1's start time (field 22 of /proc/1/stat, counted after the command name). */
export const BOOT_IDENTITY = ShellCommand.script(`printf '%s %s\\n' "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)" "$(sed 's/^.*) //' /proc/1/stat 2>/dev/null | cut -d' ' -f20)"`);

export const bootIdentityFact: Fact<void, string> = {
  name: 'boot_identity',
  command: () => BOOT_IDENTITY,
  parse: (out) => out.stdout.trim(),
};

export default defineModule({
  name: 'reboot',
  collections: ['ansible.builtin'],
  description:
    'Reboot the host, wait until it answers again, and check that it really rebooted (its boot identity changed) and that test_command succeeds. Always reports a change.',
  args: {
    reboot_timeout: { type: 'int', default: 600, description: 'Seconds to wait for the host to come back.' },
    msg: { type: 'str', default: 'Reboot initiated by tsible', description: 'Message shown to logged-in users.' },
    pre_reboot_delay: { type: 'int', default: 0, description: 'Seconds to wait before rebooting.' },
    post_reboot_delay: { type: 'int', default: 0, description: 'Seconds to wait after the host answers, before the check (services still starting).' },
    test_command: { type: 'str', default: 'whoami', description: 'A command that must succeed on the rebooted host (run by the shell).' },
    reboot_command: { type: 'str', description: 'Command that reboots (run by the shell); default: shutdown -r now with msg.' },
  },
  returns: { rebooted: 'true once the host is back', boot_identity_before: 'boot id and PID 1 start time before the reboot' },
  example: [
    '- name: Boot the cloned nodes from their disks (thesis 4.3.3)',
    '  ansible.builtin.reboot:',
    '    reboot_timeout: 900',
    '    post_reboot_delay: 10',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    for (const k of ['reboot_timeout', 'pre_reboot_delay', 'post_reboot_delay'] as const) {
      if (args[k] < 0) throw new ArgError(`${k} must not be negative, got ${args[k]}`, k);
    }
    if (args.reboot_timeout === 0) throw new ArgError('reboot_timeout must be at least 1 second', 'reboot_timeout');
    if (args.test_command.trim() === '') throw new ArgError('test_command must not be empty', 'test_command');
  },
  facts: () => ({ boot: factRequest(bootIdentityFact, undefined) }),
  plan(args, facts): Plan {
    const before = facts.boot;
    const changes: Change[] = [];
    if (args.pre_reboot_delay > 0) changes.push({ kind: 'exec', command: sh`sleep ${args.pre_reboot_delay}`, describe: `wait ${args.pre_reboot_delay} s before rebooting` });
    // The command must not return before the host goes down, or the executor could reconnect to the old boot:
    // it sleeps until the connection drops (or the executor's short timeout on this command ends).
    const reboot = args.reboot_command !== undefined ? ShellCommand.script(args.reboot_command) : sh`shutdown -r now ${args.msg}`;
    const test = ShellCommand.script(args.test_command);
    changes.push({
      kind: 'reboot',
      command: ShellCommand.join([reboot, ShellCommand.script('sleep 300')], '&&'),
      timeoutSeconds: args.reboot_timeout,
      testCommand: test,
      describe: `reboot (${args.reboot_command ?? `shutdown -r now "${args.msg}"`}), wait up to ${args.reboot_timeout} s`,
    });
    if (args.post_reboot_delay > 0) changes.push({ kind: 'exec', command: sh`sleep ${args.post_reboot_delay}`, describe: `wait ${args.post_reboot_delay} s after the reboot` });
    changes.push({
      kind: 'exec',
      command: ShellCommand.join(
        [
          sh`now=$(${BOOT_IDENTITY}); if [ "$now" = ${before} ]; then echo "the host did not reboot: its boot id and PID 1 start time are unchanged" >&2; exit 1; fi`,
          test,
        ],
        '&&',
      ),
      describe: `check that the host rebooted and that "${args.test_command}" succeeds`,
    });
    return { changes, result: { rebooted: true, boot_identity_before: before } };
  },
});
