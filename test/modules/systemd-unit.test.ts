import { describe, expect, it } from 'vitest';
import systemdUnit, { hasInstallSection, unitFileName } from '../../src/modules/systemd-unit.js';
import { parseServiceState, type ServiceState } from '../../src/modules/service.js';
import type { FileState } from '../../src/facts/file.js';
import { aFile, absent } from './context.js';
import { checkRowsShellSyntax, factRequests, mismatches, planRow, type SysExpect, type SystemContextOptions } from './system-context.js';

const UNIT = `[Unit]
Description=tsible probe
[Service]
ExecStart=/bin/sleep 10000
[Install]
WantedBy=multi-user.target
`;
const ONESHOT = '[Unit]\nDescription=once\n[Service]\nType=oneshot\nExecStart=/bin/true\n';
const DEST = '/etc/systemd/system/tprobe.service';

/** `systemctl show` of a unit whose file does not exist yet (real, Debian 13). */
const NOT_FOUND = parseServiceState(`@@tsible-show
MainPID=0
Id=tprobe.service
Names=tprobe.service
Description=tprobe.service
LoadState=not-found
ActiveState=inactive
SubState=dead
FragmentPath=
SourcePath=
UnitFileState=
UnitFilePreset=
CanReload=no
NeedDaemonReload=no
@@tsible-is-enabled
rc=4 not-found
@@tsible-sysv
`);

/** The unit after the first run: enabled and running (real). */
const RUNNING = parseServiceState(`@@tsible-show
MainPID=2101
Id=tprobe.service
Names=tprobe.service
Description=tsible probe
LoadState=loaded
ActiveState=active
SubState=running
FragmentPath=/etc/systemd/system/tprobe.service
SourcePath=
UnitFileState=enabled
UnitFilePreset=enabled
CanReload=no
NeedDaemonReload=no
@@tsible-is-enabled
rc=0 enabled
@@tsible-sysv
`);

const notFound = (id: string): ServiceState => ({ ...NOT_FOUND, systemd: { ...NOT_FOUND.systemd!, show: { ...NOT_FOUND.systemd!.show, Id: id, Names: id } } });
const NO_SYSTEMD: ServiceState = { sysv: { script: false, links: [] } };

describe('helpers', () => {
  it.each([
    ['tprobe', 'tprobe.service'],
    ['backup.timer', 'backup.timer'],
    ['mnt-gv0.mount', 'mnt-gv0.mount'],
    ['getty@tty1', 'getty@tty1.service'],
  ])('unitFileName(%s) = %s', (n, f) => expect(unitFileName(n)).toBe(f));

  it.each([
    [UNIT, true],
    [ONESHOT, false],
    ['[Install]\n# nothing\n', false],
    ['[Install]\nAlias=foo.service\n[X-Other]\n', true],
  ])('hasInstallSection(%j) = %s', (t, r) => expect(hasInstallSection(t)).toBe(r));
});

