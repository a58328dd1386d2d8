/**
 * service (ansible.builtin.service): a service started, stopped, restarted or
 * reloaded, and enabled at boot or not, with systemd or SysV init, whichever
 * the host runs (its service manager, detected once per host).
 *
 * One fact reads everything: with systemd, `systemctl show` (load, active and
 * unit-file state, whether a reload is pending) and `systemctl is-enabled`;
 * with SysV init, whether /etc/init.d/NAME exists, its `status` exit code and
 * the /etc/rc?.d links. The planner is shared with systemd_service
 * (systemd-service.ts), which adds masking and daemon-reload.
 *
 * As in Ansible, `restarted` and `reloaded` always change (and start a
 * stopped service); a unit that does not exist is a failure that names the
 * missing unit, so check mode can assume an earlier task installs it.
 */
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type ModuleContext, type Plan } from './types.js';

// ------------------------------------------------------------------ the fact

export const SHOW_PROPERTIES = [
  'Id',
  'Names',
  'Description',
  'LoadState',
  'ActiveState',
  'SubState',
  'UnitFileState',
  'UnitFilePreset',
  'NeedDaemonReload',
  'CanReload',
  'MainPID',
  'FragmentPath',
  'SourcePath',
] as const;

export interface SystemdUnitState {
  /** `systemctl show` properties (Key=Value) */
  show: Record<string, string>;
  /** `systemctl is-enabled` output and exit code */
  isEnabled: string;
  isEnabledRc: number;
}

export interface SysvState {
  /** /etc/init.d/NAME exists */
  script: boolean;
  /** exit code of `/etc/init.d/NAME status` (LSB: 0 running, 3 stopped), or of pgrep with a pattern */
  statusRc?: number;
  /** /etc/rc?.d links: ['rc2.d/S01nginx', 'rc0.d/K01nginx', ...] */
  links: string[];
}

export interface ServiceState {
  /** present when the host runs systemd */
  systemd?: SystemdUnitState;
  sysv: SysvState;
  /** with daemon_reload: loaded units whose files changed since systemd read them */
  needReload?: string[];
}

const M = '@@tsible-';

// $unit is the systemd name, $name the init script's, $pattern an optional ps pattern, $reload "yes" to list stale units.
const SERVICE_SCRIPT = `if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  if [ -n "$unit" ]; then
    echo '${M}show'
    systemctl show -p ${SHOW_PROPERTIES.join(',')} -- "$unit" 2>/dev/null
    echo '${M}is-enabled'
    e=$(systemctl is-enabled -- "$unit" 2>/dev/null); echo "rc=$? $e"
  fi
  if [ "$reload" = yes ]; then
    echo '${M}need-reload'
    systemctl show -p Id,NeedDaemonReload -- '*' 2>/dev/null | awk '/^Id=/ { id = substr($0, 4) } /^NeedDaemonReload=yes$/ { print id }'
  fi
fi
if [ -n "$name" ]; then
  echo '${M}sysv'
  if [ -f "/etc/init.d/$name" ]; then
    echo script
    if [ -n "$pattern" ]; then pgrep -f -- "$pattern" >/dev/null 2>&1; echo "status $?"
    elif [ "$sysv" = yes ] || [ ! -d /run/systemd/system ]; then "/etc/init.d/$name" status >/dev/null 2>&1 </dev/null; echo "status $?"; fi
  fi
  for l in /etc/rc[0-6S].d/[SK][0-9][0-9]"$name"; do [ -e "$l" ] && echo "link \${l#/etc/}"; done
fi
true`;

export function parseServiceState(stdout: string): ServiceState {
  const state: ServiceState = { sysv: { script: false, links: [] } };
  let section = '';
  for (const line of stdout.split('\n')) {
    if (line.startsWith(M)) {
      section = line.slice(M.length);
      if (section === 'show') state.systemd = { show: {}, isEnabled: '', isEnabledRc: -1 };
      if (section === 'need-reload') state.needReload = [];
      continue;
    }
    if (line === '') continue;
    if (section === 'show' && state.systemd) {
      const eq = line.indexOf('=');
      if (eq > 0) state.systemd.show[line.slice(0, eq)] = line.slice(eq + 1);
    } else if (section === 'is-enabled' && state.systemd) {
      const m = /^rc=(\d+) ?(.*)$/.exec(line);
      if (m) {
        state.systemd.isEnabledRc = Number(m[1]);
        state.systemd.isEnabled = m[2]!.trim();
      }
    } else if (section === 'need-reload') state.needReload!.push(line.trim());
    else if (section === 'sysv') {
      let m: RegExpExecArray | null;
      if (line === 'script') state.sysv.script = true;
      else if ((m = /^status (\d+)$/.exec(line))) state.sysv.statusRc = Number(m[1]);
      else if ((m = /^link (.+)$/.exec(line))) state.sysv.links.push(m[1]!);
    }
  }
  return state;
}

