/**
 * Runs a playbook: plays, batches (serial), fact gathering, blocks with
 * rescue/always, includes, handlers, and the linear and free strategies.
 * Parallelism comes from `forEachHost` only.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, dirname } from 'node:path';
import pLimit from 'p-limit';
import { formatLocation, TsibleError, UnreachableError, UsageError, type SourceLocation } from '../errors.js';
import type { ConnectionManager } from '../connection/manager.js';
import type { BecomeSpec, Connection } from '../connection/types.js';
import { hostFactsFact } from '../facts/host-facts.js';
import { LOCALHOST_NAMES, type Inventory } from '../inventory/index.js';
import { toBool } from '../modules/argspec.js';
import type { BlockNode, IncludeNode, Node, NodeCommon, Play, Playbook, TaskNode } from '../playbook/ast.js';
import { loadIncludedTasks, loadRoleForInclude, loadVarsFile, type LoaderOptions } from '../playbook/loader.js';
import type { EventBus } from '../output/events.js';
import type { HostStats, PlayEvent } from '../output/play-events.js';
import { becomeFor, connectionSpecFor, knownHostsFileFor, renderedConnectionVars, type ConnectOverrides } from './connect.js';
import { readFacts } from './facts-batch.js';
import { HostRun } from './host-run.js';
import { loopItems } from './loop.js';
import { forEachHost } from './runner.js';
import { hostLayers, taskScope, type ScopeContext } from './scope.js';
import { batches } from './serial.js';
import { isSelected, type TagFilter } from './tags.js';
import { runTaskOnHost, type TaskEnvironment, type TaskOutcome } from './task-runner.js';
import { Templar, VarScope } from './templating.js';

export interface PlaybookRunOptions {
  inventory: Inventory;
  playbook: Playbook;
  check: boolean;
  diff: boolean;
  forks: number;
  limit?: string;
  tags: TagFilter;
  startAtTask?: string;
  extraVars: Record<string, unknown>;
  forceHandlers: boolean;
  connect: ConnectOverrides;
  knownHostsPath?: string;
  manager: ConnectionManager;
  bus: EventBus<PlayEvent>;
  templar: Templar;
  verbosity: number;
  signal: AbortSignal;
  loader: LoaderOptions;
  commandTimeoutMs?: number;
  /** asks vars_prompt questions */
  prompt: (question: string, secret: boolean) => Promise<string>;
}

export interface PlaybookResult {
  stats: Record<string, HostStats>;
  interrupted: boolean;
}

interface PlayState {
  play: Play;
  scopeCtx: ScopeContext;
  env: TaskEnvironment;
  /** every host of the play (all batches), for ansible_play_hosts_all */
  allHosts: string[];
  batch: string[];
  handlers: TaskNode[];
  aborted: boolean;
  startAtPending: boolean;
}

export class PlaybookRunner {
  private readonly hosts = new Map<string, HostRun>();
  private readonly playbookVarCache = new Map<string, Record<string, unknown>>();
  private startAtPending: boolean;
  private interrupted = false;

  constructor(private readonly o: PlaybookRunOptions) {
    this.startAtPending = !!o.startAtTask;
  }

  private host(name: string): HostRun {
    let h = this.hosts.get(name);
    if (!h) {
      h = new HostRun(name);
      this.hosts.set(name, h);
    }
    return h;
  }

  async run(): Promise<PlaybookResult> {
    const started = Date.now();
    this.o.bus.emit({ type: 'playbook_start', file: this.o.playbook.file, check: this.o.check, diff: this.o.diff });
    for (const play of this.o.playbook.plays) {
      if (this.o.signal.aborted) break;
      await this.runPlay(play);
    }
    this.interrupted = this.o.signal.aborted;
    const stats: Record<string, HostStats> = {};
    for (const [name, h] of this.hosts) stats[name] = h.stats;
    this.o.bus.emit({ type: 'play_recap', stats, durationMs: Date.now() - started });
    this.o.bus.emit({ type: 'playbook_end', durationMs: Date.now() - started, interrupted: this.interrupted });
    return { stats, interrupted: this.interrupted };
  }

