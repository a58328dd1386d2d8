/** assert and fail: stop a host when a condition does not hold (controller side). */
import { defineModule } from './types.js';

export const assertModule = defineModule({
  name: 'assert',
  collections: ['ansible.builtin'],
  description: 'Fail the host unless every condition in `that` is true.',
  args: {
    that: { type: 'list', required: true, description: 'Conditions (bare Jinja2 expressions, like when:).' },
    fail_msg: { type: 'raw', aliases: ['msg'], description: 'Message when a condition is false.' },
    success_msg: { type: 'raw', description: 'Message when all conditions hold.' },
    quiet: { type: 'bool', default: false, description: 'Print less.' },
  },
  returns: { msg: 'the message', assertion: 'the condition that failed', evaluated_to: 'its value' },
  example: '- ansible.builtin.assert:\n    that:\n      - ansible_facts.distribution == "Debian"\n    fail_msg: only Debian is supported',
  runsOn: 'controller',
  plan(args, _facts, ctx) {
    for (const cond of args.that) {
      const value = typeof cond === 'boolean' ? cond : ctx.evaluate(String(cond));
      if (!value) {
        return {
          changes: [],
          failure: { message: args.fail_msg === undefined ? `Assertion failed: ${String(cond)}` : String(args.fail_msg) },
          result: { assertion: cond, evaluated_to: false },
        };
      }
    }
    return { changes: [], noopReason: 'all assertions passed', result: { msg: args.success_msg ?? 'All assertions passed' } };
  },
});

export const failModule = defineModule({
  name: 'fail',
  collections: ['ansible.builtin'],
  description: 'Fail the host with a message (usually with when:).',
  args: {
    msg: { type: 'raw', default: 'Failed as requested from task', description: 'The failure message.' },
  },
  returns: { msg: 'the message' },
  example: '- ansible.builtin.fail:\n    msg: "nis_domain must be set"\n  when: nis_domain is undefined',
  runsOn: 'controller',
  plan(args) {
    return { changes: [], failure: { message: String(args.msg) } };
  },
});
