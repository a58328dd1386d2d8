/** meta: control the play itself (flush handlers, end the play or host). */
import { defineModule, type MetaAction } from './types.js';

const ACTIONS = ['flush_handlers', 'end_play', 'end_host', 'end_batch', 'clear_facts', 'clear_host_errors', 'noop', 'refresh_inventory', 'reset_connection'] as const;

export default defineModule({
  name: 'meta',
  collections: ['ansible.builtin'],
  description: 'Act on the play: run notified handlers now, end the play or the host, clear facts, reset the connection.',
  args: {
    action: { type: 'str', required: true, choices: ACTIONS, description: 'What to do.' },
  },
  freeForm: 'action',
  example: '- ansible.builtin.meta: flush_handlers',
  runsOn: 'controller',
  plan(args) {
    return { changes: [], noopReason: `meta: ${args.action}`, meta: args.action as MetaAction };
  },
});