  // ------------------------------------------------------------ plays

  private playHosts(play: Play, templar: Templar): string[] {
    const scope = new VarScope([{ values: play.vars, kind: 'source' }, { values: this.o.extraVars, kind: 'source' }]);
    let pattern: unknown;
    try {
      pattern = templar.renderValue(play.hosts, scope, play.location);
    } catch (err) {
      throw new UsageError(`cannot resolve hosts: of play "${play.name}": ${err instanceof Error ? err.message : err}`, { location: play.location });
    }
    const text = Array.isArray(pattern) ? pattern.join(':') : String(pattern);
    let hosts = this.o.inventory.selectHosts(text);
    if (this.o.limit) {
      const limited = new Set(this.o.inventory.selectHosts(this.o.limit));
      hosts = hosts.filter((h) => limited.has(h));
    }
    if (play.order === 'reverse_inventory') hosts.reverse();
    else if (play.order === 'sorted') hosts.sort();
    else if (play.order === 'reverse_sorted') hosts.sort().reverse();
    else if (play.order === 'shuffle') hosts.sort(() => Math.random() - 0.5);
    // Hosts that failed or were unreachable in an earlier play stay out, as in Ansible.
    return hosts.filter((h) => !this.hosts.get(h) || (!this.hosts.get(h)!.failed && !this.hosts.get(h)!.unreachable));
  }

  private async runPlay(play: Play): Promise<void> {
    const templar = this.o.templar;
    const allHosts = this.playHosts(play, templar);
    for (const h of allHosts) this.host(h).ended = false;
    const promptVars = await this.askVarsPrompt(play);
    const varsFilesCache = new Map<string, Record<string, unknown>>();
    const state: PlayState = {
      play,
      allHosts,
      batch: [],
      handlers: [...play.handlers],
      aborted: false,
      startAtPending: this.startAtPending,
      scopeCtx: undefined as unknown as ScopeContext,
      env: undefined as unknown as TaskEnvironment,
    };
    state.scopeCtx = {
      inventory: this.o.inventory,
      play,
      playbookVars: (h) => this.playbookVars(play, h),
      varsFiles: (h) => {
        let v = varsFilesCache.get(h);
        if (!v) {
          v = this.loadVarsFiles(play, h, state);
          varsFilesCache.set(h, v);
        }
        return v;
      },
      promptVars,
      extraVars: this.o.extraVars,
      hosts: this.hosts,
      magic: (h) => this.magicVars(h, state),
    };
    state.env = this.taskEnvironment(state);

    const groups = batches(allHosts, play.serial === undefined ? undefined : templar.renderValue(play.serial, new VarScope([{ values: play.vars, kind: 'source' }]), play.location));
    for (const [i, batch] of groups.entries()) {
      if (this.o.signal.aborted || state.aborted) break;
      state.batch = batch;
      this.o.bus.emit({ type: 'play_start', name: play.name, hosts: batch, batch: groups.length > 1 ? { index: i + 1, of: groups.length } : undefined });
      if (batch.length === 0) continue;
      await this.runBatch(state);
      // A batch where every host failed stops the play, as in Ansible.
      if (batch.every((h) => !this.host(h).active && !this.host(h).ended)) break;
    }
  }

  private async runBatch(state: PlayState): Promise<void> {
    const { play } = state;
    if (play.gatherFacts) await this.gatherFacts(state);
    const sections: { nodes: Node[] }[] = [{ nodes: play.preTasks }, { nodes: [...play.roles, ...play.tasks] }, { nodes: play.postTasks }];
    if (play.strategy === 'free') {
      const limit = pLimit(Math.max(1, this.o.forks));
      await Promise.all(
        state.batch.map((h) =>
          limit(async () => {
            for (const s of sections) {
              await this.runNodes(s.nodes, [h], [], state);
              await this.flushHandlers([h], state);
            }
          }),
        ),
      );
    } else {
      for (const s of sections) {
        await this.runNodes(s.nodes, state.batch, [], state);
        await this.flushHandlers(state.batch, state);
        if (state.aborted || this.o.signal.aborted) break;
      }
    }
    for (const h of state.batch) this.host(h).ended = false;
  }

