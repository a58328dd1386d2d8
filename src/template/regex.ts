/**
 * Python `re` patterns and replacement strings, run on JavaScript RegExp.
 * Ansible users write Python syntax: `(?P<name>...)`, `\g<1>`, `\1`,
 * inline `(?i)`, `\A`/`\Z`. Patterns are translated rather than interpreted;
 * what is left (possessive quantifiers, `(?x)` verbose mode) is rare in
 * playbooks and fails with JavaScript's message.
 */
import { TemplateError } from './errors.js';

export interface RegexOptions {
  ignorecase?: boolean;
  multiline?: boolean;
  /** every match (`g`) */
  global?: boolean;
  /** anchored at the start, like re.match (`y`) */
  sticky?: boolean;
}

const cache = new Map<string, RegExp>();

export function pyRegex(pattern: string, opts: RegexOptions = {}): RegExp {
  let flags = '';
  let src = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    if (inline[1]!.includes('i')) opts = { ...opts, ignorecase: true };
    if (inline[1]!.includes('m')) opts = { ...opts, multiline: true };
    if (inline[1]!.includes('s')) flags += 's';
  }
  if (opts.ignorecase) flags += 'i';
  if (opts.multiline) flags += 'm';
  if (opts.global) flags += 'g';
  if (opts.sticky) flags += 'y';
  const key = `${flags}\0${src}`;
  const hit = cache.get(key);
  if (hit) {
    hit.lastIndex = 0;
    return hit;
  }
  const js = src
    .replace(/\\\\|\(\?P<([A-Za-z_]\w*)>|\(\?P=([A-Za-z_]\w*)\)|\\A|\\Z/g, (m, name: string | undefined, ref: string | undefined) => {
      if (m === '\\\\') return m;
      if (name) return `(?<${name}>`;
      if (ref) return `\\k<${ref}>`;
      return m === '\\A' ? '(?<![\\s\\S])' : '(?![\\s\\S])';
    });
  let re: RegExp;
  try {
    re = new RegExp(js, flags);
  } catch (err) {
    throw new TemplateError(`invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`, { cause: err });
  }
  if (cache.size > 500) cache.clear();
  cache.set(key, re);
  return re;
}

type Part = string | number | { name: string };

/** A Python replacement string (`\1`, `\g<1>`, `\g<name>`) as a replace() callback. */
export function pyReplacement(repl: string): (match: string, groups: (string | undefined)[], named: Record<string, string | undefined> | undefined) => string {
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i]!;
    if (c !== '\\' || i === repl.length - 1) {
      lit += c;
      continue;
    }
    const n = repl[i + 1]!;
    const g = /^g<([^>]+)>/.exec(repl.slice(i + 1));
    const d = /^\d{1,2}/.exec(repl.slice(i + 1));
    if (g) {
      parts.push(lit);
      lit = '';
      parts.push(/^\d+$/.test(g[1]!) ? Number(g[1]) : { name: g[1]! });
      i += g[0].length;
    } else if (d) {
      parts.push(lit);
      lit = '';
      parts.push(Number(d[0]));
      i += d[0].length;
    } else {
      const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', a: '\x07', f: '\f', v: '\v', b: '\b' };
      lit += esc[n] ?? `\\${n}`;
      i++;
    }
  }
  parts.push(lit);
  return (match, groups, named) =>
    parts
      .map((p) => {
        if (typeof p === 'string') return p;
        if (typeof p === 'number') {
          if (p === 0) return match;
          if (p > groups.length) throw new TemplateError(`invalid group reference ${p}`);
          return groups[p - 1] ?? '';
        }
        if (!named || !(p.name in named)) throw new TemplateError(`unknown group name '${p.name}'`);
        return named[p.name] ?? '';
      })
      .join('');
}

/** re.sub */
export function pySub(value: string, pattern: string, repl: string, opts: RegexOptions & { count?: number } = {}): string {
  const re = pyRegex(pattern, { ...opts, global: true });
  const build = pyReplacement(repl);
  let n = 0;
  const limit = opts.count && opts.count > 0 ? opts.count : Infinity;
  return value.replace(re, (...args: unknown[]) => {
    if (n >= limit) return args[0] as string;
    n++;
    const hasNamed = typeof args[args.length - 1] === 'object';
    const named = hasNamed ? (args[args.length - 1] as Record<string, string | undefined>) : undefined;
    const groups = args.slice(1, hasNamed ? -3 : -2) as (string | undefined)[];
    return build(args[0] as string, groups, named);
  });
}

/** re.findall: whole matches, the single group, or tuples of groups. */
export function pyFindall(value: string, pattern: string, opts: RegexOptions = {}): unknown[] {
  const re = pyRegex(pattern, { ...opts, global: true });
  const out: unknown[] = [];
  for (const m of value.matchAll(re)) {
    if (m.length === 1) out.push(m[0]);
    else if (m.length === 2) out.push(m[1] ?? '');
    else out.push(m.slice(1).map((g) => g ?? ''));
  }
  return out;
}
