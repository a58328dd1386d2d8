/** debug: print a message or a variable (controller side). */
import { defineModule } from './types.js';
import { ArgError } from './argspec.js';

export default defineModule({
  name: 'debug',
  collections: ['ansible.builtin'],
  description: 'Print a message, or the value of a variable, in the task output. Changes nothing.',
  args: {
    msg: { type: 'raw', description: 'The message to print (any value).' },
    var: { type: 'str', description: 'Name of a variable (or an expression) to print.' },
    verbosity: { type: 'int', default: 0, description: 'Only print at this -v level or higher.' },
  },
  returns: { msg: 'the message', '<var>': 'the variable, under its own name' },
  example: '- ansible.builtin.debug:\n    msg: "Master is {{ groups.master[0] }}"',
  runsOn: 'controller',
  check(args) {
    if (args.msg !== undefined && args.var !== undefined) throw new ArgError('msg and var are mutually exclusive', 'var');
  },
  plan(args, _facts, ctx) {
    if (args.var !== undefined) {
      let value: unknown;
      try {
        value = ctx.evaluate(args.var);
      } catch (err) {
        value = `VARIABLE IS NOT DEFINED! (${(err as Error).message})`;
      }
      return { changes: [], noopReason: 'debug', result: { [args.var]: value } };
    }
    return { changes: [], noopReason: 'debug', result: { msg: args.msg ?? 'Hello world!' } };
  },
});
