/**
 * Runs one task on one host: conditions, loop items, arguments, facts (one
 * round trip), plan, and, outside check mode, apply. Returns what happened;
 * the playbook runner does the bookkeeping and the events.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatLocation, RemoteError, TsibleError, UnreachableError, type SourceLocation } from '../errors.js';
import type { Connection, BecomeSpec } from '../connection/types.js';
import { hostFactsFact, type HostFacts } from '../facts/host-facts.js';
import { factRequest, type FactRequests } from '../facts/types.js';
import { ArgError, toBool, validateArgs } from '../modules/argspec.js';
import type { FileDiff, MetaAction, ModuleContext, Plan } from '../modules/types.js';
import type { NodeCommon, Play, TaskNode } from '../playbook/ast.js';
import { applyChanges, outputFields } from './apply.js';
import { readFacts } from './facts-batch.js';
import type { HostRun } from './host-run.js';
import { LoopError, loopItems } from './loop.js';
import { Templar, VarScope, stripOmit } from './templating.js';

export interface TaskEnvironment {
  templar: Templar;
  play: Play;
  check: boolean;
  diff: boolean;
  verbosity: number;
  /** opens (or reuses) the connection to `target`, using `host`'s scope for templated connection vars */
  connect(target: string, scope: VarScope): Promise<Connection>;
  /** after a reboot: drop and reopen the connection */
  reconnect(target: string, scope: VarScope, timeoutSeconds: number): Promise<Connection>;
  become(chain: readonly NodeCommon[], scope: VarScope): BecomeSpec | undefined;
  verbose(level: number, host: string, message: string): void;
  commandTimeoutMs?: number;
}

export interface ItemOutcome {
  status: 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';
  result: Record<string, unknown>;
  label?: string;
  msg?: string;
  reason?: string;
  diff?: FileDiff[];
  command?: string;
  stderr?: string;
  predicted?: boolean;
  setFacts?: Record<string, unknown>;
  includeVars?: Record<string, unknown>;
  meta?: MetaAction;
}

export interface TaskOutcome {
  status: ItemOutcome['status'];
  /** what `register` stores */
  result: Record<string, unknown>;
  items: ItemOutcome[];
  looped: boolean;
  ignored: boolean;
  delegatedTo?: string;
}

const NO_LOG_RESULT = { censored: "the output has been hidden due to the fact that 'no_log: true' was specified for this result" };

