/**
 * command, shell and raw: run something on the host. They always report
 * "changed" unless `creates`/`removes` say the work is already done, so the
 * prediction in check mode is exact for them too.
 */
import { ShellCommand, sh } from '../util/shell.js';
import { shlexSplit } from '../util/shlex.js';
import { factRequest } from '../facts/types.js';
import { pathExistsFact } from '../facts/path-exists.js';
import { defineModule, type Change, type Plan } from './types.js';
import { ArgError } from './argspec.js';

const common = {
  cmd: { type: 'str', description: 'The command to run (also the free-form text after the module name).' },
  chdir: { type: 'path', description: 'Change into this directory before running the command.' },
  creates: { type: 'path', description: 'A path or glob; when it already exists, the command is not run.' },
  removes: { type: 'path', description: 'A path or glob; when it does not exist, the command is not run.' },
  stdin: { type: 'str', description: 'Text to send to the command on its stdin.' },
  stdin_add_newline: { type: 'bool', default: true, description: 'Append a newline to stdin.' },
  strip_empty_ends: { type: 'bool', default: true, description: 'Strip trailing empty lines from stdout and stderr.' },
} as const;

const RETURNS = {
  cmd: 'the command as run',
  rc: 'exit code',
  stdout: 'standard output',
  stderr: 'standard error',
  stdout_lines: 'stdout split into lines',
  stderr_lines: 'stderr split into lines',
};

interface RunArgs {
  creates?: string;
  removes?: string;
  chdir?: string;
  stdin?: string;
  stdin_add_newline: boolean;
}

function guardFacts(args: RunArgs) {
  const r: Record<string, ReturnType<typeof factRequest<{ pattern: string; chdir?: string }, boolean>>> = {};
  if (args.creates) r.creates = factRequest(pathExistsFact, { pattern: args.creates, chdir: args.chdir });
  if (args.removes) r.removes = factRequest(pathExistsFact, { pattern: args.removes, chdir: args.chdir });
  return r;
}

function plannedRun(args: RunArgs, facts: Record<string, boolean>, command: ShellCommand, display: string): Plan {
  if (args.creates && facts.creates) return { changes: [], noopReason: `${args.creates} exists, so the command was not run`, result: { cmd: display, rc: 0, stdout: `skipped, since ${args.creates} exists`, stdout_lines: [] } };
  if (args.removes && !facts.removes) return { changes: [], noopReason: `${args.removes} does not exist, so the command was not run`, result: { cmd: display, rc: 0, stdout: `skipped, since ${args.removes} does not exist`, stdout_lines: [] } };
  const cmd = args.chdir ? sh`cd ${args.chdir} && ${command}` : command;
  const change: Change = {
    kind: 'exec',
    command: cmd,
    describe: display,
    returnsOutput: true,
    stdin: args.stdin === undefined ? undefined : args.stdin + (args.stdin_add_newline ? '\n' : ''),
  };
  return { changes: [change], result: { cmd: display } };
}

export const commandModule = defineModule({
  name: 'command',
  collections: ['ansible.builtin'],
  description: 'Run a command on the host, without a shell: pipes, redirections and variables like $HOME are not interpreted (use shell for those).',
  args: {
    ...common,
    argv: { type: 'list', elements: 'str', description: 'The command as a list of words, instead of cmd.' },
  },
  freeForm: 'cmd',
  returns: RETURNS,
  example: '- name: Show the kernel\n  ansible.builtin.command: uname -r\n  register: kernel',
  runsOn: 'host',
  check(args) {
    if (!args.cmd && !args.argv) throw new ArgError('give the command as free-form text, cmd or argv');
    if (args.cmd && args.argv) throw new ArgError('cmd and argv are mutually exclusive', 'argv');
  },
  facts: (args) => guardFacts(args),
  plan(args, facts) {
    let words: string[];
    try {
      words = args.argv ?? shlexSplit(args.cmd ?? '');
    } catch (err) {
      return { changes: [], failure: { message: `cannot parse the command: ${(err as Error).message}` } };
    }
    if (words.length === 0) return { changes: [], failure: { message: 'no command given' } };
    return plannedRun(args, facts, sh`${words}`, args.argv ? words.join(' ') : args.cmd!);
  },
});

export const shellModule = defineModule({
  name: 'shell',
  collections: ['ansible.builtin'],
  description: 'Run a command through the shell on the host (pipes, redirections and variables work).',
  args: {
    ...common,
    executable: { type: 'path', description: 'The shell to use instead of /bin/sh.' },
  },
  freeForm: 'cmd',
  returns: RETURNS,
  example: '- name: Count NFS mounts\n  ansible.builtin.shell: mount | grep -c nfs\n  register: nfs_mounts\n  changed_when: false',
  runsOn: 'host',
  check(args) {
    if (!args.cmd) throw new ArgError('give the command as free-form text or cmd');
  },
  facts: (args) => guardFacts(args),
  plan(args, facts) {
    const script = ShellCommand.script(args.cmd!);
    const command = args.executable ? sh`${args.executable} -c ${script.text}` : script;
    return plannedRun(args, facts, command, args.cmd!);
  },
});

export const rawModule = defineModule({
  name: 'raw',
  collections: ['ansible.builtin'],
  description: 'Run a command over SSH exactly as written (no checks, no creates/removes). For hosts without anything else installed.',
  args: {
    cmd: { type: 'str', required: true, description: 'The command text.' },
    executable: { type: 'path', description: 'The shell to run it with.' },
  },
  freeForm: 'cmd',
  returns: RETURNS,
  example: '- name: Bootstrap python\n  ansible.builtin.raw: apt-get install -y python3',
  runsOn: 'host',
  plan(args) {
    const script = ShellCommand.script(args.cmd);
    const command = args.executable ? sh`${args.executable} -c ${script.text}` : script;
    return { changes: [{ kind: 'exec', command, describe: args.cmd, returnsOutput: true }], result: { cmd: args.cmd } };
  },
});
