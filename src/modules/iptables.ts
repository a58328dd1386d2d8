/**
 * iptables: one rule, a chain policy, a flush, or a user chain.
 *
 * The rule's argument vector is built once (same options, same order as
 * Ansible's module) and its presence is asked of iptables itself with
 * `iptables -t TABLE -C CHAIN RULE` in the fact, so "is it there?" is
 * iptables's own answer, not a text comparison. Only the position of an
 * inserted rule (`action: insert` with `rule_num`) is read from the text of
 * `iptables -S CHAIN`, after normalising both sides (long options to short,
 * addresses with their prefix length, implicit `-m tcp`, option order).
 */
import { ShellCommand, sh } from '../util/shell.js';
import { shlexSplit } from '../util/shlex.js';
import { factRequest, type Fact } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type Plan } from './types.js';

// ------------------------------------------------------------------ the rule

export interface RuleParams {
  protocol?: string;
  source?: string;
  destination?: string;
  match?: string[];
  tcp_flags?: { flags?: string[]; flags_set?: string[] };
  jump?: string;
  gateway?: string;
  log_prefix?: string;
  log_level?: string;
  to_destination?: string;
  destination_ports?: string[];
  to_source?: string;
  goto?: string;
  in_interface?: string;
  out_interface?: string;
  fragment?: string;
  source_port?: string;
  destination_port?: string;
  to_ports?: string;
  syn?: 'ignore' | 'match' | 'negate';
  ctstate?: string[];
  src_range?: string;
  dst_range?: string;
  limit?: string;
  limit_burst?: string;
  uid_owner?: string;
  gid_owner?: string;
  reject_with?: string;
  icmp_type?: string;
  comment?: string;
  ip_version?: 'ipv4' | 'ipv6';
}

/** `!value` means "not value": iptables wants `! -s value`. */
function param(rule: string[], value: string | undefined, flag: string): void {
  if (value === undefined || value === '') return;
  if (value.startsWith('!')) rule.push('!', flag, value.slice(1).trim());
  else rule.push(flag, value);
}

function matchModule(rule: string[], when: unknown, module: string): void {
  if (when === undefined || when === '' || (Array.isArray(when) && when.length === 0)) return;
  rule.push('-m', module);
}

/**
 * The rule as iptables arguments, in the order Ansible's iptables module
 * builds them (so rules that Ansible made are found by -C as well).
 */
export function buildRule(p: RuleParams): string[] {
  const rule: string[] = [];
  const matches = p.match ?? [];
  param(rule, p.protocol, '-p');
  param(rule, p.source, '-s');
  param(rule, p.destination, '-d');
  for (const m of matches) rule.push('-m', m);
  if (p.tcp_flags && (p.tcp_flags.flags?.length || p.tcp_flags.flags_set?.length)) {
    rule.push('--tcp-flags', (p.tcp_flags.flags ?? []).join(','), (p.tcp_flags.flags_set ?? []).join(','));
  }
  param(rule, p.jump, '-j');
  if (p.jump?.toLowerCase() === 'tee') param(rule, p.gateway, '--gateway');
  param(rule, p.log_prefix, '--log-prefix');
  param(rule, p.log_level, '--log-level');
  param(rule, p.to_destination, '--to-destination');
  if (p.destination_ports?.length) rule.push('-m', 'multiport', '--dports', p.destination_ports.join(','));
  param(rule, p.to_source, '--to-source');
  param(rule, p.goto, '-g');
  param(rule, p.in_interface, '-i');
  param(rule, p.out_interface, '-o');
  param(rule, p.fragment, '-f');
  param(rule, p.source_port, '--source-port');
  param(rule, p.destination_port, '--destination-port');
  param(rule, p.to_ports, '--to-ports');
  if (p.syn === 'match') rule.push('--syn');
  else if (p.syn === 'negate') rule.push('!', '--syn');
  if (p.ctstate?.length) {
    if (matches.includes('conntrack')) rule.push('--ctstate', p.ctstate.join(','));
    else if (matches.includes('state')) rule.push('--state', p.ctstate.join(','));
    else rule.push('-m', 'conntrack', '--ctstate', p.ctstate.join(','));
  }
  if (p.src_range || p.dst_range) {
    if (!matches.includes('iprange')) rule.push('-m', 'iprange');
    param(rule, p.src_range, '--src-range');
    param(rule, p.dst_range, '--dst-range');
  }
  matchModule(rule, p.limit ?? p.limit_burst, 'limit');
  param(rule, p.limit, '--limit');
  param(rule, p.limit_burst, '--limit-burst');
  matchModule(rule, p.uid_owner, 'owner');
  param(rule, p.uid_owner, '--uid-owner');
  matchModule(rule, p.gid_owner, 'owner');
  param(rule, p.gid_owner, '--gid-owner');
  if (p.jump === undefined && p.reject_with !== undefined) rule.push('-j', 'REJECT');
  param(rule, p.reject_with, '--reject-with');
  param(rule, p.icmp_type, p.ip_version === 'ipv6' ? '--icmpv6-type' : '--icmp-type');
  matchModule(rule, p.comment, 'comment');
  param(rule, p.comment, '--comment');
  return rule;
}

