/**
 * iptables_state: keep the live firewall and a rules file in step.
 *
 * `state: saved` writes `iptables-save` output to the file (default
 * /etc/iptables/rules.v4, the file the iptables-persistent /
 * netfilter-persistent package loads at boot, so saved rules survive a
 * reboot: install that package for the restore half). `state: restored`
 * loads the file with iptables-restore. Both compare a normalised form first
 * (no "# Generated/Completed on <date>" comments, chain counters zeroed, no
 * per-rule counters), so an unchanged ruleset is neither rewritten nor
 * reloaded.
 */
import { posix } from 'node:path';
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { defineModule, type Plan } from './types.js';

/**
 * iptables-save output without what changes on every call: comment lines
 * (they carry timestamps), chain counters ("[12:3456]" → "[0:0]") and
 * per-rule counters from `-c`.
 */
export function normaliseRules(text: string): string {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith(':')) out.push(line.replace(/\s+\[\d+:\d+\]$/, ' [0:0]'));
    else out.push(line.replace(/^\[\d+:\d+\]\s+/, ''));
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** Only the `*table ... COMMIT` section of one table. */
export function tableSection(text: string, table: string): string {
  const out: string[] = [];
  let inside = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) inside = line.slice(1).trim() === table;
    if (inside) out.push(line);
    if (inside && line.trim() === 'COMMIT') inside = false;
  }
  return out.length ? out.join('\n') + '\n' : '';
}

export interface RulesState {
  /** iptables-save (or ip6tables-save) is missing */
  missing: boolean;
  /** the current rules, as iptables-save printed them */
  current: string;
  /** iptables-save failed with this message */
  error?: string;
  /** the rules file, null when it does not exist */
  file: string | null;
  /** the file's directory exists */
  dirExists: boolean;
}

const M = '@@tsible-';

const RULES_SCRIPT = `
if ! command -v "$b" >/dev/null 2>&1; then echo '${M}missing'; exit 0; fi
if [ -n "$t" ]; then out=$("$b" -t "$t" 2>&1); else out=$("$b" 2>&1); fi
echo "${M}save $?"
printf '%s\\n' "$out"
[ -d "$(dirname "$p")" ] && echo '${M}dir'
if [ -f "$p" ]; then echo '${M}file'; cat "$p"; fi
true
`;

export function parseRulesState(stdout: string): RulesState {
  const state: RulesState = { missing: false, current: '', file: null, dirExists: false };
  const lines = stdout.split('\n');
  const save: string[] = [];
  let inSave = false;
  let saveRc = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith(M)) {
      const [tag, value] = line.slice(M.length).split(' ');
      inSave = false;
      if (tag === 'missing') state.missing = true;
      else if (tag === 'save') {
        inSave = true;
        saveRc = Number(value);
      } else if (tag === 'dir') state.dirExists = true;
      else if (tag === 'file') {
        state.file = lines.slice(i + 1).join('\n');
        break;
      }
      continue;
    }
    if (inSave) save.push(line);
  }
  const text = save.join('\n').replace(/\n+$/, '');
  if (saveRc !== 0) state.error = text || `exit code ${saveRc}`;
  else state.current = text ? text + '\n' : '';
  return state;
}

export const rulesFact: Fact<{ binary: string; table?: string; path: string }, RulesState> = {
  name: 'iptables_rules',
  command: ({ binary, table, path }) => ShellCommand.join([sh`b=${binary}; t=${table ?? ''}; p=${path}`, ShellCommand.script(RULES_SCRIPT)], '\n'),
  parse: (out) => parseRulesState(out.stdout),
};

