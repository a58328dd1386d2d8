/**
 * to_json / to_yaml as Ansible writes them (Python's json.dumps and PyYAML):
 * `{"a": 1, "b": [1, 2]}` with a space after `,` and `:`, non-ASCII escaped,
 * keys sorted where Ansible sorts them. Rendered config files are compared
 * byte for byte with what is on the host, so the format matters.
 */
import { yamlLibrary } from '../util/yaml-library.js';
import { ansibleYamlTags } from '../util/yaml.js';
import { UnsafeText, VaultedText } from '../util/markers.js';
import { TemplateError } from './errors.js';
import { isDict, typeName, unwrap } from './python.js';
import { Undefined } from './undefined.js';

export interface JsonOptions {
  indent?: number;
  sortKeys?: boolean;
  ensureAscii?: boolean;
}

function jsonNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(n)) return String(n);
  const abs = Math.abs(n);
  if (abs < 1e-4 || abs >= 1e16) {
    const [m, e] = n.toExponential().split('e') as [string, string];
    return `${m}e${e.startsWith('-') ? '-' : '+'}${e.replace(/^[-+]/, '').padStart(2, '0')}`;
  }
  return String(n);
}

function jsonString(s: string, ascii: boolean): string {
  const q = JSON.stringify(s);
  return ascii ? q.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : q;
}

/** Python's json.dumps. */
export function toJson(value: unknown, opts: JsonOptions = {}): string {
  const ascii = opts.ensureAscii ?? true;
  const indent = opts.indent;
  const itemSep = indent === undefined ? ', ' : ',';
  const enc = (v: unknown, depth: number): string => {
    if (v instanceof Undefined) v.fail();
    v = unwrap(v);
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'string') return jsonString(v, ascii);
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') return jsonNumber(v);
    if (v instanceof VaultedText) return enc({ __ansible_vault: v.ciphertext }, depth);
    if (v instanceof Date) return jsonString(v.toISOString().replace(/T00:00:00\.000Z$/, '').replace(/Z$/, '+00:00'), ascii);
    const nl = indent === undefined ? '' : `\n${' '.repeat(indent * (depth + 1))}`;
    const end = indent === undefined ? '' : `\n${' '.repeat(indent * depth)}`;
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[${nl}${v.map((x) => enc(x, depth + 1)).join(itemSep + nl)}${end}]`;
    }
    if (isDict(v)) {
      let keys = Object.keys(v);
      if (keys.length === 0) return '{}';
      if (opts.sortKeys) keys = [...keys].sort();
      return `{${nl}${keys.map((k) => `${jsonString(k, ascii)}: ${enc(v[k], depth + 1)}`).join(itemSep + nl)}${end}}`;
    }
    throw new TemplateError(`Object of type ${typeName(v)} is not JSON serializable`);
  };
  return enc(value, 0);
}

/** Plain data for the YAML writer: markers become strings, Undefined fails. */
function plain(v: unknown): unknown {
  if (v instanceof Undefined) v.fail();
  if (v instanceof UnsafeText) return v.value;
  v = unwrap(v);
  if (v instanceof VaultedText) return { __ansible_vault: v.ciphertext };
  if (Array.isArray(v)) return v.map(plain);
  if (isDict(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = plain(v[k]);
    return out;
  }
  return v;
}

export interface YamlOptions {
  indent?: number;
  /** to_yaml (PyYAML's default_flow_style=None): collections of scalars are written in flow style */
  flowLeaves?: boolean;
  sortKeys?: boolean;
}

/** PyYAML's bools (no y/n), so `y` is written bare as PyYAML does. */
const scalarOptions = {
  version: '1.1' as const,
  singleQuote: true,
  lineWidth: 0,
  blockQuote: false as const,
  flowCollectionPadding: false,
  customTags: (tags: unknown[]) =>
    tags.map((t) =>
      (t as { tag?: string }).tag === 'tag:yaml.org,2002:bool'
        ? { ...(t as object), test: /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON|[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/ }
        : t,
    ) as never,
};

function yamlScalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return jsonNumber(v).replace(/^(-?\d+)e/, '$1.0e').replace(/^NaN$/, '.nan').replace(/^(-?)Infinity$/, '$1.inf');
  return yamlLibrary().stringify(v, scalarOptions).trimEnd();
}

function isCollection(v: unknown): v is unknown[] | Record<string, unknown> {
  return Array.isArray(v) || isDict(v);
}

function isEmpty(v: unknown[] | Record<string, unknown>): boolean {
  return Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0;
}

/**
 * PyYAML's block style: sequences inside mappings are not indented, a
 * mapping inside a sequence starts on the dash's line (`-   k: v` at
 * indent 4), empty collections are `[]`/`{}`.
 */
function yamlLines(v: unknown, col: number, o: Required<YamlOptions>): string[] {
  const pad = ' '.repeat(col);
  const inline = (x: unknown): string | undefined => {
    if (!isCollection(x)) return yamlScalar(x);
    if (isEmpty(x)) return Array.isArray(x) ? '[]' : '{}';
    if (o.flowLeaves && (Array.isArray(x) ? x : Object.values(x)).every((y) => !isCollection(y))) {
      return yamlLibrary().stringify(x, { ...scalarOptions, collectionStyle: 'flow', sortMapEntries: o.sortKeys }).trimEnd();
    }
    return undefined;
  };
  const out: string[] = [];
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = inline(item);
      if (s !== undefined) {
        out.push(`${pad}- ${s}`);
        continue;
      }
      const inner = yamlLines(item, col + o.indent, o);
      out.push(`${pad}-${' '.repeat(o.indent - 1)}${inner[0]!.slice(col + o.indent)}`, ...inner.slice(1));
    }
    return out;
  }
  const d = v as Record<string, unknown>;
  let keys = Object.keys(d);
  if (o.sortKeys) keys = [...keys].sort();
  for (const k of keys) {
    const key = yamlScalar(k);
    const val = d[k];
    const s = inline(val);
    if (s !== undefined) out.push(`${pad}${key}: ${s}`);
    else if (Array.isArray(val)) out.push(`${pad}${key}:`, ...yamlLines(val, col, o));
    else out.push(`${pad}${key}:`, ...yamlLines(val, col + o.indent, o));
  }
  return out;
}

/** PyYAML's yaml.dump as Ansible calls it (to_yaml, to_nice_yaml). */
export function toYaml(value: unknown, opts: YamlOptions = {}): string {
  const data = plain(value);
  const o: Required<YamlOptions> = { indent: opts.indent ?? 2, flowLeaves: opts.flowLeaves ?? false, sortKeys: opts.sortKeys ?? true };
  if (!isCollection(data)) return `${yamlScalar(data)}\n...\n`;
  if (isEmpty(data)) return Array.isArray(data) ? '[]\n' : '{}\n';
  if (o.flowLeaves && (Array.isArray(data) ? data : Object.values(data)).every((y) => !isCollection(y))) {
    return `${yamlLibrary().stringify(data, { ...scalarOptions, collectionStyle: 'flow', sortMapEntries: o.sortKeys }).trimEnd()}\n`;
  }
  return `${yamlLines(data, 0, o).join('\n')}\n`;
}

export function fromYaml(text: string, all = false): unknown {
  const docs = yamlLibrary().parseAllDocuments(text, { version: '1.1', merge: true, customTags: ansibleYamlTags() });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) {
    const e = d.errors[0];
    if (e) throw new TemplateError(`from_yaml: ${e.message.split('\n')[0]}`);
  }
  const values = list.map((d) => d.toJS());
  return all ? values : (values[0] ?? null);
}
