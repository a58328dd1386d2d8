/**
 * Inputs for the file-module tables: a ModuleContext made of plain data
 * (controller files and templates served from a map), FileState builders
 * for the facts, and a one-line summary of each planned change that a
 * table row can state exactly.
 */
import { createHash } from 'node:crypto';
import { validateArgs } from '../../src/modules/argspec.js';
import type { Change, ModuleContext, ModuleDefinition, Plan } from '../../src/modules/types.js';
import type { HostFacts } from '../../src/facts/host-facts.js';
import type { AbsentFile, FileState, PresentFile } from '../../src/facts/file.js';

export interface ContextOptions {
  host?: string;
  wantDiff?: boolean;
  /** controller files (files/ lookups) by the path the task gives */
  files?: Record<string, string | Buffer>;
  /** rendered templates by the path the task gives */
  templates?: Record<string, string>;
}

export function fakeContext(o: ContextOptions = {}): ModuleContext {
  const facts: HostFacts = { osFamily: 'Debian', distribution: 'Debian', serviceMgr: 'systemd', pkgMgr: 'apt', ansible: {} };
  const files = o.files ?? {};
  const templates = o.templates ?? {};
  return {
    host: o.host ?? 'node1',
    facts,
    wantDiff: o.wantDiff ?? false,
    async readControllerFile(path) {
      const f = files[path];
      if (f === undefined) throw Object.assign(new Error(`no controller file ${path}`), { code: 'ENOENT' });
      return Buffer.isBuffer(f) ? f : Buffer.from(f);
    },
    findControllerFile(path) {
      return `/nonexistent-controller/${path}`;
    },
    async renderTemplate(path) {
      const t = templates[path];
      if (t === undefined) throw new Error(`no template ${path}`);
      return t;
    },
    lookupVar: () => undefined,
    evaluate: () => undefined,
  };
}

type AnyModule = ModuleDefinition<any, any>;

/** Validates raw arguments like the loader, runs check(), then plans with the given facts. */
export async function planFor(module: AnyModule, rawArgs: Record<string, unknown>, facts: Record<string, unknown>, o: ContextOptions = {}): Promise<Plan> {
  const args = validateArgs(module.args, rawArgs);
  module.check?.(args);
  return module.plan(args, facts, fakeContext(o));
}

/** The fact requests a module makes: key → [fact name, its arguments]. */
export function requestsFor(module: AnyModule, rawArgs: Record<string, unknown>, o: ContextOptions = {}): Record<string, [string, unknown]> {
  const args = validateArgs(module.args, rawArgs);
  const reqs = (module.facts?.(args, fakeContext(o)) ?? {}) as Record<string, { fact: { name: string }; args: unknown }>;
  return Object.fromEntries(Object.entries(reqs).map(([k, r]) => [k, [r.fact.name, r.args]]));
}

/** One change as a row states it: `exec: <command>` or `write: <path> [mode=… owner=… group=… backup validate=…]`. */
export function summarise(c: Change): string {
  switch (c.kind) {
    case 'exec':
      return `exec: ${c.command.text}`;
    case 'write': {
      const extra = [
        c.mode !== undefined ? `mode=${c.mode}` : '',
        c.owner !== undefined ? `owner=${c.owner}` : '',
        c.group !== undefined ? `group=${c.group}` : '',
        c.backup ? 'backup' : '',
        c.validate !== undefined ? `validate=${c.validate}` : '',
      ].filter(Boolean);
      return `write: ${c.path}${extra.length ? ' ' + extra.join(' ') : ''}`;
    }
    case 'reboot':
      return `reboot: ${c.command.text}`;
  }
}

export interface Expect {
  /** each change summarised (see summarise); a RegExp matches the summary */
  changes?: (string | RegExp)[];
  /** no change; a RegExp must match the noop reason */
  noop?: true | RegExp;
  failure?: RegExp;
  /** content of the (only) write */
  content?: string;
  diff?: { before: string; after: string }[];
  result?: Record<string, unknown>;
}

