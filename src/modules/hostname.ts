/**
 * hostname (ansible.builtin.hostname): the host's name, both the running
 * (kernel) name and the one in /etc/hostname that the next boot uses.
 *
 * hostnamectl is not used: in containers /etc/hostname is a bind mount that
 * cannot be renamed over (hostnamectl, and Ansible's module, fail there with
 * EBUSY) and systemd-hostnamed may not run at all. The kernel name is set with
 * `hostname NAME`, and /etc/hostname is a `write` change, which the executor
 * writes in place when the file is a mount point. Every `use` strategy of
 * Ansible is accepted and handled this way, which is what Debian's own boot
 * (systemd or SysV) reads.
 */
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type Plan } from './types.js';

export interface HostnameState {
  /** the kernel's hostname */
  current: string;
  /** /etc/hostname's content, null when the file does not exist */
  file: string | null;
}

const M = '@@tsible-';

const HOSTNAME_SCRIPT = `echo "${M}current $(cat /proc/sys/kernel/hostname 2>/dev/null || hostname)"
if [ -f /etc/hostname ]; then echo '${M}file'; cat /etc/hostname; fi
true`;

export function parseHostnameState(stdout: string): HostnameState {
  const st: HostnameState = { current: '', file: null };
  const i = stdout.indexOf(`${M}file\n`);
  const head = i >= 0 ? stdout.slice(0, i) : stdout;
  const m = new RegExp(`^${M}current (.*)$`, 'm').exec(head);
  if (m) st.current = m[1]!.trim();
  if (i >= 0) st.file = stdout.slice(i + `${M}file\n`.length);
  return st;
}

export const hostnameFact: Fact<void, HostnameState> = {
  name: 'hostname',
  command: () => ShellCommand.script(HOSTNAME_SCRIPT),
  parse: (out) => parseHostnameState(out.stdout),
};

/** The name /etc/hostname gives: its first line that is not a comment, trimmed. */
export function fileHostname(content: string | null): string | undefined {
  if (content === null) return undefined;
  return content
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#'));
}

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

export function checkHostname(name: string): void {
  if (name.length > 64) throw new ArgError(`name must be at most 64 characters (the kernel's limit), got ${name.length}`, 'name');
  if (!name.split('.').every((l) => LABEL.test(l))) throw new ArgError(`${JSON.stringify(name)} is not a valid host name (letters, digits and -, dot-separated labels)`, 'name');
}

export default defineModule({
  name: 'hostname',
  collections: ['ansible.builtin'],
  description:
    'The host name: set now (hostname NAME) and for the next boot (/etc/hostname). Works in containers, where /etc/hostname is a bind mount and hostnamectl fails.',
  args: {
    name: { type: 'str', required: true, description: 'The host name, e.g. node01 (or an FQDN if that is what the cluster uses).' },
    use: {
      type: 'str',
      choices: ['alpine', 'debian', 'freebsd', 'generic', 'macos', 'macosx', 'darwin', 'openbsd', 'openrc', 'redhat', 'sles', 'solaris', 'systemd'] as const,
      description: 'Accepted for compatibility; every strategy writes /etc/hostname and sets the kernel name.',
    },
  },
  returns: { name: 'the host name', ansible_facts: 'ansible_hostname and ansible_nodename after the task' },
  example: ['- name: Node names from the inventory (thesis: node01..node10)', '  ansible.builtin.hostname:', '    name: "{{ inventory_hostname_short }}"'].join('\n'),
  runsOn: 'host',
  check(args) {
    checkHostname(args.name.trim());
    if (args.use && ['freebsd', 'macos', 'macosx', 'darwin', 'openbsd', 'solaris'].includes(args.use)) throw new ArgError(`use: ${args.use} is not supported (Linux hosts only)`, 'use');
  },
  facts: () => ({ hostname: factRequest(hostnameFact, undefined) }),
  plan(args, facts): Plan {
    const name = args.name.trim();
    const st = facts.hostname;
    const ansibleFacts = { ansible_hostname: name.split('.')[0], ansible_nodename: name };
    const result: Record<string, unknown> = { name, ansible_facts: ansibleFacts };
    const changes: Change[] = [];
    const inFile = fileHostname(st.file);
    if (inFile !== name) {
      changes.push({ kind: 'write', path: '/etc/hostname', content: `${name}\n`, mode: st.file === null ? '0644' : undefined, describe: `write ${name} to /etc/hostname${inFile ? ` (was ${inFile})` : ''}` });
    }
    if (st.current !== name) changes.push({ kind: 'exec', command: sh`hostname ${name}`, describe: `hostname ${name} (was ${st.current || 'unknown'})` });
    if (!changes.length) return { changes, result, noopReason: `the host name is ${name}`, setFacts: ansibleFacts };
    return {
      changes,
      result,
      setFacts: ansibleFacts,
      diff: inFile !== name ? [{ path: '/etc/hostname', before: st.file ?? '', after: `${name}\n` }] : undefined,
    };
  },
});