// ------------------------------------------------------------------ comparing rules as text

const LONG_TO_SHORT: Record<string, string> = {
  '--protocol': '-p',
  '--source': '-s',
  '--src': '-s',
  '--destination': '-d',
  '--dst': '-d',
  '--in-interface': '-i',
  '--out-interface': '-o',
  '--jump': '-j',
  '--goto': '-g',
  '--match': '-m',
  '--fragment': '-f',
  '--source-port': '--sport',
  '--destination-port': '--dport',
  '--source-ports': '--sports',
  '--destination-ports': '--dports',
};

const PROTOCOL_MATCHES = new Set(['tcp', 'udp', 'icmp', 'icmp6', 'icmpv6', 'sctp', 'udplite', 'dccp']);

/**
 * A rule's arguments as a sorted list of option groups ("-s 10.0.0.1/32",
 * "-m comment", "--comment ssh in"), so two spellings of the same rule
 * compare equal: long options become short, bare addresses get /32 (/128),
 * implicit protocol matches (`-m tcp`) and `-p all` go, state lists are
 * sorted.
 */
export function canonicalRule(args: readonly string[], ipVersion: 'ipv4' | 'ipv6' = 'ipv4'): string[] {
  const groups: string[][] = [];
  let negate = false;
  for (const raw of args) {
    if (raw === '!') {
      negate = true;
      continue;
    }
    if (raw.startsWith('-') && !/^-\d/.test(raw)) {
      groups.push([...(negate ? ['!'] : []), LONG_TO_SHORT[raw] ?? raw]);
      negate = false;
    } else if (groups.length) {
      groups[groups.length - 1]!.push(raw);
    }
  }
  const out: string[] = [];
  for (const g of groups) {
    const flag = g[0] === '!' ? g[1]! : g[0]!;
    const values = g.slice(g[0] === '!' ? 2 : 1);
    if (flag === '-m' && values.length === 1 && PROTOCOL_MATCHES.has(values[0]!.toLowerCase())) continue;
    if (flag === '-p' && values[0]?.toLowerCase() === 'all' && g[0] !== '!') continue;
    let vals = values;
    if ((flag === '-s' || flag === '-d') && vals.length === 1 && !vals[0]!.includes('/')) vals = [`${vals[0]}/${ipVersion === 'ipv6' ? 128 : 32}`];
    if (flag === '-p') vals = vals.map((v) => v.toLowerCase());
    if ((flag === '--ctstate' || flag === '--state') && vals.length === 1) vals = [vals[0]!.split(',').map((s) => s.toUpperCase()).sort().join(',')];
    out.push([...(g[0] === '!' ? ['!'] : []), flag, ...vals].join(' '));
  }
  return out.sort();
}

export interface ChainListing {
  /** -P line's policy, for built-in chains */
  policy?: string;
  /** the -A lines of the chain, in order, without "-A CHAIN" */
  rules: string[][];
}

