/**
 * sysctl: a kernel parameter in a sysctl file, and optionally its live value.
 *
 * The file is edited here (one `write`); the live value is read with
 * `sysctl -n` and set with `sysctl -w` only when `sysctl_set` asks for it and
 * it differs. `reload` (default, like Ansible) runs `sysctl -p FILE` after a
 * change, which also sets the live value.
 *
 * The default file is Ansible's, /etc/sysctl.conf. Note that Debian 13 no
 * longer reads /etc/sysctl.conf at boot (systemd-sysctl reads only
 * /etc/sysctl.d/*.conf and Debian dropped the 99-sysctl.conf link to it): to
 * persist a value there, use e.g. `sysctl_file: /etc/sysctl.d/99-tsible.conf`.
 * The module warns when the file it writes would not be read at boot.
 */
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type Plan } from './types.js';

const TRUE = new Set(['yes', 'on', '1', 'true', 'y', 't']);
const FALSE = new Set(['no', 'off', '0', 'false', 'n', 'f']);

/** Ansible's value parsing: booleans become 1/0, strings are trimmed. */
export function sysctlValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') return String(value);
  const s = String(value).trim();
  if (TRUE.has(s.toLowerCase())) return '1';
  if (FALSE.has(s.toLowerCase())) return '0';
  return s;
}

/** Values are equal when their whitespace-separated words are ("4096 87380 6291456" = "4096\t87380\t6291456"). */
export function sameValue(a: string, b: string): boolean {
  return a.trim().split(/\s+/).join(' ') === b.trim().split(/\s+/).join(' ');
}

/** sysctl accepts net/ipv4/ip_forward for net.ipv4.ip_forward. */
export function normaliseKey(key: string): string {
  const k = key.trim().replace(/^-/, '').trim();
  return k.includes('/') ? k.replace(/^\/+/, '').replace(/\//g, '.') : k;
}

interface Line {
  key: string;
  value: string;
}

function parseLine(line: string): Line | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#') || t.startsWith(';')) return undefined;
  const eq = t.indexOf('=');
  if (eq < 0) return undefined;
  return { key: normaliseKey(t.slice(0, eq)), value: t.slice(eq + 1).trim() };
}

/** The value a sysctl file gives a key (the last line wins, as sysctl -p applies them in order). */
export function fileValue(content: string, name: string): string | undefined {
  let value: string | undefined;
  for (const line of content.split('\n')) {
    const l = parseLine(line);
    if (l && l.key === normaliseKey(name)) value = l.value;
  }
  return value;
}

/**
 * Sets (value) or removes (null) a key in sysctl file text. Lines of the key
 * with another value become `key=value` (a leading `-`, "ignore errors", is
 * kept); a missing key is appended; comments and other keys stay as they are.
 */
export function editSysctl(content: string, name: string, value: string | null): { content: string; changed: boolean } {
  const lines = content === '' ? [] : content.replace(/\n$/, '').split('\n');
  const key = normaliseKey(name);
  const out: string[] = [];
  let found = false;
  let changed = false;
  for (const line of lines) {
    const l = parseLine(line);
    if (!l || l.key !== key) {
      out.push(line);
      continue;
    }
    found = true;
    if (value === null) {
      changed = true;
      continue;
    }
    if (sameValue(l.value, value)) out.push(line);
    else {
      out.push(`${line.trim().startsWith('-') ? '-' : ''}${name.trim()}=${value}`);
      changed = true;
    }
  }
  if (value !== null && !found) {
    out.push(`${name.trim()}=${value}`);
    changed = true;
  }
  return { content: out.length ? out.join('\n') + '\n' : '', changed };
}

export interface SysctlState {
  /** the file's content, null when it does not exist */
  file: string | null;
  /** `sysctl -n` output (trimmed), or undefined when the key is unknown */
  live?: string;
  /** sysctl's error for an unknown or unreadable key */
  liveError?: string;
  /** the host boots with systemd-sysctl and the file is not among what it reads */
  notReadAtBoot: boolean;
}

const M = '@@tsible-';

// systemd-sysctl reads /etc/sysctl.d/*.conf (and /run, /usr/lib); /etc/sysctl.conf only through Debian's old 99-sysctl.conf link.
const SYSCTL_SCRIPT = `
v=$(sysctl -n "$k" 2>&1); echo "${M}live $?"; printf '%s\\n' "$v"
if [ -d /run/systemd/system ]; then
  case "$f" in
    /etc/sysctl.d/*.conf|/run/sysctl.d/*.conf|/usr/lib/sysctl.d/*.conf|/usr/local/lib/sysctl.d/*.conf) ;;
    /etc/sysctl.conf) [ "$(readlink -f /etc/sysctl.d/99-sysctl.conf 2>/dev/null)" = /etc/sysctl.conf ] || echo '${M}notatboot' ;;
    *) echo '${M}notatboot' ;;
  esac
fi
if [ -f "$f" ]; then echo '${M}file'; cat "$f"; fi
true
`;

