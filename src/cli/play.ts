/** `tsible play`: run a playbook (ansible-playbook's options, same meanings). */
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { ConnectionManager } from '../connection/manager.js';
import { UsageError, ParseError } from '../errors.js';
import { PlaybookRunner } from '../executor/playbook-runner.js';
import { taskName } from '../executor/playbook-runner.js';
import { isSelected } from '../executor/tags.js';
import { loadPlaybook } from '../playbook/loader.js';
import type { Node, Playbook } from '../playbook/ast.js';
import { EventBus } from '../output/events.js';
import { attachJsonOutput } from '../output/json.js';
import { attachPlayText } from '../output/play-text.js';
import { attachLiveView } from '../output/live-view.js';
import type { PlayEvent } from '../output/play-events.js';
import { Redactor } from '../output/redact.js';
import { makeStyle } from '../output/style.js';
import { Templar } from '../template/index.js';
import { loadYaml } from '../util/yaml.js';
import { promptSecret, promptLine } from '../util/prompt.js';
import { loadVaultSecrets, VaultKeyring } from '../vault/secrets.js';
import { addConnectionOptions, addInventoryOption, collect, inventoryFrom, positiveInt, type ConnectionCliOptions } from './common.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

interface PlayOptions extends ConnectionCliOptions {
  inventory?: string[];
  check?: boolean;
  diff?: boolean;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  extraVars?: string[];
  forks: number;
  listHosts?: boolean;
  listTasks?: boolean;
  listTags?: boolean;
  syntaxCheck?: boolean;
  startAtTask?: string;
  forceHandlers?: boolean;
  askVaultPass?: boolean;
  vaultPasswordFile?: string[];
  vaultId?: string[];
  output: 'text' | 'json';
  verbose: number;
  commandTimeout?: number;
}

function splitTags(list: string[] | undefined): string[] {
  return (list ?? []).flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
}

/** -e k=v, -e '{"json": 1}', -e 'yaml: 1', -e @file.yml */
export function parseExtraVars(values: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of values) {
    if (v.startsWith('@')) {
      const file = v.slice(1);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read extra vars file ${file}: ${(err as NodeJS.ErrnoException).code}`);
      }
      const data = loadYaml(file, text);
      if (data === null) continue;
      if (typeof data !== 'object' || Array.isArray(data)) throw new ParseError(`${file} must contain a mapping of variables`);
      Object.assign(out, data);
    } else if (/^\s*[{[]/.test(v)) {
      const data = loadYaml('-e', v);
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UsageError(`-e ${v}: expected a mapping`);
      Object.assign(out, data);
    } else {
      const eq = v.indexOf('=');
      if (eq <= 0) throw new UsageError(`-e ${v}: expected key=value, JSON/YAML, or @file`);
      // key=value pairs, several per -e as Ansible allows; values are strings.
      for (const part of v.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? []) {
        const i = part.indexOf('=');
        if (i <= 0) throw new UsageError(`-e ${part}: expected key=value`);
        out[part.slice(0, i)] = part.slice(i + 1).replace(/^(["'])(.*)\1$/, '$2');
      }
    }
  }
  return out;
}

export function registerPlayCommand(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('play')
    .summary('run a playbook')
    .description('Run an Ansible playbook against an inventory: tsible play site.yml -i hosts')
    .argument('<playbook...>', 'playbook file(s)');
  addInventoryOption(cmd);
  cmd
    .option('-C, --check', 'predict changes without making any (nothing on any host is changed)')
    .option('-D, --diff', 'show the differences in files that change (with --check: what would change)')
    .option('-l, --limit <pattern>', 'only run on hosts matching this pattern too')
    .option('-t, --tags <tags>', 'only run tasks with these tags (comma-separated, repeatable)', collect)
    .option('--skip-tags <tags>', 'skip tasks with these tags (comma-separated, repeatable)', collect)
    .option('-e, --extra-vars <vars>', 'variables: key=value, JSON/YAML, or @file (repeatable; highest precedence)', collect)
    .option('-f, --forks <n>', 'how many hosts to work on at once', positiveInt('--forks'), 32)
    .option('--list-hosts', 'list the hosts each play would run on, then exit')
    .option('--list-tasks', 'list the tasks of each play, then exit')
    .option('--list-tags', 'list the tags used, then exit')
    .option('--syntax-check', 'load and check the playbook (keywords, modules, arguments, template syntax), then exit')
    .option('--start-at-task <name>', 'start at the first task with this name')
    .option('--force-handlers', 'run notified handlers even on hosts that failed')
    .option('--ask-vault-pass', 'ask for the vault password')
    .option('--vault-password-file <file>', 'file (or executable) with the vault password (repeatable)', collect)
    .option('--vault-id <id>', 'vault identity label@source (repeatable)', collect)
    .option('--command-timeout <seconds>', 'kill any remote command that runs longer than this', positiveInt('--command-timeout'))
    .option('-v, --verbose', 'more output: -v results, -vv commands, -vvv connection detail', (_v: string, prev: number) => prev + 1, 0)
    .addOption(new Option('-o, --output <format>', 'output format (json: one event per line)').choices(['text', 'json']).default('text'));
  addConnectionOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Variable precedence (lowest first): role defaults, inventory vars (group_vars/host_vars next to the
inventory), group_vars/host_vars next to the playbook, facts, play vars, vars_prompt, vars_files,
role vars, block vars, task vars, include_vars, set_fact/register, role params, include params, -e.

Exit codes: 0 ok, 2 some host failed, 4 some host unreachable (6 both), 1 usage or parse error, 99 interrupted.`,
  );
  cmd.action(async (playbooks: string[], opts: PlayOptions) => {
    setExit(await playCommand(playbooks, opts));
  });
}

