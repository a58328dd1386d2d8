import { describe, expect, it } from 'vitest';
import service, { parseServiceState, type ServiceState } from '../../src/modules/service.js';
import systemdService from '../../src/modules/systemd-service.js';
import { checkRowsShellSyntax, factRequests, mismatches, planRow, runFact, type SysExpect, type SystemContextOptions } from './system-context.js';

// Real outputs of the service fact on Debian 13 (systemd 257), and on the same
// image booted without systemd (SysV init scripts with update-rc.d links).
const REAL_NGINX = `@@tsible-show
MainPID=1822
Id=nginx.service
Names=nginx.service
Description=A high performance web server and a reverse proxy server
LoadState=loaded
ActiveState=active
SubState=running
FragmentPath=/usr/lib/systemd/system/nginx.service
SourcePath=
UnitFileState=enabled
UnitFilePreset=enabled
CanReload=yes
NeedDaemonReload=no
@@tsible-is-enabled
rc=0 enabled
@@tsible-sysv
script
link rc0.d/K01nginx
link rc1.d/K01nginx
link rc2.d/S01nginx
link rc3.d/S01nginx
link rc4.d/S01nginx
link rc5.d/S01nginx
link rc6.d/K01nginx
`;

const REAL_MISSING = `@@tsible-show
MainPID=0
Id=nope.service
Names=nope.service
Description=nope.service
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
`;

const REAL_STATIC = `@@tsible-show
MainPID=16
Id=systemd-journald.service
Names=systemd-journald.service
Description=Journal Service
LoadState=loaded
ActiveState=active
SubState=running
FragmentPath=/usr/lib/systemd/system/systemd-journald.service
SourcePath=
UnitFileState=static
UnitFilePreset=enabled
CanReload=no
NeedDaemonReload=no
@@tsible-is-enabled
rc=0 static
@@tsible-sysv
`;

const REAL_MASKED = `@@tsible-show
MainPID=0
Id=getty@tty1.service
Names=getty@tty1.service
Description=getty@tty1.service
LoadState=masked
ActiveState=inactive
SubState=dead
FragmentPath=/etc/systemd/system/getty@.service
SourcePath=
UnitFileState=masked
UnitFilePreset=enabled
CanReload=no
NeedDaemonReload=no
@@tsible-is-enabled
rc=1 masked
@@tsible-sysv
`;

/** probe.service running, its file edited since systemd read it. */
const REAL_STALE = `@@tsible-show
MainPID=1848
Id=probe.service
Names=probe.service
Description=probe
LoadState=loaded
ActiveState=active
SubState=running
FragmentPath=/etc/systemd/system/probe.service
SourcePath=
UnitFileState=disabled
UnitFilePreset=enabled
CanReload=no
NeedDaemonReload=yes
@@tsible-is-enabled
rc=1 disabled
@@tsible-need-reload
probe.service
@@tsible-sysv
`;

const REAL_FAILED = REAL_NGINX.replace('MainPID=1822', 'MainPID=0').replace('ActiveState=active', 'ActiveState=failed').replace('SubState=running', 'SubState=failed');

const REAL_SYSV_RUNNING = `@@tsible-sysv
script
status 0
link rc0.d/K01nginx
link rc1.d/K01nginx
link rc2.d/S01nginx
link rc3.d/S01nginx
link rc4.d/S01nginx
link rc5.d/S01nginx
link rc6.d/K01nginx
`;

const REAL_SYSV_DISABLED_STOPPED = `@@tsible-sysv
script
status 3
link rc0.d/K01nginx
link rc1.d/K01nginx
link rc2.d/K01nginx
link rc3.d/K01nginx
link rc4.d/K01nginx
link rc5.d/K01nginx
link rc6.d/K01nginx
`;

const REAL_SYSV_MISSING = '@@tsible-sysv\n';

