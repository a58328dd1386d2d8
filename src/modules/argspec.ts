/**
 * Module arguments are declared once, Ansible-style (type, required, default,
 * choices, aliases), and everything else derives from that declaration: the
 * TypeScript type of the parsed arguments, load-time validation with
 * file:line:col, runtime validation after templating, and `tsible doc`.
 */
import { scalarSourceOf } from '../util/yaml.js';

export type ArgType = 'str' | 'bool' | 'int' | 'float' | 'list' | 'dict' | 'path' | 'raw' | 'mode';

export interface ArgSpec<T extends ArgType = ArgType> {
  type: T;
  description: string;
  required?: boolean;
  default?: unknown;
  choices?: readonly string[];
  aliases?: readonly string[];
  /** element type for lists */
  elements?: ArgType;
  /** never printed (passwords) */
  noLog?: boolean;
}

export type ArgSpecs = Record<string, ArgSpec>;

type ValueOf<S extends ArgSpec> = S['choices'] extends readonly (infer C)[]
  ? C
  : S['type'] extends 'str' | 'path'
    ? string
    : S['type'] extends 'bool'
      ? boolean
      : S['type'] extends 'int' | 'float'
        ? number
        : S['type'] extends 'mode'
          ? string
          : S['type'] extends 'list'
            ? S['elements'] extends 'str' | 'path'
              ? string[]
              : S['elements'] extends 'int'
                ? number[]
                : S['elements'] extends 'dict'
                  ? Record<string, unknown>[]
                  : unknown[]
            : S['type'] extends 'dict'
              ? Record<string, unknown>
              : unknown;

type IsPresent<S extends ArgSpec> = S['required'] extends true ? true : 'default' extends keyof S ? (undefined extends S['default'] ? false : true) : false;

/** The parsed-arguments type of a module, inferred from its declaration. */
export type ArgsOf<S extends ArgSpecs> = {
  -readonly [K in keyof S as IsPresent<S[K]> extends true ? K : never]: ValueOf<S[K]>;
} & {
  -readonly [K in keyof S as IsPresent<S[K]> extends true ? never : K]?: ValueOf<S[K]>;
};

/** A problem with one argument; the loader turns it into a ParseError at the argument's location. */
export class ArgError extends Error {
  constructor(
    message: string,
    readonly argument?: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const TRUE_STRINGS = new Set(['yes', 'on', '1', 'true', 'y', 't']);
const FALSE_STRINGS = new Set(['no', 'off', '0', 'false', 'n', 'f']);

/** Ansible's boolean coercion (module_utils.parsing.convert_bool). */
export function toBool(value: unknown, name = 'value'): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && (value === 0 || value === 1)) return value === 1;
  if (typeof value === 'string') {
    const s = value.trim().toLowerCase();
    if (TRUE_STRINGS.has(s)) return true;
    if (FALSE_STRINGS.has(s)) return false;
  }
  throw new ArgError(`${name} must be a boolean (yes/no, true/false), got ${JSON.stringify(value)}`, name);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'dict';
  return typeof v;
}

/**
 * A file mode as Ansible accepts it: an octal string ('0644', '644'), a
 * symbolic mode ('u=rw,g=r'), 'preserve', or an integer that YAML read as
 * octal (0644 → 420). A bare decimal integer like 644 is almost always a
 * mistake (it means 0o1204), so it is refused with a hint.
 */
function coerceMode(value: unknown, name: string, source?: string): string {
  if (typeof value === 'number') {
    if (source !== undefined && !/^0[0-7]*$|^0o[0-7]+$/.test(source.trim())) {
      throw new ArgError(
        `${name}: ${source} is not an octal-looking number; YAML reads it as decimal ${value} (= 0${value.toString(8)})`,
        name,
        `quote it ('0${source}' or '${source}') or write it with a leading zero (0${source})`,
      );
    }
    return '0' + value.toString(8);
  }
  if (typeof value === 'string') {
    const s = value.trim();
    if (/^0?[0-7]{3,4}$/.test(s)) return s.length === 3 ? '0' + s : s;
    if (s === 'preserve') return s;
    if (/^[ugoa]*[-+=][rwxXstugo]*(,[ugoa]*[-+=][rwxXstugo]*)*$/.test(s)) return s;
  }
  throw new ArgError(`${name} must be an octal mode like '0644' or a symbolic mode like 'u=rw,g=r', got ${JSON.stringify(value)}`, name);
}

