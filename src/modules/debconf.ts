/**
 * debconf: a preseeded answer to a package's configuration question
 * (ansible.builtin.debconf), e.g. `nis/domain` before installing nis, so
 * that apt never prompts and the package is configured as wanted.
 *
 * The current answer is read from debconf's database itself
 * (/var/cache/debconf/config.dat, passwords.dat), which also finds answers
 * preseeded before the package is installed; `debconf-show` supplies the
 * package's other answers for the `current` return value. A stored password
 * is never sent back: only its SHA-256 is, and compared with the wanted
 * one's. The answer is set with `debconf-set-selections`, the line on stdin,
 * never in argv.
 */
import { createHash } from 'node:crypto';
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Plan } from './types.js';

export interface DebconfState {
  /** `debconf-show PKG`: question → answer (passwords show as "(password omitted)") */
  selections: Record<string, string>;
  /** the question's record in debconf's database, when it has one */
  question?: {
    value?: string;
    /** SHA-256 of the value, for password questions */
    sha256?: string;
    owners: string[];
    flags: string[];
  };
}

const M = '@@tsible-';

// $q is the question, $pkg the package. The password value itself never leaves the host.
const DEBCONF_SCRIPT = `echo '${M}show'
debconf-show "$pkg" 2>/dev/null
for f in /var/cache/debconf/config.dat /var/cache/debconf/passwords.dat; do
  [ -n "$q" ] && [ -r "$f" ] || continue
  rec=$(awk -v q="$q" 'BEGIN { RS = ""; FS = "\\n" } { for (i = 1; i <= NF; i++) if ($i == "Name: " q) { print; exit } }' "$f")
  [ -n "$rec" ] || continue
  echo "${M}record $f"
  printf '%s\\n' "$rec" | grep -v '^Value:'
  printf '%s\\n' "$rec" | grep -q '^Value:' || continue
  v=$(printf '%s\\n' "$rec" | sed -n 's/^Value: //p')
  if [ "$f" = /var/cache/debconf/passwords.dat ]; then echo "sha256 $(printf '%s' "$v" | sha256sum | cut -d' ' -f1)"; else printf 'value %s\\n' "$v"; fi
done
true`;

export function parseDebconf(stdout: string): DebconfState {
  const state: DebconfState = { selections: {} };
  let section = '';
  for (const line of stdout.split('\n')) {
    if (line.startsWith(M)) {
      section = line.slice(M.length).split(' ')[0]!;
      if (section === 'record') state.question = { ...(state.question ?? {}), owners: [], flags: [] };
      continue;
    }
    if (section === 'show') {
      const m = /^[* ]\s*([^:\s]+):\s?(.*)$/.exec(line);
      if (m) state.selections[m[1]!] = m[2]!.trim();
    } else if (section === 'record' && state.question) {
      let m: RegExpExecArray | null;
      if ((m = /^value (.*)$/.exec(line))) state.question.value = m[1]!;
      else if ((m = /^sha256 ([0-9a-f]{64})$/.exec(line))) state.question.sha256 = m[1]!;
      else if ((m = /^Owners: (.*)$/.exec(line))) state.question.owners = m[1]!.split(/,\s*/).filter(Boolean);
      else if ((m = /^Flags: (.*)$/.exec(line))) state.question.flags = m[1]!.split(/,\s*/).filter(Boolean);
    }
  }
  return state;
}

export const debconfFact: Fact<{ pkg: string; question?: string }, DebconfState> = {
  name: 'debconf',
  command: ({ pkg, question }) => ShellCommand.join([sh`pkg=${pkg}; q=${question ?? ''}`, ShellCommand.script(DEBCONF_SCRIPT)], '\n'),
  parse: (out) => parseDebconf(out.stdout),
};

/** The answer as debconf stores it: booleans lower case, multiselect lists joined with ", ". */
export function debconfValue(value: unknown, vtype: string): string {
  if (Array.isArray(value)) return value.map(String).join(', ');
  const s = typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value);
  return vtype === 'boolean' || vtype === 'seen' ? s.toLowerCase() : s;
}

const sorted = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean).sort().join(', ');
const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

