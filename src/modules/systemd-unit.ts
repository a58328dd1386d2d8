/**
 * systemd_unit (tsible): a unit file, systemd told about it, and the unit
 * enabled and running, in one task instead of template + daemon-reload
 * handler + service.
 *
 * The file goes to /etc/systemd/system (dest_dir). `systemctl daemon-reload`
 * runs only when the file changes (or systemd already reports the unit's
 * files as changed on disk). When the file changes while the unit runs and
 * `state: started` is asked, the unit is restarted so the new definition
 * takes effect (restart_on_change). `state: absent` stops and disables the
 * unit and removes the file.
 */
import { posix } from 'node:path';
import { sh } from '../util/shell.js';
import { factRequest } from '../facts/types.js';
import { fileStateFact } from '../facts/file.js';
import { ArgError } from './argspec.js';
import { checkServiceName, planService, serviceFact, type ServiceState } from './service.js';
import { defineModule, type Change, type FileDiff, type Plan } from './types.js';

const UNIT_SUFFIX = /\.(service|socket|timer|mount|automount|path|target|slice|scope|swap|device)$/;

/** nginx → nginx.service; other unit types keep their suffix. */
export function unitFileName(name: string): string {
  return UNIT_SUFFIX.test(name) ? name : `${name}.service`;
}

