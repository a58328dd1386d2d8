/**
 * Host-name ranges, in the two syntaxes cluster people meet:
 *
 * - Ansible's inventory ranges, `node[01:20]`, `rack[a:c]-n[1:4]`, `web[1:10:2]`;
 * - ClusterShell node sets, `cluster[2-5,7]`, `n[01-03],login1` (what `clush -w`
 *   takes and what `clush -b` / `nodeset -f` print).
 *
 * All functions are pure. Errors are UsageErrors about the text given; the
 * inventory parser re-throws them as ParseErrors with the file location.
 */
import { UsageError } from '../errors.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * Expands Ansible's `[begin:end]` and `[begin:end:step]` ranges, as the INI and
 * YAML inventory plugins do. A leading zero in `begin` pads every number to its
 * width. Several ranges multiply, the first one varying slowest.
 *
 * Stricter than Ansible on one point: a range that runs backwards (`[5:1]`) is
 * an error, where Ansible silently defines no host at all.
 */
export function expandAnsibleRange(pattern: string): string[] {
  const open = pattern.indexOf('[');
  if (open === -1) return [pattern];
  const close = pattern.indexOf(']', open);
  if (close === -1) throw new UsageError(`host range in "${pattern}" has no closing "]"`);
  const head = pattern.slice(0, open);
  const body = pattern.slice(open + 1, close);
  const tail = pattern.slice(close + 1);
  const values = rangeValues(body, pattern);
  const out: string[] = [];
  for (const value of values) out.push(...expandAnsibleRange(head + value + tail));
  return out;
}

function rangeValues(body: string, pattern: string): string[] {
  const bounds = body.split(':');
  if (bounds.length !== 2 && bounds.length !== 3) {
    throw new UsageError(`host range [${body}] in "${pattern}" must be [begin:end] or [begin:end:step]`);
  }
  const begin = bounds[0] || '0';
  const end = bounds[1]!;
  const stepText = bounds[2] ?? '1';
  if (!end) throw new UsageError(`host range [${body}] in "${pattern}" has no end value`);
  if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
    throw new UsageError(`host range [${body}] in "${pattern}": the step must be a positive integer, got "${stepText}"`);
  }
  const step = Number(stepText);

  if (/^[a-zA-Z]$/.test(begin) && /^[a-zA-Z]$/.test(end)) {
    const from = LETTERS.indexOf(begin);
    const to = LETTERS.indexOf(end);
    if (from > to) throw new UsageError(`host range [${body}] in "${pattern}" runs backwards: "${begin}" comes after "${end}"`);
    const out: string[] = [];
    for (let i = from; i <= to; i += step) out.push(LETTERS[i]!);
    return out;
  }
  if (!/^\d+$/.test(begin) || !/^\d+$/.test(end)) {
    throw new UsageError(`host range [${body}] in "${pattern}" must be numbers (1:10) or single letters (a:f)`);
  }
  const padded = begin.length > 1 && begin.startsWith('0');
  if (padded && begin.length !== end.length) {
    throw new UsageError(`host range [${body}] in "${pattern}": a zero-padded range needs begin and end of the same width`);
  }
  const from = Number(begin);
  const to = Number(end);
  if (from > to) throw new UsageError(`host range [${body}] in "${pattern}" runs backwards: ${begin} is greater than ${end}`);
  const out: string[] = [];
  for (let i = from; i <= to; i += step) out.push(padded ? String(i).padStart(begin.length, '0') : String(i));
  return out;
}

/**
 * Expands a ClusterShell node set: `cluster[2-5,7]`, `n[01-03]`, `r[1-2]n[1-2]`,
 * `a[1-2],b3`, and steps `n[1-9/2]`. Names are returned in the order written,
 * without duplicates.
 */
export function expandNodeSet(spec: string): string[] {
  const seen = new Set<string>();
  for (const part of splitOutsideBrackets(spec, ',')) {
    const item = part.trim();
    if (!item) continue;
    for (const name of expandNodeSetItem(item, spec)) seen.add(name);
  }
  return [...seen];
}

function expandNodeSetItem(item: string, spec: string): string[] {
  const open = item.indexOf('[');
  if (open === -1) {
    if (item.includes(']')) throw new UsageError(`node set "${spec}" has a "]" without "["`);
    return [item];
  }
  const close = item.indexOf(']', open);
  if (close === -1) throw new UsageError(`node set "${spec}" has a "[" without "]"`);
  const head = item.slice(0, open);
  const tail = item.slice(close + 1);
  const out: string[] = [];
  for (const value of nodeSetValues(item.slice(open + 1, close), spec)) {
    out.push(...expandNodeSetItem(head + value + tail, spec));
  }
  return out;
}