const rows: { name: string; args: Record<string, unknown>; facts: { file: FileState; service: ServiceState }; ctx?: SystemContextOptions; expect: SysExpect }[] = [
  {
    name: 'first run: file, daemon-reload, enable, start',
    args: { name: 'tprobe', content: UNIT, state: 'started', enabled: true },
    facts: { file: absent(DEST), service: NOT_FOUND },
    expect: {
      changes: [`write: create ${DEST}`, 'exec: systemctl daemon-reload', 'exec: systemctl enable tprobe.service (was disabled)', 'exec: systemctl start tprobe.service (was inactive/dead)'],
      commands: [DEST, 'systemctl daemon-reload', 'systemctl enable tprobe.service', 'systemctl start tprobe.service'],
      data: [UNIT],
    },
  },
  { name: 'second run → no change', args: { name: 'tprobe', content: UNIT, state: 'started', enabled: true }, facts: { file: aFile({ text: UNIT }), service: RUNNING }, expect: { noop: /^\/etc\/systemd\/system\/tprobe\.service is as wanted; tprobe\.service is enabled; tprobe\.service is active \(running\)$/ } },
  {
    name: 'changed file of a running unit: reload and restart',
    args: { name: 'tprobe', content: UNIT.replace('10000', '20000'), state: 'started', enabled: true },
    facts: { file: aFile({ text: UNIT }), service: RUNNING },
    expect: { changes: [`write: update ${DEST}`, 'exec: systemctl daemon-reload', 'exec: systemctl restart tprobe.service (its unit file changed)'] },
  },
  { name: 'changed file, restart_on_change off', args: { name: 'tprobe', content: UNIT.replace('10000', '20000'), state: 'started', restart_on_change: false }, facts: { file: aFile({ text: UNIT }), service: RUNNING }, expect: { changes: [`write: update ${DEST}`, 'exec: systemctl daemon-reload'] } },
  { name: 'file only: no state asked', args: { name: 'tprobe', content: UNIT }, facts: { file: absent(DEST), service: NOT_FOUND }, expect: { changes: [`write: create ${DEST}`, 'exec: systemctl daemon-reload'] } },
  { name: 'content without final newline gets one', args: { name: 'tprobe', content: UNIT.trimEnd() }, facts: { file: aFile({ text: UNIT }), service: RUNNING }, expect: { noop: /as wanted/ } },
  { name: 'systemd already waits for a reload', args: { name: 'tprobe', content: UNIT }, facts: { file: aFile({ text: UNIT }), service: { ...RUNNING, systemd: { ...RUNNING.systemd!, show: { ...RUNNING.systemd!.show, NeedDaemonReload: 'yes' } } } }, expect: { changes: ['exec: systemctl daemon-reload'] } },
  { name: 'mode fixed without rewriting', args: { name: 'tprobe', content: UNIT }, facts: { file: aFile({ text: UNIT, mode: '0755' }), service: RUNNING }, expect: { changes: [`exec: chmod 0644 ${DEST} (was 0755)`] } },
  { name: 'a static oneshot started', args: { name: 'once', content: ONESHOT, state: 'started' }, facts: { file: absent('/etc/systemd/system/once.service'), service: notFound('once.service') }, expect: { changes: ['write: create /etc/systemd/system/once.service', 'exec: systemctl daemon-reload', /^exec: systemctl start once\.service/] } },
  { name: 'from a controller file', args: { name: 'tprobe', src: 'tprobe.service', state: 'started' }, facts: { file: aFile({ text: UNIT }), service: RUNNING }, ctx: { files: { 'tprobe.service': UNIT } }, expect: { noop: true } },
  { name: 'absent: stop, disable, remove, reload', args: { name: 'tprobe', state: 'absent' }, facts: { file: aFile({ text: UNIT }), service: RUNNING }, expect: { changes: ['exec: systemctl disable tprobe.service (was enabled)', 'exec: systemctl stop tprobe.service (was active/running)', `exec: remove ${DEST}`, 'exec: systemctl daemon-reload'] } },
  { name: 'absent, already gone', args: { name: 'tprobe', state: 'absent' }, facts: { file: absent(DEST), service: NOT_FOUND }, expect: { noop: /does not exist/ } },
  { name: 'not a systemd host', args: { name: 'tprobe', content: UNIT }, facts: { file: absent(DEST), service: NO_SYSTEMD }, expect: { failure: /does not run systemd/ } },
  { name: 'enabled with a controller file without [Install]', args: { name: 'once', src: 'once.service', enabled: true }, facts: { file: absent('/x'), service: NOT_FOUND }, ctx: { files: { 'once.service': ONESHOT } }, expect: { failure: /needs an \[Install\] section/ } },
];

describe('systemd_unit plans', () => {
  it.each(rows)('$name', async ({ args, facts, ctx, expect: e }) => {
    expect(mismatches(await planRow(systemdUnit, args, facts, ctx), e)).toEqual([]);
  });

  it('facts: the unit file and the unit', () => {
    const r = factRequests(systemdUnit, { name: 'backup.timer', content: UNIT, dest_dir: '/run/systemd/system' });
    expect(r.file!.args).toEqual({ path: '/run/systemd/system/backup.timer', content: -1 });
    expect(r.service!.args).toEqual({ unit: 'backup.timer', name: 'backup.timer' });
  });

  it.each([
    [{ name: 'x' }, /exactly one of content and src/],
    [{ name: 'x', content: UNIT, src: 'a' }, /exactly one of content and src/],
    [{ name: 'x', content: ONESHOT, enabled: true }, /needs an \[Install\] section/],
    [{ name: 'x', state: 'absent', content: UNIT }, /state absent takes no content/],
  ])('%j is refused', async (args, message) => {
    await expect(planRow(systemdUnit, args, { file: absent(DEST), service: NOT_FOUND })).rejects.toThrow(message);
  });

  it('tsible-specific', () => expect(systemdUnit.collections).toEqual(['tsible']));

  it('shell syntax', async () => {
    expect(await checkRowsShellSyntax(systemdUnit, rows)).toBeGreaterThan(20);
  });
});
