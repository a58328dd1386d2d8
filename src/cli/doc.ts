/** `tsible doc`: module documentation generated from the same declarations the code validates with. */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { allModules, findModule } from '../modules/registry.js';
import type { AnyModule } from '../modules/types.js';
import { didYouMean } from '../util/suggest.js';
import { EXIT } from './exit-codes.js';

export function moduleDoc(m: AnyModule): string {
  const lines: string[] = [];
  lines.push(`> ${m.name.toUpperCase()}    (${m.collections.map((c) => `${c}.${m.name}`).join(', ')})`, '');
  lines.push(`  ${m.description}`, '');
  if (m.acceptsAnyArgs) lines.push('  Any variable name is accepted as an argument.', '');
  lines.push('OPTIONS (= is mandatory):', '');
  for (const [name, spec] of Object.entries(m.args).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`${spec.required ? '=' : '-'} ${name}`);
    lines.push(`        ${spec.description}`);
    if (spec.aliases?.length) lines.push(`        aliases: [${spec.aliases.join(', ')}]`);
    if (spec.choices) lines.push(`        choices: [${spec.choices.join(', ')}]`);
    if (spec.default !== undefined) lines.push(`        default: ${JSON.stringify(spec.default)}`);
    lines.push(`        type: ${spec.type}${spec.elements ? ` (elements: ${spec.elements})` : ''}`);
    if (m.freeForm === name) lines.push('        (also the free-form text after the module name)');
    lines.push('');
  }
  if (m.returns && Object.keys(m.returns).length) {
    lines.push('RETURN VALUES:', '');
    for (const [k, v] of Object.entries(m.returns)) lines.push(`- ${k}`, `        ${v}`, '');
  }
  lines.push('EXAMPLES:', '', m.example, '');
  return lines.join('\n');
}

export function registerDocCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('doc')
    .summary('show module documentation')
    .description('Show the arguments, defaults, return values and an example of a module, or list all modules.')
    .argument('[module]', 'module name (short or fully qualified)')
    .option('-l, --list', 'list all modules')
    .action((name: string | undefined, opts: { list?: boolean }) => {
      if (opts.list || !name) {
        const mods = allModules();
        const width = Math.max(...mods.map((m) => m.name.length)) + 2;
        for (const m of mods) process.stdout.write(`${m.name.padEnd(width)}${m.description.split('. ')[0]!.replace(/\.$/, '')}\n`);
        setExit(EXIT.ok);
        return;
      }
      const m = findModule(name);
      if (!m) throw new UsageError(`no module named "${name}"`, { hint: didYouMean(name, allModules().map((x) => x.name)) });
      process.stdout.write(moduleDoc(m));
      setExit(EXIT.ok);
    });
}