function nodeSetValues(body: string, spec: string): string[] {
  const out: string[] = [];
  for (const piece of body.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+)(?:\/(\d+))?)?\s*$/.exec(piece);
    if (!m) throw new UsageError(`node set "${spec}": "[${body}]" must list numbers and ranges like [1-4,7] or [01-10/2]`);
    const [, begin, end, stepText] = m as unknown as [string, string, string | undefined, string | undefined];
    const width = begin.length > 1 && begin.startsWith('0') ? begin.length : 0;
    const from = Number(begin);
    const to = end === undefined ? from : Number(end);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (to < from) throw new UsageError(`node set "${spec}": range ${piece.trim()} runs backwards`);
    if (step < 1) throw new UsageError(`node set "${spec}": the step in ${piece.trim()} must be at least 1`);
    for (let i = from; i <= to; i += step) out.push(String(i).padStart(width, '0'));
  }
  return out;
}

/** Splits `text` on `separator` where it is not inside `[...]`. */
export function splitOutsideBrackets(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '[') depth++;
    else if (ch === ']') depth = Math.max(0, depth - 1);
    else if (ch === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Compares host names the way people count: `node2` before `node10`. */
export function naturalCompare(a: string, b: string): number {
  const ca = a.match(/\d+|\D+/g) ?? [];
  const cb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i]!;
    const y = cb[i]!;
    if (x === y) continue;
    const xNum = /^\d/.test(x);
    const yNum = /^\d/.test(y);
    if (xNum && yNum) {
      const diff = Number(x) - Number(y);
      if (diff !== 0) return diff;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return ca.length - cb.length;
}

interface Numbered {
  prefix: string;
  digits: string;
  suffix: string;
}

/** Splits a name around its last run of digits: `rack2-n10b` → `rack2-n`, `10`, `b`. */
function splitLastNumber(name: string): Numbered | undefined {
  const m = /^(.*?)(\d+)(\D*)$/.exec(name);
  if (!m) return undefined;
  return { prefix: m[1]!, digits: m[2]!, suffix: m[3]! };
}

/**
 * Folds host names into the shortest node set, as `nodeset -f` and `clush -b`
 * print it: `cluster2..5,cluster7` → `cluster[2-5,7]`, keeping zero padding
 * (`node[01-03]`). Only the last number of a name is folded. Names without
 * digits stay as they are; the parts are sorted naturally and comma-joined.
 */
export function foldNodeSet(names: readonly string[]): string {
  const unique = [...new Set(names)].sort(naturalCompare);
  const groups = new Map<string, { prefix: string; suffix: string; width: number; numbers: Set<number> }>();
  const plain: string[] = [];
  for (const name of unique) {
    const parts = splitLastNumber(name);
    if (!parts) {
      plain.push(name);
      continue;
    }
    // `node01` and `node1` are different hosts: padded numbers fold only with numbers of the same width.
    const width = parts.digits.length > 1 && parts.digits.startsWith('0') ? parts.digits.length : 0;
    const key = JSON.stringify([parts.prefix, parts.suffix, width]);
    let group = groups.get(key);
    if (!group) {
      group = { prefix: parts.prefix, suffix: parts.suffix, width, numbers: new Set() };
      groups.set(key, group);
    }
    group.numbers.add(Number(parts.digits));
  }
  // An unpadded number as wide as a padded group belongs to it: node01..node10 is node[01-10].
  for (const group of groups.values()) {
    if (group.width !== 0) continue;
    for (const n of [...group.numbers]) {
      const padded = groups.get(JSON.stringify([group.prefix, group.suffix, String(n).length]));
      if (padded) {
        padded.numbers.add(n);
        group.numbers.delete(n);
      }
    }
  }
  const items: { text: string; sortKey: string }[] = plain.map((p) => ({ text: p, sortKey: p }));
  for (const group of groups.values()) {
    if (group.numbers.size === 0) continue;
    const sorted = [...group.numbers].sort((a, b) => a - b);
    const format = (n: number) => String(n).padStart(group.width, '0');
    if (sorted.length === 1) {
      const only = group.prefix + format(sorted[0]!) + group.suffix;
      items.push({ text: only, sortKey: only });
      continue;
    }
    const ranges: string[] = [];
    let start = sorted[0]!;
    let prev = start;
    for (const n of [...sorted.slice(1), Number.NaN]) {
      if (n === prev + 1) {
        prev = n;
        continue;
      }
      ranges.push(start === prev ? format(start) : `${format(start)}-${format(prev)}`);
      start = n;
      prev = n;
    }
    items.push({ text: `${group.prefix}[${ranges.join(',')}]${group.suffix}`, sortKey: group.prefix + format(sorted[0]!) + group.suffix });
  }
  return items
    .sort((a, b) => naturalCompare(a.sortKey, b.sortKey))
    .map((i) => i.text)
    .join(',');
}
