/**
 * Loads playbooks, task files and roles into the AST, checking everything
 * that can be checked before a host is contacted: keywords, module names,
 * module arguments, template syntax. Every error points at file:line:col.
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ParseError, type SourceLocation } from '../errors.js';
import { ArgError, validateArgs } from '../modules/argspec.js';
import { findModule, allModuleNames } from '../modules/registry.js';
import type { AnyModule } from '../modules/types.js';
import { locationOf, loadYaml, valueLocationOf } from '../util/yaml.js';
import { didYouMean } from '../util/suggest.js';
import { parseKv } from './kv.js';
import type { BlockNode, IncludeNode, LoopSpec, Node, Play, Playbook, RoleInstance, TaskNode, VarsPrompt } from './ast.js';

type Obj = Record<string, unknown>;

export interface LoaderOptions {
  /** extra directories to look for roles in (after <playbook dir>/roles) */
  rolesPath?: string[];
  /** checks template syntax in a string found at `where`; throws ParseError */
  checkTemplate?: (source: string, where: SourceLocation) => void;
}

const COMMON_KEYWORDS = [
  'name', 'when', 'tags', 'vars', 'become', 'become_user', 'become_method', 'become_flags', 'environment', 'ignore_errors',
  'ignore_unreachable', 'delegate_to', 'delegate_facts', 'run_once', 'check_mode', 'diff', 'no_log', 'any_errors_fatal',
  'remote_user', 'connection', 'port', 'collections', 'module_defaults', 'throttle', 'timeout', 'debugger',
];
const TASK_KEYWORDS = new Set([
  ...COMMON_KEYWORDS, 'loop', 'loop_control', 'register', 'notify', 'listen', 'changed_when', 'failed_when', 'until',
  'retries', 'delay', 'args', 'action', 'local_action', 'async', 'poll',
]);
const BLOCK_KEYWORDS = new Set([...COMMON_KEYWORDS, 'block', 'rescue', 'always']);
const PLAY_KEYWORDS = new Set([
  'name', 'hosts', 'vars', 'vars_files', 'vars_prompt', 'pre_tasks', 'roles', 'tasks', 'post_tasks', 'handlers', 'become',
  'become_user', 'become_method', 'become_flags', 'gather_facts', 'serial', 'strategy', 'max_fail_percentage',
  'any_errors_fatal', 'environment', 'tags', 'ignore_unreachable', 'ignore_errors', 'check_mode', 'diff',
  'force_handlers', 'remote_user', 'connection', 'no_log', 'order', 'collections', 'module_defaults', 'gather_subset',
  'gather_timeout', 'fact_path', 'port', 'throttle', 'timeout', 'run_once', 'debugger', 'vars_prompt', 'user',
]);
const LOOP_KEYS = ['loop', 'with_items', 'with_dict', 'with_list', 'with_indexed_items', 'with_sequence', 'with_fileglob', 'with_together', 'with_nested'];
const INCLUDE_ACTIONS = new Set(['include_tasks', 'import_tasks', 'include_role', 'import_role', 'import_playbook', 'include']);
/** free-form commands: only these key=value words are parameters, the rest is the command */
const RAW_PARAM_KEYS: Record<string, readonly string[]> = {
  command: ['chdir', 'creates', 'removes', 'executable', 'stdin', 'stdin_add_newline', 'strip_empty_ends', 'argv'],
  shell: ['chdir', 'creates', 'removes', 'executable', 'stdin', 'stdin_add_newline', 'strip_empty_ends'],
  raw: ['executable'],
  script: ['chdir', 'creates', 'removes', 'executable'],
};

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function fallbackLocation(file: string): SourceLocation {
  return { file, line: 1, col: 1 };
}

interface Ctx {
  file: string;
  baseDir: string;
  role?: RoleInstance;
  /** how deep we are in imports, to catch import cycles */
  stack: string[];
  options: LoaderOptions;
  handler?: boolean;
}

