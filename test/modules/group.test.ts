import { describe, expect, it } from 'vitest';
import group, { parseGroupState, type GroupState } from '../../src/modules/group.js';
import { checkRowsShellSyntax, factRequests, mismatches, planRow, runFact, type SysExpect } from './system-context.js';

// Real outputs on Debian 13.
const REAL_ABSENT = '@@tsible-group\n@@tsible-gid\n';
const REAL_GID_TAKEN = '@@tsible-group\ncluster:x:1000:jordi\n@@tsible-gid\ncondor:x:3000:jordi\n';

describe('fact', () => {
  it.each([
    ['absent, gid free', REAL_ABSENT, {}],
    ['present, the wanted gid taken by another group', REAL_GID_TAKEN, { group: { name: 'cluster', gid: 1000, members: ['jordi'] }, gidTakenBy: 'condor' }],
    ['present with its own gid', '@@tsible-group\ncondor:x:3000:jordi\n@@tsible-gid\ncondor:x:3000:jordi\n', { group: { name: 'condor', gid: 3000, members: ['jordi'] } }],
  ])('%s', (_n, out, want) => expect(parseGroupState(out)).toEqual(want));

  it('runs in sh with a fake getent', () => {
    const cmd = factRequests(group, { name: 'condor', gid: 3000 }).group!.command;
    expect(cmd).toBe("echo @@tsible-group; getent group condor ; echo @@tsible-gid; getent group 3000 ; true");
    expect(parseGroupState(runFact(cmd, { getent: '[ "$2" = 3000 ] && echo condor:x:3000:; true' }))).toEqual({ gidTakenBy: 'condor' });
  });
});

const g = (name: string, gid: number): GroupState => ({ group: { name, gid, members: [] } });

const rows: { name: string; args: Record<string, unknown>; facts: { group: GroupState }; expect: SysExpect }[] = [
  { name: 'create with a gid', args: { name: 'condor', gid: 3000 }, facts: { group: {} }, expect: { changes: ['exec: groupadd -g 3000 condor'], commands: ['groupadd -g 3000 condor'] } },
  { name: 'create a system group', args: { name: 'munge', system: true }, facts: { group: {} }, expect: { commands: ['groupadd -r munge'] } },
  { name: 'exists with the gid → no change', args: { name: 'condor', gid: 3000 }, facts: { group: g('condor', 3000) }, expect: { noop: /^group condor exists with gid 3000$/ } },
  { name: 'exists, no gid asked → no change', args: { name: 'condor' }, facts: { group: g('condor', 3000) }, expect: { noop: true } },
  { name: 'another gid', args: { name: 'condor', gid: 3001 }, facts: { group: g('condor', 3000) }, expect: { changes: ['exec: groupmod -g 3001 condor (was 3000)'], commands: ['groupmod -g 3001 condor'] } },
  { name: 'gid taken by another group', args: { name: 'cluster', gid: 3000 }, facts: { group: parseGroupState(REAL_GID_TAKEN) }, expect: { failure: /gid 3000 is already used by group condor/ } },
  { name: 'gid taken, non_unique', args: { name: 'cluster', gid: 3000, non_unique: true }, facts: { group: parseGroupState(REAL_GID_TAKEN) }, expect: { commands: ['groupmod -g 3000 -o cluster'] } },
  { name: 'absent', args: { name: 'condor', state: 'absent' }, facts: { group: g('condor', 3000) }, expect: { changes: ['exec: groupdel condor'] } },
  { name: 'absent, force', args: { name: 'condor', state: 'absent', force: true }, facts: { group: g('condor', 3000) }, expect: { commands: ['groupdel -f condor'] } },
  { name: 'absent, not there', args: { name: 'condor', state: 'absent' }, facts: { group: parseGroupState(REAL_ABSENT) }, expect: { noop: /^group condor does not exist$/ } },
];

describe('group plans', () => {
  it.each(rows)('$name', async ({ args, facts, expect: e }) => {
    expect(mismatches(await planRow(group, args, facts), e)).toEqual([]);
  });

  it.each([
    [{ name: 'bad name' }, /is not a valid group name/],
    [{ name: 'x', non_unique: true }, /non_unique needs gid/],
    [{ name: 'x', local: true }, /not supported/],
  ])('%j is refused', async (args, message) => {
    await expect(planRow(group, args, { group: {} })).rejects.toThrow(message);
  });

  it('shell syntax', async () => {
    expect(await checkRowsShellSyntax(group, rows)).toBeGreaterThan(10);
  });
});