/** What a plan differs from a row's expectation in (empty when it matches). */
export function mismatches(plan: Plan, e: Expect): string[] {
  const out: string[] = [];
  const got = plan.changes.map(summarise);
  if (e.failure) {
    if (!plan.failure) out.push(`expected failure ${e.failure}, got changes ${JSON.stringify(got)} / noop ${plan.noopReason}`);
    else if (!e.failure.test(plan.failure.message)) out.push(`failure "${plan.failure.message}" does not match ${e.failure}`);
    return out;
  }
  if (plan.failure) return [`unexpected failure: ${plan.failure.message}`];
  if (e.noop) {
    if (got.length) out.push(`expected no change, got ${JSON.stringify(got)}`);
    if (!plan.noopReason) out.push('a no-op plan must say why');
    else if (e.noop instanceof RegExp && !e.noop.test(plan.noopReason)) out.push(`noop reason "${plan.noopReason}" does not match ${e.noop}`);
  } else if (got.length === 0) out.push(`expected changes, got none (noop: ${plan.noopReason})`);
  if (e.changes) {
    const ok = got.length === e.changes.length && e.changes.every((x, i) => (typeof x === 'string' ? x === got[i] : x.test(got[i]!)));
    if (!ok) out.push(`changes:\n  got      ${JSON.stringify(got)}\n  expected ${JSON.stringify(e.changes.map(String))}`);
  }
  if (e.content !== undefined) {
    const w = plan.changes.find((c) => c.kind === 'write');
    const content = w && w.kind === 'write' ? w.content.toString() : undefined;
    if (content !== e.content) out.push(`write content ${JSON.stringify(content)} ≠ ${JSON.stringify(e.content)}`);
  }
  if (e.diff) {
    const d = (plan.diff ?? []).map((x) => ({ before: x.before, after: x.after }));
    if (JSON.stringify(d) !== JSON.stringify(e.diff)) out.push(`diff ${JSON.stringify(d)} ≠ ${JSON.stringify(e.diff)}`);
  }
  for (const [k, v] of Object.entries(e.result ?? {})) {
    if (JSON.stringify(plan.result?.[k]) !== JSON.stringify(v)) out.push(`result.${k} = ${JSON.stringify(plan.result?.[k])}, expected ${JSON.stringify(v)}`);
  }
  return out;
}

// ------------------------------------------------------------------ FileState builders

const sha1 = (b: string | Buffer) => createHash('sha1').update(b).digest('hex');

const BASE = {
  uid: 0,
  gid: 0,
  owner: 'root',
  group: 'root',
  size: 0,
  mtime: 1700000000,
  atime: 1700000000,
  ctime: 1700000000,
  inode: 100,
  dev: 2049,
  nlink: 1,
  blocks: 8,
  blockSize: 512,
  umask: 0o022,
  readable: true,
  writeable: true,
  executable: false,
};

/** A regular file; `content` also sets size and the SHA-1 checksum. */
export function aFile(o: Partial<PresentFile> & { text?: string } = {}): PresentFile {
  const { text, ...rest } = o;
  const content = text !== undefined ? Buffer.from(text) : rest.content;
  return {
    exists: true,
    type: 'file',
    kind: 'file',
    mode: '0644',
    ...BASE,
    ...(content !== undefined ? { size: content.length, checksum: sha1(content), content } : {}),
    ...rest,
  } as PresentFile;
}

export function aDir(o: Partial<PresentFile> = {}): PresentFile {
  return { exists: true, type: 'directory', kind: 'directory', mode: '0755', ...BASE, size: 4096, nlink: 2, executable: true, ...o } as PresentFile;
}

/** A symbolic link to `to`; `target` is what it points to when the fact followed it. */
export function aLink(to: string, target?: FileState, o: Partial<PresentFile> = {}): PresentFile {
  const base: PresentFile = { exists: true, type: 'link', kind: 'link', mode: '0777', ...BASE, size: to.length, linkTarget: to, realPath: to.startsWith('/') ? to : `/real/${to}`, ...o } as PresentFile;
  if (target === undefined) return base;
  if (!target.exists) return { ...base, target: { exists: false } };
  const { umask: _u, readable: _r, writeable: _w, executable: _x, checksum, content, tree: _t, ...st } = target as PresentFile;
  return { ...base, target: { ...st, exists: true }, ...(checksum ? { checksum } : {}), ...(content ? { content } : {}) } as PresentFile;
}

/** Nothing at the path; `ancestor` is the deepest existing directory (default: the parent). */
export function absent(path: string, ancestor?: string | { path: string; isDir: boolean }): AbsentFile {
  const a = ancestor === undefined ? { path: path.replace(/\/[^/]*\/?$/, '') || '/', isDir: true } : typeof ancestor === 'string' ? { path: ancestor, isDir: true } : ancestor;
  return { exists: false, umask: 0o022, ancestor: a };
}