export interface ServiceFactArgs {
  unit?: string;
  name?: string;
  pattern?: string;
  reload?: boolean;
  /** ask the init script for its status even on a systemd host (use: sysvinit) */
  sysv?: boolean;
}

export const serviceFact: Fact<ServiceFactArgs, ServiceState> = {
  name: 'service',
  command: ({ unit, name, pattern, reload, sysv }) =>
    ShellCommand.join([sh`unit=${unit ?? ''}; name=${name ?? ''}; pattern=${pattern ?? ''}; reload=${reload ? 'yes' : 'no'}; sysv=${sysv ? 'yes' : 'no'}`, ShellCommand.script(SERVICE_SCRIPT)], '\n'),
  parse: (out) => parseServiceState(out.stdout),
};

/** The init script's name: the unit name without a .service suffix. */
export function scriptName(name: string): string {
  return name.replace(/\.service$/, '');
}

export function checkServiceName(name: string, arg = 'name'): void {
  if (name.trim() === '' || name.startsWith('-') || /[/\s]/.test(name)) throw new ArgError(`${arg} must be a service or unit name, got ${JSON.stringify(name)}`, arg);
}

// ------------------------------------------------------------------ planning

export interface ServiceRequest {
  name?: string;
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  enabled?: boolean;
  masked?: boolean;
  daemonReload?: boolean;
  daemonReexec?: boolean;
  force?: boolean;
  noBlock?: boolean;
  /** SysV only */
  sleep?: number;
  arguments?: string;
  /** the module asking, for messages ('service' or 'systemd_service') */
  module: string;
}

const running = (active: string | undefined) => active === 'active' || active === 'activating' || active === 'reloading';

/** Ansible's reading of `systemctl is-enabled`: these answers do not count as "enabled" (enable is still run). */
const NOT_REALLY_ENABLED = new Set(['enabled-runtime', 'indirect', 'alias']);
/** Units that cannot be enabled or disabled: nothing to do either way. */
const NO_INSTALL = new Set(['static', 'generated', 'transient']);

function systemctl(req: ServiceRequest, verb: string, unit: string): ShellCommand {
  const opts = [...(req.noBlock && ['start', 'stop', 'restart', 'reload'].includes(verb) ? ['--no-block'] : []), ...(req.force && ['enable', 'disable', 'mask', 'unmask'].includes(verb) ? ['--force'] : [])];
  return sh`${['systemctl', ...opts, verb, unit]}`;
}

