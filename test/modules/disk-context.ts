/**
 * A fake ModuleContext and plan helpers for the disk, boot and network module
 * tables: arguments go through the real validation, facts are given as parsed
 * values, and a plan is summarised as data that a table row can state.
 */
import { execFileSync } from 'node:child_process';
import { validateArgs } from '../../src/modules/argspec.js';
import type { ModuleContext, ModuleDefinition, Plan, Change } from '../../src/modules/types.js';
import type { HostFacts } from '../../src/facts/host-facts.js';

export function fakeContext(files: Record<string, string | Buffer> = {}): ModuleContext {
  const facts: HostFacts = { osFamily: 'Debian', distribution: 'Debian', serviceMgr: 'systemd', pkgMgr: 'apt', ansible: {} };
  return {
    host: 'node1',
    facts,
    wantDiff: true,
    async readControllerFile(path) {
      const f = files[path];
      if (f === undefined) throw new Error(`no controller file ${path}`);
      return Buffer.isBuffer(f) ? f : Buffer.from(f);
    },
    findControllerFile(path) {
      if (files[path] === undefined) throw new Error(`no controller file ${path}`);
      return `/controller/${path}`;
    },
    async renderTemplate(path) {
      return String(files[path] ?? '');
    },
    lookupVar: () => undefined,
    evaluate: () => undefined,
  };
}

/** One change as a table row states it: the kind and the describe line, plus the command text for execs. */
export interface ChangeSummary {
  kind: Change['kind'];
  describe: string;
  command?: string;
  path?: string;
}

export function summarise(change: Change): ChangeSummary {
  switch (change.kind) {
    case 'exec':
      return { kind: 'exec', describe: change.describe, command: change.command.text };
    case 'write':
      return { kind: 'write', describe: change.describe, path: change.path };
    case 'reboot':
      return { kind: 'reboot', describe: change.describe, command: change.command.text };
  }
}

type AnyDef = ModuleDefinition<any, any>;

/** Validates the arguments like the loader does, runs check(), then plans with the given facts. */
export async function planWith(module: AnyDef, rawArgs: Record<string, unknown>, facts: Record<string, unknown>, files: Record<string, string | Buffer> = {}): Promise<Plan> {
  const args = validateArgs(module.args, rawArgs);
  module.check?.(args);
  return module.plan(args, facts, fakeContext(files));
}

/** The fact requests a module makes for some arguments (after validation). */
export function factsFor(
  module: AnyDef,
  rawArgs: Record<string, unknown>,
  files: Record<string, string | Buffer> = {},
): Record<string, { fact: { name: string; command(a: unknown): { text: string } }; args: unknown }> {
  const args = validateArgs(module.args, rawArgs);
  return (module.facts?.(args, fakeContext(files)) ?? {}) as never;
}

export interface Expectation {
  /** each change: kind + describe, and (optionally) a regex its command text must match */
  changes?: { kind: Change['kind']; describe: string | RegExp; command?: RegExp; content?: string | RegExp }[];
  noop?: true | RegExp;
  failure?: RegExp;
  result?: Record<string, unknown>;
}

/** Checks a plan against a row's expectation; returns a list of mismatches (empty when it matches). */
export function mismatches(plan: Plan, expect: Expectation): string[] {
  const out: string[] = [];
  if (expect.failure) {
    if (!plan.failure) out.push(`expected a failure matching ${expect.failure}, got none (changes: ${plan.changes.map((c) => c.describe).join('; ')})`);
    else if (!expect.failure.test(plan.failure.message)) out.push(`failure "${plan.failure.message}" does not match ${expect.failure}`);
    return out;
  }
  if (plan.failure) {
    out.push(`unexpected failure: ${plan.failure.message}`);
    return out;
  }
  if (expect.noop) {
    if (plan.changes.length > 0) out.push(`expected no change, got: ${plan.changes.map((c) => c.describe).join('; ')}`);
    if (expect.noop instanceof RegExp && !expect.noop.test(plan.noopReason ?? '')) out.push(`noop reason "${plan.noopReason}" does not match ${expect.noop}`);
    if (!plan.noopReason) out.push('a no-op plan must say why');
  }
  if (expect.changes) {
    const got = plan.changes.map(summarise);
    if (got.length !== expect.changes.length) out.push(`expected ${expect.changes.length} changes, got ${got.length}: ${got.map((c) => `${c.kind} ${c.describe}`).join('; ')}`);
    expect.changes.forEach((e, i) => {
      const g = got[i];
      const change = plan.changes[i];
      if (!g || !change) return;
      if (g.kind !== e.kind) out.push(`change ${i}: kind ${g.kind} ≠ ${e.kind}`);
      const describeOk = typeof e.describe === 'string' ? g.describe === e.describe : e.describe.test(g.describe);
      if (!describeOk) out.push(`change ${i}: describe "${g.describe}" ≠ ${e.describe}`);
      if (e.command && !(g.command !== undefined && e.command.test(g.command))) out.push(`change ${i}: command ${JSON.stringify(g.command)} does not match ${e.command}`);
      if (e.content !== undefined) {
        const content = change.kind === 'write' ? String(change.content) : change.kind === 'exec' ? String(change.stdin ?? '') : '';
        const ok = typeof e.content === 'string' ? content === e.content : e.content.test(content);
        if (!ok) out.push(`change ${i}: content ${JSON.stringify(content)} does not match ${e.content}`);
      }
    });
  }
  if (expect.result) {
    for (const [k, v] of Object.entries(expect.result)) {
      if (JSON.stringify(plan.result?.[k]) !== JSON.stringify(v)) out.push(`result.${k} = ${JSON.stringify(plan.result?.[k])}, expected ${JSON.stringify(v)}`);
    }
  }
  return out;
}

/** Throws unless `sh -n` (dash, the host's /bin/sh) accepts the script. */
export function assertShellSyntax(text: string, what: string): void {
  try {
    execFileSync('/bin/sh', ['-n', '-c', text], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`${what} is not valid sh: ${String((err as { stderr?: Buffer }).stderr ?? err)}\n${text}`);
  }
}

/**
 * For every row: each fact command the module asks for and each exec/reboot
 * command it plans must parse in POSIX sh.
 */
export async function assertRowsShellSyntax(
  module: AnyDef,
  rows: readonly { args: Record<string, unknown>; facts: Record<string, unknown>; files?: Record<string, string | Buffer> }[],
  files: Record<string, string | Buffer> = {},
): Promise<number> {
  let checked = 0;
  for (const row of rows) {
    const f = { ...files, ...(row.files ?? {}) };
    for (const [key, req] of Object.entries(factsFor(module, row.args, f))) {
      if (!req) continue;
      assertShellSyntax(req.fact.command(req.args).text, `fact ${key} for ${JSON.stringify(row.args)}`);
      checked++;
    }
    const plan = await planWith(module, row.args, row.facts, f);
    for (const c of plan.changes) {
      if (c.kind === 'write') continue;
      assertShellSyntax(c.command.text, `change "${c.describe}"`);
      if (c.kind === 'reboot') assertShellSyntax(c.testCommand.text, `test command of "${c.describe}"`);
      checked++;
    }
  }
  return checked;
}
