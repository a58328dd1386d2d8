/**
 * YAML read the way Ansible reads it: YAML 1.1 (`yes`/`no` booleans, `0644`
 * octal), merge keys on, duplicate keys an error, `!vault` and `!unsafe`
 * understood. Every mapping and sequence remembers where each of its entries
 * was written, so later stages can point at `file:line:col`.
 */
import type { Alias, Document, Node, Pair, ScalarTag, Tags } from 'yaml';
import { yamlLibrary } from './yaml-library.js';
import { ParseError, locationAt, type SourceLocation } from '../errors.js';
import { UnsafeText, VaultedText } from './markers.js';

interface EntryInfo {
  /** where the key (or the sequence item) starts */
  keyLocation: SourceLocation;
  /** where the value starts */
  valueLocation: SourceLocation;
  /** the raw source text of a scalar value, e.g. `0644` */
  source?: string;
}

const positions = new WeakMap<object, Map<string | number, EntryInfo>>();
const containerLocations = new WeakMap<object, SourceLocation>();

/** Where `container[key]` was written (its key for mappings), if it came from YAML. */
export function locationOf(container: object, key?: string | number): SourceLocation | undefined {
  if (key === undefined) return containerLocations.get(container);
  return positions.get(container)?.get(key)?.keyLocation;
}

/** Where the value of `container[key]` was written. */
export function valueLocationOf(container: object, key: string | number): SourceLocation | undefined {
  return positions.get(container)?.get(key)?.valueLocation;
}

/** The raw YAML source of a scalar value (`0644`, `yes`), to tell how a user wrote it. */
export function scalarSourceOf(container: object, key: string | number): string | undefined {
  return positions.get(container)?.get(key)?.source;
}

/** Copies the recorded location of `from` onto `to` (for values rebuilt from parsed ones). */
export function copyLocation(from: object, to: object): void {
  const loc = containerLocations.get(from);
  if (loc) containerLocations.set(to, loc);
  const p = positions.get(from);
  if (p) positions.set(to, p);
}

const unsafeTag: ScalarTag = {
  tag: '!unsafe',
  resolve: (str: string) => new UnsafeText(str),
};

function vaultTag(file: string): ScalarTag {
  return {
    tag: '!vault',
    resolve: (str: string) => new VaultedText(str, file),
  };
}

const FLOAT = 'tag:yaml.org,2002:float';

/**
 * Floats as PyYAML (so Ansible) resolves them: a dot is required, and an
 * exponent needs its sign. The yaml library's YAML 1.1 floats also take `e1`
 * (as NaN), `1e3` and a lone `.`, which would turn host names like `e1` into
 * numbers. Infinity and NaN (`.inf`, `.nan`) keep the library's own tag.
 */
const pyyamlFloat: ScalarTag = {
  identify: (value) => typeof value === 'number',
  default: true,
  tag: FLOAT,
  test: /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?)$/,
  resolve: (str: string) => parseFloat(str.replace(/_/g, '')),
};

function isLibraryFiniteFloat(tag: unknown): boolean {
  const t = tag as ScalarTag;
  return t.tag === FLOAT && t.test !== undefined && !/inf|nan/i.test(t.test.source);
}

/** The YAML 1.1 scalar tags Ansible's parser has, for yaml's `customTags` option. */
export function ansibleYamlTags(extra: ScalarTag[] = []): (tags: Tags) => Tags {
  return (tags) => [...tags.filter((t) => !isLibraryFiniteFloat(t)), pyyamlFloat, ...extra];
}

const OPTIONS = { version: '1.1' as const, merge: true, uniqueKeys: true, prettyErrors: false };

/** Parses every document in `text`. Throws ParseError with file:line:col. */
export function loadYamlDocuments(file: string, text: string): unknown[] {
  const lineCounter = new (yamlLibrary().LineCounter)();
  const docs = yamlLibrary().parseAllDocuments(text, {
    ...OPTIONS,
    lineCounter,
    customTags: ansibleYamlTags([unsafeTag, vaultTag(file)]),
  });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const first = doc.errors[0];
    if (first) {
      let offset = first.pos[0];
      // An error reported at the end of a line is about what follows: point at the next line's first word.
      if (text[offset] === '\n') {
        offset++;
        while (text[offset] === ' ') offset++;
      }
      const loc = locationAt(file, text, offset);
      const msg = first.message.split(' at line ')[0]!.split('\n')[0]!;
      throw new ParseError(`YAML syntax error: ${msg}`, { location: loc, hint: hintFor(first.code) });
    }
  }
  const convert = new Converter(file, text);
  return list.map((doc) => convert.document(doc as Document.Parsed));
}

