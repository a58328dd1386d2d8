/**
 * The loaded playbook: plays, blocks, tasks and roles, with the source
 * location of everything, ready for the executor. Values stay raw (templates
 * are rendered per host at run time).
 */
import type { SourceLocation } from '../errors.js';
import type { AnyModule } from '../modules/types.js';

/** Keywords that every task-like node (task, block, include) may carry. */
export interface NodeCommon {
  name?: string;
  location: SourceLocation;
  /** conditions, all must hold (Ansible's `when` list) */
  when: unknown[];
  tags: string[];
  vars: Record<string, unknown>;
  become?: unknown;
  becomeUser?: unknown;
  becomeMethod?: string;
  environment?: unknown;
  ignoreErrors?: unknown;
  ignoreUnreachable?: unknown;
  delegateTo?: unknown;
  runOnce?: unknown;
  checkMode?: unknown;
  diff?: unknown;
  noLog?: unknown;
  anyErrorsFatal?: boolean;
  remoteUser?: unknown;
  /** the role this node came from, for variables, file lookups and names */
  role?: RoleInstance;
}

export interface LoopSpec {
  /** `loop:` expression or list; `with_items` etc. are normalised here */
  items: unknown;
  /** with_items flattens one level, with_dict turns a dict into items */
  flavor: 'loop' | 'items' | 'dict' | 'list' | 'indexed_items' | 'sequence' | 'fileglob' | 'together' | 'nested';
  loopVar: string;
  indexVar?: string;
  label?: unknown;
  pause?: number;
  extended?: boolean;
}

export interface TaskNode extends NodeCommon {
  kind: 'task';
  /** canonical module name, e.g. 'copy' */
  action: string;
  module: AnyModule;
  args: Record<string, unknown>;
  /** where the module's arguments were written */
  argsLocation: SourceLocation;
  loop?: LoopSpec;
  register?: string;
  notify: string[];
  /** handlers only: topics this handler also answers to */
  listen: string[];
  changedWhen?: unknown[];
  failedWhen?: unknown[];
  until?: unknown[];
  retries?: unknown;
  delay?: unknown;
  /** is this a handler */
  handler?: boolean;
}

export interface BlockNode extends NodeCommon {
  kind: 'block';
  block: Node[];
  rescue: Node[];
  always: Node[];
  /** blocks made from import_tasks/import_role, only for naming */
  origin?: 'block' | 'import_tasks' | 'import_role' | 'role';
}

/** include_tasks / include_role: resolved per host at run time. */
export interface IncludeNode extends NodeCommon {
  kind: 'include';
  what: 'tasks' | 'role';
  /** file (include_tasks) or role name (include_role), may be templated */
  target: unknown;
  /** include_role: tasks_from, vars_from, defaults_from, handlers_from, public, apply */
  options: Record<string, unknown>;
  /** include params (become include vars) */
  params: Record<string, unknown>;
  loop?: LoopSpec;
  /** the directory relative include paths resolve against */
  baseDir: string;
}

export type Node = TaskNode | BlockNode | IncludeNode;

export interface RoleInstance {
  name: string;
  path: string;
  defaults: Record<string, unknown>;
  vars: Record<string, unknown>;
  params: Record<string, unknown>;
  /** loaded lazily for include_role; eager for play roles */
  handlers: TaskNode[];
}

export interface VarsPrompt {
  name: string;
  prompt: string;
  private: boolean;
  default?: unknown;
  confirm?: boolean;
}

export interface Play {
  name: string;
  location: SourceLocation;
  file: string;
  baseDir: string;
  hosts: unknown;
  vars: Record<string, unknown>;
  varsFiles: unknown[];
  varsPrompt: VarsPrompt[];
  preTasks: Node[];
  /** the play's roles, each as a block carrying its role context */
  roles: Node[];
  tasks: Node[];
  postTasks: Node[];
  handlers: TaskNode[];
  become?: unknown;
  becomeUser?: unknown;
  becomeMethod?: string;
  gatherFacts: boolean;
  serial?: unknown;
  strategy: 'linear' | 'free';
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
  environment?: unknown;
  tags: string[];
  ignoreUnreachable?: unknown;
  ignoreErrors?: unknown;
  checkMode?: unknown;
  diff?: unknown;
  forceHandlers?: boolean;
  remoteUser?: unknown;
  noLog?: unknown;
  order?: string;
}

export interface Playbook {
  file: string;
  plays: Play[];
}