function listTasks(nodes: readonly Node[], inherited: string[], out: string[], filter: { only: string[]; skip: string[] }): void {
  for (const n of nodes) {
    const tags = [...inherited, ...n.tags];
    if (n.kind === 'block') listTasks([...n.block, ...n.rescue, ...n.always], tags, out, filter);
    else if (n.kind === 'task') {
      if (isSelected(tags, filter)) out.push(`      ${taskName(n)}\tTAGS: [${[...new Set(tags)].join(', ')}]`);
    } else out.push(`      ${n.what === 'tasks' ? 'include_tasks' : 'include_role'}: ${String(n.target)}\tTAGS: [${tags.join(', ')}]`);
  }
}

function collectTags(nodes: readonly Node[], into: Set<string>): void {
  for (const n of nodes) {
    n.tags.forEach((t) => into.add(t));
    if (n.kind === 'block') collectTags([...n.block, ...n.rescue, ...n.always], into);
  }
}

async function playCommand(files: string[], opts: PlayOptions): Promise<number> {
  const style = makeStyle(process.stdout);
  const redactor = new Redactor();
  const secrets = await loadVaultSecrets({ passwordFiles: opts.vaultPasswordFile, vaultIds: opts.vaultId, ask: opts.askVaultPass });
  const keyring = new VaultKeyring(secrets);
  const templar = new Templar({
    decryptVault: (v) => {
      const text = keyring.decryptText(v);
      redactor.add(text);
      return text;
    },
  });
  const loaderOptions = { checkTemplate: (source: string, where: import('../errors.js').SourceLocation) => templar.checkSyntax(source, where) };
  const playbooks: Playbook[] = files.map((f) => loadPlaybook(f, loaderOptions));
  if (opts.syntaxCheck) {
    for (const p of playbooks) process.stdout.write(`\nplaybook: ${p.file}\n`);
    return EXIT.ok;
  }
  const inventory = await inventoryFrom(opts.inventory, (ciphertext, file) => {
    const text = keyring.decrypt(ciphertext, file).toString('utf8');
    return text;
  });
  const tags = { only: splitTags(opts.tags), skip: splitTags(opts.skipTags) };
  const extraVars = parseExtraVars(opts.extraVars ?? []);

  if (opts.listHosts || opts.listTasks || opts.listTags) {
    for (const pb of playbooks) {
      process.stdout.write(`\nplaybook: ${pb.file}\n`);
      for (const play of pb.plays) {
        process.stdout.write(`\n  play #${pb.plays.indexOf(play) + 1} (${String(play.hosts)}): ${play.name}\tTAGS: [${play.tags.join(', ')}]\n`);
        if (opts.listHosts) {
          let hosts = inventory.selectHosts(String(play.hosts));
          if (opts.limit) {
            const lim = new Set(inventory.selectHosts(opts.limit));
            hosts = hosts.filter((h) => lim.has(h));
          }
          process.stdout.write(`    pattern: ['${String(play.hosts)}']\n    hosts (${hosts.length}):\n${hosts.map((h) => `      ${h}\n`).join('')}`);
        }
        if (opts.listTasks) {
          const lines: string[] = [];
          listTasks([...play.preTasks, ...play.roles, ...play.tasks, ...play.postTasks], play.tags, lines, tags);
          process.stdout.write(`    tasks:\n${lines.join('\n')}\n`);
        }
        if (opts.listTags) {
          const all = new Set<string>(play.tags);
          collectTags([...play.preTasks, ...play.roles, ...play.tasks, ...play.postTasks], all);
          process.stdout.write(`      TASK TAGS: [${[...all].sort().join(', ')}]\n`);
        }
      }
    }
    return EXIT.ok;
  }

  const becomePassword = opts.askBecomePass ? await promptSecret('BECOME password: ') : undefined;
  redactor.add(becomePassword);
  const bus = new EventBus<PlayEvent>((e) => redactor.redact(e));
  if (opts.output === 'json') attachJsonOutput(bus, (s) => process.stdout.write(s));
  else if (process.stdout.isTTY && opts.verbose === 0 && !process.env.TSIBLE_NO_LIVE) attachLiveView(bus, { style, out: (s) => process.stdout.write(s) });
  else attachPlayText(bus, { style, out: (s) => process.stdout.write(s), verbosity: opts.verbose, width: Math.min(process.stdout.columns || 80, 120) });

  const manager = new ConnectionManager({
    knownHostsPath: opts.knownHosts,
    hostKeyPolicy: opts.acceptNew ? 'accept-new' : 'strict',
    askPassphrase: (path) => promptSecret(`Enter passphrase for key '${path}': `),
    debug: opts.verbose >= 3 ? (host, msg) => bus.emit({ type: 'verbose', level: 3, host, message: msg }) : undefined,
  });
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(EXIT.interrupted);
    abort.abort();
    process.stderr.write('\n[interrupted: finishing running tasks; press Ctrl-C again to quit at once]\n');
  };
  process.on('SIGINT', onSigint);
  let failed = 0;
  let unreachable = 0;
  let interrupted = false;
  try {
    for (const playbook of playbooks) {
      const runner = new PlaybookRunner({
        inventory,
        playbook,
        check: !!opts.check,
        diff: !!opts.diff,
        forks: opts.forks,
        limit: opts.limit,
        tags,
        startAtTask: opts.startAtTask,
        extraVars,
        forceHandlers: !!opts.forceHandlers,
        connect: {
          user: opts.user,
          privateKeyFile: opts.privateKey,
          connectTimeoutMs: opts.timeout * 1000,
          become: opts.become || opts.askBecomePass || undefined,
          becomeUser: opts.becomeUser,
          becomePassword,
        },
        knownHostsPath: opts.knownHosts,
        manager,
        bus,
        templar,
        verbosity: opts.verbose,
        signal: abort.signal,
        loader: loaderOptions,
        commandTimeoutMs: opts.commandTimeout ? opts.commandTimeout * 1000 : undefined,
        prompt: (q, secret) => (secret ? promptSecret(q) : promptLine(q)),
      });
      const result = await runner.run();
      for (const s of Object.values(result.stats)) {
        if (s.failed) failed++;
        if (s.unreachable) unreachable++;
      }
      if (result.interrupted) {
        interrupted = true;
        break;
      }
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    await manager.closeAll();
  }
  if (interrupted) return EXIT.interrupted;
  return exitCodeFor(failed, unreachable);
}
