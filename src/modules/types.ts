/**
 * The module contract. A module declares its arguments, says which facts it
 * needs, and plans: (arguments, facts) → changes, or a reason why nothing has
 * to change. The executor applies changes; check mode is planning without
 * applying, so no module ever knows whether it runs in check mode.
 */
import type { ShellCommand } from '../util/shell.js';
import type { FactRequests, FactValues } from '../facts/types.js';
import type { ArgSpecs, ArgsOf } from './argspec.js';
import type { HostFacts } from '../facts/host-facts.js';

/** What a change does, as data. Only the executor turns it into SSH calls. */
export type Change =
  | {
      kind: 'exec';
      command: ShellCommand;
      stdin?: string | Buffer;
      /** one line for -v output and errors, e.g. "mkdir /srv/data" */
      describe: string;
      /** The command's rc/stdout/stderr become the task's result (command, shell, raw). */
      returnsOutput?: boolean;
      /** Exit codes that count as success (default [0]). */
      okExitCodes?: readonly number[];
    }
  | {
      kind: 'write';
      path: string;
      content: string | Buffer;
      mode?: string;
      owner?: string;
      group?: string;
      backup?: boolean;
      validate?: string;
      describe: string;
    }
  | {
      kind: 'reboot';
      command: ShellCommand;
      /** seconds to wait for the host to come back */
      timeoutSeconds: number;
      describe: string;
      testCommand: ShellCommand;
    };

export interface FileDiff {
  path: string;
  before: string;
  after: string;
  /** Labels for the diff header, e.g. "before: /etc/motd". */
  beforeHeader?: string;
  afterHeader?: string;
}

export interface Plan {
  /** What to do; empty means "nothing to change". */
  changes: Change[];
  /** Why nothing has to change, in a sentence ("directory /srv exists"). */
  noopReason?: string;
  /** Extra return values for `register` (stat results, checksums, ...). */
  result?: Record<string, unknown>;
  diff?: FileDiff[];
  /**
   * The task cannot run as asked. `missing` names a prerequisite (a package,
   * a unit, a file) that an earlier task may create: in check mode, where
   * that earlier task did not really run, the executor reports "would
   * change" instead of a failure when an earlier task on the host predicted
   * changes.
   */
  failure?: { message: string; missing?: string };
  /** Controller-side modules: facts to set (set_fact) or per-host values. */
  setFacts?: Record<string, unknown>;
  /** include_vars: variables at include_vars precedence for the host. */
  includeVars?: Record<string, unknown>;
  /** Controller-side modules that end the play for the host or the run (meta). */
  meta?: MetaAction;
}

export type MetaAction = 'flush_handlers' | 'end_play' | 'end_host' | 'clear_facts' | 'noop' | 'refresh_inventory' | 'clear_host_errors' | 'reset_connection';

export interface ModuleContext {
  /** inventory name of the host */
  host: string;
  /** Gathered host facts (os family, service manager, ...), read once per host. */
  facts: HostFacts;
  /** Read content for a change diff (only asked when --diff is on, to keep the check to one round trip otherwise). */
  wantDiff: boolean;
  /** Reads a controller file, searching the role's files/ or templates/ dirs first, then the playbook dir. */
  readControllerFile(path: string, kind: 'files' | 'templates' | 'vars'): Promise<Buffer>;
  /** Resolves a controller path the same way (role dir first), without reading it. */
  findControllerFile(path: string, kind: 'files' | 'templates' | 'vars'): string;
  /** Renders a controller template file with the task's variables. */
  renderTemplate(path: string): Promise<string>;
  /** Looks a variable up in the task's scope (debug var=, assert). */
  lookupVar(name: string): unknown;
  /** Evaluates a Jinja2 expression in the task's scope (assert that=, wait_for). */
  evaluate(expression: string): unknown;
}

export interface ModuleDefinition<S extends ArgSpecs = ArgSpecs, R extends FactRequests = FactRequests> {
  /** short name, e.g. 'copy' */
  name: string;
  /** collections it is known under, e.g. ['ansible.builtin'] → ansible.builtin.copy */
  collections: readonly string[];
  /** other accepted names, e.g. systemd_service → ['systemd'] */
  aliases?: readonly string[];
  description: string;
  args: S;
  /** set_fact-style modules: any valid variable name is an argument. */
  acceptsAnyArgs?: boolean;
  /** Argument that free-form text (`command: ls -l`) maps to. */
  freeForm?: keyof S & string;
  returns?: Record<string, string>;
  example: string;
  /** 'controller' modules run no command on the host (debug, set_fact, assert, fail, meta). */
  runsOn: 'host' | 'controller';
  /** Cross-argument checks (mutually exclusive, required together), after types are checked. */
  check?(args: ArgsOf<S>): void;
  /** Facts to read from the host, all in one round trip. */
  facts?(args: ArgsOf<S>, ctx: ModuleContext): R;
  plan(args: ArgsOf<S>, facts: FactValues<R>, ctx: ModuleContext): Plan | Promise<Plan>;
}

/** Declares a module with its argument and fact types inferred. */
export function defineModule<S extends ArgSpecs, R extends FactRequests = Record<string, never>>(
  def: ModuleDefinition<S, R>,
): ModuleDefinition<S, R> {
  return def;
}

export type AnyModule = ModuleDefinition<ArgSpecs, FactRequests>;
