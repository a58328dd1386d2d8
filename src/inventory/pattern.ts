/**
 * Host patterns, as `hosts:` and `--limit` take them, evaluated as Ansible does:
 *
 *     all  *  web  web1  web*  db-?  ~(web|db)\d+   names, globs, regex (~)
 *     web:db  web,db          union
 *     web:&prod               intersection
 *     web:!web3               exclusion
 *     web[0]  web[1:3]  web[-1]   Ansible subscripts of a group's hosts
 *     cluster[2-5,7]  n[01-10]    ClusterShell node sets (tsible addition)
 *
 * Unions are applied first, then intersections, then exclusions, whatever the
 * order written. Unlike Ansible, which warns and goes on, a part that matches
 * nothing and names no known host or group is an error: a typo in `!prod`
 * must not run on production.
 */
import { UsageError } from '../errors.js';
import { didYouMean } from '../util/suggest.js';
import { expandNodeSet, foldNodeSet, splitOutsideBrackets } from './nodeset.js';

/** What a pattern is evaluated against. Orders are Ansible's: creation order for names. */
export interface PatternTarget {
  /** group names in the order they were defined (including all and ungrouped) */
  groupNames(): string[];
  /** host names in the order they were defined */
  definedHostNames(): string[];
  hasHost(name: string): boolean;
  hasGroup(name: string): boolean;
  /** hosts of a group and its descendants, in Ansible's order */
  groupHosts(group: string): string[];
}

/** Names Ansible treats as the implicit localhost when the inventory does not list them. */
export const LOCALHOST_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

const IPV6_LIKE = /^[0-9a-f]*:[0-9a-f:.]*:[0-9a-f:.]*$/i;
const SUBSCRIPT_RE = /^(.+)\[(?:(-?[0-9]+)|([0-9]+):([0-9]*))\]$/;
/** `n[1-3,5]x[01-02]`: brackets of numbers and ranges, and no glob characters outside them. */
function isNodeSet(pattern: string): boolean {
  const outside = pattern.replace(/\[[^\]]*\]/g, '');
  const brackets = pattern.match(/\[[^\]]*\]/g) ?? [];
  return brackets.length > 0 && !/[*?]/.test(outside) && brackets.every((b) => /^\[[\d\s,/-]+\]$/.test(b));
}

/** Splits a pattern into its parts: `a:&b,!c` → `a`, `&b`, `!c`. Brackets and IPv6 addresses stay whole. */
export function splitHostPattern(pattern: string, isHost: (name: string) => boolean = () => false): string[] {
  const parts: string[] = [];
  for (const piece of splitOutsideBrackets(pattern, ',')) {
    const trimmed = piece.trim();
    if (!trimmed) continue;
    const bare = trimmed.replace(/^[&!]/, '');
    if (isHost(bare) || IPV6_LIKE.test(bare)) {
      parts.push(trimmed);
      continue;
    }
    for (const p of splitOutsideBrackets(trimmed, ':')) if (p.trim()) parts.push(p.trim());
  }
  return parts;
}

/** The hosts a pattern selects, in Ansible's order (that of the pattern's parts, then inventory order). */
export function selectHosts(target: PatternTarget, pattern: string): string[] {
  const parts = splitHostPattern(pattern, (n) => target.hasHost(n));
  if (parts.length === 0) throw new UsageError(`the host pattern "${pattern}" is empty`, { hint: 'use "all" for every host' });
  const regular = parts.filter((p) => !p.startsWith('&') && !p.startsWith('!'));
  const ordered = [...(regular.length ? regular : ['all']), ...parts.filter((p) => p.startsWith('&')), ...parts.filter((p) => p.startsWith('!'))];

  let hosts: string[] = [];
  for (const part of ordered) {
    if (target.hasHost(part)) {
      if (!hosts.includes(part)) hosts.push(part);
      continue;
    }
    const matched = matchOne(target, part.replace(/^[&!]/, ''));
    if (part.startsWith('!')) {
      const drop = new Set(matched);
      hosts = hosts.filter((h) => !drop.has(h));
    } else if (part.startsWith('&')) {
      const keep = new Set(matched);
      hosts = hosts.filter((h) => keep.has(h));
    } else {
      const have = new Set(hosts);
      for (const h of matched) {
        if (have.has(h)) continue;
        have.add(h);
        hosts.push(h);
      }
    }
  }
  return hosts;
}

