/**
 * The command-line entry point. The only place that prints errors and picks
 * the process exit code; everything below throws typed errors.
 */
import { Command, CommanderError } from 'commander';
import { formatError, InterruptedError, ParseError, TsibleError, UsageError } from '../errors.js';
import { EXIT } from './exit-codes.js';

type SetExit = (code: number) => void;

/**
 * Each command's module is loaded only when that command runs: `tsible run`
 * must not pay for the playbook engine, templating or the lab at start-up
 * (start-up time is most of an ad-hoc run on a small cluster).
 */
const COMMANDS: Record<string, () => Promise<(program: Command, setExit: SetExit) => void>> = {
  play: async () => (await import('./play.js')).registerPlayCommand,
  run: async () => (await import('./run.js')).registerRunCommand,
  inventory: async () => (await import('./inventory.js')).registerInventoryCommand,
  lab: async () => (await import('./lab.js')).registerLabCommand,
  vault: async () => {
    const { registerVaultCommand } = await import('../vault/command.js');
    return (program) => registerVaultCommand(program);
  },
  doc: async () => (await import('./doc.js')).registerDocCommand,
};

export async function buildProgram(setExit: SetExit, argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('tsible')
    .description('Ansible-compatible playbook runner for clusters: one SSH connection per host, a truthful check mode, safe defaults.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) });
  const wanted = argv[2];
  const names = wanted !== undefined && wanted in COMMANDS ? [wanted] : Object.keys(COMMANDS);
  for (const name of names) (await COMMANDS[name]!())(program, setExit);
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  try {
    const program = await buildProgram((c) => {
      code = c;
    }, argv);
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
