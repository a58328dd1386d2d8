/** set_fact: set host variables from templated values (controller side). */
import { defineModule } from './types.js';

export default defineModule({
  name: 'set_fact',
  collections: ['ansible.builtin'],
  description: 'Set variables for the current host. The values are templated once and then kept as data: they are never templated again.',
  args: {
    cacheable: { type: 'bool', default: false, description: 'Accepted for compatibility; facts are kept for the run.' },
  },
  // set_fact takes arbitrary variable names: the executor passes them through `extra`.
  returns: { ansible_facts: 'the variables that were set' },
  example: '- ansible.builtin.set_fact:\n    nfs_server: "{{ groups.master[0] }}"',
  runsOn: 'controller',
  acceptsAnyArgs: true,
  plan(args) {
    const { cacheable: _cacheable, ...vars } = args as Record<string, unknown>;
    return { changes: [], noopReason: 'facts set', setFacts: vars, result: { ansible_facts: vars } };
  },
});