function matchOne(target: PatternTarget, pattern: string): string[] {
  if (pattern.startsWith('~')) return unknownIfEmpty(target, pattern, enumerate(target, pattern));
  if (pattern.split('[').length !== pattern.split(']').length) {
    throw new UsageError(`the host pattern "${pattern}" has unbalanced brackets`);
  }

  const subscript = SUBSCRIPT_RE.exec(pattern);
  if (subscript) {
    const base = subscript[1]!;
    const hosts = enumerate(target, base);
    // `web[2]` is the third host of group web; when nothing is called `web`, it is the node set web2.
    if (hosts.length > 0 || target.hasGroup(base) || !isNodeSet(pattern)) {
      if (hosts.length === 0 && subscript[3] !== undefined && !target.hasGroup(base)) {
        throw new UsageError(`"${base}" is neither a host nor a group, so "${pattern}" selects nothing`, {
          hint: `[${subscript[3]}:${subscript[4]}] picks hosts of a group by position; for a range of host names write a node set such as ${base}[${subscript[3]}-${subscript[4] || subscript[3]}]`,
        });
      }
      return applySubscript(unknownIfEmpty(target, base, hosts), subscript, pattern);
    }
  }
  if (isNodeSet(pattern)) return matchNodeSet(target, pattern);
  return unknownIfEmpty(target, pattern, enumerate(target, pattern));
}

/** Hosts for a name, glob or `~regex`: hosts of matching groups, and matching hosts. */
function enumerate(target: PatternTarget, pattern: string): string[] {
  const re = pattern.startsWith('~') ? pythonRegex(pattern) : globToRegExp(pattern);
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (h: string) => {
    if (seen.has(h)) return;
    seen.add(h);
    out.push(h);
  };
  const groups = target.groupNames().filter((g) => re.test(g));
  for (const g of groups) target.groupHosts(g).forEach(add);
  if (groups.length === 0 || /^~|[.?*[]/.test(pattern)) {
    for (const h of target.definedHostNames()) if (re.test(h)) add(h);
  }
  if (out.length === 0 && LOCALHOST_NAMES.includes(pattern)) add(pattern);
  return out;
}

function unknownIfEmpty(target: PatternTarget, pattern: string, hosts: string[]): string[] {
  if (hosts.length > 0 || pattern === 'all') return hosts;
  // An existing but empty group is a valid selection of nothing.
  if (!pattern.startsWith('~') && target.groupNames().some((g) => globToRegExp(pattern).test(g))) return hosts;
  if (pattern.startsWith('~') && target.groupNames().some((g) => pythonRegex(pattern).test(g))) return hosts;
  const known = [...target.groupNames(), ...target.definedHostNames()];
  const isGlob = /[?*[]/.test(pattern) || pattern.startsWith('~');
  throw new UsageError(isGlob ? `the pattern "${pattern}" matches no host or group` : `"${pattern}" is neither a host nor a group of the inventory`, {
    hint: isGlob ? undefined : didYouMean(pattern, known),
  });
}

function applySubscript(hosts: string[], m: RegExpExecArray, pattern: string): string[] {
  if (hosts.length === 0) return hosts;
  const [, , index, start, end] = m;
  const pick = (i: number): string[] => {
    const host = i < 0 ? hosts[hosts.length + i] : hosts[i];
    if (host === undefined) {
      throw new UsageError(`no host matches the subscripted pattern "${pattern}": there are ${hosts.length} host(s), numbered from 0`);
    }
    return [host];
  };
  if (index !== undefined) return pick(Number(index));
  // Ansible's subscripts are inclusive and `[2:]` runs to the end; `[n:0]` means `[n]` there too.
  if (end === '') return hosts.slice(Number(start));
  if (Number(end) === 0) return pick(Number(start));
  return hosts.slice(Number(start), Number(end) + 1);
}

function matchNodeSet(target: PatternTarget, spec: string): string[] {
  const names = expandNodeSet(spec);
  const unknown = names.filter((n) => !target.hasHost(n) && !target.hasGroup(n));
  if (unknown.length > 0) {
    throw new UsageError(`the node set "${spec}" names ${unknown.length === 1 ? 'a host' : 'hosts'} not in the inventory: ${foldNodeSet(unknown)}`);
  }
  const out: string[] = [];
  const seen = new Set<string>();
  for (const n of names) {
    for (const h of target.hasHost(n) ? [n] : target.groupHosts(n)) {
      if (seen.has(h)) continue;
      seen.add(h);
      out.push(h);
    }
  }
  return out;
}

/** Python's fnmatch.translate: `*`, `?`, `[seq]`, `[!seq]`; case-sensitive, whole-name. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let i = 0;
  while (i < glob.length) {
    const c = glob[i++]!;
    if (c === '*') {
      if (!re.endsWith('.*')) re += '.*';
    } else if (c === '?') {
      re += '.';
    } else if (c === '[') {
      let j = i;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) {
        re += '\\[';
        continue;
      }
      let set = glob.slice(i, j).replace(/\\/g, '\\\\');
      i = j + 1;
      if (set.startsWith('!')) set = '^' + set.slice(1);
      else if (set.startsWith('^')) set = '\\' + set;
      re += `[${set}]`;
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^(?:${re})$`, 's');
}

/** `~regex`: Python's re.match, anchored at the start only. */
function pythonRegex(pattern: string): RegExp {
  const source = pattern.slice(1).replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  try {
    return new RegExp(`^(?:${source})`);
  } catch (err) {
    throw new UsageError(`invalid regular expression in host pattern "${pattern}": ${(err as Error).message}`, { cause: err });
  }
}
