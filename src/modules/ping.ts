/** ping: check that the host answers over the connection. */
import { sh } from '../util/shell.js';
import { defineModule } from './types.js';
import type { Fact } from '../facts/types.js';

const echoFact: Fact<{ data: string }, string> = {
  name: 'echo',
  command: ({ data }) => sh`printf %s ${data}`,
  parse: (out) => out.stdout,
};

export default defineModule({
  name: 'ping',
  collections: ['ansible.builtin'],
  description: 'Check that the host can be reached and runs commands. Changes nothing.',
  args: { data: { type: 'str', default: 'pong', description: 'What to answer with.' } },
  returns: { ping: 'the data, echoed back by the host' },
  example: '- ansible.builtin.ping:',
  runsOn: 'host',
  facts: (args) => ({ echo: { fact: echoFact as Fact<unknown, string>, args } }),
  plan(_args, facts) {
    return { changes: [], noopReason: 'pong', result: { ping: facts.echo } };
  },
});
