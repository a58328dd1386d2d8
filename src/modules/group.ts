/**
 * group (ansible.builtin.group): a local group present with a gid, or
 * absent. One `getent group` reads it (and who else has the wanted gid).
 */
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Plan } from './types.js';

export interface GroupState {
  group?: { name: string; gid: number; members: string[] };
  /** the group that already has the wanted gid, if another one does */
  gidTakenBy?: string;
}

const M = '@@tsible-';

export function parseGroupState(stdout: string): GroupState {
  const st: GroupState = {};
  let section = '';
  for (const line of stdout.split('\n')) {
    if (line.startsWith(M)) {
      section = line.slice(M.length);
      continue;
    }
    const f = line.split(':');
    if (f.length < 3 || !/^\d+$/.test(f[2]!)) continue;
    if (section === 'group') st.group = { name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) };
    else if (section === 'gid') st.gidTakenBy = f[0]!;
  }
  if (st.gidTakenBy && st.gidTakenBy === st.group?.name) delete st.gidTakenBy;
  return st;
}

export const groupFact: Fact<{ name: string; gid?: number }, GroupState> = {
  name: 'group',
  command: ({ name, gid }) =>
    ShellCommand.join([sh`echo ${M + 'group'}; getent group ${name}`, ...(gid !== undefined ? [sh`echo ${M + 'gid'}; getent group ${gid}`] : []), ShellCommand.script('true')], ';'),
  parse: (out) => parseGroupState(out.stdout),
};

export default defineModule({
  name: 'group',
  collections: ['ansible.builtin'],
  description: 'A local group present with the given gid, or absent.',
  args: {
    name: { type: 'str', required: true, description: 'The group name.' },
    gid: { type: 'int', description: 'The group id.' },
    state: { type: 'str', default: 'present', choices: ['present', 'absent'] as const, description: 'Whether the group exists.' },
    system: { type: 'bool', default: false, description: 'Create a system group (groupadd -r); no effect on an existing group.' },
    non_unique: { type: 'bool', default: false, description: 'Allow a gid another group has (-o); needs gid.' },
    force: { type: 'bool', default: false, description: "With state absent: remove it even when it is a user's primary group (groupdel -f)." },
    local: { type: 'bool', default: false, description: 'Not supported (lgroupadd); accepted as false.' },
  },
  returns: { name: 'the group', gid: 'its gid (before a change)', state: 'as asked', system: 'as asked' },
  example: ['- name: A group for the HTCondor users', '  ansible.builtin.group:', '    name: condor', '    gid: 3000'].join('\n'),
  runsOn: 'host',
  check(args) {
    if (!/^[a-z_][a-z0-9_.-]*\$?$/i.test(args.name) || args.name.length > 32) throw new ArgError(`${JSON.stringify(args.name)} is not a valid group name`, 'name');
    if (args.non_unique && args.gid === undefined) throw new ArgError('non_unique needs gid', 'non_unique');
    if (args.local) throw new ArgError('local: true (lgroupadd) is not supported', 'local');
    if (args.gid !== undefined && args.gid < 0) throw new ArgError(`gid must not be negative, got ${args.gid}`, 'gid');
  },
  facts: (args) => ({ group: factRequest(groupFact, { name: args.name, ...(args.gid !== undefined ? { gid: args.gid } : {}) }) }),
  plan(args, facts): Plan {
    const st = facts.group;
    const g = st.group;
    const result: Record<string, unknown> = { name: args.name, state: args.state, system: args.system, ...(g ? { gid: g.gid } : args.gid !== undefined ? { gid: args.gid } : {}) };
    if (args.state === 'absent') {
      if (!g) return { changes: [], result, noopReason: `group ${args.name} does not exist` };
      const argv = ['groupdel', ...(args.force ? ['-f'] : []), args.name];
      return { changes: [{ kind: 'exec', command: sh`${argv}`, describe: argv.join(' ') }], result };
    }
    const taken = args.gid !== undefined && st.gidTakenBy && !args.non_unique;
    if (!g) {
      if (taken) return { changes: [], result, failure: { message: `gid ${args.gid} is already used by group ${st.gidTakenBy} (non_unique: true allows it)` } };
      const argv = ['groupadd', ...(args.gid !== undefined ? ['-g', String(args.gid)] : []), ...(args.non_unique ? ['-o'] : []), ...(args.system ? ['-r'] : []), args.name];
      return { changes: [{ kind: 'exec', command: sh`${argv}`, describe: argv.join(' ') }], result };
    }
    if (args.gid !== undefined && g.gid !== args.gid) {
      if (taken) return { changes: [], result, failure: { message: `gid ${args.gid} is already used by group ${st.gidTakenBy} (non_unique: true allows it)` } };
      const argv = ['groupmod', '-g', String(args.gid), ...(args.non_unique ? ['-o'] : []), args.name];
      return { changes: [{ kind: 'exec', command: sh`${argv}`, describe: `${argv.join(' ')} (was ${g.gid})` }], result };
    }
    return { changes: [], result, noopReason: `group ${args.name} exists with gid ${g.gid}` };
  },
});
