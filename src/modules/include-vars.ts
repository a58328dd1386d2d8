/** include_vars: load variables from a YAML/JSON file on the controller. */
import { loadYaml } from '../util/yaml.js';
import { defineModule } from './types.js';
import { ArgError } from './argspec.js';

export default defineModule({
  name: 'include_vars',
  collections: ['ansible.builtin'],
  description: 'Load variables from a YAML or JSON file on the controller (the role vars/ directory first). They take include_vars precedence.',
  args: {
    file: { type: 'path', description: 'The file to load (also the free-form text).' },
    name: { type: 'str', description: 'Put all variables under this one name instead.' },
  },
  freeForm: 'file',
  returns: { ansible_facts: 'the loaded variables' },
  example: '- ansible.builtin.include_vars: "{{ ansible_facts.os_family }}.yml"',
  runsOn: 'controller',
  check(args) {
    if (!args.file) throw new ArgError('give the file to load');
  },
  async plan(args, _facts, ctx) {
    const path = ctx.findControllerFile(args.file!, 'vars');
    const text = (await ctx.readControllerFile(args.file!, 'vars')).toString('utf8');
    const data = loadYaml(path, text) ?? {};
    if (typeof data !== 'object' || Array.isArray(data)) return { changes: [], failure: { message: `${path} must contain a mapping of variables` } };
    const vars = args.name ? { [args.name]: data } : (data as Record<string, unknown>);
    return { changes: [], noopReason: `loaded ${path}`, includeVars: vars, result: { ansible_facts: vars, ansible_included_var_files: [path] } };
  },
});