/** Parses a single-document YAML file (playbooks, vars files, inventories). Empty files give `null`. */
export function loadYaml(file: string, text: string): unknown {
  const docs = loadYamlDocuments(file, text);
  if (docs.length > 1) {
    throw new ParseError('expected a single YAML document, found several', {
      location: locationAt(file, text, text.indexOf('\n---') + 1),
    });
  }
  return docs[0] ?? null;
}

function hintFor(code: string): string | undefined {
  if (code === 'DUPLICATE_KEY') return 'each key may appear only once in a mapping';
  if (code === 'BAD_INDENT' || code === 'MISSING_CHAR') return 'check the indentation of this line and the one above';
  if (code === 'TAB_AS_INDENT') return 'YAML does not allow tabs for indentation';
  return undefined;
}

class Converter {
  constructor(
    private readonly file: string,
    private readonly text: string,
  ) {}

  private doc!: Document.Parsed;

  document(doc: Document.Parsed): unknown {
    this.doc = doc;
    return doc.contents ? this.node(doc.contents as Node) : null;
  }

  private loc(node: Node | null | undefined): SourceLocation {
    const offset = node?.range?.[0] ?? 0;
    return locationAt(this.file, this.text, offset);
  }

  private node(node: Node | Alias): unknown {
    if (yamlLibrary().isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target) throw new ParseError(`unknown alias *${node.source}`, { location: this.loc(node) });
      return this.node(target as Node);
    }
    if (yamlLibrary().isScalar(node)) {
      return node.value;
    }
    if (yamlLibrary().isSeq(node)) {
      const out: unknown[] = [];
      const info = new Map<number, EntryInfo>();
      node.items.forEach((item, i) => {
        const loc = this.loc(item as Node);
        info.set(i, {
          keyLocation: loc,
          valueLocation: loc,
          source: yamlLibrary().isScalar(item) ? (item.source as string | undefined) : undefined,
        });
        out.push(item == null ? null : this.node(item as Node));
      });
      positions.set(out, info);
      containerLocations.set(out, this.loc(node));
      return out;
    }
    if (yamlLibrary().isMap(node)) {
      const out: Record<string, unknown> = {};
      const info = new Map<string, EntryInfo>();
      const explicit = new Set<string>();
      const merges: Pair[] = [];
      for (const pair of node.items as Pair[]) {
        if (isMergeKey(pair)) {
          merges.push(pair);
          continue;
        }
        const key = keyString(pair.key);
        explicit.add(key);
        const value = pair.value == null ? null : this.node(pair.value as Node);
        out[key] = value;
        info.set(key, {
          keyLocation: this.loc(pair.key as Node),
          valueLocation: this.loc((pair.value as Node) ?? (pair.key as Node)),
          source: yamlLibrary().isScalar(pair.value) ? (pair.value.source as string | undefined) : undefined,
        });
      }
      // Merge keys never override keys written in the mapping itself; earlier merges win over later ones.
      for (const pair of merges) {
        const sources = yamlLibrary().isSeq(pair.value) ? (pair.value.items as Node[]) : [pair.value as Node];
        for (const src of sources) {
          const merged = this.node(src);
          if (merged === null || typeof merged !== 'object' || Array.isArray(merged)) {
            throw new ParseError('a merge key (<<) needs a mapping or a list of mappings', {
              location: this.loc(src),
            });
          }
          const srcInfo = positions.get(merged);
          for (const [k, v] of Object.entries(merged)) {
            if (explicit.has(k) || k in out) continue;
            out[k] = v;
            const e = srcInfo?.get(k);
            if (e) info.set(k, e);
          }
        }
      }
      positions.set(out, info);
      containerLocations.set(out, this.loc(node));
      return out;
    }
    return null;
  }
}

function isMergeKey(pair: Pair): boolean {
  const k = pair.key as unknown;
  if (yamlLibrary().isScalar(k)) {
    const v = (k as { value: unknown; source?: string }).value;
    return v === '<<' || (typeof v === 'symbol' && String(v).includes('<<')) || (k as { source?: string }).source === '<<';
  }
  return false;
}

function keyString(key: unknown): string {
  if (yamlLibrary().isScalar(key)) {
    const v = key.value;
    if (v instanceof UnsafeText) return v.value;
    return String(v);
  }
  if (key == null) return '';
  return String((key as { toString(): string }).toString());
}