describe('fact parser (real outputs)', () => {
  it('systemd unit', () => {
    const st = parseServiceState(REAL_NGINX);
    expect(st.systemd!.show).toMatchObject({ Id: 'nginx.service', LoadState: 'loaded', ActiveState: 'active', SubState: 'running', UnitFileState: 'enabled', NeedDaemonReload: 'no', SourcePath: '' });
    expect(st.systemd!.isEnabled).toBe('enabled');
    expect(st.systemd!.isEnabledRc).toBe(0);
    expect(st.sysv).toEqual({ script: true, links: ['rc0.d/K01nginx', 'rc1.d/K01nginx', 'rc2.d/S01nginx', 'rc3.d/S01nginx', 'rc4.d/S01nginx', 'rc5.d/S01nginx', 'rc6.d/K01nginx'] });
    expect(st.needReload).toBeUndefined();
  });

  it.each([
    ['missing unit', REAL_MISSING, { isEnabled: 'not-found', isEnabledRc: 4 }],
    ['static', REAL_STATIC, { isEnabled: 'static', isEnabledRc: 0 }],
    ['masked', REAL_MASKED, { isEnabled: 'masked', isEnabledRc: 1 }],
  ])('%s', (_n, out, want) => expect(parseServiceState(out).systemd).toMatchObject(want));

  it('units waiting for daemon-reload', () => expect(parseServiceState(REAL_STALE).needReload).toEqual(['probe.service']));

  it('SysV init', () => {
    expect(parseServiceState(REAL_SYSV_RUNNING)).toEqual({ sysv: { script: true, statusRc: 0, links: expect.arrayContaining(['rc2.d/S01nginx']) } });
    expect(parseServiceState(REAL_SYSV_MISSING)).toEqual({ sysv: { script: false, links: [] } });
  });

  it('the fact runs in sh: SysV branch with a fake init script tree', () => {
    const cmd = factRequests(service, { name: 'nginx', state: 'started' }).service!.command.replace(/\/etc\/init\.d/g, '/tsible-no-such-dir/init.d').replace(/\/etc\/rc/g, '/tsible-no-such-dir/rc').replace(/\[ -d \/run\/systemd\/system \]/g, '[ -d /tsible-no-such-dir ]');
    expect(parseServiceState(runFact(cmd))).toEqual({ sysv: { script: false, links: [] } });
  });

  it('the fact runs in sh: systemd branch with a fake systemctl', () => {
    const cmd = factRequests(service, { name: 'nginx', state: 'started' }).service!.command.replace('[ -d /run/systemd/system ]', '[ -d / ]').replace('command -v systemctl', 'command -v systemctl_fake').replace(/systemctl /g, 'systemctl_fake ');
    const out = runFact(cmd, { systemctl_fake: 'case "$1" in show) echo Id=nginx.service; echo ActiveState=active ;; is-enabled) echo enabled ;; esac' });
    expect(parseServiceState(out).systemd).toEqual({ show: { Id: 'nginx.service', ActiveState: 'active' }, isEnabled: 'enabled', isEnabledRc: 0 });
  });
});

const NGINX = parseServiceState(REAL_NGINX);
const STOPPED = parseServiceState(REAL_NGINX.replace('ActiveState=active', 'ActiveState=inactive').replace('SubState=running', 'SubState=dead').replace('rc=0 enabled', 'rc=1 disabled').replace('UnitFileState=enabled', 'UnitFileState=disabled'));
const SYSV: SystemContextOptions = { serviceMgr: 'sysvinit' };

type Row = { name: string; module?: 'systemd'; args: Record<string, unknown>; facts: { service: ServiceState }; ctx?: SystemContextOptions; expect: SysExpect };