/** Whether unit text has an [Install] section with something that enabling acts on. */
export function hasInstallSection(text: string): boolean {
  const m = /^\[Install\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(text);
  return !!m && /^\s*(WantedBy|RequiredBy|UpheldBy|Alias|Also)\s*=/m.test(m[1] ?? '');
}

const modeBits = (m: string) => parseInt(m, 8) & 0o7777;

export default defineModule({
  name: 'systemd_unit',
  collections: ['tsible'],
  description:
    'A systemd unit file in /etc/systemd/system, daemon-reload only when it changed, and the unit enabled/started like systemd_service. Restarts a running unit whose file changed when state is started.',
  args: {
    name: { type: 'str', required: true, description: 'The unit, e.g. condor-setup or backup.timer (.service is added when no unit type is given).' },
    content: { type: 'str', description: 'The unit file text.' },
    src: { type: 'path', description: 'A controller file with the unit text (role files/ first). Use content with a template lookup for templates.' },
    dest_dir: { type: 'path', default: '/etc/systemd/system', description: 'Where the unit file goes.' },
    mode: { type: 'mode', default: '0644', description: 'Mode of the unit file.' },
    state: { type: 'str', choices: ['started', 'stopped', 'restarted', 'reloaded', 'absent'] as const, description: 'The unit running or not (like systemd_service), or absent: stopped, disabled and its file removed.' },
    enabled: { type: 'bool', description: 'Start at boot (needs an [Install] section).' },
    restart_on_change: { type: 'bool', default: true, description: 'With state started: restart the unit when its file changed and it is running.' },
  },
  returns: { name: 'the unit', dest: 'the unit file', status: 'the unit properties before the task' },
  example: [
    '- name: A oneshot that mounts the Gluster volume after the network',
    '  tsible.systemd_unit:',
    '    name: gluster-mount',
    '    content: |',
    '      [Unit]',
    '      After=network-online.target glusterd.service',
    '      [Service]',
    '      Type=oneshot',
    '      ExecStart=/bin/mount /mnt/gv0',
    '      RemainAfterExit=yes',
    '      [Install]',
    '      WantedBy=multi-user.target',
    '    state: started',
    '    enabled: true',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    checkServiceName(args.name);
    if (args.state !== 'absent' && (args.content === undefined) === (args.src === undefined)) throw new ArgError('give exactly one of content and src', 'content');
    if (args.state === 'absent' && (args.content !== undefined || args.src !== undefined || args.enabled === true)) throw new ArgError('state absent takes no content, src or enabled: true', 'state');
    if (args.enabled === true && args.content !== undefined && !hasInstallSection(args.content)) {
      throw new ArgError(`enabled: true needs an [Install] section with WantedBy= (or RequiredBy=, Alias=) in the unit`, 'enabled');
    }
  },
  facts(args) {
    const unit = unitFileName(args.name);
    return {
      file: factRequest(fileStateFact, { path: posix.join(args.dest_dir, unit), content: -1 }),
      service: factRequest(serviceFact, { unit, name: unit.replace(/\.service$/, '') }),
    };
  },
  async plan(args, facts, ctx): Promise<Plan> {
    const unit = unitFileName(args.name);
    const dest = posix.join(args.dest_dir, unit);
    const st = facts.service;
    if (!st.systemd) return { changes: [], failure: { message: `systemd_unit: ${ctx.host} does not run systemd` } };
    const file = facts.file;
    const before = file.exists && file.content ? file.content.toString('utf8') : undefined;
    const changes: Change[] = [];
    const diff: FileDiff[] = [];
    const result: Record<string, unknown> = { name: unit, dest, status: { ...st.systemd.show } };

    if (args.state === 'absent') {
      const svc = planService({ name: unit, state: 'stopped', enabled: false, module: 'systemd_unit' }, st, 'systemd');
      if (!svc.failure) changes.push(...svc.changes);
      if (file.exists) {
        changes.push({ kind: 'exec', command: sh`rm -f ${dest}`, describe: `remove ${dest}` });
        changes.push({ kind: 'exec', command: sh`systemctl daemon-reload`, describe: 'systemctl daemon-reload' });
        diff.push({ path: dest, before: before ?? '', after: '' });
      }
      if (!changes.length) return { changes, result, noopReason: `${dest} does not exist${svc.noopReason ? ` and ${svc.noopReason}` : ''}` };
      return { changes, result, diff };
    }

    let text: string;
    if (args.content !== undefined) text = args.content.endsWith('\n') ? args.content : args.content + '\n';
    else {
      try {
        text = (await ctx.readControllerFile(args.src!, 'files')).toString('utf8');
      } catch (err) {
        return { changes: [], result, failure: { message: `src ${args.src}: ${(err as Error).message}` } };
      }
    }
    if (args.enabled === true && !hasInstallSection(text)) return { changes: [], result, failure: { message: `enabled: true needs an [Install] section with WantedBy= in ${args.src ?? 'the unit'}` } };

    const written = before === undefined || before !== text;
    const reasons: string[] = [];
    if (written) {
      changes.push({ kind: 'write', path: dest, content: text, mode: args.mode, owner: 'root', group: 'root', describe: file.exists ? `update ${dest}` : `create ${dest}` });
      diff.push({ path: dest, before: before ?? '', after: text });
    } else if (file.exists && /^0?[0-7]{3,4}$/.test(args.mode) && modeBits(file.mode) !== modeBits(args.mode)) {
      changes.push({ kind: 'exec', command: sh`chmod ${args.mode} ${dest}`, describe: `chmod ${args.mode} ${dest} (was ${file.mode})` });
    } else reasons.push(`${dest} is as wanted`);
    const show = st.systemd.show;
    if (written || show.NeedDaemonReload === 'yes') changes.push({ kind: 'exec', command: sh`systemctl daemon-reload`, describe: 'systemctl daemon-reload' });

    // What systemd will know once it has read the new file.
    let after: ServiceState = st;
    if (written && (show.LoadState === 'not-found' || !file.exists)) {
      const installable = hasInstallSection(text);
      const ufs = installable ? 'disabled' : 'static';
      after = { ...st, systemd: { show: { ...show, LoadState: 'loaded', ActiveState: show.ActiveState || 'inactive', UnitFileState: ufs }, isEnabled: ufs, isEnabledRc: installable ? 1 : 0 } };
    }
    let state = args.state;
    const active = after.systemd!.show.ActiveState;
    const isRunning = active === 'active' || active === 'activating' || active === 'reloading';
    if (state === 'started' && written && file.exists && isRunning && args.restart_on_change) state = 'restarted';
    const svc = planService({ name: unit, state, enabled: args.enabled, module: 'systemd_unit' }, after, 'systemd');
    if (svc.failure) return { ...svc, result };
    if (svc.changes.length) {
      const restart = svc.changes.find((c) => c.describe.startsWith('systemctl restart'));
      if (restart && state !== args.state) restart.describe += ' (its unit file changed)';
      changes.push(...svc.changes);
    } else if (svc.noopReason && (args.state || args.enabled !== undefined)) reasons.push(svc.noopReason);
    Object.assign(result, { ...(svc.result ?? {}), name: unit, dest, status: { ...show } });
    if (!changes.length) return { changes, result, noopReason: reasons.join('; ') };
    return { changes, result, diff };
  },
});