export default defineModule({
  name: 'iptables_state',
  collections: ['tsible', 'community.general'],
  description:
    'Save the live iptables rules to a file (state=saved), or load them from it (state=restored), only when the two differ. Saved to /etc/iptables/rules.v4, the netfilter-persistent package (iptables-persistent) restores them at boot.',
  args: {
    state: { type: 'str', required: true, choices: ['saved', 'restored'], description: 'saved: live rules → file. restored: file → live rules.' },
    path: { type: 'path', default: '/etc/iptables/rules.v4', description: 'The rules file (/etc/iptables/rules.v6 for ip_version=ipv6).' },
    ip_version: { type: 'str', default: 'ipv4', choices: ['ipv4', 'ipv6'], description: 'iptables-save/-restore or ip6tables-save/-restore.' },
    table: { type: 'str', choices: ['filter', 'nat', 'mangle', 'raw', 'security'], description: 'Only this table (saved: the file then holds only this table).' },
    noflush: { type: 'bool', default: false, description: 'restored: keep rules that are not in the file (iptables-restore --noflush).' },
    wait: { type: 'int', description: 'restored: seconds to wait for the xtables lock.' },
  },
  returns: { changed: 'whether the file (or the live rules) differed', saved: 'normalised rules written (saved)', initial_state: 'normalised live rules before the task', applied: 'whether rules were loaded (restored)' },
  example: [
    '- name: Keep the NAT rules across reboots (needs iptables-persistent)',
    '  community.general.iptables_state:',
    '    state: saved',
    '    path: /etc/iptables/rules.v4',
  ].join('\n'),
  runsOn: 'host',
  facts: (args) => ({
    rules: factRequest(rulesFact, { binary: args.ip_version === 'ipv6' ? 'ip6tables-save' : 'iptables-save', table: args.table, path: args.path }),
  }),
  plan(args, facts): Plan {
    const st = facts.rules;
    const save = args.ip_version === 'ipv6' ? 'ip6tables-save' : 'iptables-save';
    const restore = args.ip_version === 'ipv6' ? 'ip6tables-restore' : 'iptables-restore';
    if (st.missing) return { changes: [], failure: { message: `${save} is not installed on the host (package iptables)`, missing: save } };
    if (st.error) return { changes: [], failure: { message: `${save} failed: ${st.error}` } };
    const current = normaliseRules(st.current);
    const result: Record<string, unknown> = { initial_state: current.split('\n').filter(Boolean) };

    if (args.state === 'saved') {
      const before = st.file ?? '';
      if (st.file !== null && normaliseRules(st.file) === current) return { changes: [], result, noopReason: `${args.path} holds the current rules` };
      const changes: Plan['changes'] = [];
      if (!st.dirExists) {
        const dir = posix.dirname(args.path);
        changes.push({ kind: 'exec', command: sh`mkdir -p ${dir}`, describe: `mkdir -p ${dir}` });
      }
      changes.push({ kind: 'write', path: args.path, content: current, mode: st.file === null ? '0640' : undefined, describe: `save the ${args.table ?? 'current'} rules to ${args.path}` });
      return { changes, result: { ...result, saved: current.split('\n').filter(Boolean) }, diff: [{ path: args.path, before, after: current }] };
    }

    if (st.file === null) return { changes: [], result, failure: { message: `${args.path} does not exist`, missing: args.path } };
    const wanted = normaliseRules(args.table ? tableSection(st.file, args.table) : st.file);
    // Without noflush, restoring replaces every table in the file; compare only those tables.
    const tables = [...wanted.matchAll(/^\*(\S+)$/gm)].map((m) => m[1]!);
    const live = tables.map((t) => tableSection(current, t)).join('');
    if (normaliseRules(live) === wanted) return { changes: [], result: { ...result, applied: false }, noopReason: `the live rules match ${args.path}` };
    const flags = [...(args.noflush ? ['--noflush'] : []), ...(args.table ? ['-T', args.table] : []), ...(args.wait !== undefined ? [`-w${args.wait}`] : [])];
    return {
      changes: [{ kind: 'exec', command: sh`${[restore, ...flags, args.path]}`, describe: [restore, ...flags, args.path].join(' ') }],
      result: { ...result, applied: true },
      diff: [{ path: `${restore} ${args.path}`, before: normaliseRules(live), after: wanted }],
    };
  },
});
