/**
 * The command-line entry point. The only place that prints errors and picks
 * the process exit code; everything below throws typed errors.
 */
import { Command, CommanderError } from 'commander';
import { formatError, InterruptedError, ParseError, TsibleError, UsageError } from '../errors.js';
import { registerRunCommand } from './run.js';
import { registerInventoryCommand } from './inventory.js';
import { registerLabCommand } from './lab.js';
import { registerPlayCommand } from './play.js';
import { registerDocCommand } from './doc.js';
import { registerVaultCommand } from '../vault/command.js';
import { EXIT } from './exit-codes.js';

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('tsible')
    .description('Ansible-compatible playbook runner for clusters: one SSH connection per host, a truthful check mode, safe defaults.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) });
  registerPlayCommand(program, setExit);
  registerRunCommand(program, setExit);
  registerInventoryCommand(program, setExit);
  registerLabCommand(program, setExit);
  registerVaultCommand(program);
  registerDocCommand(program, setExit);
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with exitCode 0; usage errors were already printed by commander.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(formatError(err) + '\n');
    if (process.env.TSIBLE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    if (err instanceof InterruptedError) return EXIT.interrupted;
    if (err instanceof UsageError || err instanceof ParseError) return EXIT.usage;
    if (err instanceof TsibleError) return EXIT.usage;
    return EXIT.usage;
  }
}