/** Whether the stored answer already is the wanted one (Ansible's comparison). */
export function sameAnswer(state: DebconfState, question: string, vtype: string, wanted: string): boolean {
  const rec = state.question;
  if (vtype === 'seen') return (rec?.flags.includes('seen') ?? false) === (wanted === 'true');
  if (vtype === 'password') return rec?.sha256 !== undefined && rec.sha256 === sha256(wanted);
  // debconf-show's answer includes the template's default, which is what the package will use.
  const existing = state.selections[question] ?? rec?.value;
  if (existing === undefined) return false;
  if (vtype === 'boolean') return existing.toLowerCase() === wanted.toLowerCase();
  if (vtype === 'multiselect') return sorted(existing) === sorted(wanted);
  return existing === wanted;
}

const VTYPES = ['boolean', 'error', 'multiselect', 'note', 'password', 'seen', 'select', 'string', 'text', 'title'] as const;

export default defineModule({
  name: 'debconf',
  collections: ['ansible.builtin'],
  description:
    "Preseed a package's debconf answer (debconf-set-selections), e.g. nis/domain before installing nis. Finds answers preseeded before the package is installed; compares passwords by hash without sending them back.",
  args: {
    name: { type: 'str', required: true, aliases: ['pkg'], description: 'The package the question belongs to.' },
    question: { type: 'str', aliases: ['selection', 'setting'], description: 'The question, e.g. nis/domain. Without it the task only reports the current answers.' },
    vtype: { type: 'str', choices: VTYPES, description: 'The type of the answer (see debconf-set-selections); seen sets only the seen flag.' },
    value: { type: 'raw', aliases: ['answer'], description: 'The answer; a list for multiselect. Required with question.' },
    unseen: { type: 'bool', default: false, description: 'Do not mark the question as seen (debconf-set-selections -u), so an interactive install still asks it.' },
  },
  returns: { current: 'the answers after the task (question → answer)', previous: 'the answer before a change' },
  example: [
    '- name: NIS domain, before installing nis (thesis 4.4)',
    '  ansible.builtin.debconf:',
    '    name: nis',
    '    question: nis/domain',
    '    vtype: string',
    '    value: cluster.lab',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (args.question !== undefined && (args.vtype === undefined || args.value === undefined || args.value === null)) {
      throw new ArgError('when supplying a question you must supply a valid vtype and value', args.vtype === undefined ? 'vtype' : 'value');
    }
    if (args.value !== undefined && typeof args.value === 'object' && !Array.isArray(args.value)) throw new ArgError('value must be a string, number, boolean or a list', 'value');
    if (/\s/.test(args.name) || (args.question !== undefined && /\s/.test(args.question))) throw new ArgError('name and question must not contain spaces', /\s/.test(args.name) ? 'name' : 'question');
    if (args.value !== undefined && /\n/.test(debconfValue(args.value, args.vtype ?? 'string'))) throw new ArgError('value must be one line', 'value');
  },
  facts: (args) => ({ debconf: factRequest(debconfFact, { pkg: args.name, ...(args.question ? { question: args.question } : {}) }) }),
  plan(args, facts): Plan {
    const st = facts.debconf;
    const current = { ...st.selections };
    if (args.question === undefined) return { changes: [], noopReason: `read ${Object.keys(current).length} answers of ${args.name}`, result: { current } };
    const vtype = args.vtype!;
    const wanted = debconfValue(args.value, vtype);
    const secret = vtype === 'password';
    const shown = secret ? '********' : wanted;
    if (sameAnswer(st, args.question, vtype, wanted)) {
      return { changes: [], noopReason: `${args.question} is ${vtype === 'seen' ? (wanted === 'true' ? 'seen' : 'unseen') : secret ? 'the wanted password' : JSON.stringify(wanted)}`, result: { current } };
    }
    const before = secret ? (st.question?.sha256 ? '********' : '') : (st.selections[args.question] ?? st.question?.value ?? '');
    const line = `${args.name} ${args.question} ${vtype} ${wanted}\n`;
    return {
      changes: [
        {
          kind: 'exec',
          command: args.unseen ? sh`debconf-set-selections -u` : sh`debconf-set-selections`,
          stdin: line,
          describe: `set ${args.question} (${vtype}) to ${secret ? 'the given password' : JSON.stringify(wanted)} for ${args.name}`,
        },
      ],
      result: { current: { ...current, [args.question]: shown }, previous: { [args.question]: before } },
      diff: [{ path: `debconf ${args.name} ${args.question}`, before: `${args.question}: ${before}\n`, after: `${args.question}: ${shown}\n` }],
    };
  },
});
