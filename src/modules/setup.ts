/** setup: gather facts as a task (gather_facts does the same at the start of a play). */
import { defineModule } from './types.js';
import { factRequest, type Fact } from '../facts/types.js';
import { hostFactsFact, type HostFacts } from '../facts/host-facts.js';

// A fresh read, unlike the cached one gather_facts uses.
const freshHostFacts: Fact<void, HostFacts> = { ...hostFactsFact, name: 'host_facts_fresh', cacheable: false };

export default defineModule({
  name: 'setup',
  collections: ['ansible.builtin'],
  description: 'Gather facts about the host (OS, network, memory, processors, mounts, service manager) in one round trip.',
  args: {
    gather_subset: { type: 'list', elements: 'str', description: 'Accepted for compatibility; everything is gathered in one round trip anyway.' },
    filter: { type: 'list', elements: 'str', description: 'Accepted for compatibility.' },
  },
  returns: { ansible_facts: 'the facts' },
  example: '- ansible.builtin.setup:',
  runsOn: 'host',
  facts: () => ({ host: factRequest(freshHostFacts, undefined) }),
  plan(_args, facts) {
    return { changes: [], noopReason: 'facts gathered', setFacts: { ansible_facts: facts.host.ansible }, result: { ansible_facts: facts.host.ansible } };
  },
});