/** Parses `iptables -S [CHAIN]` output into per-chain policies and rules. */
export function parseListing(text: string): Record<string, ChainListing> {
  const chains: Record<string, ChainListing> = {};
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    let words: string[];
    try {
      words = shlexSplit(t);
    } catch {
      continue;
    }
    const [op, chain, ...rest] = words;
    if (!chain) continue;
    const c = (chains[chain] ??= { rules: [] });
    if (op === '-P') c.policy = rest[0];
    else if (op === '-A') c.rules.push(rest);
  }
  return chains;
}

/** 1-based positions of the rules in a chain listing that are the same rule as `rule`. */
export function rulePositions(listing: ChainListing | undefined, rule: readonly string[], ipVersion: 'ipv4' | 'ipv6' = 'ipv4'): number[] {
  if (!listing) return [];
  const want = canonicalRule(rule, ipVersion).join('\n');
  const out: number[] = [];
  listing.rules.forEach((r, i) => {
    if (canonicalRule(r, ipVersion).join('\n') === want) out.push(i + 1);
  });
  return out;
}

// ------------------------------------------------------------------ the fact

export interface IptablesState {
  /** the iptables program is missing */
  missing: boolean;
  /** `-S` exit code (1 with "No chain/target/match by that name" for a missing chain) */
  listRc: number;
  /** `-S` output, or its error */
  listing: string;
  /** `-C` exit code: 0 present, 1 absent, 2 bad rule; undefined when no rule was checked */
  checkRc?: number;
  /** `-C` error text */
  checkError?: string;
}

const M = '@@tsible-';

const IPTABLES_SCRIPT = `
if ! command -v "$b" >/dev/null 2>&1; then echo '${M}missing'; exit 0; fi
if [ -n "$c" ]; then out=$("$b" $w -t "$t" -S "$c" 2>&1); else out=$("$b" $w -t "$t" -S 2>&1); fi
echo "${M}list $?"
printf '%s\\n' "$out"
`;

export function parseIptablesState(stdout: string): IptablesState {
  const state: IptablesState = { missing: false, listRc: 0, listing: '' };
  let section: 'list' | 'check' | undefined;
  const list: string[] = [];
  const check: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(M)) {
      const [tag, value] = line.slice(M.length).split(' ');
      if (tag === 'missing') state.missing = true;
      else if (tag === 'list') {
        section = 'list';
        state.listRc = Number(value);
      } else if (tag === 'check') {
        section = 'check';
        state.checkRc = Number(value);
      }
      continue;
    }
    if (section === 'list') list.push(line);
    else if (section === 'check') check.push(line);
  }
  state.listing = list.join('\n').trim();
  if (state.checkRc !== undefined && state.checkRc !== 0) state.checkError = check.join('\n').trim();
  return state;
}

export interface IptablesFactArgs {
  binary: string;
  table: string;
  chain?: string;
  /** the rule to check with -C, if any */
  rule?: string[];
  wait?: string;
}

export const iptablesFact: Fact<IptablesFactArgs, IptablesState> = {
  name: 'iptables_rule',
  command: ({ binary, table, chain, rule, wait }) => {
    const parts = [sh`b=${binary}; t=${table}; c=${chain ?? ''}; w=${wait ? `-w${wait}` : ''}`, ShellCommand.script(IPTABLES_SCRIPT)];
    if (rule && chain) {
      // -C only reads; its stderr says why a rule is not there.
      parts.push(sh`e=$("$b" $w -t "$t" -C "$c" ${rule} 2>&1 >/dev/null); echo "${M}check $?"; printf '%s\\n' "$e"`);
    }
    return ShellCommand.join(parts, '\n');
  },
  parse: (out) => parseIptablesState(out.stdout),
};

// ------------------------------------------------------------------ the module

const RULE_KEYS = [
  'protocol', 'source', 'destination', 'match', 'tcp_flags', 'jump', 'gateway', 'log_prefix', 'log_level', 'to_destination', 'destination_ports',
  'to_source', 'goto', 'in_interface', 'out_interface', 'fragment', 'source_port', 'destination_port', 'to_ports', 'syn', 'ctstate', 'src_range',
  'dst_range', 'limit', 'limit_burst', 'uid_owner', 'gid_owner', 'reject_with', 'icmp_type', 'comment',
] as const;