function planSystemd(req: ServiceRequest, st: ServiceState): Plan {
  const changes: Change[] = [];
  const reasons: string[] = [];
  const unit = req.name;
  const sd = st.systemd ?? { show: {}, isEnabled: '', isEnabledRc: -1 };
  const show = sd.show;
  const result: Record<string, unknown> = unit ? { name: unit, status: { ...show } } : {};
  const missing = unit !== undefined && show.LoadState === 'not-found';
  const missingFailure = (): Plan => ({
    changes: [],
    result,
    failure: { message: `Could not find the requested service ${unit}: host`, missing: `unit ${show.Id || unit}` },
  });

  if (req.daemonReexec) changes.push({ kind: 'exec', command: sh`systemctl daemon-reexec`, describe: 'systemctl daemon-reexec' });
  if (req.daemonReload) {
    const stale = st.needReload ?? [];
    if (stale.length) changes.push({ kind: 'exec', command: sh`systemctl daemon-reload`, describe: `systemctl daemon-reload (changed on disk: ${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ', ...' : ''})` });
    else reasons.push('no unit changed on disk since systemd read it');
  }
  if (unit === undefined) {
    if (!changes.length) return { changes, result, noopReason: reasons.join('; ') };
    return { changes, result };
  }
  const id = show.Id || unit;

  let masked = sd.isEnabled === 'masked' || show.LoadState === 'masked';
  if (req.masked !== undefined) {
    if (masked !== req.masked) {
      changes.push({ kind: 'exec', command: systemctl(req, req.masked ? 'mask' : 'unmask', unit), describe: `systemctl ${req.masked ? 'mask' : 'unmask'} ${id}` });
      masked = req.masked;
    } else reasons.push(`${id} is ${masked ? 'masked' : 'not masked'}`);
  }
  // Unmasking a unit whose file is not there leaves nothing to start or enable.
  const gone = missing && !(req.masked === false && sd.isEnabled === 'masked');

  if (req.enabled !== undefined) {
    if (gone) return missingFailure();
    const ufs = sd.isEnabled || show.UnitFileState || '';
    if (NO_INSTALL.has(ufs)) reasons.push(`${id} is ${ufs} (it has no [Install] section to enable or disable)`);
    else {
      const enabled = sd.isEnabledRc === 0 && !NOT_REALLY_ENABLED.has(ufs);
      if (enabled !== req.enabled) {
        if (masked && req.enabled) return { changes: [], result, failure: { message: `Unable to enable service ${id}: the unit is masked (set masked: false)` } };
        changes.push({ kind: 'exec', command: systemctl(req, req.enabled ? 'enable' : 'disable', unit), describe: `systemctl ${req.enabled ? 'enable' : 'disable'} ${id}${ufs ? ` (was ${ufs})` : ''}` });
      } else reasons.push(`${id} is ${req.enabled ? 'enabled' : 'disabled'}`);
    }
    result.enabled = req.enabled;
  }

  if (req.state !== undefined) {
    if (gone) return missingFailure();
    if (masked && req.state !== 'stopped') return { changes: [], result, failure: { message: `Unable to start service ${id}: the unit is masked (set masked: false)` } };
    const active = show.ActiveState;
    let verb: string | undefined;
    if (req.state === 'started') verb = running(active) ? undefined : 'start';
    else if (req.state === 'stopped') verb = running(active) || active === 'deactivating' ? 'stop' : undefined;
    else verb = running(active) ? req.state.slice(0, -2) : 'start';
    if (verb) changes.push({ kind: 'exec', command: systemctl(req, verb, unit), describe: `systemctl ${verb} ${id}${verb === 'start' || verb === 'stop' ? ` (was ${active}${show.SubState ? `/${show.SubState}` : ''})` : ''}` });
    else reasons.push(`${id} is ${active}${show.SubState ? ` (${show.SubState})` : ''}`);
    result.state = req.state === 'stopped' ? 'stopped' : 'started';
  }
  if (!changes.length) return { changes, result, noopReason: reasons.join('; ') || `${id}: nothing asked` };
  return { changes, result };
}

function planSysv(req: ServiceRequest, st: ServiceState): Plan {
  const name = scriptName(req.name!);
  const script = `/etc/init.d/${name}`;
  const sv = st.sysv;
  const changes: Change[] = [];
  const reasons: string[] = [];
  const isRunning = sv.statusRc === 0;
  const enabled = sv.links.some((l) => /\/S\d\d/.test(l));
  const result: Record<string, unknown> = {
    name,
    status: { LoadState: sv.script ? 'loaded' : 'not-found', ActiveState: isRunning ? 'active' : 'inactive', UnitFileState: enabled ? 'enabled' : 'disabled' },
  };
  if (!sv.script) return { changes: [], result, failure: { message: `Could not find the requested service ${name}: no ${script}`, missing: `init script ${script}` } };
  const extra = req.arguments ? req.arguments.split(/\s+/).filter(Boolean) : [];
  const run = (verb: string) => sh`${[script, verb, ...extra]}`;

  if (req.enabled !== undefined) {
    if (enabled !== req.enabled) {
      if (req.enabled && !sv.links.some((l) => /\/K\d\d/.test(l))) changes.push({ kind: 'exec', command: sh`update-rc.d ${name} defaults`, describe: `update-rc.d ${name} defaults` });
      changes.push({ kind: 'exec', command: sh`update-rc.d ${name} ${req.enabled ? 'enable' : 'disable'}`, describe: `update-rc.d ${name} ${req.enabled ? 'enable' : 'disable'}` });
    } else reasons.push(`${name} is ${req.enabled ? 'enabled' : 'disabled'} (${sv.links.length ? sv.links.join(' ') : 'no rc links'})`);
    result.enabled = req.enabled;
  }
  if (req.state !== undefined) {
    const state = req.state;
    if (state === 'started' && !isRunning) changes.push({ kind: 'exec', command: run('start'), describe: `${script} start` });
    else if (state === 'stopped' && isRunning) changes.push({ kind: 'exec', command: run('stop'), describe: `${script} stop` });
    else if (state === 'restarted' || state === 'reloaded') {
      if (!isRunning) changes.push({ kind: 'exec', command: run('start'), describe: `${script} start` });
      else if (state === 'reloaded') changes.push({ kind: 'exec', command: run('reload'), describe: `${script} reload` });
      else if (req.sleep) {
        changes.push({ kind: 'exec', command: ShellCommand.join([run('stop'), sh`sleep ${req.sleep}`, run('start')], ';'), describe: `${script} stop; sleep ${req.sleep}; ${script} start` });
      } else changes.push({ kind: 'exec', command: run('restart'), describe: `${script} restart` });
    } else reasons.push(`${name} is ${isRunning ? 'running' : `stopped (status exit code ${sv.statusRc ?? 'unknown'})`}`);
    result.state = state === 'stopped' ? 'stopped' : 'started';
  }
  if (!changes.length) return { changes, result, noopReason: reasons.join('; ') || `${name}: nothing asked` };
  return { changes, result };
}