function coerce(value: unknown, spec: ArgSpec, name: string, source?: string): unknown {
  switch (spec.type) {
    case 'raw':
      return value;
    case 'str':
    case 'path':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw new ArgError(`${name} must be a string, got ${typeName(value)}`, name);
    case 'bool':
      return toBool(value, name);
    case 'int': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n === 'number' && Number.isInteger(n)) return n;
      throw new ArgError(`${name} must be an integer, got ${JSON.stringify(value)}`, name);
    }
    case 'float': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n === 'number' && Number.isFinite(n)) return n;
      throw new ArgError(`${name} must be a number, got ${JSON.stringify(value)}`, name);
    }
    case 'mode':
      return coerceMode(value, name, source);
    case 'list': {
      // Ansible accepts a comma-separated string (or a single value) where a list is expected.
      const list = Array.isArray(value)
        ? value
        : typeof value === 'string'
          ? value.split(',').map((s) => s.trim()).filter((s) => s !== '')
          : [value];
      if (!spec.elements) return list;
      return list.map((item, i) => coerce(item, { type: spec.elements!, description: '' }, `${name}[${i}]`));
    }
    case 'dict':
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
      throw new ArgError(`${name} must be a mapping, got ${typeName(value)}`, name);
  }
}

export interface ValidateOptions {
  /** Values may still be templates: skip type checks for strings containing `{{`. */
  allowTemplates?: boolean;
  /** set_fact and friends take arbitrary variable names; those pass through unchecked. */
  allowUnknown?: boolean;
}

const TEMPLATE_RE = /\{\{|\{%/;

/**
 * Validates and normalises raw arguments: resolves aliases, rejects unknown
 * names, checks required ones, coerces types, fills defaults.
 */
export function validateArgs<S extends ArgSpecs>(specs: S, raw: Record<string, unknown>, opts: ValidateOptions = {}): ArgsOf<S> {
  const out: Record<string, unknown> = {};
  const aliasOf = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    aliasOf.set(name, name);
    for (const a of spec.aliases ?? []) aliasOf.set(a, name);
  }
  for (const [key, value] of Object.entries(raw)) {
    const name = aliasOf.get(key);
    if (!name && opts.allowUnknown) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new ArgError(`"${key}" is not a valid variable name`, key);
      out[key] = value;
      continue;
    }
    if (!name) {
      const known = Object.keys(specs).sort();
      throw new ArgError(`unsupported argument "${key}"`, key, `supported: ${known.join(', ')}`);
    }
    if (name in out) throw new ArgError(`argument "${name}" given twice (as "${key}" and an alias)`, key);
    if (value === null || value === undefined) continue;
    const spec = specs[name]!;
    if (opts.allowTemplates && typeof value === 'string' && TEMPLATE_RE.test(value)) {
      out[name] = value;
      continue;
    }
    const source = scalarSourceOf(raw, key);
    const v = coerce(value, spec, name, source);
    if (spec.choices && !spec.choices.includes(String(v))) {
      throw new ArgError(`${name} must be one of ${spec.choices.join(', ')}; got ${JSON.stringify(v)}`, key);
    }
    out[name] = spec.choices ? String(v) : v;
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (out[name] !== undefined) continue;
    if (spec.default !== undefined) out[name] = spec.default;
    else if (spec.required) throw new ArgError(`missing required argument "${name}"`, undefined);
  }
  return out as ArgsOf<S>;
}