  private async askVarsPrompt(play: Play): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const p of play.varsPrompt) {
      if (p.name in this.o.extraVars) continue;
      const suffix = p.default !== undefined ? ` [${String(p.default)}]` : '';
      let answer = await this.o.prompt(`${p.prompt}${suffix}: `, p.private);
      if (p.confirm) {
        const again = await this.o.prompt(`confirm ${p.prompt}: `, p.private);
        if (again !== answer) throw new UsageError(`the values entered for ${p.name} do not match`);
      }
      if (answer === '' && p.default !== undefined) answer = String(p.default);
      out[p.name] = answer;
    }
    return out;
  }

  private loadVarsFiles(play: Play, host: string, state: PlayState): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (play.varsFiles.length === 0) return out;
    const scope = new VarScope([...hostLayers({ ...state.scopeCtx, varsFiles: () => ({}) }, host), { values: this.magicVars(host, state), kind: 'data' }]);
    for (const entry of play.varsFiles) {
      // A list means "the first of these that exists".
      const candidates = (Array.isArray(entry) ? entry : [entry]).map((e) => String(this.o.templar.renderValue(e, scope, play.location)));
      const found = candidates.map((c) => (isAbsolute(c) ? c : join(play.baseDir, c))).find((p) => existsSync(p));
      if (!found) throw new TsibleError(`vars file not found: ${candidates.join(' or ')}`, { location: play.location, host });
      Object.assign(out, loadVarsFile(found, play.location));
    }
    return out;
  }

  /** group_vars/ and host_vars/ next to the playbook (those next to the inventory come with it). */
  private playbookVars(play: Play, host: string): Record<string, unknown> {
    const key = `${play.baseDir}\0${host}`;
    let v = this.playbookVarCache.get(key);
    if (v) return v;
    v = {};
    const inv = this.o.inventory;
    const groups = inv.hasHost(host) ? inv.groupsOf(host) : ['all'];
    const ordered = ['all', ...groups.filter((g) => g !== 'all')];
    for (const g of ordered) Object.assign(v, readVarsDir(join(play.baseDir, 'group_vars'), g));
    Object.assign(v, readVarsDir(join(play.baseDir, 'host_vars'), host));
    this.playbookVarCache.set(key, v);
    return v;
  }

  private magicVars(host: string, state: PlayState): Record<string, unknown> {
    const inv = this.o.inventory;
    const groups: Record<string, string[]> = { all: inv.hostNames() };
    for (const g of inv.groupNames()) groups[g] = inv.groupHosts(g);
    const run = this.hosts.get(host);
    return {
      inventory_hostname: host,
      inventory_hostname_short: host.split('.')[0],
      group_names: inv.hasHost(host) ? inv.groupsOf(host).filter((g) => g !== 'all' && g !== 'ungrouped').sort() : [],
      groups,
      hostvars: this.hostvarsProxy(state),
      play_hosts: state.batch.filter((h) => this.host(h).active),
      ansible_play_hosts: state.batch.filter((h) => this.host(h).active),
      ansible_play_batch: state.batch,
      ansible_play_hosts_all: state.allHosts,
      ansible_play_name: state.play.name,
      playbook_dir: dirname(this.o.playbook.file),
      ansible_check_mode: this.o.check,
      ansible_diff_mode: this.o.diff,
      ansible_forks: this.o.forks,
      ansible_run_tags: this.o.tags.only.length ? this.o.tags.only : ['all'],
      ansible_skip_tags: this.o.tags.skip,
      ansible_version: { full: '2.17.0', major: 2, minor: 17, revision: 0, string: '2.17.0 (tsible)' },
      ansible_failed_task: run?.failedTask,
      ansible_failed_result: run?.failedResult,
    };
  }

  /** hostvars['x'].y: each host's variables, templated lazily in that host's own scope. */
  private hostvarsProxy(state: PlayState): Record<string, unknown> {
    const scopes = new Map<string, VarScope>();
    const scopeOf = (h: string) => {
      let s = scopes.get(h);
      if (!s) {
        s = new VarScope([...hostLayers(state.scopeCtx, h), { values: { inventory_hostname: h, inventory_hostname_short: h.split('.')[0] }, kind: 'data' }]);
        scopes.set(h, s);
      }
      return s;
    };
    const inv = this.o.inventory;
    return new Proxy({} as Record<string, unknown>, {
      get: (_t, prop) => {
        if (typeof prop !== 'string' || !inv.hasHost(prop)) return undefined;
        return scopeOf(prop).asObject();
      },
      has: (_t, prop) => typeof prop === 'string' && inv.hasHost(prop),
      ownKeys: () => inv.hostNames(),
      getOwnPropertyDescriptor: (_t, prop) => (typeof prop === 'string' && inv.hasHost(prop) ? { enumerable: true, configurable: true, value: scopeOf(prop).asObject() } : undefined),
    });
  }

  // ------------------------------------------------------------ connections

  private taskEnvironment(state: PlayState): TaskEnvironment {
    const o = this.o;
    return {
      templar: o.templar,
      play: state.play,
      check: o.check || (state.play.checkMode !== undefined && toBool(state.play.checkMode)),
      diff: o.diff || (state.play.diff !== undefined && toBool(state.play.diff)),
      verbosity: o.verbosity,
      commandTimeoutMs: o.commandTimeoutMs,
      connect: (target, scope) => this.connect(target, scope, state),
      reconnect: (target, scope, timeoutSeconds) => this.reconnect(target, scope, timeoutSeconds, state),
      become: (chain, scope) => this.becomeFor(chain, scope, state),
      verbose: (level, host, message) => {
        if (o.verbosity >= level) o.bus.emit({ type: 'verbose', level, host, message });
      },
    };
  }

  /** Connection variables of `target`, templated in the scope of the host the task runs for. */
  private connectionVarsOf(target: string, scope: VarScope, state: PlayState): Record<string, unknown> {
    const inv = this.o.inventory;
    const raw = inv.hasHost(target) || LOCALHOST_NAMES.includes(target) ? inv.hostVars(target) : {};
    const isSelf = target === scope.get('inventory_hostname');
    const targetScope = isSelf ? scope : new VarScope([...hostLayers(state.scopeCtx, target), { values: this.magicVars(target, state), kind: 'data' }], { templar: this.o.templar });
    const out = renderedConnectionVars(raw, (k) => targetScope.get(k));
    // Connection variables set by the play or the task (vars:) count too, as in Ansible.
    if (isSelf) {
      for (const name of ['ansible_user', 'ansible_port', 'ansible_host', 'ansible_become', 'ansible_become_user', 'ansible_become_password', 'ansible_connection']) {
        if (scope.has(name)) out[name] = scope.get(name);
      }
    }
    return out;
  }

  private async connect(target: string, scope: VarScope, state: PlayState): Promise<Connection> {
    const vars = this.connectionVarsOf(target, scope, state);
    const spec = connectionSpecFor(target, vars, this.o.connect, this.o.inventory.hasHost(target));
    return this.o.manager.get(spec, this.o.knownHostsPath ?? knownHostsFileFor(vars));
  }

  private async reconnect(target: string, scope: VarScope, timeoutSeconds: number, state: PlayState): Promise<Connection> {
    this.o.manager.forget(target);
    const deadline = Date.now() + timeoutSeconds * 1000;
    let lastError: unknown;
    // Give the host time to actually go down before the first attempt.
    await new Promise((r) => setTimeout(r, 2000));
    while (Date.now() < deadline) {
      try {
        const conn = await this.connect(target, scope, state);
        const res = await conn.exec(hostFactsFact.command(undefined), {});
        if (res.exitCode === 0) return conn;
      } catch (err) {
        lastError = err;
        this.o.manager.forget(target);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new TsibleError(`host ${target} did not come back within ${timeoutSeconds} s: ${lastError instanceof Error ? lastError.message : lastError}`, { host: target });
  }

  private becomeFor(chain: readonly NodeCommon[], scope: VarScope, state: PlayState): BecomeSpec | undefined {
    const pick = <T>(f: (n: NodeCommon) => T | undefined, playValue: T | undefined): T | undefined => {
      for (let i = chain.length - 1; i >= 0; i--) {
        const v = f(chain[i]!);
        if (v !== undefined && v !== null) return v;
      }
      return playValue;
    };
    const render = (v: unknown) => (typeof v === 'string' ? this.o.templar.renderValue(v, scope) : v);
    const keyword = pick((n) => n.become, state.play.become);
    const host = String(scope.get('inventory_hostname'));
    const vars = this.connectionVarsOf(host, scope, state);
    const overrides: ConnectOverrides = { ...this.o.connect };
    if (keyword !== undefined) overrides.become = toBool(render(keyword), 'become');
    const user = pick((n) => n.becomeUser, state.play.becomeUser);
    if (user !== undefined) overrides.becomeUser = String(render(user));
    return becomeFor(vars, overrides);
  }

  // ------------------------------------------------------------ facts

  private async gatherFacts(state: PlayState): Promise<void> {
    const hosts = state.batch.filter((h) => this.host(h).active);
    const started = Date.now();
    this.o.bus.emit({ type: 'task_start', name: 'Gathering Facts', handler: false, location: formatLoc(state.play.location), hosts });
    await forEachHost(hosts, { forks: this.o.forks, signal: this.o.signal }, async (h) => {
      const run = this.host(h);
      const scope = taskScope(state.scopeCtx, h, []);
      try {
        const conn = await this.connect(h, scope, state);
        const become = this.becomeFor([], scope, state);
        const values = await readFacts(conn, { host: { fact: hostFactsFact as never, args: undefined } }, run.factCache, { become }, h);
        run.facts = values.host as typeof run.facts;
        delete run.hostFacts.ansible_facts;
        this.record(run, 'ok', false);
        this.o.bus.emit({ type: 'host_result', host: h, task: 'Gathering Facts', status: 'ok', durationMs: Date.now() - started });
      } catch (err) {
        const unreachable = err instanceof UnreachableError;
        const msg = err instanceof Error ? err.message : String(err);
        const hint = err instanceof TsibleError && err.hint ? ` (${err.hint})` : '';
        this.record(run, unreachable ? 'unreachable' : 'failed', false);
        if (unreachable) run.unreachable = true;
        else run.failed = true;
        this.o.bus.emit({ type: 'host_result', host: h, task: 'Gathering Facts', status: unreachable ? 'unreachable' : 'failed', msg: msg + hint, durationMs: Date.now() - started });
      }
    });
    this.afterTask(state, hosts);
  }

  // ------------------------------------------------------------ nodes

  private async runNodes(nodes: readonly Node[], hosts: readonly string[], chain: readonly NodeCommon[], state: PlayState): Promise<void> {
    for (const node of nodes) {
      if (this.o.signal.aborted || state.aborted) return;
      const active = hosts.filter((h) => this.host(h).active);
      if (active.length === 0) return;
      if (node.kind === 'task') await this.runTask(node, active, chain, state);
      else if (node.kind === 'block') await this.runBlock(node, active, chain, state);
      else await this.runInclude(node, active, chain, state);
    }
  }

  private async runBlock(block: BlockNode, hosts: readonly string[], chain: readonly NodeCommon[], state: PlayState): Promise<void> {
    const inner = [...chain, block];
    await this.runNodes(block.block, hosts, inner, state);
    const failedInBlock = hosts.filter((h) => this.host(h).failed && !this.host(h).unreachable);
    if (block.rescue.length && failedInBlock.length) {
      for (const h of failedInBlock) this.host(h).failed = false;
      await this.runNodes(block.rescue, failedInBlock, inner, state);
      for (const h of failedInBlock) {
        const run = this.host(h);
        if (run.active) {
          // A rescued failure is not a failure in the recap.
          run.stats.failed = Math.max(0, run.stats.failed - 1);
          run.stats.rescued++;
        }
      }
    }
    if (block.always.length) {
      const failedNow = hosts.filter((h) => this.host(h).failed && !this.host(h).unreachable);
      for (const h of failedNow) this.host(h).failed = false;
      await this.runNodes(block.always, hosts, inner, state);
      for (const h of failedNow) this.host(h).failed = true;
    }
  }

  private tagsOf(task: NodeCommon, chain: readonly NodeCommon[], state: PlayState): string[] {
    return [...state.play.tags, ...chain.flatMap((n) => n.tags), ...task.tags];
  }

  private async runTask(task: TaskNode, hosts: readonly string[], chain: readonly NodeCommon[], state: PlayState): Promise<void> {
    if (!isSelected(this.tagsOf(task, chain, state), this.o.tags)) return;
    if (this.startAtPending) {
      if (!matchesTaskName(task, this.o.startAtTask!)) return;
      this.startAtPending = false;
    }
    const meta = task.action === 'meta' ? String(task.args.action) : undefined;
    if (meta === 'flush_handlers') {
      await this.flushHandlers(hosts, state);
      return;
    }
    const name = taskName(task);
    const runOnce = truthyKeyword(this.o.templar, [...chain, task].map((n) => n.runOnce).reverse().find((v) => v !== undefined));
    const targets = runOnce ? hosts.slice(0, 1) : hosts;
    this.o.bus.emit({ type: 'task_start', name, role: task.role?.name, handler: !!task.handler, location: formatLoc(task.location), hosts: [...targets] });
    await forEachHost(targets, { forks: this.o.forks, signal: this.o.signal }, async (h) => {
      const run = this.host(h);
      const started = Date.now();
      this.o.bus.emit({ type: 'host_phase', host: h, task: name, phase: 'checking' });
      let outcome: TaskOutcome;
      try {
        const scope = taskScope(state.scopeCtx, h, chain);
        outcome = await runTaskOnHost(state.env, run, task, chain, scope);
      } catch (err) {
        const msg = err instanceof TsibleError ? err.message + (err.location ? `\n${formatLocation(err.location)}` : '') : err instanceof Error ? err.message : String(err);
        outcome = { status: 'failed', result: { failed: true, msg }, items: [{ status: 'failed', result: { failed: true, msg }, msg }], looped: false, ignored: false };
      }
      this.applyOutcome(run, task, outcome, state, started, runOnce ? hosts : [h]);
    });
    this.afterTask(state, hosts);
  }

  /** Bookkeeping after a task on a host: stats, register, facts, notifications, events. */
  private applyOutcome(run: HostRun, task: TaskNode, outcome: TaskOutcome, state: PlayState, started: number, resultHosts: readonly string[]): void {
    const name = taskName(task);
    for (const item of outcome.items) {
      this.o.bus.emit({
        type: 'host_result',
        host: run.name,
        task: name,
        action: task.action,
        role: task.role?.name,
        status: item.status,
        ignored: item.status === 'failed' ? outcome.ignored : undefined,
        item: outcome.looped ? item.label : undefined,
        delegatedTo: outcome.delegatedTo,
        msg: item.msg,
        reason: item.reason,
        diff: item.diff,
        result: item.result,
        command: item.command,
        stderr: item.stderr,
        location: formatLoc(task.location),
        durationMs: Date.now() - started,
        predicted: item.predicted,
      });
    }
    const status = outcome.status;
    for (const h of resultHosts) {
      const target = this.host(h);
      if (task.register) target.hostFacts[task.register] = outcome.result;
      for (const item of outcome.items) {
        if (item.setFacts && item.status !== 'failed') {
          for (const [k, v] of Object.entries(item.setFacts)) target.hostFacts[k] = v;
        }
        if (item.includeVars && item.status !== 'failed') Object.assign(target.includedVars, item.includeVars);
      }
    }
    if (status === 'unreachable') {
      const ignore = truthyKeyword(this.o.templar, task.ignoreUnreachable ?? state.play.ignoreUnreachable);
      // As Ansible counts it: the host stays in the play, and the result is ok and ignored.
      if (ignore) {
        run.stats.ok++;
        run.stats.ignored++;
      } else {
        run.unreachable = true;
        run.stats.unreachable++;
      }
      return;
    }
    if (status === 'failed') {
      if (outcome.ignored) {
        run.stats.ignored++;
        run.stats.ok++;
        return;
      }
      run.failed = true;
      run.failedTask = { name, action: task.action };
      run.failedResult = outcome.result;
      run.stats.failed++;
      return;
    }
    if (status === 'skipped') {
      run.stats.skipped++;
      return;
    }
    this.record(run, status, status === 'changed');
    if (status === 'changed' && task.notify.length) this.notify(run, task, state);
    for (const item of outcome.items) {
      if (!item.meta) continue;
      if (item.meta === 'end_host' || item.meta === 'end_play') {
        if (item.meta === 'end_play') for (const h of state.batch) this.host(h).ended = true;
        run.ended = true;
      } else if (item.meta === 'clear_facts') {
        run.facts = undefined;
        run.factCache.clear();
      } else if (item.meta === 'clear_host_errors') {
        for (const h of this.hosts.values()) h.failed = false;
      } else if (item.meta === 'reset_connection') {
        this.o.manager.forget(run.name);
      }
    }
  }

  private record(run: HostRun, status: 'ok' | 'changed' | 'failed' | 'unreachable', changed: boolean): void {
    if (status === 'ok' || status === 'changed') {
      run.stats.ok++;
      if (changed) run.stats.changed++;
    } else if (status === 'failed') run.stats.failed++;
    else run.stats.unreachable++;
  }

  private afterTask(state: PlayState, hosts: readonly string[]): void {
    const { play } = state;
    const down = hosts.filter((h) => this.host(h).failed || this.host(h).unreachable);
    if (down.length === 0) return;
    if (play.anyErrorsFatal) {
      this.o.bus.emit({ type: 'warning', message: `any_errors_fatal: stopping the play because ${down.join(', ')} failed` });
      state.aborted = true;
      return;
    }
    if (play.maxFailPercentage !== undefined) {
      const pct = (down.length / state.batch.length) * 100;
      if (pct > play.maxFailPercentage) {
        this.o.bus.emit({ type: 'warning', message: `max_fail_percentage ${play.maxFailPercentage}% exceeded (${pct.toFixed(0)}% failed): stopping the play` });
        state.aborted = true;
      }
    }
  }

  // ------------------------------------------------------------ includes

  private async runInclude(node: IncludeNode, hosts: readonly string[], chain: readonly NodeCommon[], state: PlayState): Promise<void> {
    if (!isSelected(this.tagsOf(node, chain, state), this.o.tags)) return;
    const templar = this.o.templar;
    // Resolve per host: whether it applies, which file/role, with which loop items; then group hosts that share a target.
    const groups = new Map<string, { target: string; item?: Record<string, unknown>; hosts: string[] }>();
    for (const h of hosts) {
      const scope = taskScope(state.scopeCtx, h, [...chain, node]);
      try {
        if (![...chain, node].flatMap((n) => n.when).every((c) => templar.isTrue(c, scope, node.location))) continue;
        const items = node.loop ? loopItems(node.loop, templar.renderValue(node.loop.items, scope, node.location)) : [undefined];
        items.forEach((item, i) => {
          const itemVars = node.loop ? { [node.loop.loopVar]: item, ...(node.loop.indexVar ? { [node.loop.indexVar]: i } : {}) } : undefined;
          const s = itemVars ? scope.child({ values: itemVars, kind: 'data' }) : scope;
          const target = String(templar.renderValue(node.target, s, node.location));
          const key = JSON.stringify([target, i]);
          const g = groups.get(key) ?? { target, item: itemVars, hosts: [] };
          g.hosts.push(h);
          groups.set(key, g);
        });
      } catch (err) {
        const run = this.host(h);
        run.failed = true;
        run.stats.failed++;
        this.o.bus.emit({ type: 'host_result', host: h, task: node.name ?? `include ${String(node.target)}`, status: 'failed', msg: err instanceof Error ? err.message : String(err), durationMs: 0 });
      }
    }
    for (const g of groups.values()) {
      const wrapper: NodeCommon = { ...node, when: [], vars: { ...node.params, ...(g.item ?? {}) } };
      if (node.what === 'tasks') {
        const nodes = loadIncludedTasks(g.target, node.baseDir, node.role, this.o.loader, node.location);
        this.o.bus.emit({ type: 'verbose', level: 1, message: `included: ${g.target} for ${g.hosts.join(', ')}` });
        await this.runNodes(nodes, g.hosts, [...chain, wrapper], state);
      } else {
        const files: Record<string, string> = {};
        for (const k of ['tasks_from', 'vars_from', 'defaults_from', 'handlers_from']) if (typeof node.options[k] === 'string') files[k] = node.options[k] as string;
        const loaded = loadRoleForInclude(g.target, state.play.baseDir, node.role, this.o.loader, files, node.params, node.location);
        for (const hnd of loaded.role.handlers) if (!state.handlers.includes(hnd)) state.handlers.push(hnd);
        const roleNode: NodeCommon = { location: node.location, when: [], tags: [], vars: {}, role: loaded.role };
        await this.runNodes(loaded.dependencies, g.hosts, [...chain, wrapper], state);
        await this.runNodes(loaded.tasks, g.hosts, [...chain, wrapper, roleNode], state);
      }
    }
  }

  // ------------------------------------------------------------ handlers

  private notify(run: HostRun, task: TaskNode, state: PlayState): void {
    for (const name of task.notify) {
      const matches = state.handlers.filter((h) => h.name === name || h.listen.includes(name) || (h.role && `${h.role.name} : ${h.name}` === name));
      if (matches.length === 0) {
        this.o.bus.emit({ type: 'warning', host: run.name, message: `the handler "${name}" notified by "${taskName(task)}" does not exist` });
        continue;
      }
      for (const m of matches) run.notified.add(m);
    }
  }

  private async flushHandlers(hosts: readonly string[], state: PlayState): Promise<void> {
    const force = this.o.forceHandlers || !!state.play.forceHandlers;
    for (const handler of state.handlers) {
      const notified = hosts.filter((h) => this.host(h).notified.has(handler) && (this.host(h).active || (force && !this.host(h).unreachable)));
      for (const h of hosts) this.host(h).notified.delete(handler);
      if (notified.length === 0) continue;
      const roleChain: NodeCommon[] = handler.role ? [{ location: handler.location, when: [], tags: [], vars: {}, role: handler.role }] : [];
      if (force) for (const h of notified) this.host(h).failed = false;
      await this.runTask(handler, notified, roleChain, state);
    }
  }
}

function readVarsDir(dir: string, name: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const candidate of [join(dir, name), join(dir, `${name}.yml`), join(dir, `${name}.yaml`), join(dir, `${name}.json`)]) {
    if (!existsSync(candidate)) continue;
    if (statSync(candidate).isDirectory()) {
      for (const f of readdirSync(candidate).sort()) {
        if (/\.(ya?ml|json)$/.test(f) || !f.includes('.')) Object.assign(out, loadVarsFile(join(candidate, f)));
      }
    } else Object.assign(out, loadVarsFile(candidate));
  }
  return out;
}

function formatLoc(l: SourceLocation): string {
  return `${l.file}:${l.line}:${l.col}`;
}

export function taskName(task: TaskNode): string {
  const base = task.name ?? task.action;
  return task.role ? `${task.role.name} : ${base}` : base;
}

function matchesTaskName(task: TaskNode, wanted: string): boolean {
  const n = task.name ?? task.action;
  return n === wanted || taskName(task) === wanted || new RegExp(`^${wanted.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(n);
}

function truthyKeyword(templar: Templar, v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'string' && /\{\{/.test(v)) return toBool(templar.renderValue(v, new VarScope([])));
  return toBool(v);
}