function effective<T>(chain: readonly NodeCommon[], pick: (n: NodeCommon) => T | undefined): T | undefined {
  for (let i = chain.length - 1; i >= 0; i--) {
    const v = pick(chain[i]!);
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

function errorText(err: unknown): string {
  if (err instanceof TsibleError) {
    const where = err.location ? `\n${formatLocation(err.location)}` : '';
    return `${err.message}${where}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export async function runTaskOnHost(env: TaskEnvironment, run: HostRun, task: TaskNode, chain: readonly NodeCommon[], scope: VarScope): Promise<TaskOutcome> {
  const full = [...chain, task];
  const ignoreErrors = boolOf(env, effective(full, (n) => n.ignoreErrors) ?? env.play.ignoreErrors, scope, task.location);
  const noLog = boolOf(env, effective(full, (n) => n.noLog) ?? env.play.noLog, scope, task.location);
  let delegatedTo: string | undefined;
  try {
    const d = effective(full, (n) => n.delegateTo);
    if (d !== undefined) delegatedTo = String(env.templar.renderValue(d, scope, task.location));
  } catch (err) {
    return single({ status: 'failed', result: { failed: true, msg: errorText(err) }, msg: errorText(err) }, ignoreErrors);
  }

  const conditions = full.flatMap((n) => n.when);
  if (!task.loop) {
    const skip = evaluateWhen(env, conditions, scope, task.location);
    if (skip) return single(skip, false, delegatedTo);
    const outcome = await runWithRetries(env, run, task, full, scope, delegatedTo);
    return single(noLog ? censor(outcome) : outcome, ignoreErrors, delegatedTo);
  }

  let items: unknown[];
  try {
    items = loopItems(task.loop, env.templar.renderValue(task.loop.items, scope, task.location));
  } catch (err) {
    const msg = err instanceof LoopError ? err.message : errorText(err);
    return single({ status: 'failed', result: { failed: true, msg }, msg }, ignoreErrors, delegatedTo);
  }
  const outcomes: ItemOutcome[] = [];
  for (const [index, item] of items.entries()) {
    const loopVars: Record<string, unknown> = { [task.loop.loopVar]: item, ansible_loop_var: task.loop.loopVar };
    if (task.loop.indexVar) loopVars[task.loop.indexVar] = index;
    loopVars.ansible_loop = {
      index: index + 1, index0: index, first: index === 0, last: index === items.length - 1, length: items.length,
      revindex: items.length - index, revindex0: items.length - index - 1, allitems: items,
      previtem: items[index - 1], nextitem: items[index + 1],
    };
    const itemScope = scope.child({ values: loopVars, kind: 'data' });
    const label = labelOf(env, task, item, itemScope);
    const skip = evaluateWhen(env, conditions, itemScope, task.location);
    let outcome = skip ?? (await runWithRetries(env, run, task, full, itemScope, delegatedTo));
    if (noLog) outcome = censor(outcome);
    outcome.label = label;
    outcome.result = { ...outcome.result, [task.loop.loopVar]: item, ansible_loop_var: task.loop.loopVar, item: item };
    outcomes.push(outcome);
    if (task.loop.pause) await sleep(task.loop.pause * 1000);
  }
  const anyFailed = outcomes.some((o) => o.status === 'failed');
  const anyUnreachable = outcomes.some((o) => o.status === 'unreachable');
  const anyChanged = outcomes.some((o) => o.status === 'changed');
  const allSkipped = outcomes.length === 0 || outcomes.every((o) => o.status === 'skipped');
  const status: ItemOutcome['status'] = anyUnreachable ? 'unreachable' : anyFailed ? 'failed' : anyChanged ? 'changed' : allSkipped ? 'skipped' : 'ok';
  const result: Record<string, unknown> = {
    changed: anyChanged,
    results: outcomes.map((o) => o.result),
    msg: anyFailed ? 'One or more items failed' : 'All items completed',
    skipped: allSkipped,
  };
  if (anyFailed) result.failed = true;
  return { status, result, items: outcomes, looped: true, ignored: anyFailed && ignoreErrors, delegatedTo };
}

function single(o: ItemOutcome, ignoreErrors: boolean, delegatedTo?: string): TaskOutcome {
  return { status: o.status, result: o.result, items: [o], looped: false, ignored: o.status === 'failed' && ignoreErrors, delegatedTo };
}

function censor(o: ItemOutcome): ItemOutcome {
  return { ...o, result: { ...NO_LOG_RESULT, changed: o.result.changed, failed: o.result.failed }, msg: o.msg ? NO_LOG_RESULT.censored : undefined, diff: undefined, stderr: undefined, command: undefined };
}

function boolOf(env: TaskEnvironment, v: unknown, scope: VarScope, where: SourceLocation): boolean {
  if (v === undefined || v === null) return false;
  return toBool(typeof v === 'string' ? env.templar.renderValue(v, scope, where) : v, 'value');
}

function labelOf(env: TaskEnvironment, task: TaskNode, item: unknown, scope: VarScope): string {
  try {
    const label = task.loop?.label !== undefined ? env.templar.renderValue(task.loop.label, scope, task.location) : item;
    return typeof label === 'string' ? label : JSON.stringify(label);
  } catch {
    return JSON.stringify(item);
  }
}

/** Returns a skip outcome when a condition is false, a failure when one cannot be evaluated, else undefined. */
function evaluateWhen(env: TaskEnvironment, conditions: readonly unknown[], scope: VarScope, where: SourceLocation): ItemOutcome | undefined {
  for (const cond of conditions) {
    try {
      if (!env.templar.isTrue(cond, scope, where)) {
        return { status: 'skipped', result: { changed: false, skipped: true, skip_reason: 'Conditional result was False', false_condition: cond }, reason: `condition false: ${String(cond)}` };
      }
    } catch (err) {
      const msg = `the condition "${String(cond)}" could not be evaluated: ${errorText(err)}`;
      return { status: 'failed', result: { failed: true, msg }, msg };
    }
  }
  return undefined;
}

async function runWithRetries(env: TaskEnvironment, run: HostRun, task: TaskNode, full: readonly NodeCommon[], scope: VarScope, delegatedTo?: string): Promise<ItemOutcome> {
  if (!task.until) return runOnce(env, run, task, full, scope, delegatedTo);
  const retries = task.retries === undefined ? 3 : Number(env.templar.renderValue(task.retries, scope, task.location));
  const delay = task.delay === undefined ? 5 : Number(env.templar.renderValue(task.delay, scope, task.location));
  let outcome: ItemOutcome | undefined;
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    outcome = await runOnce(env, run, task, full, scope, delegatedTo);
    outcome.result.attempts = attempt;
    if (outcome.status === 'unreachable') return outcome;
    const view = scope.child({ values: task.register ? { [task.register]: outcome.result } : {}, kind: 'data' });
    const done = task.until.every((c) => {
      try {
        return env.templar.isTrue(c, view, task.location);
      } catch {
        return false;
      }
    });
    if (done) return outcome;
    if (attempt <= retries) {
      env.verbose(0, run.name, `FAILED - RETRYING: ${task.name ?? task.action} (${retries - attempt + 1} retries left)`);
      await sleep(delay * 1000);
    }
  }
  const last = outcome!;
  return { ...last, status: 'failed', msg: last.msg ?? `Retries exhausted (${retries})`, result: { ...last.result, failed: true, msg: last.result.msg ?? 'Retries exhausted' } };
}

function controllerFinder(env: TaskEnvironment, task: TaskNode) {
  return (path: string, kind: 'files' | 'templates' | 'vars'): string => {
    if (isAbsolute(path)) return path;
    const dirs = [task.role ? join(task.role.path, kind) : undefined, task.role?.path, join(env.play.baseDir, kind), env.play.baseDir].filter((d): d is string => !!d);
    for (const d of dirs) {
      const p = join(d, path);
      if (existsSync(p)) return p;
    }
    throw new TsibleError(`could not find ${path} (looked in ${dirs.join(', ')})`, { location: task.location });
  };
}

async function runOnce(env: TaskEnvironment, run: HostRun, task: TaskNode, full: readonly NodeCommon[], scope: VarScope, delegatedTo?: string): Promise<ItemOutcome> {
  const module = task.module;
  let args: Record<string, unknown>;
  try {
    const rendered = stripOmit(env.templar.renderValue(task.args, scope, task.argsLocation)) as Record<string, unknown>;
    args = validateArgs(module.args, rendered, { allowUnknown: module.acceptsAnyArgs }) as Record<string, unknown>;
    module.check?.(args as never);
  } catch (err) {
    const msg = err instanceof ArgError ? `${module.name}: ${err.message}${err.hint ? ` (${err.hint})` : ''}` : errorText(err);
    return { status: 'failed', result: { failed: true, msg }, msg };
  }
  env.verbose(1, run.name, `${module.name} ${JSON.stringify(args)}`);

  const find = controllerFinder(env, task);
  const checkMode = task.checkMode === undefined ? env.check : boolOf(env, task.checkMode, scope, task.location);
  const wantDiff = task.diff === undefined ? env.diff : boolOf(env, task.diff, scope, task.location);
  let facts: HostFacts | undefined = run.facts;
  const ctx: ModuleContext = {
    host: run.name,
    get facts(): HostFacts {
      if (!facts) throw new TsibleError('host facts are not available');
      return facts;
    },
    wantDiff,
    findControllerFile: find,
    readControllerFile: async (path, kind) => readFile(find(path, kind)),
    renderTemplate: async (path) => {
      const file = find(path, 'templates');
      return env.templar.renderTemplateFile(await readFile(file, 'utf8'), scope, file);
    },
    lookupVar: (name) => scope.get(name),
    evaluate: (expr) => env.templar.evaluate(expr, scope, task.location),
  };

  const target = delegatedTo ?? run.name;
  let conn: Connection | undefined;
  let plan: Plan;
  const become = env.become(full, scope);
  const envVars = environmentOf(env, full, scope, task.location);
  const execOptions = { become, env: envVars, timeoutMs: env.commandTimeoutMs };
  try {
    if (module.runsOn === 'host') {
      conn = await env.connect(target, scope);
      // Modules may consult host facts (service manager, package manager) while choosing their facts:
      // without gather_facts, read them once first.
      if (!facts) {
        const host = await readFacts(conn, { host: factRequest(hostFactsFact, undefined) }, run.factCache, execOptions, run.name);
        facts = host.host as HostFacts;
        if (!delegatedTo) run.facts = facts;
      }
      const requests: FactRequests = { ...(module.facts?.(args as never, ctx) ?? {}) };
      const values = await readFacts(conn, requests, run.factCache, execOptions, run.name, (m) => env.verbose(2, run.name, m));
      plan = await module.plan(args as never, values as never, ctx);
    } else {
      plan = await module.plan(args as never, {} as never, ctx);
    }
  } catch (err) {
    return failureOutcome(err);
  }

  const base: Record<string, unknown> = { ...(plan.result ?? {}) };
  if (plan.failure) {
    // In check mode an earlier task that "would change" may be what provides the missing piece.
    if (checkMode && plan.failure.missing && run.predictedChanges > 0) {
      return { status: 'changed', predicted: true, result: { ...base, changed: true }, reason: `would change: assumes an earlier task provides ${plan.failure.missing}` };
    }
    return { status: 'failed', result: { ...base, failed: true, msg: plan.failure.message }, msg: plan.failure.message };
  }

  const willChange = plan.changes.length > 0;
  let applied = { rc: undefined as number | undefined } as ReturnType<typeof outputFields> & { rc?: number };
  if (willChange && !checkMode) {
    env.verbose(2, run.name, plan.changes.map((c) => `${c.kind}: ${c.describe}`).join('\n'));
    try {
      const out = await applyChanges(plan.changes, {
        conn: conn!,
        host: run.name,
        exec: execOptions,
        reconnect: async (timeoutSeconds) => env.reconnect(target, scope, timeoutSeconds),
        verbose: (m) => env.verbose(3, run.name, m),
      });
      applied = outputFields(out) as typeof applied;
    } catch (err) {
      return failureOutcome(err);
    }
  }

  const result: Record<string, unknown> = { ...base, ...applied, changed: willChange };
  if (plan.diff && wantDiff) result.diff = plan.diff.map((d) => ({ before: d.before, after: d.after, before_header: d.beforeHeader ?? d.path, after_header: d.afterHeader ?? d.path }));
  const predicted = willChange && checkMode;
  let status: ItemOutcome['status'] = willChange ? 'changed' : 'ok';
  let msg: string | undefined;
  if (typeof applied.rc === 'number' && applied.rc !== 0) {
    status = 'failed';
    msg = 'non-zero return code';
    result.failed = true;
    result.msg = msg;
  }
  // changed_when / failed_when see the result under its register name.
  const view = scope.child({ values: { ...(task.register ? { [task.register]: result } : {}) }, kind: 'data' });
  if (task.changedWhen) {
    const value = conditionValue(env, task.changedWhen, view, task.location, predicted);
    if (value !== undefined) {
      result.changed = value;
      if (status !== 'failed') status = value ? 'changed' : 'ok';
    }
  }
  if (task.failedWhen) {
    const value = conditionValue(env, task.failedWhen, view, task.location, predicted);
    if (value !== undefined) {
      result.failed = value;
      if (value) {
        status = 'failed';
        msg = msg ?? 'failed_when condition was true';
        result.msg = result.msg ?? msg;
      } else {
        delete result.msg;
        status = result.changed ? 'changed' : 'ok';
        msg = undefined;
      }
    }
  }
  if (predicted && status === 'changed') run.predictedChanges++;
  return {
    status,
    result,
    msg,
    reason: willChange ? undefined : plan.noopReason,
    diff: wantDiff ? plan.diff : undefined,
    predicted,
    setFacts: plan.setFacts,
    includeVars: plan.includeVars,
    meta: plan.meta,
    stderr: status === 'failed' && typeof result.stderr === 'string' ? result.stderr : undefined,
    command: status === 'failed' && typeof result.cmd === 'string' ? result.cmd : undefined,
  };
}

/** undefined = could not be known (check mode without the command's output). */
function conditionValue(env: TaskEnvironment, conds: readonly unknown[], scope: VarScope, where: SourceLocation, predicted: boolean): boolean | undefined {
  try {
    return conds.every((c) => env.templar.isTrue(c, scope, where));
  } catch (err) {
    if (predicted) return undefined;
    throw err;
  }
}

function failureOutcome(err: unknown): ItemOutcome {
  if (err instanceof UnreachableError) {
    return { status: 'unreachable', result: { unreachable: true, msg: err.message, changed: false }, msg: err.hint ? `${err.message} (${err.hint})` : err.message };
  }
  if (err instanceof RemoteError) {
    return {
      status: 'failed',
      result: { failed: true, msg: err.message, rc: err.exitCode ?? undefined, stderr: err.stderr, cmd: err.command },
      msg: err.message,
      command: err.command,
      stderr: err.stderr,
    };
  }
  const msg = errorText(err);
  return { status: 'failed', result: { failed: true, msg }, msg };
}

function environmentOf(env: TaskEnvironment, full: readonly NodeCommon[], scope: VarScope, where: SourceLocation): Record<string, string> | undefined {
  const layers = [env.play.environment, ...full.map((n) => n.environment)].filter((e) => e !== undefined && e !== null);
  if (layers.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const layer of layers) {
    const rendered = env.templar.renderValue(layer, scope, where);
    if (rendered === null || typeof rendered !== 'object' || Array.isArray(rendered)) {
      throw new TsibleError('environment must be a mapping of variable names to values', { location: where });
    }
    for (const [k, v] of Object.entries(rendered)) out[k] = String(v);
  }
  return out;
}