const BUILTIN_CHAINS = new Set(['INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING']);

export default defineModule({
  name: 'iptables',
  collections: ['ansible.builtin'],
  description:
    'Add or remove one iptables (or ip6tables) rule, set a chain policy, flush a chain or table, or create/delete a user chain. Presence is checked with iptables -C, so only a missing rule is added. Rules are not persistent across reboots: save them with iptables_state.',
  args: {
    table: { type: 'str', default: 'filter', choices: ['filter', 'nat', 'mangle', 'raw', 'security'], description: 'The table.' },
    state: { type: 'str', default: 'present', choices: ['present', 'absent'], description: 'Whether the rule should be there.' },
    action: { type: 'str', default: 'append', choices: ['append', 'insert'], description: 'Add a missing rule at the end (append) or at rule_num / the top (insert).' },
    rule_num: { type: 'int', description: 'With action=insert: the position (1 = first). An existing rule elsewhere is moved there.' },
    ip_version: { type: 'str', default: 'ipv4', choices: ['ipv4', 'ipv6'], description: 'iptables or ip6tables.' },
    chain: { type: 'str', description: 'The chain (INPUT, FORWARD, OUTPUT, PREROUTING, POSTROUTING or a user chain).' },
    protocol: { type: 'str', description: 'tcp, udp, icmp, all, ... (prefix with ! to negate).' },
    source: { type: 'str', aliases: ['src'], description: 'Source address or network (! to negate).' },
    destination: { type: 'str', aliases: ['dst'], description: 'Destination address or network (! to negate).' },
    match: { type: 'list', elements: 'str', default: [], description: 'Match modules to load (-m), in order, e.g. [conntrack, comment].' },
    tcp_flags: { type: 'dict', description: 'TCP flags to examine and those that must be set: {flags: [ALL], flags_set: [ACK, SYN]}.' },
    jump: { type: 'str', description: 'Target: ACCEPT, DROP, REJECT, MASQUERADE, SNAT, DNAT, LOG, a user chain...' },
    gateway: { type: 'str', description: 'With jump TEE: the gateway.' },
    log_prefix: { type: 'str', description: 'With jump LOG: --log-prefix.' },
    log_level: { type: 'str', description: 'With jump LOG: --log-level.' },
    goto: { type: 'str', description: 'Continue in this user chain (-g).' },
    in_interface: { type: 'str', description: 'Input interface (-i).' },
    out_interface: { type: 'str', description: 'Output interface (-o), e.g. eth0 for the thesis\'s MASQUERADE.' },
    fragment: { type: 'str', description: 'Second and further fragments only (-f).' },
    source_port: { type: 'str', description: 'Source port or range (needs protocol tcp/udp).' },
    destination_port: { type: 'str', description: 'Destination port or range (needs protocol tcp/udp).' },
    destination_ports: { type: 'list', elements: 'str', description: 'Several destination ports (multiport).' },
    to_ports: { type: 'str', description: 'With MASQUERADE/REDIRECT: --to-ports.' },
    to_destination: { type: 'str', description: 'With DNAT: --to-destination.' },
    to_source: { type: 'str', description: 'With SNAT: --to-source.' },
    syn: { type: 'str', default: 'ignore', choices: ['ignore', 'match', 'negate'], description: 'Match TCP SYN packets (--syn).' },
    ctstate: { type: 'list', elements: 'str', default: [], description: 'Connection states (NEW, ESTABLISHED, RELATED, INVALID...), through -m conntrack unless match has state.' },
    src_range: { type: 'str', description: 'Source address range (iprange).' },
    dst_range: { type: 'str', description: 'Destination address range (iprange).' },
    limit: { type: 'str', description: 'Rate limit, e.g. 10/second.' },
    limit_burst: { type: 'str', description: 'Burst for limit.' },
    uid_owner: { type: 'str', description: 'Owner UID or name (OUTPUT).' },
    gid_owner: { type: 'str', description: 'Owner GID or group (OUTPUT).' },
    reject_with: { type: 'str', description: 'With REJECT: --reject-with (implies jump REJECT).' },
    icmp_type: { type: 'str', description: 'ICMP type (--icmp-type / --icmpv6-type).' },
    comment: { type: 'str', description: 'A comment on the rule (-m comment).' },
    policy: { type: 'str', choices: ['ACCEPT', 'DROP', 'QUEUE', 'RETURN'], description: 'Set the policy of the (built-in) chain; all rule options are ignored.' },
    flush: { type: 'bool', default: false, description: 'Remove every rule of the chain (or of the table without chain); all rule options are ignored.' },
    chain_management: { type: 'bool', default: false, description: 'Create the user chain when missing (state=present), or delete it when only chain is given (state=absent).' },
    wait: { type: 'str', description: 'Seconds to wait for the xtables lock (-w).' },
  },
  returns: { rule: 'the rule arguments', table: 'table', chain: 'chain', state: 'state', ip_version: 'ipv4 or ipv6' },
  example: [
    '- name: NAT for the internal network (thesis 4.3.2, master node)',
    '  ansible.builtin.iptables:',
    '    table: nat',
    '    chain: POSTROUTING',
    '    out_interface: eth0',
    '    jump: MASQUERADE',
    '',
    '- name: Forward everything',
    '  ansible.builtin.iptables:',
    '    chain: FORWARD',
    '    policy: ACCEPT',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (!args.chain && !args.flush) throw new ArgError('chain is required (except with flush)', 'chain');
    if (args.policy && !args.chain) throw new ArgError('policy requires chain', 'policy');
    if (args.rule_num !== undefined && args.action !== 'insert') throw new ArgError('rule_num only applies to action=insert', 'rule_num');
    if (args.rule_num !== undefined && args.rule_num < 1) throw new ArgError(`rule_num must be 1 or more, got ${args.rule_num}`, 'rule_num');
    if (args.wait !== undefined && !/^\d+$/.test(args.wait)) throw new ArgError(`wait must be a number of seconds, got ${JSON.stringify(args.wait)}`, 'wait');
  },
  facts(args) {
    const binary = args.ip_version === 'ipv6' ? 'ip6tables' : 'iptables';
    // A chain_management task without rule options is about the chain itself, not an (empty) rule.
    const ruleMode = !args.flush && !args.policy && !(args.chain_management && !hasRule(args));
    return {
      iptables: factRequest(iptablesFact, {
        binary,
        table: args.table,
        chain: args.chain,
        rule: ruleMode ? buildRule(ruleParams(args)) : undefined,
        wait: args.wait,
      }),
    };
  },
  plan(args, facts): Plan {
    const st = facts.iptables;
    const binary = args.ip_version === 'ipv6' ? 'ip6tables' : 'iptables';
    if (st.missing) return { changes: [], failure: { message: `${binary} is not installed on the host (package iptables)`, missing: binary } };
    const w = args.wait ? [`-w${args.wait}`] : [];
    const base = [binary, ...w, '-t', args.table];
    const cmd = (...rest: string[]): Change => ({ kind: 'exec', command: sh`${[...base, ...rest]}`, describe: [...base, ...rest].join(' ') });
    const chain = args.chain;
    const chainMissing = st.listRc !== 0 && /No chain\/target\/match|does not exist/i.test(st.listing);
    if (st.listRc !== 0 && !chainMissing) return { changes: [], failure: { message: `${binary} -t ${args.table} -S failed: ${st.listing}` } };
    const listing = chainMissing ? {} : parseListing(st.listing);
    const result: Record<string, unknown> = { table: args.table, chain, state: args.state, ip_version: args.ip_version };

    if (args.flush) {
      const rules = chain ? (listing[chain]?.rules.length ?? 0) : Object.values(listing).reduce((n, c) => n + c.rules.length, 0);
      if (chainMissing) return { changes: [], result, failure: { message: `chain ${chain} does not exist in table ${args.table}` } };
      if (rules === 0) return { changes: [], result, noopReason: `${chain ? `chain ${chain}` : `table ${args.table}`} has no rules` };
      return { changes: [chain ? cmd('-F', chain) : cmd('-F')], result: { ...result, flushed: rules } };
    }

    if (args.policy) {
      if (chainMissing) return { changes: [], result, failure: { message: `chain ${chain} does not exist in table ${args.table}` } };
      const current = listing[chain!]?.policy;
      if (current === undefined) return { changes: [], result, failure: { message: `chain ${chain} is not a built-in chain; only built-in chains have a policy` } };
      if (current === args.policy) return { changes: [], result: { ...result, policy: current }, noopReason: `policy of ${chain} is ${current}` };
      return { changes: [cmd('-P', chain!, args.policy)], result: { ...result, policy: args.policy, previous_policy: current } };
    }

    if (!hasRule(args) && args.chain_management) {
      if (args.state === 'present') {
        if (!chainMissing) return { changes: [], result, noopReason: `chain ${chain} exists` };
        return { changes: [cmd('-N', chain!)], result };
      }
      if (chainMissing) return { changes: [], result, noopReason: `chain ${chain} does not exist` };
      if (BUILTIN_CHAINS.has(chain!)) return { changes: [], result, failure: { message: `${chain} is a built-in chain and cannot be deleted` } };
      const flush = (listing[chain!]?.rules.length ?? 0) > 0 ? [cmd('-F', chain!)] : [];
      return { changes: [...flush, cmd('-X', chain!)], result };
    }

    const rule = buildRule(ruleParams(args));
    result.rule = rule.join(' ');
    const changes: Change[] = [];
    if (chainMissing) {
      if (args.state === 'absent') return { changes: [], result, noopReason: `chain ${chain} does not exist in table ${args.table}` };
      if (!args.chain_management) return { changes: [], result, failure: { message: `chain ${chain} does not exist in table ${args.table} (set chain_management: true to create it)` } };
      changes.push(cmd('-N', chain!));
    } else if (st.checkRc !== 0 && st.checkRc !== 1) {
      return { changes: [], result, failure: { message: `iptables does not accept the rule: ${st.checkError || `exit code ${st.checkRc}`}` } };
    }
    const present = !chainMissing && st.checkRc === 0;
    const where = `${args.table}/${chain}`;
    const add = (): Change => (args.action === 'insert' ? cmd('-I', chain!, ...(args.rule_num ? [String(args.rule_num)] : []), ...rule) : cmd('-A', chain!, ...rule));

    if (args.state === 'absent') {
      if (!present) return { changes: [], result, noopReason: `the rule is not in ${where}` };
      return { changes: [cmd('-D', chain!, ...rule)], result };
    }
    if (!present) return { changes: [...changes, add()], result };
    if (args.action === 'insert' && args.rule_num !== undefined) {
      const positions = rulePositions(listing[chain!], rule, args.ip_version as 'ipv4' | 'ipv6');
      if (positions.includes(args.rule_num)) return { changes: [], result: { ...result, position: args.rule_num }, noopReason: `the rule is rule ${args.rule_num} of ${where}` };
      if (positions.length === 0) {
        return { changes: [], result, noopReason: `the rule is in ${where} (its position could not be read from iptables -S, so it is left where it is)` };
      }
      return { changes: [cmd('-D', chain!, ...rule), add()], result: { ...result, position: args.rule_num, previous_position: positions[0] } };
    }
    return { changes: [], result, noopReason: `the rule is in ${where}` };
  },
});

type RuleArgs = { [K in (typeof RULE_KEYS)[number]]?: unknown } & { ip_version: string };

function ruleParams(args: RuleArgs): RuleParams {
  const p: Record<string, unknown> = { ip_version: args.ip_version };
  for (const k of RULE_KEYS) if (args[k] !== undefined) p[k] = args[k];
  if (Array.isArray(p.match) && p.match.length === 0) delete p.match;
  if (Array.isArray(p.ctstate) && p.ctstate.length === 0) delete p.ctstate;
  if (p.syn === 'ignore') delete p.syn;
  return p as RuleParams;
}

function hasRule(args: RuleArgs): boolean {
  const p = ruleParams(args) as Record<string, unknown>;
  return RULE_KEYS.some((k) => p[k] !== undefined);
}