export function parseSysctlState(stdout: string): SysctlState {
  const state: SysctlState = { file: null, notReadAtBoot: false };
  const lines = stdout.split('\n');
  let liveRc = 0;
  const live: string[] = [];
  let inLive = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith(M)) {
      const [tag, value] = line.slice(M.length).split(' ');
      inLive = false;
      if (tag === 'live') {
        inLive = true;
        liveRc = Number(value);
      } else if (tag === 'notatboot') state.notReadAtBoot = true;
      else if (tag === 'file') {
        state.file = lines.slice(i + 1).join('\n');
        break;
      }
      continue;
    }
    if (inLive) live.push(line);
  }
  const text = live.join('\n').trim();
  if (liveRc === 0) state.live = text;
  else state.liveError = text || `sysctl exited with ${liveRc}`;
  return state;
}

export const sysctlFact: Fact<{ name: string; file: string }, SysctlState> = {
  name: 'sysctl',
  command: ({ name, file }) => ShellCommand.join([sh`k=${name}; f=${file}`, ShellCommand.script(SYSCTL_SCRIPT)], '\n'),
  parse: (out) => parseSysctlState(out.stdout),
};

export default defineModule({
  name: 'sysctl',
  collections: ['ansible.posix'],
  description:
    'Set a kernel parameter in a sysctl file (and reload it), optionally also the live value. Debian 13 does not read /etc/sysctl.conf at boot: give sysctl_file under /etc/sysctl.d/ for a value that must survive a reboot.',
  args: {
    name: { type: 'str', required: true, aliases: ['key'], description: 'The parameter, e.g. net.ipv4.ip_forward.' },
    value: { type: 'raw', aliases: ['val'], description: 'Its value (yes/no/true/false become 1/0). Required for state=present.' },
    state: { type: 'str', default: 'present', choices: ['present', 'absent'], description: 'Whether the parameter is in the file.' },
    sysctl_file: {
      type: 'path',
      default: '/etc/sysctl.conf',
      description: "The file to edit. Ansible's default, /etc/sysctl.conf, is not read at boot on Debian 13; prefer /etc/sysctl.d/99-NAME.conf there.",
    },
    sysctl_set: { type: 'bool', default: false, description: 'Also set the live value with sysctl -w when it differs.' },
    reload: { type: 'bool', default: true, description: 'Run sysctl -p FILE after a change (applies the whole file).' },
    ignoreerrors: { type: 'bool', default: false, description: 'Ignore unknown keys when reloading (sysctl -e) and when the live key does not exist.' },
  },
  returns: { name: 'the parameter', value: 'the value', live_value: 'the live value before the task', warnings: 'why the file may not be applied at boot' },
  example: [
    '- name: Forward packets on the master (thesis 4.3.2)',
    '  ansible.posix.sysctl:',
    '    name: net.ipv4.ip_forward',
    '    value: 1',
    '    sysctl_file: /etc/sysctl.d/99-forwarding.conf',
    '    sysctl_set: true',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (args.state === 'present' && (args.value === undefined || args.value === null || sysctlValue(args.value) === '')) throw new ArgError('value is required when state is present', 'value');
    if (/\s|=/.test(args.name.trim())) throw new ArgError(`name must be a parameter like net.ipv4.ip_forward, got ${JSON.stringify(args.name)}`, 'name');
    if (typeof args.value === 'object' && args.value !== null) throw new ArgError('value must be a string, number or boolean', 'value');
  },
  facts: (args) => ({ sysctl: factRequest(sysctlFact, { name: args.name.trim(), file: args.sysctl_file }) }),
  plan(args, facts): Plan {
    const st = facts.sysctl;
    const name = args.name.trim();
    const value = args.state === 'present' ? sysctlValue(args.value) : null;
    const result: Record<string, unknown> = { name, value, live_value: st.live };
    const changes: Change[] = [];
    const reasons: string[] = [];
    const before = st.file ?? '';
    const edit = editSysctl(before, name, value);
    if (edit.changed) {
      changes.push({ kind: 'write', path: args.sysctl_file, content: edit.content, describe: value === null ? `remove ${name} from ${args.sysctl_file}` : `set ${name}=${value} in ${args.sysctl_file}` });
      if (st.notReadAtBoot && value !== null) result.warnings = [`${args.sysctl_file} is not read at boot on this host (systemd-sysctl reads /etc/sysctl.d/*.conf); the value will not survive a reboot`];
    } else reasons.push(value === null ? `${name} is not in ${args.sysctl_file}` : `${args.sysctl_file} has ${name}=${value}`);

    if (args.sysctl_set && value !== null) {
      if (st.live === undefined) {
        if (!args.ignoreerrors) return { changes: [], result, failure: { message: `setting ${name} failed: ${st.liveError ?? 'unknown key'}` } };
        reasons.push(`${name} does not exist on this kernel (ignored)`);
      } else if (!sameValue(st.live, value)) {
        changes.push({ kind: 'exec', command: sh`sysctl -w ${`${name}=${value}`}`, describe: `sysctl -w ${name}=${value} (was ${st.live})` });
      } else reasons.push(`${name} is ${value}`);
    }

    if (args.reload && changes.length > 0) {
      const argv = ['sysctl', ...(args.ignoreerrors ? ['-e'] : []), '-p', args.sysctl_file];
      changes.push({ kind: 'exec', command: sh`${argv}`, describe: argv.join(' ') });
    }
    if (changes.length === 0) return { changes, noopReason: reasons.join('; '), result };
    return { changes, result, diff: edit.changed ? [{ path: args.sysctl_file, before, after: edit.content }] : undefined };
  },
});