function readYamlFile(path: string, from?: SourceLocation): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ParseError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`, { location: from, cause: err });
  }
  return loadYaml(path, text);
}

function loc(container: object, key: string | number, ctx: Ctx): SourceLocation {
  return locationOf(container, key) ?? locationOf(container) ?? fallbackLocation(ctx.file);
}

function valueLoc(container: object, key: string | number, ctx: Ctx): SourceLocation {
  return valueLocationOf(container, key) ?? loc(container, key, ctx);
}

function expectList(value: unknown, container: object, key: string, ctx: Ctx): unknown[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new ParseError(`"${key}" must be a list`, { location: valueLoc(container, key, ctx) });
  }
  return value;
}

function stringList(value: unknown, container: object, key: string, ctx: Ctx): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(value)) return value.map((v) => String(v));
  throw new ParseError(`"${key}" must be a string or a list of strings`, { location: valueLoc(container, key, ctx) });
}

function conditions(value: unknown): unknown[] | undefined {
  if (value === null || value === undefined) return undefined;
  return Array.isArray(value) ? value : [value];
}

function varsMap(value: unknown, container: object, key: string, ctx: Ctx): Obj {
  if (value === null || value === undefined) return {};
  if (!isObj(value)) throw new ParseError(`"${key}" must be a mapping of variable names to values`, { location: valueLoc(container, key, ctx) });
  return value;
}

/** Walks strings in a value and checks their template syntax at load time. */
function checkTemplates(value: unknown, where: SourceLocation, ctx: Ctx, container?: object, key?: string | number): void {
  const check = ctx.options.checkTemplate;
  if (!check) return;
  if (typeof value === 'string') {
    if (/\{\{|\{%|\{#/.test(value)) {
      check(value, container && key !== undefined ? valueLocationOf(container, key) ?? where : where);
    }
    return;
  }
  if (Array.isArray(value)) value.forEach((v, i) => checkTemplates(v, where, ctx, value, i));
  else if (isObj(value)) for (const [k, v] of Object.entries(value)) checkTemplates(v, where, ctx, value, k);
}

function checkWhen(conds: unknown[] | undefined, container: object, key: string, ctx: Ctx): void {
  if (!conds || !ctx.options.checkTemplate) return;
  for (const c of conds) {
    if (typeof c === 'string') ctx.options.checkTemplate(`{{ ${c} }}`, valueLoc(container, key, ctx));
  }
}

function common(obj: Obj, ctx: Ctx, where: SourceLocation): Omit<import('./ast.js').NodeCommon, 'location'> & { location: SourceLocation } {
  const when = conditions(obj.when) ?? [];
  checkWhen(when, obj, 'when', ctx);
  if (obj.vars !== undefined) checkTemplates(obj.vars, where, ctx, obj, 'vars');
  return {
    name: obj.name === undefined || obj.name === null ? undefined : String(obj.name),
    location: where,
    when,
    tags: stringList(obj.tags, obj, 'tags', ctx),
    vars: varsMap(obj.vars, obj, 'vars', ctx),
    become: obj.become,
    becomeUser: obj.become_user,
    becomeMethod: obj.become_method === undefined ? undefined : String(obj.become_method),
    environment: obj.environment,
    ignoreErrors: obj.ignore_errors,
    ignoreUnreachable: obj.ignore_unreachable,
    delegateTo: obj.delegate_to,
    runOnce: obj.run_once,
    checkMode: obj.check_mode,
    diff: obj.diff,
    noLog: obj.no_log,
    anyErrorsFatal: obj.any_errors_fatal === undefined ? undefined : Boolean(obj.any_errors_fatal),
    remoteUser: obj.remote_user,
    role: ctx.role,
  };
}

function loopSpec(obj: Obj, ctx: Ctx): LoopSpec | undefined {
  const present = LOOP_KEYS.filter((k) => k in obj);
  if (present.length === 0) {
    if ('loop_control' in obj) throw new ParseError('"loop_control" without "loop"', { location: loc(obj, 'loop_control', ctx) });
    return undefined;
  }
  if (present.length > 1) {
    throw new ParseError(`a task can have only one loop, found ${present.join(' and ')}`, { location: loc(obj, present[1]!, ctx) });
  }
  const key = present[0]!;
  const control = obj.loop_control === undefined ? {} : obj.loop_control;
  if (!isObj(control)) throw new ParseError('"loop_control" must be a mapping', { location: valueLoc(obj, 'loop_control', ctx) });
  const known = new Set(['loop_var', 'index_var', 'label', 'pause', 'extended', 'extended_allitems']);
  for (const k of Object.keys(control)) {
    if (!known.has(k)) throw new ParseError(`unknown loop_control option "${k}"`, { location: loc(control, k, ctx), hint: didYouMean(k, known) });
  }
  checkTemplates(obj[key], loc(obj, key, ctx), ctx, obj, key);
  return {
    items: obj[key],
    flavor: key === 'loop' ? 'loop' : (key.slice(5) as LoopSpec['flavor']),
    loopVar: control.loop_var === undefined ? 'item' : String(control.loop_var),
    indexVar: control.index_var === undefined ? undefined : String(control.index_var),
    label: control.label,
    pause: control.pause === undefined ? undefined : Number(control.pause),
    extended: control.extended === undefined ? undefined : Boolean(control.extended),
  };
}

/** Finds which key of a task names its module. */
function findAction(obj: Obj, ctx: Ctx, keywords: Set<string>): { key: string; name: string; value: unknown } {
  if ('action' in obj || 'local_action' in obj) {
    const key = 'action' in obj ? 'action' : 'local_action';
    const v = obj[key];
    if (isObj(v)) {
      const { module, ...rest } = v as Obj & { module?: unknown };
      if (typeof module !== 'string') throw new ParseError(`"${key}" needs a "module" name`, { location: loc(obj, key, ctx) });
      return { key, name: module, value: rest };
    }
    if (typeof v === 'string') {
      const [name, ...rest] = v.trim().split(/\s+/);
      return { key, name: name ?? '', value: rest.join(' ') };
    }
    throw new ParseError(`"${key}" must be a string or a mapping`, { location: loc(obj, key, ctx) });
  }
  const candidates = Object.keys(obj).filter((k) => !keywords.has(k) && !k.startsWith('with_'));
  if (candidates.length === 0) {
    throw new ParseError('this task has no module (nothing to do)', {
      location: locationOf(obj) ?? fallbackLocation(ctx.file),
      hint: 'add a module such as "command:", "copy:" or "debug:"',
    });
  }
  const modules = candidates.filter((k) => findModule(k) || isIncludeAction(k));
  const unknown = candidates.filter((k) => !modules.includes(k));
  if (unknown.length > 0) {
    const k = unknown[0]!;
    throw new ParseError(`unknown module or task keyword "${k}"`, {
      location: loc(obj, k, ctx),
      hint: didYouMean(k, [...allModuleNames(), ...keywords, ...INCLUDE_ACTIONS]),
    });
  }
  if (modules.length > 1) {
    throw new ParseError(`a task can run only one module, found "${modules[0]}" and "${modules[1]}"`, { location: loc(obj, modules[1]!, ctx) });
  }
  const key = modules[0]!;
  return { key, name: key, value: obj[key] };
}

/** include_tasks, import_role, ... also under their fully qualified names (ansible.builtin.include_role). */
function isIncludeAction(name: string): boolean {
  return INCLUDE_ACTIONS.has(name.replace(/^ansible\.(builtin|legacy)\./, ''));
}

function shortAction(name: string): string {
  const parts = name.split('.');
  return parts[parts.length - 1]!;
}

/** Module arguments from a mapping, a free-form string, or `args:`. */
function moduleArgs(module: AnyModule, value: unknown, obj: Obj, key: string, ctx: Ctx): Obj {
  let args: Obj;
  if (value === null || value === undefined) args = {};
  else if (isObj(value)) args = value;
  else if (typeof value === 'string' || typeof value === 'number') {
    const text = String(value);
    const rawKeys = RAW_PARAM_KEYS[module.name];
    if (module.freeForm) {
      const kv = parseKv(text, rawKeys);
      args = { ...kv.params };
      if (kv.rawParams) args[module.freeForm] = kv.rawParams;
    } else {
      const kv = parseKv(text);
      if (kv.rawParams) {
        throw new ParseError(`${module.name} does not take free-form text ("${kv.rawParams}")`, {
          location: valueLoc(obj, key, ctx),
          hint: 'write the arguments as key=value pairs or as a mapping',
        });
      }
      args = kv.params;
    }
  } else {
    throw new ParseError(`arguments of ${module.name} must be a mapping or key=value text`, { location: valueLoc(obj, key, ctx) });
  }
  if (obj.args !== undefined) {
    if (!isObj(obj.args)) throw new ParseError('"args" must be a mapping', { location: valueLoc(obj, 'args', ctx) });
    args = { ...obj.args, ...args };
  }
  try {
    const checked = validateArgs(module.args, args, { allowTemplates: true, allowUnknown: module.acceptsAnyArgs });
    if (module.check && !Object.values(checked).some((v) => typeof v === 'string' && /\{\{|\{%/.test(v))) module.check(checked);
  } catch (err) {
    if (err instanceof ArgError) {
      const argLoc = err.argument && isObj(value) ? locationOf(value, err.argument) : undefined;
      throw new ParseError(`${module.name}: ${err.message}`, { location: argLoc ?? loc(obj, key, ctx), hint: err.hint });
    }
    throw err;
  }
  checkTemplates(args, loc(obj, key, ctx), ctx, obj, key);
  return args;
}

export function parseTaskList(list: unknown, ctx: Ctx, container?: object, key?: string): Node[] {
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list)) {
    throw new ParseError('expected a list of tasks', {
      location: container && key ? valueLoc(container, key, ctx) : locationOf(list as object) ?? fallbackLocation(ctx.file),
    });
  }
  const nodes: Node[] = [];
  list.forEach((item, i) => {
    if (!isObj(item)) {
      throw new ParseError('each task must be a mapping (did you forget "- name:"?)', { location: loc(list, i, ctx) });
    }
    nodes.push(...parseTask(item, ctx));
  });
  return nodes;
}

function parseTask(obj: Obj, ctx: Ctx): Node[] {
  const where = locationOf(obj) ?? fallbackLocation(ctx.file);
  if ('block' in obj) {
    for (const k of Object.keys(obj)) {
      if (!BLOCK_KEYWORDS.has(k)) throw new ParseError(`"${k}" is not valid on a block`, { location: loc(obj, k, ctx), hint: didYouMean(k, BLOCK_KEYWORDS) });
    }
    const block: BlockNode = {
      kind: 'block',
      ...common(obj, ctx, where),
      block: parseTaskList(expectList(obj.block, obj, 'block', ctx), ctx, obj, 'block'),
      rescue: parseTaskList(expectList(obj.rescue, obj, 'rescue', ctx), ctx, obj, 'rescue'),
      always: parseTaskList(expectList(obj.always, obj, 'always', ctx), ctx, obj, 'always'),
      origin: 'block',
    };
    return [block];
  }
  for (const k of ['rescue', 'always']) {
    if (k in obj) throw new ParseError(`"${k}" is only valid together with "block"`, { location: loc(obj, k, ctx) });
  }
  const action = findAction(obj, ctx, TASK_KEYWORDS);
  const short = shortAction(action.name);
  if (INCLUDE_ACTIONS.has(short)) return [parseInclude(obj, short, action, ctx, where)];

  const module = findModule(action.name);
  if (!module) {
    throw new ParseError(`unknown module "${action.name}"`, { location: loc(obj, action.key, ctx), hint: didYouMean(action.name, allModuleNames()) });
  }
  for (const k of Object.keys(obj)) {
    if (k.startsWith('with_') && !LOOP_KEYS.includes(k)) {
      throw new ParseError(`the lookup loop "${k}" is not supported`, { location: loc(obj, k, ctx), hint: 'use loop: with a filter instead' });
    }
  }
  if ('listen' in obj && !ctx.handler) throw new ParseError('"listen" is only valid on handlers', { location: loc(obj, 'listen', ctx) });
  const args = moduleArgs(module, action.value, obj, action.key, ctx);
  const register = obj.register === undefined ? undefined : String(obj.register);
  if (register !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(register)) {
    throw new ParseError(`"${register}" is not a valid variable name for register`, { location: valueLoc(obj, 'register', ctx) });
  }
  const changedWhen = conditions(obj.changed_when);
  const failedWhen = conditions(obj.failed_when);
  const until = conditions(obj.until);
  checkWhen(changedWhen, obj, 'changed_when', ctx);
  checkWhen(failedWhen, obj, 'failed_when', ctx);
  checkWhen(until, obj, 'until', ctx);
  const task: TaskNode = {
    kind: 'task',
    ...common(obj, ctx, where),
    action: module.name,
    module,
    args,
    argsLocation: loc(obj, action.key, ctx),
    loop: loopSpec(obj, ctx),
    register,
    notify: stringList(obj.notify, obj, 'notify', ctx).length ? (Array.isArray(obj.notify) ? obj.notify.map(String) : [String(obj.notify)]) : [],
    listen: Array.isArray(obj.listen) ? obj.listen.map(String) : obj.listen === undefined ? [] : [String(obj.listen)],
    changedWhen,
    failedWhen,
    until,
    retries: obj.retries,
    delay: obj.delay,
    handler: ctx.handler,
  };
  if (action.key === 'local_action') task.delegateTo = 'localhost';
  return [task];
}

function parseInclude(obj: Obj, action: string, found: { key: string; value: unknown }, ctx: Ctx, where: SourceLocation): Node {
  if (action === 'import_playbook') {
    throw new ParseError('import_playbook is only valid at the top level of a playbook, next to plays', { location: loc(obj, found.key, ctx) });
  }
  const value = found.value;
  const base = common(obj, ctx, where);
  let target: unknown;
  let options: Obj = {};
  if (action === 'include_tasks' || action === 'import_tasks' || action === 'include') {
    if (isObj(value)) {
      target = value.file ?? value._raw_params;
      options = value;
    } else target = value;
    if (typeof target !== 'string') throw new ParseError(`${action} needs a file name`, { location: loc(obj, found.key, ctx) });
  } else {
    if (!isObj(value) || typeof value.name !== 'string') {
      throw new ParseError(`${action} needs "name:" of the role`, { location: loc(obj, found.key, ctx) });
    }
    target = value.name;
    options = value;
  }
  const params = isObj(obj.vars) ? obj.vars : {};
  const isStatic = action.startsWith('import_');
  if (isStatic) {
    if (typeof target === 'string' && /\{\{/.test(target)) {
      throw new ParseError(`${action} cannot use a templated name ("${target}"), it is resolved when the playbook is loaded`, {
        location: valueLoc(obj, found.key, ctx),
        hint: `use ${action.replace('import_', 'include_')} for names known only at run time`,
      });
    }
    const loopKey = LOOP_KEYS.find((k) => k in obj);
    if (loopKey) throw new ParseError(`${action} cannot loop; use ${action.replace('import_', 'include_')}`, { location: loc(obj, loopKey, ctx) });
    const children =
      action === 'import_tasks'
        ? loadTaskFile(resolveTaskFile(String(target), ctx, loc(obj, found.key, ctx)), ctx, loc(obj, found.key, ctx))
        : [roleBlock(String(target), ctx, loc(obj, found.key, ctx), stringOptions(options), params)];
    // Keywords on an import apply to every imported task, as in Ansible.
    return { kind: 'block', ...base, block: children, rescue: [], always: [], origin: action === 'import_tasks' ? 'import_tasks' : 'import_role' };
  }
  const include: IncludeNode = {
    kind: 'include',
    ...base,
    what: action === 'include_role' ? 'role' : 'tasks',
    target,
    options,
    params,
    loop: loopSpec(obj, ctx),
    baseDir: ctx.role ? join(ctx.role.path, 'tasks') : ctx.baseDir,
  };
  return include;
}

function stringOptions(o: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['tasks_from', 'vars_from', 'defaults_from', 'handlers_from']) if (typeof o[k] === 'string') out[k] = o[k] as string;
  return out;
}

export function resolveTaskFile(file: string, ctx: Pick<Ctx, 'role' | 'baseDir'>, from?: SourceLocation): string {
  const candidates = isAbsolute(file)
    ? [file]
    : [ctx.role ? join(ctx.role.path, 'tasks', file) : undefined, join(ctx.baseDir, file), ctx.role ? join(ctx.role.path, file) : undefined].filter(
        (p): p is string => !!p,
      );
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new ParseError(`task file "${file}" not found (looked in ${candidates.join(', ')})`, { location: from });
  return found;
}

export function loadTaskFile(path: string, ctx: Ctx, from?: SourceLocation): Node[] {
  if (ctx.stack.includes(path)) {
    throw new ParseError(`import cycle: ${[...ctx.stack, path].join(' -> ')}`, { location: from });
  }
  const data = readYamlFile(path, from);
  const sub: Ctx = { ...ctx, file: path, stack: [...ctx.stack, path] };
  return parseTaskList(data ?? [], sub);
}

// ---------------------------------------------------------------- roles

function findRole(name: string, ctx: Ctx, from: SourceLocation): string {
  const dirs = [
    join(ctx.baseDir, 'roles'),
    ctx.baseDir,
    ...(ctx.options.rolesPath ?? []),
    ...(process.env.TSIBLE_ROLES_PATH ?? process.env.ANSIBLE_ROLES_PATH ?? '').split(':').filter(Boolean),
    // Projects laid out as playbooks/ next to roles/ (tsible's own layout).
    join(dirname(ctx.baseDir), 'roles'),
    join(process.cwd(), 'roles'),
  ];
  if (ctx.role) dirs.unshift(dirname(ctx.role.path));
  const short = name.includes('.') && !existsSync(join(ctx.baseDir, 'roles', name)) ? name.split('.').pop()! : name;
  for (const d of dirs) {
    for (const n of [name, short]) {
      const p = isAbsolute(n) ? n : resolve(d, n);
      if (existsSync(join(p)) && statSync(p).isDirectory() && (existsSync(join(p, 'tasks')) || existsSync(join(p, 'meta')) || existsSync(join(p, 'handlers')))) return p;
    }
  }
  throw new ParseError(`role "${name}" not found (looked in ${dirs.join(', ')})`, { location: from });
}

function roleFile(rolePath: string, sub: string, base: string): string | undefined {
  for (const ext of ['.yml', '.yaml', '']) {
    const p = join(rolePath, sub, base + ext);
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  const dir = join(rolePath, sub, base);
  if (existsSync(dir) && statSync(dir).isDirectory()) return undefined;
  return undefined;
}

function roleVarsFile(rolePath: string, sub: string, base: string, from: SourceLocation): Obj {
  const p = roleFile(rolePath, sub, base);
  if (!p) return {};
  const data = readYamlFile(p, from);
  if (data === null) return {};
  if (!isObj(data)) throw new ParseError(`${sub}/${base} of a role must be a mapping of variables`, { location: locationOf(data as object) ?? { file: p, line: 1, col: 1 } });
  return data;
}

export interface RoleLoad {
  role: RoleInstance;
  tasks: Node[];
  /** meta dependencies, each already a role block */
  dependencies: Node[];
}

/** Loads a role: defaults, vars, handlers, tasks and its meta dependencies. */
export function loadRole(name: string, ctx: Ctx, from: SourceLocation, files: Record<string, string> = {}, params: Obj = {}): RoleLoad {
  const path = findRole(name, ctx, from);
  if (ctx.stack.includes(`role:${path}`)) throw new ParseError(`role dependency cycle: ${name}`, { location: from });
  const role: RoleInstance = {
    name: name.split('/').pop()!,
    path,
    defaults: roleVarsFile(path, 'defaults', files.defaults_from ?? 'main', from),
    vars: roleVarsFile(path, 'vars', files.vars_from ?? 'main', from),
    params,
    handlers: [],
  };
  const roleCtx: Ctx = { ...ctx, role, baseDir: join(path, 'tasks'), stack: [...ctx.stack, `role:${path}`] };
  const handlersFile = roleFile(path, 'handlers', files.handlers_from ?? 'main');
  if (handlersFile) {
    role.handlers = loadTaskFile(handlersFile, { ...roleCtx, handler: true }, from).flatMap(flattenHandlers);
  }
  const tasksFile = roleFile(path, 'tasks', files.tasks_from ?? 'main');
  if (files.tasks_from && !tasksFile) throw new ParseError(`role ${name} has no tasks file "${files.tasks_from}"`, { location: from });
  const tasks = tasksFile ? loadTaskFile(tasksFile, roleCtx, from) : [];
  const dependencies: Node[] = [];
  const metaFile = roleFile(path, 'meta', 'main');
  if (metaFile) {
    const meta = readYamlFile(metaFile, from);
    if (isObj(meta) && meta.dependencies !== undefined) {
      for (const [i, dep] of expectList(meta.dependencies, meta, 'dependencies', { ...ctx, file: metaFile }).entries()) {
        const depLoc = locationOf(meta.dependencies as object, i) ?? { file: metaFile, line: 1, col: 1 };
        dependencies.push(roleEntry(dep, { ...roleCtx, file: metaFile }, depLoc));
      }
    }
  }
  return { role, tasks, dependencies };
}

function flattenHandlers(node: Node): TaskNode[] {
  if (node.kind === 'task') return [node];
  if (node.kind === 'block') return [...node.block, ...node.rescue, ...node.always].flatMap(flattenHandlers);
  return [];
}

function roleBlock(name: string, ctx: Ctx, from: SourceLocation, files: Record<string, string>, params: Obj, keywords?: Obj): BlockNode {
  const loaded = loadRole(name, ctx, from, files, params);
  const where = from;
  const base = keywords ? common(keywords, ctx, where) : { location: where, when: [], tags: [], vars: {} };
  const body: BlockNode = {
    kind: 'block',
    location: where,
    when: [],
    tags: [],
    vars: {},
    role: loaded.role,
    block: loaded.tasks,
    rescue: [],
    always: [],
    origin: 'role',
  };
  return {
    kind: 'block',
    ...base,
    role: ctx.role,
    block: [...loaded.dependencies, body],
    rescue: [],
    always: [],
    origin: 'import_role',
  };
}

const ROLE_ENTRY_KEYWORDS = new Set([...COMMON_KEYWORDS, 'role']);

function roleEntry(entry: unknown, ctx: Ctx, where: SourceLocation): BlockNode {
  if (typeof entry === 'string') return roleBlock(entry, ctx, where, {}, {});
  if (!isObj(entry) || (typeof entry.role !== 'string' && typeof entry.name !== 'string')) {
    throw new ParseError('a role entry must be a role name or a mapping with "role:"', { location: where });
  }
  const name = String(entry.role ?? entry.name);
  const params: Obj = {};
  const keywords: Obj = {};
  for (const [k, v] of Object.entries(entry)) {
    if (k === 'role' || (k === 'name' && entry.role === undefined)) continue;
    if (ROLE_ENTRY_KEYWORDS.has(k)) keywords[k] = v;
    else params[k] = v;
  }
  return roleBlock(name, ctx, where, {}, { ...(isObj(entry.vars) ? entry.vars : {}), ...params }, keywords);
}

/** The handlers a block of role nodes brings (roles' handlers join the play's). */
function collectRoleHandlers(nodes: Node[], seen = new Set<RoleInstance>()): TaskNode[] {
  const out: TaskNode[] = [];
  for (const n of nodes) {
    if (n.kind !== 'block') continue;
    if (n.origin === 'role' && n.role && !seen.has(n.role)) {
      seen.add(n.role);
      out.push(...n.role.handlers);
    }
    out.push(...collectRoleHandlers([...n.block, ...n.rescue, ...n.always], seen));
  }
  return out;
}

// ---------------------------------------------------------------- plays

function parseVarsPrompt(value: unknown, obj: Obj, ctx: Ctx): VarsPrompt[] {
  return expectList(value, obj, 'vars_prompt', ctx).map((p, i) => {
    if (!isObj(p) || typeof p.name !== 'string') {
      throw new ParseError('each vars_prompt entry needs a "name"', { location: loc(value as object, i, ctx) });
    }
    return {
      name: p.name,
      prompt: typeof p.prompt === 'string' ? p.prompt : p.name,
      private: p.private === undefined ? true : Boolean(p.private),
      default: p.default,
      confirm: Boolean(p.confirm),
    };
  });
}

function parsePlay(obj: Obj, ctx: Ctx): Play {
  const where = locationOf(obj) ?? fallbackLocation(ctx.file);
  for (const k of Object.keys(obj)) {
    if (!PLAY_KEYWORDS.has(k)) {
      throw new ParseError(`"${k}" is not a valid play keyword`, {
        location: loc(obj, k, ctx),
        hint: didYouMean(k, PLAY_KEYWORDS) ?? (findModule(k) ? 'modules go inside "tasks:"' : undefined),
      });
    }
  }
  if (obj.hosts === undefined || obj.hosts === null || obj.hosts === '') {
    throw new ParseError('a play needs "hosts:"', { location: where, hint: 'for example: hosts: all' });
  }
  const strategy = obj.strategy === undefined ? 'linear' : String(obj.strategy);
  if (strategy !== 'linear' && strategy !== 'free') {
    throw new ParseError(`unknown strategy "${strategy}"`, { location: valueLoc(obj, 'strategy', ctx), hint: 'use linear or free' });
  }
  let maxFail: number | undefined;
  if (obj.max_fail_percentage !== undefined) {
    maxFail = Number(String(obj.max_fail_percentage).replace('%', ''));
    if (!Number.isFinite(maxFail) || maxFail < 0 || maxFail > 100) {
      throw new ParseError('max_fail_percentage must be a number from 0 to 100', { location: valueLoc(obj, 'max_fail_percentage', ctx) });
    }
  }
  checkTemplates(obj.hosts, where, ctx, obj, 'hosts');
  checkTemplates(obj.vars, where, ctx, obj, 'vars');
  const roles = expectList(obj.roles, obj, 'roles', ctx).map((r, i) => roleEntry(r, ctx, loc(obj.roles as object, i, ctx)));
  const handlers = parseTaskList(obj.handlers, { ...ctx, handler: true }, obj, 'handlers').flatMap(flattenHandlers);
  const preTasks = parseTaskList(obj.pre_tasks, ctx, obj, 'pre_tasks');
  const tasks = parseTaskList(obj.tasks, ctx, obj, 'tasks');
  const postTasks = parseTaskList(obj.post_tasks, ctx, obj, 'post_tasks');
  const allRoleHandlers = collectRoleHandlers([...roles, ...preTasks, ...tasks, ...postTasks]);
  return {
    name: obj.name === undefined ? String(obj.hosts) : String(obj.name),
    location: where,
    file: ctx.file,
    baseDir: ctx.baseDir,
    hosts: obj.hosts,
    vars: varsMap(obj.vars, obj, 'vars', ctx),
    varsFiles: obj.vars_files === undefined ? [] : Array.isArray(obj.vars_files) ? obj.vars_files : [obj.vars_files],
    varsPrompt: parseVarsPrompt(obj.vars_prompt, obj, ctx),
    preTasks,
    roles,
    tasks,
    postTasks,
    handlers: [...handlers, ...allRoleHandlers],
    become: obj.become,
    becomeUser: obj.become_user,
    becomeMethod: obj.become_method === undefined ? undefined : String(obj.become_method),
    gatherFacts: obj.gather_facts === undefined ? true : truthy(obj.gather_facts),
    serial: obj.serial,
    strategy,
    maxFailPercentage: maxFail,
    anyErrorsFatal: truthy(obj.any_errors_fatal),
    environment: obj.environment,
    tags: stringList(obj.tags, obj, 'tags', ctx),
    ignoreUnreachable: obj.ignore_unreachable,
    ignoreErrors: obj.ignore_errors,
    checkMode: obj.check_mode,
    diff: obj.diff,
    forceHandlers: obj.force_handlers === undefined ? undefined : truthy(obj.force_handlers),
    remoteUser: obj.remote_user ?? obj.user,
    noLog: obj.no_log,
    order: obj.order === undefined ? undefined : String(obj.order),
  };
}

function truthy(v: unknown): boolean {
  if (typeof v === 'string') return ['yes', 'true', 'on', '1', 'y'].includes(v.toLowerCase());
  return Boolean(v);
}

export function loadPlaybook(file: string, options: LoaderOptions = {}, stack: string[] = []): Playbook {
  const path = resolve(file);
  if (stack.includes(path)) throw new ParseError(`import_playbook cycle: ${[...stack, path].join(' -> ')}`);
  const data = readYamlFile(path);
  const ctx: Ctx = { file: path, baseDir: dirname(path), stack: [...stack, path], options };
  if (data === null) throw new ParseError('the playbook is empty', { location: { file: path, line: 1, col: 1 } });
  if (!Array.isArray(data)) {
    throw new ParseError('a playbook must be a list of plays', { location: locationOf(data as object) ?? { file: path, line: 1, col: 1 }, hint: 'start each play with "- hosts: ..."' });
  }
  const plays: Play[] = [];
  data.forEach((entry, i) => {
    if (!isObj(entry)) throw new ParseError('each play must be a mapping', { location: loc(data, i, ctx) });
    const importKey = ['import_playbook', 'ansible.builtin.import_playbook'].find((k) => k in entry);
    if (importKey) {
      const target = entry[importKey];
      if (typeof target !== 'string') throw new ParseError('import_playbook needs a file name', { location: loc(entry, importKey, ctx) });
      const sub = loadPlaybook(isAbsolute(target) ? target : join(ctx.baseDir, target), options, ctx.stack);
      plays.push(...sub.plays);
      return;
    }
    plays.push(parsePlay(entry, ctx));
  });
  return { file: path, plays };
}

/** Loads a role for include_role at run time. */
export function loadRoleForInclude(name: string, baseDir: string, parent: RoleInstance | undefined, options: LoaderOptions, files: Record<string, string>, params: Obj, from: SourceLocation): RoleLoad {
  return loadRole(name, { file: from.file, baseDir, role: parent, stack: [], options }, from, files, params);
}

/** Loads a task file for include_tasks at run time. */
export function loadIncludedTasks(file: string, baseDir: string, role: RoleInstance | undefined, options: LoaderOptions, from: SourceLocation): Node[] {
  const ctx: Ctx = { file: from.file, baseDir, role, stack: [], options };
  return loadTaskFile(resolveTaskFile(file, ctx, from), ctx, from);
}

/** Reads a vars file (vars_files, include_vars); must be a mapping. */
export function loadVarsFile(path: string, from?: SourceLocation): Obj {
  const data = readYamlFile(path, from);
  if (data === null) return {};
  if (!isObj(data)) throw new ParseError(`${path} must be a mapping of variables`, { location: locationOf(data as object) ?? { file: path, line: 1, col: 1 } });
  return data;
}