/** Plans a service request with the host's service manager. */
export function planService(req: ServiceRequest, st: ServiceState, manager: string): Plan {
  if (manager === 'systemd') {
    if (!st.systemd && (req.name !== undefined || !st.needReload)) {
      return { changes: [], failure: { message: `${req.module}: the host runs systemd but systemctl did not answer` } };
    }
    return planSystemd(req, st);
  }
  if (req.masked !== undefined || req.daemonReload || req.daemonReexec) {
    return { changes: [], failure: { message: `${req.module}: masked, daemon_reload and daemon_reexec need systemd; this host's service manager is ${manager}` } };
  }
  return planSysv(req, st);
}

/** The service manager to plan with: what gathering facts found, else what the fact itself saw. */
export function managerOf(ctx: ModuleContext, st: ServiceState, use?: string): string {
  if (use === 'systemd') return 'systemd';
  if (use === 'sysvinit' || use === 'service') return 'sysvinit';
  try {
    const m = ctx.facts.serviceMgr;
    if (m === 'systemd' || m === 'sysvinit') return m;
  } catch {
    // facts not gathered: fall through
  }
  return st.systemd || st.needReload ? 'systemd' : 'sysvinit';
}

const STATES = ['started', 'stopped', 'restarted', 'reloaded'] as const;

export const serviceArgs = {
  name: { type: 'str', required: true, description: 'The service (nginx, or a unit name like nginx.service; the init script name with SysV init).' },
  state: { type: 'str', choices: STATES, description: 'started/stopped change only when needed; restarted/reloaded always act (and start a stopped service).' },
  enabled: { type: 'bool', description: 'Start at boot.' },
} as const;

export default defineModule({
  name: 'service',
  collections: ['ansible.builtin'],
  description:
    'A service started, stopped, restarted or reloaded, and enabled at boot or not. Uses systemctl on systemd hosts and /etc/init.d/NAME with update-rc.d on SysV init hosts. A missing unit is reported as such (check mode assumes an earlier task installs it).',
  args: {
    ...serviceArgs,
    sleep: { type: 'int', description: 'SysV init: seconds between stop and start when restarting.' },
    pattern: { type: 'str', description: 'SysV init: a pattern for `pgrep -f`; the service runs when a process matches (for init scripts without status).' },
    arguments: { type: 'str', default: '', aliases: ['args'], description: 'SysV init: extra words for the init script command.' },
    runlevel: { type: 'str', default: 'default', description: 'Accepted for compatibility (OpenRC only).' },
    use: { type: 'str', default: 'auto', choices: ['auto', 'systemd', 'sysvinit', 'service'] as const, description: 'The service manager; auto uses the one the host runs.' },
  },
  returns: { name: 'the service', state: 'started or stopped, as asked', enabled: 'as asked', status: 'systemd: the unit properties (LoadState, ActiveState, SubState, UnitFileState, ...) before the task' },
  example: [
    '- name: HAProxy runs and starts at boot (thesis 4.6)',
    '  ansible.builtin.service:',
    '    name: haproxy',
    '    state: started',
    '    enabled: true',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    checkServiceName(args.name);
    if (args.state === undefined && args.enabled === undefined) throw new ArgError('one of the following is required: state, enabled', 'state');
  },
  facts: (args) => ({
    service: factRequest(serviceFact, {
      unit: args.name,
      name: scriptName(args.name),
      ...(args.pattern ? { pattern: args.pattern } : {}),
      ...(args.use === 'sysvinit' || args.use === 'service' ? { sysv: true } : {}),
    }),
  }),
  plan(args, facts, ctx): Plan {
    const req: ServiceRequest = { name: args.name, state: args.state, enabled: args.enabled, sleep: args.sleep, arguments: args.arguments, module: 'service' };
    return planService(req, facts.service, managerOf(ctx, facts.service, args.use));
  },
});
