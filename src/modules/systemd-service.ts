/**
 * systemd_service (ansible.builtin.systemd_service, also known as systemd):
 * service plus what only systemd has: masking and daemon-reload.
 *
 * `daemon_reload` runs `systemctl daemon-reload` when a loaded unit's files
 * changed on disk since systemd read them (its NeedDaemonReload property),
 * so it is a change exactly when it does something. Ansible runs it every
 * time and never counts it as a change. The order is Ansible's: daemon-reexec,
 * daemon-reload, mask/unmask, enable/disable, then start/stop/restart/reload.
 */
import { factRequest } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { checkServiceName, managerOf, planService, scriptName, serviceArgs, serviceFact } from './service.js';
import { defineModule, type Plan } from './types.js';

export default defineModule({
  name: 'systemd_service',
  collections: ['ansible.builtin'],
  aliases: ['systemd'],
  description:
    'A systemd unit started, stopped, restarted or reloaded, enabled, masked; daemon-reload when unit files changed on disk. On a SysV init host, state and enabled work as with service.',
  args: {
    ...serviceArgs,
    name: { type: 'str', aliases: ['service', 'unit'], description: 'The unit (nginx, nginx.service, getty@tty1, data.mount). Optional with daemon_reload or daemon_reexec alone.' },
    masked: { type: 'bool', description: 'Masked (cannot be started at all) or not.' },
    daemon_reload: { type: 'bool', default: false, aliases: ['daemon-reload'], description: 'Reload systemd when unit files changed on disk (before anything else).' },
    daemon_reexec: { type: 'bool', default: false, aliases: ['daemon-reexec'], description: 'Re-execute systemd (always a change).' },
    force: { type: 'bool', description: 'Override existing symlinks when enabling or masking (systemctl --force).' },
    no_block: { type: 'bool', default: false, description: 'Do not wait for start/stop to finish (systemctl --no-block).' },
    scope: { type: 'str', default: 'system', choices: ['system', 'user', 'global'] as const, description: 'Only system is supported.' },
  },
  returns: { name: 'the unit', state: 'started or stopped, as asked', enabled: 'as asked', status: 'the unit properties before the task (LoadState, ActiveState, SubState, UnitFileState, NeedDaemonReload, ...)' },
  example: [
    '- name: keepalived starts at boot, after the new unit file is read (thesis 4.6)',
    '  ansible.builtin.systemd_service:',
    '    name: keepalived',
    '    state: started',
    '    enabled: true',
    '    daemon_reload: true',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (args.scope !== 'system') throw new ArgError(`scope ${args.scope} is not supported; only system units are managed`, 'scope');
    if (args.name !== undefined) checkServiceName(args.name);
    if (args.name === undefined && (args.state !== undefined || args.enabled !== undefined || args.masked !== undefined)) {
      throw new ArgError('name is required with state, enabled or masked', 'name');
    }
    if (args.name === undefined && !args.daemon_reload && !args.daemon_reexec) throw new ArgError('one of name, daemon_reload or daemon_reexec is required', 'name');
  },
  facts: (args) => ({
    service: factRequest(serviceFact, {
      ...(args.name !== undefined ? { unit: args.name, name: scriptName(args.name) } : {}),
      ...(args.daemon_reload ? { reload: true } : {}),
    }),
  }),
  plan(args, facts, ctx): Plan {
    return planService(
      {
        name: args.name,
        state: args.state,
        enabled: args.enabled,
        masked: args.masked,
        daemonReload: args.daemon_reload,
        daemonReexec: args.daemon_reexec,
        force: args.force,
        noBlock: args.no_block,
        module: 'systemd_service',
      },
      facts.service,
      managerOf(ctx, facts.service),
    );
  },
});
