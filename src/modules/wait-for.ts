/** wait_for: wait for a port to open or close, or a file to appear, disappear or contain a string. */
import { factRequest } from '../facts/types.js';
import { waitForFact } from '../facts/wait-for.js';
import { ArgError } from './argspec.js';
import { defineModule } from './types.js';

export default defineModule({
  name: 'wait_for',
  collections: ['ansible.builtin'],
  description: 'Wait, on the host, until a TCP port is open (or closed) or a file exists (or is gone, or contains a regex). Changes nothing.',
  args: {
    host: { type: 'str', default: '127.0.0.1', description: 'Host to connect to, as seen from the managed host.' },
    port: { type: 'int', description: 'TCP port to wait for.' },
    path: { type: 'path', description: 'File to wait for.' },
    state: { type: 'str', default: 'started', choices: ['started', 'stopped', 'present', 'absent', 'drained'], description: 'What to wait for.' },
    timeout: { type: 'int', default: 300, description: 'Give up after this many seconds.' },
    delay: { type: 'int', default: 0, description: 'Seconds to wait before the first check.' },
    sleep: { type: 'int', default: 1, description: 'Seconds between checks.' },
    search_regex: { type: 'str', description: 'With path: wait until the file matches this (extended) regex.' },
    connect_timeout: { type: 'int', default: 5, description: 'Seconds to wait for each connection attempt.' },
    msg: { type: 'str', description: 'Message on timeout instead of the default.' },
  },
  returns: { elapsed: 'seconds waited' },
  example: '- name: Wait for sshd behind the VIP\n  ansible.builtin.wait_for:\n    host: 10.0.100.200\n    port: 22\n    timeout: 30',
  runsOn: 'host',
  check(args) {
    if (args.port === undefined && args.path === undefined) throw new ArgError('give port or path');
    if (args.port !== undefined && args.path !== undefined) throw new ArgError('port and path are mutually exclusive', 'path');
  },
  facts: (args) => ({
    wait: factRequest(waitForFact, {
      host: args.host,
      port: args.port,
      path: args.path,
      state: args.path && args.state === 'started' ? 'present' : (args.state as 'started'),
      timeout: args.timeout,
      delay: args.delay,
      sleep: args.sleep,
      searchRegex: args.search_regex,
      connectTimeout: args.connect_timeout,
    }),
  }),
  plan(args, facts) {
    const what = args.port !== undefined ? `${args.host}:${args.port}` : args.path!;
    if (!facts.wait.satisfied) {
      return { changes: [], failure: { message: args.msg ?? `Timeout when waiting for ${what} to be ${args.state}` }, result: { elapsed: facts.wait.elapsed } };
    }
    return { changes: [], noopReason: `${what} is ${args.state}`, result: { elapsed: facts.wait.elapsed } };
  },
});
