/**
 * Table helpers for the system modules (apt, service, user, ...), on top of
 * the shared fake context in context.ts: a host's service manager can be
 * chosen (systemd or SysV init), and a plan is summarised as
 * `kind: describe` lines, with the command text checked where it matters.
 */
import { execFileSync } from 'node:child_process';
import { validateArgs } from '../../src/modules/argspec.js';
import type { Change, ModuleContext, ModuleDefinition, Plan } from '../../src/modules/types.js';
import type { HostFacts } from '../../src/facts/host-facts.js';
import { fakeContext, type ContextOptions } from './context.js';

export interface SystemContextOptions extends ContextOptions {
  serviceMgr?: HostFacts['serviceMgr'];
  /** controller files that findControllerFile knows (it throws for others) */
  controllerFiles?: Record<string, string | Buffer>;
}

export function systemContext(o: SystemContextOptions = {}): ModuleContext {
  const base = fakeContext({ ...o, files: { ...(o.files ?? {}), ...(o.controllerFiles ?? {}) } });
  const facts: HostFacts = { ...base.facts, serviceMgr: o.serviceMgr ?? 'systemd' };
  const known = { ...(o.files ?? {}), ...(o.controllerFiles ?? {}) };
  return {
    ...base,
    facts,
    findControllerFile(path) {
      if (known[path] === undefined) throw new Error(`could not find ${path}`);
      return `/controller/files/${path}`;
    },
  };
}

type AnyModule = ModuleDefinition<any, any>;

/** Validates like the loader, runs check(), then plans with the given (parsed) facts. */
export async function planRow(module: AnyModule, rawArgs: Record<string, unknown>, facts: object, o: SystemContextOptions = {}): Promise<Plan> {
  const args = validateArgs(module.args, rawArgs);
  module.check?.(args);
  return module.plan(args, facts as Record<string, unknown>, systemContext(o));
}

/** The fact requests for some arguments: key → {name, args, command text}. */
export function factRequests(module: AnyModule, rawArgs: Record<string, unknown>, o: SystemContextOptions = {}): Record<string, { name: string; args: unknown; command: string }> {
  const args = validateArgs(module.args, rawArgs);
  module.check?.(args);
  const reqs = (module.facts?.(args, systemContext(o)) ?? {}) as Record<string, { fact: { name: string; command(a: unknown): { text: string } }; args: unknown }>;
  return Object.fromEntries(Object.entries(reqs).map(([k, r]) => [k, { name: r.fact.name, args: r.args, command: r.fact.command(r.args).text }]));
}

/** `exec: <describe>`, `write: <describe>`, `reboot: <describe>`. */
export function summary(c: Change): string {
  return `${c.kind}: ${c.describe}`;
}

export interface SysExpect {
  /** each change as `kind: describe` (a RegExp matches it) */
  changes?: (string | RegExp)[];
  /** per change: the exec command text (exact string or RegExp), or the write path; undefined skips one */
  commands?: (string | RegExp | undefined)[];
  /** per change: exec stdin or write content; undefined skips one */
  data?: (string | RegExp | undefined)[];
  noop?: true | RegExp;
  failure?: RegExp;
  missing?: string;
  result?: Record<string, unknown>;
}

const matches = (want: string | RegExp, got: string) => (typeof want === 'string' ? want === got : want.test(got));

/** What a plan differs from a row's expectation in (empty when it matches). */
export function mismatches(plan: Plan, e: SysExpect): string[] {
  const out: string[] = [];
  const got = plan.changes.map(summary);
  if (e.failure) {
    if (!plan.failure) out.push(`expected failure ${e.failure}, got ${JSON.stringify(got)} / noop ${plan.noopReason}`);
    else {
      if (!e.failure.test(plan.failure.message)) out.push(`failure "${plan.failure.message}" does not match ${e.failure}`);
      if (e.missing !== undefined && plan.failure.missing !== e.missing) out.push(`failure.missing ${JSON.stringify(plan.failure.missing)} ≠ ${JSON.stringify(e.missing)}`);
    }
    return out;
  }
  if (plan.failure) return [`unexpected failure: ${plan.failure.message}`];
  if (e.noop) {
    if (got.length) out.push(`expected no change, got ${JSON.stringify(got)}`);
    if (!plan.noopReason) out.push('a no-op plan must say why');
    else if (e.noop instanceof RegExp && !e.noop.test(plan.noopReason)) out.push(`noop reason "${plan.noopReason}" does not match ${e.noop}`);
  } else if (got.length === 0) out.push(`expected changes, got none (noop: ${plan.noopReason})`);
  if (e.changes) {
    const ok = got.length === e.changes.length && e.changes.every((x, i) => matches(x, got[i]!));
    if (!ok) out.push(`changes:\n  got      ${JSON.stringify(got)}\n  expected ${JSON.stringify(e.changes.map(String))}`);
  }
  (e.commands ?? []).forEach((want, i) => {
    const c = plan.changes[i];
    if (want === undefined || !c) return;
    const text = c.kind === 'write' ? c.path : c.command.text;
    if (!matches(want, text)) out.push(`change ${i} command ${JSON.stringify(text)} ≠ ${want instanceof RegExp ? want : JSON.stringify(want)}`);
  });
  (e.data ?? []).forEach((want, i) => {
    const c = plan.changes[i];
    if (want === undefined || !c) return;
    const text = c.kind === 'write' ? c.content.toString() : c.kind === 'exec' ? String(c.stdin ?? '') : '';
    if (!matches(want, text)) out.push(`change ${i} data ${JSON.stringify(text)} ≠ ${want instanceof RegExp ? want : JSON.stringify(want)}`);
  });
  for (const [k, v] of Object.entries(e.result ?? {})) {
    if (JSON.stringify(plan.result?.[k]) !== JSON.stringify(v)) out.push(`result.${k} = ${JSON.stringify(plan.result?.[k])}, expected ${JSON.stringify(v)}`);
  }
  return out;
}

/** Throws unless /bin/sh -n accepts the text. */
export function assertShellSyntax(text: string, what: string): void {
  try {
    execFileSync('/bin/sh', ['-n', '-c', text], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`${what} is not valid sh: ${String((err as { stderr?: Buffer }).stderr ?? err)}\n${text}`);
  }
}

/** Every fact command and every exec command of the rows parses in sh -n; returns how many were checked. */
export async function checkRowsShellSyntax(
  module: AnyModule,
  rows: readonly { args: Record<string, unknown>; facts: object; ctx?: SystemContextOptions; expect: SysExpect }[],
): Promise<number> {
  let n = 0;
  for (const row of rows) {
    for (const [k, r] of Object.entries(factRequests(module, row.args, row.ctx))) {
      assertShellSyntax(r.command, `fact ${k} for ${JSON.stringify(row.args)}`);
      n++;
    }
    if (row.expect.failure) continue;
    const plan = await planRow(module, row.args, row.facts, row.ctx);
    for (const c of plan.changes) {
      if (c.kind === 'write') continue;
      assertShellSyntax(c.command.text, `change "${c.describe}"`);
      n++;
    }
  }
  return n;
}

/** Runs a fact command in the local /bin/sh with some commands replaced by shell functions. */
export function runFact(command: string, fakes: Record<string, string> = {}): string {
  const defs = Object.entries(fakes)
    .map(([name, body]) => `${name}() {\n${body}\n}`)
    .join('\n');
  return execFileSync('/bin/sh', ['-c', `${defs}\n(\n${command}\n)`], { stdio: ['pipe', 'pipe', 'pipe'] }).toString();
}
