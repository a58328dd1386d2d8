/**
 * The Templar renders what playbooks write: task arguments (with native
 * types for a lone `{{ expr }}`), conditions, and template files. It owns
 * the compiled-template cache (the same task text is rendered for every
 * host), vault decryption, and the mapping of errors from positions in a
 * template to `file:line:col` in the user's files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { locationOfLine, TsibleError, type SourceLocation } from '../errors.js';
import { UnsafeText, VaultedText } from '../util/markers.js';
import { valueLocationOf } from '../util/yaml.js';
import { compileTemplate, type CompiledTemplate, type CompileOptions } from './compiler.js';
import { TemplateError, UndefinedVariableError, type TemplateErrorDetails } from './errors.js';
import { Frame, SafeString } from './nj.js';
import { isDict, truthy } from './python.js';
import { outText, RenderContext, RenderEnv, runtime, type TemplateLoader } from './runtime.js';
import { needsRender, setDefaultRenderer, withRenderer, VarScope, type SourceRenderer } from './scope.js';
import type { RenderState, TemplarServices } from './state.js';

export interface TemplarOptions {
  /** Decrypts an inline `!vault` value; the plaintext is used verbatim, never templated. */
  decryptVault?: (value: VaultedText) => string;
  /** Extra directories for lookup('file'), lookup('template') and `{% include %}` (after the role, before the playbook dir). */
  searchPath?: readonly string[];
  /** Deprecation-style warnings (e.g. `{{ }}` around a condition). */
  warn?: (message: string, where?: SourceLocation) => void;
  /** The controller environment for lookup('env'); process.env by default. */
  environ?: Record<string, string | undefined>;
  /** Compiled templates kept (least recently used are dropped). */
  cacheSize?: number;
}

export interface TemplateFileOptions {
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
}

