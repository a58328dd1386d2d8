/** `tsible run`: ad-hoc commands across hosts (replaces psh, ppsh, pscp and npsh). */
import { Command, Option } from 'commander';
import { ConnectionManager } from '../connection/manager.js';
import { runAdhoc } from '../executor/adhoc.js';
import { becomeFor, connectionSpecFor, knownHostsFileFor, renderedConnectionVars } from '../executor/connect.js';
import { UsageError } from '../errors.js';
import { EventBus, type RunEvent } from '../output/events.js';
import { attachAdhocText } from '../output/adhoc-text.js';
import { attachJsonOutput } from '../output/json.js';
import { makeStyle } from '../output/style.js';
import { promptSecret } from '../util/prompt.js';
import type { Inventory } from '../inventory/index.js';
import { addConnectionOptions, addInventoryOption, inventoryFrom, positiveInt, type ConnectionCliOptions } from './common.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

interface RunOptions extends ConnectionCliOptions {
  hosts: string;
  inventory?: string[];
  forks: number;
  oneByOne?: boolean;
  copy?: string[];
  commandTimeout?: number;
  gather?: boolean;
  output: 'text' | 'json';
}

export function registerRunCommand(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('run')
    .summary('run a shell command on many hosts at once')
    .description(
      'Run a shell command on every host matching -a, over one SSH connection per host.\n' +
        'Replaces the psh (--one-by-one), ppsh (default), pscp (--copy) and npsh (-a PATTERN) loops.',
    )
    .argument('[command]', 'shell command to run on each host')
    .requiredOption('-a, --hosts <pattern>', 'hosts to run on: all, a group, a name, globs, a:b, a:&b, a:!b, ~regex, node[2-5,7]');
  addInventoryOption(cmd);
  cmd
    .option('-f, --forks <n>', 'how many hosts to run at once', positiveInt('--forks'), 32)
    .option('--one-by-one', 'run on one host after another, in inventory order (psh)')
    .option('--copy <src_and_dest...>', 'copy a local file to each host first: --copy SRC DEST (atomic: temp file, then rename)')
    .option('--command-timeout <seconds>', 'kill the remote command (and its children) after this long', positiveInt('--command-timeout'))
    .option('--gather', 'merge hosts whose output and exit code are identical, like clush -b')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'));
  addConnectionOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  tsible run -a all -i hosts "uptime"
  tsible run -a 'cluster[2-5]' -i hosts --gather "cat /etc/debian_version"
  tsible run -a nodes -i hosts --one-by-one "reboot"
  tsible run -a all -i hosts --copy ./sda.out /root/sda.out "sfdisk -f /dev/sda < /root/sda.out"

Exit codes: 0 every host ok, 2 some host failed, 4 some host unreachable (6 both), 1 usage error, 99 interrupted.`,
  );
  cmd.action(async (command: string | undefined, opts: RunOptions) => {
    setExit(await runCommand(command, opts));
  });
}

async function runCommand(commandArg: string | undefined, opts: RunOptions): Promise<number> {
  let command = commandArg;
  let copy: { src: string; dest: string } | undefined;
  if (opts.copy) {
    // `--copy SRC DEST` is variadic, so a trailing command lands in it too.
    const values = [...opts.copy];
    if (values.length === 3 && command === undefined) command = values.pop();
    if (values.length !== 2) throw new UsageError(`--copy takes exactly two paths, SRC and DEST; got ${values.length}`);
    copy = { src: values[0]!, dest: values[1]! };
  }
  if (command === undefined && !copy) throw new UsageError('nothing to run: give a command, or --copy SRC DEST');

  const inventory = await inventoryFrom(opts.inventory);
  const hosts = inventory.selectHosts(opts.hosts);
  const becomePassword = opts.askBecomePass ? await promptSecret('BECOME password: ') : undefined;
  const overrides = {
    user: opts.user,
    privateKeyFile: opts.privateKey,
    connectTimeoutMs: opts.timeout * 1000,
    become: opts.become || opts.askBecomePass || undefined,
    becomeUser: opts.becomeUser,
    becomePassword,
  };
  const bus = new EventBus<RunEvent>();
  if (opts.output === 'json') attachJsonOutput(bus, (s) => process.stdout.write(s));
  else attachAdhocText(bus, { gather: !!opts.gather, style: makeStyle(process.stdout), out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });

  const manager = new ConnectionManager({
    knownHostsPath: opts.knownHosts,
    hostKeyPolicy: opts.acceptNew ? 'accept-new' : 'strict',
    askPassphrase: (path) => promptSecret(`Enter passphrase for key '${path}': `),
  });
  const abort = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    abort.abort();
    void manager.closeAll();
  };
  process.once('SIGINT', onSigint);
  try {
    const varsOf = await connectionVarsResolver(inventory, hosts);
    const summary = await runAdhoc({
      pattern: opts.hosts,
      hosts,
      command,
      copy,
      forks: opts.forks,
      oneByOne: !!opts.oneByOne,
      become: (h) => becomeFor(varsOf(h), overrides),
      commandTimeoutMs: opts.commandTimeout ? opts.commandTimeout * 1000 : undefined,
      specFor: (h) => connectionSpecFor(h, varsOf(h), overrides, inventory.hasHost(h)),
      knownHostsFor: (h) => opts.knownHosts ?? knownHostsFileFor(varsOf(h)),
      manager,
      bus,
      signal: abort.signal,
    });
    if (interrupted) return EXIT.interrupted;
    return exitCodeFor(summary.failed.length, summary.unreachable.length);
  } finally {
    process.removeListener('SIGINT', onSigint);
    await manager.closeAll();
  }
}

const isConnectionVar = (k: string) => /^(ansible|tsible)_/.test(k);

/**
 * Connection variables per host, templated when they are templates
 * (`ansible_host: "{{ internal_ip }}"`). The templating engine is loaded only
 * when some host needs it: it is most of the start-up time of a small run.
 */
async function connectionVarsResolver(inventory: Inventory, hosts: readonly string[]): Promise<(host: string) => Record<string, unknown>> {
  const templated = hosts.some((h) => Object.entries(inventory.hostVars(h)).some(([k, v]) => isConnectionVar(k) && typeof v === 'string' && /\{\{|\{%/.test(v)));
  if (!templated) return (h) => inventory.hostVars(h);
  const { Templar, VarScope } = await import('../template/index.js');
  const templar = new Templar();
  const cache = new Map<string, Record<string, unknown>>();
  return (h) => {
    let v = cache.get(h);
    if (!v) {
      const raw = inventory.hostVars(h);
      const scope = new VarScope([{ values: raw, kind: 'source' }, { values: { inventory_hostname: h }, kind: 'data' }], { templar });
      v = renderedConnectionVars(raw, (k) => scope.get(k));
      cache.set(h, v);
    }
    return v;
  };
}