const rows: Row[] = [
  // systemd
  { name: 'systemd: running and enabled → no change', args: { name: 'nginx', state: 'started', enabled: true }, facts: { service: NGINX }, expect: { noop: /^nginx\.service is enabled; nginx\.service is active \(running\)$/, result: { state: 'started', enabled: true } } },
  {
    name: 'systemd: stopped and disabled → enable, start',
    args: { name: 'nginx', state: 'started', enabled: true },
    facts: { service: STOPPED },
    expect: { changes: ['exec: systemctl enable nginx.service (was disabled)', 'exec: systemctl start nginx.service (was inactive/dead)'], commands: ['systemctl enable nginx', 'systemctl start nginx'] },
  },
  { name: 'systemd: stop and disable', args: { name: 'nginx', state: 'stopped', enabled: false }, facts: { service: NGINX }, expect: { changes: ['exec: systemctl disable nginx.service (was enabled)', 'exec: systemctl stop nginx.service (was active/running)'] } },
  { name: 'systemd: a failed unit is started', args: { name: 'nginx', state: 'started' }, facts: { service: parseServiceState(REAL_FAILED) }, expect: { changes: ['exec: systemctl start nginx.service (was failed/failed)'] } },
  { name: 'systemd: restarted always acts', args: { name: 'nginx', state: 'restarted' }, facts: { service: NGINX }, expect: { changes: ['exec: systemctl restart nginx.service'], commands: ['systemctl restart nginx'] } },
  { name: 'systemd: reloaded always acts', args: { name: 'nginx', state: 'reloaded' }, facts: { service: NGINX }, expect: { changes: ['exec: systemctl reload nginx.service'] } },
  { name: 'systemd: restarted on a stopped unit starts it', args: { name: 'nginx', state: 'restarted' }, facts: { service: STOPPED }, expect: { changes: ['exec: systemctl start nginx.service (was inactive/dead)'] } },
  {
    name: 'systemd: missing unit → failure naming it (check mode can assume an earlier task installs it)',
    args: { name: 'nope', state: 'started', enabled: true },
    facts: { service: parseServiceState(REAL_MISSING) },
    expect: { failure: /^Could not find the requested service nope: host$/, missing: 'unit nope.service' },
  },
  { name: 'systemd: a static unit cannot be disabled → no change', args: { name: 'systemd-journald', enabled: false }, facts: { service: parseServiceState(REAL_STATIC) }, expect: { noop: /is static \(it has no \[Install\] section/ } },
  { name: 'systemd: a masked unit cannot be started', args: { name: 'getty@tty1', state: 'started' }, facts: { service: parseServiceState(REAL_MASKED) }, expect: { failure: /the unit is masked \(set masked: false\)/ } },

  // systemd_service
  { name: 'systemd_service: daemon_reload when a unit file changed', module: 'systemd', args: { daemon_reload: true }, facts: { service: parseServiceState(REAL_STALE) }, expect: { changes: ['exec: systemctl daemon-reload (changed on disk: probe.service)'], commands: ['systemctl daemon-reload'] } },
  { name: 'systemd_service: daemon_reload with nothing changed → no change', module: 'systemd', args: { daemon_reload: true }, facts: { service: { sysv: { script: false, links: [] }, needReload: [] } }, expect: { noop: /no unit changed on disk since systemd read it/ } },
  {
    name: 'systemd_service: reload, then start',
    module: 'systemd',
    args: { name: 'probe', daemon_reload: true, state: 'restarted' },
    facts: { service: parseServiceState(REAL_STALE) },
    expect: { changes: ['exec: systemctl daemon-reload (changed on disk: probe.service)', 'exec: systemctl restart probe.service'] },
  },
  { name: 'systemd_service: mask', module: 'systemd', args: { name: 'nginx', masked: true, state: 'stopped' }, facts: { service: NGINX }, expect: { changes: ['exec: systemctl mask nginx.service', 'exec: systemctl stop nginx.service (was active/running)'] } },
  { name: 'systemd_service: unmask then start', module: 'systemd', args: { name: 'getty@tty1', masked: false, state: 'started' }, facts: { service: parseServiceState(REAL_MASKED) }, expect: { changes: ['exec: systemctl unmask getty@tty1.service', 'exec: systemctl start getty@tty1.service (was inactive/dead)'] } },
  { name: 'systemd_service: masked already', module: 'systemd', args: { name: 'getty@tty1', masked: true }, facts: { service: parseServiceState(REAL_MASKED) }, expect: { noop: /getty@tty1\.service is masked/ } },
  { name: 'systemd_service: mask a unit that does not exist (systemd allows it)', module: 'systemd', args: { name: 'nope', masked: true }, facts: { service: parseServiceState(REAL_MISSING) }, expect: { changes: ['exec: systemctl mask nope.service'] } },
  { name: 'systemd_service: force and no_block', module: 'systemd', args: { name: 'nginx', enabled: true, state: 'started', force: true, no_block: true }, facts: { service: STOPPED }, expect: { commands: ['systemctl --force enable nginx', 'systemctl --no-block start nginx'] } },

  // SysV init
  { name: 'sysvinit: running and enabled → no change', args: { name: 'nginx', state: 'started', enabled: true }, facts: { service: parseServiceState(REAL_SYSV_RUNNING) }, ctx: SYSV, expect: { noop: /^nginx is enabled \(.*rc2\.d\/S01nginx.*\); nginx is running$/, result: { status: { LoadState: 'loaded', ActiveState: 'active', UnitFileState: 'enabled' } } } },
  {
    name: 'sysvinit: stopped and disabled → update-rc.d enable, init script start',
    args: { name: 'nginx', state: 'started', enabled: true },
    facts: { service: parseServiceState(REAL_SYSV_DISABLED_STOPPED) },
    ctx: SYSV,
    expect: { changes: ['exec: update-rc.d nginx enable', 'exec: /etc/init.d/nginx start'], commands: ['update-rc.d nginx enable', '/etc/init.d/nginx start'] },
  },
  {
    name: 'sysvinit: never set up → update-rc.d defaults first',
    args: { name: 'nginx', enabled: true },
    facts: { service: { sysv: { script: true, statusRc: 3, links: [] } } },
    ctx: SYSV,
    expect: { changes: ['exec: update-rc.d nginx defaults', 'exec: update-rc.d nginx enable'] },
  },
  { name: 'sysvinit: stop and disable', args: { name: 'nginx', state: 'stopped', enabled: false }, facts: { service: parseServiceState(REAL_SYSV_RUNNING) }, ctx: SYSV, expect: { changes: ['exec: update-rc.d nginx disable', 'exec: /etc/init.d/nginx stop'] } },
  { name: 'sysvinit: restart with sleep and arguments', args: { name: 'nginx.service', state: 'restarted', sleep: 2, arguments: '--force' }, facts: { service: parseServiceState(REAL_SYSV_RUNNING) }, ctx: SYSV, expect: { changes: ['exec: /etc/init.d/nginx stop; sleep 2; /etc/init.d/nginx start'], commands: ['/etc/init.d/nginx stop --force ; sleep 2 ; /etc/init.d/nginx start --force'] } },
  { name: 'sysvinit: reloaded', args: { name: 'nginx', state: 'reloaded' }, facts: { service: parseServiceState(REAL_SYSV_RUNNING) }, ctx: SYSV, expect: { changes: ['exec: /etc/init.d/nginx reload'] } },
  { name: 'sysvinit: missing init script → failure naming it', args: { name: 'haproxy', state: 'started' }, facts: { service: parseServiceState(REAL_SYSV_MISSING) }, ctx: SYSV, expect: { failure: /no \/etc\/init\.d\/haproxy/, missing: 'init script /etc/init.d/haproxy' } },
  { name: 'sysvinit: masking needs systemd', module: 'systemd', args: { name: 'nginx', masked: true }, facts: { service: parseServiceState(REAL_SYSV_RUNNING) }, ctx: SYSV, expect: { failure: /need systemd; this host's service manager is sysvinit/ } },
  { name: 'use: sysvinit overrides the detected manager', args: { name: 'nginx', state: 'started', use: 'sysvinit' }, facts: { service: { ...NGINX, sysv: { script: true, statusRc: 0, links: [] } } }, expect: { noop: /nginx is running/ } },
];

const mod = (r: Row) => (r.module === 'systemd' ? systemdService : service);

describe('service and systemd_service plans', () => {
  it.each(rows)('$name', async (r) => {
    expect(mismatches(await planRow(mod(r), r.args, r.facts, r.ctx), r.expect)).toEqual([]);
  });

  it('returns the unit status like Ansible', async () => {
    const plan = await planRow(service, { name: 'nginx', state: 'started' }, { service: NGINX });
    expect(plan.result).toMatchObject({ name: 'nginx', state: 'started', status: { ActiveState: 'active', UnitFileState: 'enabled', LoadState: 'loaded', SubState: 'running' } });
  });

  it('facts: one request, daemon-reload check only when asked', () => {
    expect(factRequests(service, { name: 'nginx', state: 'started' }).service!.args).toEqual({ unit: 'nginx', name: 'nginx' });
    expect(factRequests(systemdService, { name: 'nginx.service', daemon_reload: true }).service!.args).toEqual({ unit: 'nginx.service', name: 'nginx', reload: true });
    expect(factRequests(systemdService, { daemon_reload: true }).service!.args).toEqual({ reload: true });
  });

  it.each([
    [service, { name: 'nginx' }, /one of the following is required: state, enabled/],
    [service, { name: 'nginx', state: 'running' }, /state must be one of/],
    [service, { name: '-x', state: 'started' }, /must be a service or unit name/],
    [systemdService, { state: 'started' }, /name is required with state/],
    [systemdService, { name: 'x', scope: 'user', state: 'started' }, /scope user is not supported/],
    [systemdService, { force: true }, /one of name, daemon_reload or daemon_reexec is required/],
  ])('%#: %j is refused', async (m, args, message) => {
    await expect(planRow(m, args, { service: NGINX })).rejects.toThrow(message);
  });

  it('systemd is an alias of systemd_service', () => {
    expect(systemdService.aliases).toEqual(['systemd']);
    expect(systemdService.collections).toEqual(['ansible.builtin']);
  });

  it('shell syntax', async () => {
    expect(await checkRowsShellSyntax(service, rows.filter((r) => !r.module))).toBeGreaterThan(15);
    expect(await checkRowsShellSyntax(systemdService, rows.filter((r) => r.module))).toBeGreaterThan(5);
  });
});