const TEMPLATE = /\{[{%#]/;
const WRAPPED = /^\s*\{\{([\s\S]*)\}\}\s*$/;
const TRUE_WORDS = new Set(['yes', 'on', '1', 'true', 'y', 't']);
const FALSE_WORDS = new Set(['no', 'off', '0', 'false', 'n', 'f']);

/** Errors whose location is final (so outer templates do not re-map them). */
const located = new WeakSet<object>();

function trailingNewlines(s: string): number {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\n'; i--) n++;
  return n;
}

function short(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 80 ? `${one.slice(0, 77)}...` : one;
}

function readLine(file: string, line: number): string | undefined {
  try {
    return readFileSync(file, 'utf8').split('\n')[line - 1]?.replace(/\r$/, '');
  } catch {
    return undefined;
  }
}

/** Maps a position inside a template string written in YAML onto the YAML file. */
function valueLocation(shown: string, pos: { line: number; col: number }, where: SourceLocation, shift: number): SourceLocation {
  const tline = pos.line - 1;
  const tcol = Math.max(0, pos.col - 1 - (tline === 0 ? shift : 0));
  const lines = shown.split('\n');
  if (where.lineText === undefined) {
    return { file: where.file, line: where.line + tline, col: (tline === 0 ? where.col : 1) + tcol };
  }
  const first = lines[0] ?? '';
  let idx = first.trim() ? where.lineText.indexOf(first, Math.max(0, where.col - 1)) : -1;
  if (idx < 0 && first.trim()) idx = where.lineText.indexOf(first);
  if (idx >= 0 && tline === 0) return { file: where.file, line: where.line, col: idx + tcol + 1, lineText: where.lineText };
  const lineNo = (idx >= 0 ? where.line : where.line + 1) + (idx >= 0 ? tline : Math.max(0, tline - (first.trim() ? 0 : 1)));
  const tl = lines[tline] ?? '';
  const fileLine = readLine(where.file, lineNo);
  const trimmed = tl.trimStart();
  if (fileLine !== undefined && trimmed) {
    const j = fileLine.indexOf(trimmed);
    if (j >= 0) return { file: where.file, line: lineNo, col: j + Math.max(0, tcol - (tl.length - trimmed.length)) + 1, lineText: fileLine };
  }
  return { file: where.file, line: lineNo, col: tcol + 1, lineText: tl };
}

export class Templar implements SourceRenderer, TemplarServices {
  private readonly cache = new Map<string, CompiledTemplate>();
  private readonly cacheSize: number;
  readonly environ: Record<string, string | undefined>;
  private readonly loader: TemplateLoader;

  constructor(private readonly options: TemplarOptions = {}) {
    this.cacheSize = options.cacheSize ?? 5000;
    this.environ = options.environ ?? process.env;
    this.loader = { load: (name, parent, state) => this.loadInclude(name, parent, state) };
  }

  /** Whether a string has template syntax at all; others are used as they are. */
  static isTemplate(s: string): boolean {
    return TEMPLATE.test(s);
  }

  // ------------------------------------------------------------ public API

  /**
   * Renders task arguments and keyword values: strings are templates, lists
   * and dicts are walked (keys are not templated), `!unsafe` becomes its
   * plain text, `!vault` its plaintext. A string that is one `{{ expr }}`
   * gives the expression's native value (list, dict, number, bool, null);
   * other templates give strings. The result may share values with the
   * scope: treat it as read-only.
   */
  renderValue(value: unknown, scope: VarScope, where?: SourceLocation): unknown {
    scope.bind(this);
    return withRenderer(this, () => this.deep(value, scope, where, undefined, undefined, true));
  }

  /** Renders a template string to a string, whatever the expression's type. */
  renderString(text: string, scope: VarScope, where?: SourceLocation): string {
    if (!TEMPLATE.test(text)) return text;
    scope.bind(this);
    return withRenderer(this, () => {
      const v = this.renderText(text, scope, where, false);
      return typeof v === 'string' ? v : outText(v);
    });
  }

  /**
   * Evaluates a bare Jinja2 expression (`when:`, `failed_when:`,
   * `changed_when:`, `until:`, `assert that:`), returning its value.
   * `{{ expr }}` around the whole expression is accepted with a warning, as
   * Ansible does; templates embedded inside an expression are refused,
   * since rendering a value and then evaluating it as code would let data
   * become code. Non-strings (YAML booleans, numbers) are returned as they are.
   */
  evaluate(expr: unknown, scope: VarScope, where?: SourceLocation): unknown {
    if (expr instanceof UnsafeText) return expr.value;
    if (typeof expr !== 'string') return expr;
    scope.bind(this);
    const { source, shift } = this.expressionSource(expr, where);
    return withRenderer(this, () => this.renderCompiled(this.compile(source, { native: true }, expr, where, shift), source, scope, where, true, expr, shift));
  }

  /**
   * A condition's truth. Lists must all be true; YAML booleans and numbers
   * are taken as they are; null or '' (an empty `when:`) is true. An
   * expression's value follows Jinja2 truthiness (empty list, dict or string
   * are false), except that a string result reads as Ansible's booleans
   * (`'no'`, `'false'`, `'0'`, `'off'` are false), so `-e flag=false` works
   * in `when: flag`.
   */
  isTrue(cond: unknown, scope: VarScope, where?: SourceLocation): boolean {
    if (cond === null || cond === undefined || cond === '') return true;
    if (typeof cond === 'boolean') return cond;
    if (typeof cond === 'number') return cond !== 0;
    if (Array.isArray(cond)) return cond.every((c) => this.isTrue(c, scope, where));
    return conditionTruth(this.evaluate(cond, scope, where));
  }

  /**
   * Renders a whole template file (the `template` module): trim_blocks on,
   * lstrip_blocks off, autoescape off, trailing newlines kept, a
   * `#jinja2: trim_blocks: False` first line honored. Adds template_path,
   * template_fullpath, template_basename, template_host and a default
   * ansible_managed.
   */
  renderTemplateFile(text: string, scope: VarScope, file: string, options: TemplateFileOptions = {}): string {
    scope.bind(this);
    let body = text;
    let lineOffset = 0;
    const opts: CompileOptions = { name: file, trimBlocks: options.trimBlocks ?? true, lstripBlocks: options.lstripBlocks ?? false };
    if (body.startsWith('#jinja2:')) {
      const eol = body.indexOf('\n');
      const header = body.slice('#jinja2:'.length, eol < 0 ? undefined : eol);
      body = eol < 0 ? '' : body.slice(eol + 1);
      lineOffset = 1;
      for (const pair of header.split(',')) {
        const [k, v] = pair.split(':').map((s) => s.trim());
        const on = /^true$/i.test(v ?? '');
        if (k === 'trim_blocks') opts.trimBlocks = on;
        else if (k === 'lstrip_blocks') opts.lstripBlocks = on;
      }
    }
    const vars: Record<string, unknown> = {
      template_path: file,
      template_fullpath: resolve(file),
      template_basename: basename(file),
      template_host: hostname(),
    };
    if (!scope.has('ansible_managed')) vars.ansible_managed = 'Ansible managed';
    const fileScope = scope.child({ values: vars, kind: 'data' });
    return withRenderer(this, () => {
      let compiled: CompiledTemplate;
      try {
        compiled = this.cached(`f\0${opts.trimBlocks ? 1 : 0}${opts.lstripBlocks ? 1 : 0}\0${file}\0${body}`, () => compileTemplate(body, opts));
      } catch (err) {
        throw this.locateInFile(err, text, file, lineOffset);
      }
      let out: string;
      try {
        out = this.run(compiled, fileScope, file).output;
      } catch (err) {
        throw this.locateInFile(err, text, file, lineOffset);
      }
      return keepTrailingNewlines(body, out);
    });
  }

  /** Load-time check of a template string's syntax (unknown filters and tests included). */
  checkSyntax(source: string, where?: SourceLocation): void {
    // the loader wraps conditions in `{{ }}`; a condition already wrapped is checked as written
    const inner = /^\{\{ ([\s\S]*) \}\}$/.exec(source);
    if (inner && WRAPPED.test(inner[1]!)) source = inner[1]!;
    this.compile(source, { native: true }, source, where, 0);
  }

  /** Load-time check of a bare expression (`when:`). */
  checkExpression(expr: string, where?: SourceLocation): void {
    const { source, shift } = this.expressionSource(expr, where, false);
    this.compile(source, { native: true }, expr, where, shift);
  }

  // ------------------------------------------------------------ services for templates and scopes

  decrypt(value: VaultedText, where?: SourceLocation): string {
    const fn = this.options.decryptVault;
    if (!fn) {
      throw new TemplateError('found a vault-encrypted value, but no vault secret was given', {
        location: where,
        hint: 'pass --vault-password-file, --vault-id or --ask-vault-pass',
      });
    }
    return fn(value);
  }

  warn(message: string, where?: SourceLocation): void {
    this.options.warn?.(message, where);
  }

  searchRoots(scope: VarScope): string[] {
    const roots: string[] = [];
    const role = scope.get('role_path');
    if (typeof role === 'string' && role) roots.push(role);
    roots.push(...(this.options.searchPath ?? []));
    const pb = scope.get('playbook_dir');
    if (typeof pb === 'string' && pb) roots.push(pb);
    return [...new Set(roots)];
  }

  renderFile(path: string, scope: VarScope): string {
    return this.renderTemplateFile(readFileSync(path, 'utf8'), scope, path);
  }

  /** Renders a variable's source value (called by VarScope, lazily). */
  resolveSource(value: unknown, scope: VarScope, name: string, where: SourceLocation | undefined): unknown {
    try {
      return this.deep(value, scope, where, undefined, undefined, false);
    } catch (err) {
      if (err instanceof TsibleError && !err.hint) {
        throw this.rebuild(err, { location: err.location, hint: `in the value of variable '${name}'` });
      }
      throw err;
    }
  }

  // ------------------------------------------------------------ internals

  private deep(value: unknown, scope: VarScope, where: SourceLocation | undefined, container: object | undefined, key: string | number | undefined, copy: boolean): unknown {
    if (typeof value === 'string') {
      if (!TEMPLATE.test(value)) return value;
      const at = container === undefined ? where : (valueLocationOf(container, key!) ?? where);
      return this.renderText(value, scope, at, true);
    }
    if (value === null || typeof value !== 'object') return value;
    if (value instanceof UnsafeText) return value.value;
    if (value instanceof VaultedText) return this.decrypt(value, container === undefined ? where : (valueLocationOf(container, key!) ?? where));
    if (!copy && !needsRender(value)) return value;
    if (Array.isArray(value)) return value.map((v, i) => this.deep(v, scope, where, value, i, copy));
    if (isDict(value)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(value)) out[k] = this.deep(value[k], scope, where, value, k, copy);
      return out;
    }
    return value;
  }

  private renderText(text: string, scope: VarScope, where: SourceLocation | undefined, native: boolean): unknown {
    const compiled = this.compile(text, { native: true }, text, where, 0);
    return this.renderCompiled(compiled, text, scope, where, native, text, 0);
  }

  private renderCompiled(compiled: CompiledTemplate, source: string, scope: VarScope, where: SourceLocation | undefined, native: boolean, shown: string, shift: number): unknown {
    let result: { output: string; captured: unknown };
    try {
      result = this.run(compiled, scope, undefined);
    } catch (err) {
      throw this.locate(err, shown, where, shift);
    }
    if (!compiled.native) return keepTrailingNewlines(source, result.output);
    let v = result.captured;
    if (v instanceof SafeString) v = v.val;
    else if (v instanceof UnsafeText) v = v.value;
    if (v === undefined) v = null;
    const { before, after } = compiled.native;
    if (!native) return keepTrailingNewlines(source, before + (typeof v === 'string' ? v : outText(v)) + after);
    if (typeof v === 'string') return keepTrailingNewlines(source, before + v + after);
    return v;
  }

  private run(compiled: CompiledTemplate, scope: VarScope, file: string | undefined): { output: string; captured: unknown } {
    const state: RenderState = { scope, templar: this, file };
    const context = new RenderContext(state, compiled.blocks);
    const env = new RenderEnv(state, this.loader);
    const frame = new Frame();
    frame.topLevel = true;
    let output = '';
    let error: unknown;
    compiled.root(env, context, frame, runtime, (err, res) => {
      if (err) error ??= err;
      else if (res !== undefined) output = res;
    });
    if (error !== undefined) throw error;
    return { output, captured: context.captured };
  }

  private cached(key: string, build: () => CompiledTemplate): CompiledTemplate {
    const hit = this.cache.get(key);
    if (hit) {
      // least recently used goes first: re-inserting moves the entry to the end
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const compiled = build();
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, compiled);
    return compiled;
  }

  private compile(source: string, opts: CompileOptions, shown: string, where: SourceLocation | undefined, shift: number): CompiledTemplate {
    try {
      return this.cached(`n\0${source}`, () => compileTemplate(source, opts));
    } catch (err) {
      throw this.locate(err, shown, where, shift);
    }
  }

  /** `{{ expr }}` for a bare expression, and how far the expression moved on its first line. */
  private expressionSource(expr: string, where: SourceLocation | undefined, warn = true): { source: string; shift: number } {
    const wrapped = WRAPPED.exec(expr);
    let inner = expr;
    if (wrapped && !TEMPLATE.test(wrapped[1]!)) {
      inner = wrapped[1]!;
      if (warn) this.warn(`conditional statements should not include jinja2 templating delimiters such as {{ }} or {% %}. Found: ${expr}`, where);
    } else if (/\{\{|\{%/.test(expr)) {
      throw new TemplateError('a condition is a bare expression: it must not contain {{ }} or {% %}', {
        location: where,
        hint: `write it without the braces, e.g. "x == y" rather than "x == '{{ y }}'" (rendering a value and then evaluating it would run data as code)`,
      });
    }
    const offset = expr.indexOf(inner.trimStart());
    const body = inner.trim();
    return { source: `{{ ${body} }}`, shift: 3 - Math.max(0, offset) };
  }

  private rebuild(err: TsibleError, details: TemplateErrorDetails): TsibleError {
    const Ctor = err.constructor as new (message: string, details: TemplateErrorDetails) => TsibleError;
    const out = new Ctor(err.message, {
      location: details.location,
      hint: details.hint ?? err.hint,
      cause: err.cause,
      host: err.host,
      task: err.task,
      role: err.role,
      variable: err instanceof UndefinedVariableError ? err.variable : undefined,
    });
    located.add(out);
    return out;
  }

  /** Gives an error from a template string its place in the user's file. */
  private locate(err: unknown, shown: string, where: SourceLocation | undefined, shift: number): unknown {
    if (typeof err === 'object' && err !== null && located.has(err)) return err;
    const e = err instanceof TsibleError ? err : new TemplateError(err instanceof Error ? err.message : String(err), { cause: err });
    if (e.location) {
      located.add(e);
      return e;
    }
    const pos = (e as TemplateError).templatePos;
    let location: SourceLocation | undefined = where;
    if (pos?.file) location = this.fileLocation(pos.file, pos.line, pos.col);
    else if (pos && where) location = valueLocation(shown, pos, where, shift);
    return this.rebuild(e, { location, hint: e.hint ?? (location ? undefined : `in template "${short(shown)}"`) });
  }

  private locateInFile(err: unknown, text: string, file: string, lineOffset: number): unknown {
    if (typeof err === 'object' && err !== null && located.has(err)) return err;
    const e = err instanceof TsibleError ? err : new TemplateError(err instanceof Error ? err.message : String(err), { cause: err });
    if (e.location) return e;
    const pos = (e as TemplateError).templatePos;
    let location: SourceLocation | undefined;
    if (pos && pos.file && pos.file !== file) location = this.fileLocation(pos.file, pos.line, pos.col);
    else if (pos) location = locationOfLine(file, text, pos.line + lineOffset, pos.col);
    else location = { file, line: 1, col: 1 };
    return this.rebuild(e, { location });
  }

  private fileLocation(file: string, line: number, col: number): SourceLocation {
    try {
      return locationOfLine(file, readFileSync(file, 'utf8'), line, col);
    } catch {
      return { file, line, col };
    }
  }

  /** `{% include %}`/`{% import %}`/`{% extends %}`: next to the including file, then in the search roots' templates/. */
  private loadInclude(name: string, parent: string | undefined, state: RenderState | undefined): { root: CompiledTemplate['root']; blocks: CompiledTemplate['blocks']; path: string } | undefined {
    const candidates: string[] = [];
    if (isAbsolute(name)) candidates.push(name);
    else {
      if (parent) candidates.push(join(dirname(parent), name));
      if (state?.file) candidates.push(join(dirname(state.file), name));
      for (const root of state ? this.searchRoots(state.scope) : (this.options.searchPath ?? [])) candidates.push(join(root, 'templates', name), join(root, name));
    }
    const path = candidates.find((p) => existsSync(p));
    if (!path) return undefined;
    const text = readFileSync(path, 'utf8');
    const compiled = this.cached(`f\0${10}\0${path}\0${text}`, () => compileTemplate(text, { name: path, trimBlocks: true, lstripBlocks: false }));
    return { root: compiled.root, blocks: compiled.blocks, path };
  }
}

/** Ansible keeps the template's trailing newlines even when trim_blocks ate one. */
function keepTrailingNewlines(source: string, out: string): string {
  const want = trailingNewlines(source);
  const have = trailingNewlines(out);
  return want > have ? out + '\n'.repeat(want - have) : out;
}

/** The truth of a condition's value, see Templar.isTrue. */
export function conditionTruth(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v instanceof SafeString) v = v.val;
  if (v instanceof UnsafeText) v = v.value;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (TRUE_WORDS.has(s)) return true;
    if (FALSE_WORDS.has(s)) return false;
  }
  return truthy(v);
}

setDefaultRenderer(new Templar());
