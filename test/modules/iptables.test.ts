import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import iptables, { buildRule, canonicalRule, parseIptablesState, parseListing, rulePositions, type IptablesState, type RuleParams } from '../../src/modules/iptables.js';
import { assertRowsShellSyntax, factsFor, mismatches, planWith, type Expectation } from './disk-context.js';

// Real `iptables -S` output (iptables 1.8.11, nf_tables backend, Debian 13).
const INPUT_LISTING = `-P INPUT ACCEPT
-A INPUT -s 10.0.100.0/24 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW,ESTABLISHED -m comment --comment "ssh in" -j ACCEPT`;
const NAT_LISTING = `-P POSTROUTING ACCEPT
-A POSTROUTING -o eth0 -j MASQUERADE`;
const FILTER_LISTING = `-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-A INPUT -s 10.0.100.0/24 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW,ESTABLISHED -m comment --comment "ssh in" -j ACCEPT`;

const SSH: RuleParams = { protocol: 'tcp', destination_port: '22', ctstate: ['NEW', 'ESTABLISHED'], comment: 'ssh in', jump: 'ACCEPT' };

describe('buildRule (Ansible\'s option order)', () => {
  it.each([
    ['thesis MASQUERADE', { out_interface: 'eth0', jump: 'MASQUERADE' }, ['-j', 'MASQUERADE', '-o', 'eth0']],
    ['ssh with conntrack and a comment', SSH, ['-p', 'tcp', '-j', 'ACCEPT', '--destination-port', '22', '-m', 'conntrack', '--ctstate', 'NEW,ESTABLISHED', '-m', 'comment', '--comment', 'ssh in']],
    ['ctstate with match state', { match: ['state'], ctstate: ['RELATED', 'ESTABLISHED'], jump: 'ACCEPT' }, ['-m', 'state', '-j', 'ACCEPT', '--state', 'RELATED,ESTABLISHED']],
    ['ctstate with match conntrack', { match: ['conntrack'], ctstate: ['NEW'], jump: 'ACCEPT' }, ['-m', 'conntrack', '-j', 'ACCEPT', '--ctstate', 'NEW']],
    ['negated source and interface', { source: '!10.0.0.0/8', in_interface: '! eth1', jump: 'DROP' }, ['!', '-s', '10.0.0.0/8', '-j', 'DROP', '!', '-i', 'eth1']],
    ['multiport', { protocol: 'tcp', destination_ports: ['80', '443', '8000:8080'], jump: 'ACCEPT' }, ['-p', 'tcp', '-j', 'ACCEPT', '-m', 'multiport', '--dports', '80,443,8000:8080']],
    ['DNAT', { protocol: 'tcp', in_interface: 'eth0', destination_port: '2222', jump: 'DNAT', to_destination: '10.0.100.2:22' }, ['-p', 'tcp', '-j', 'DNAT', '--to-destination', '10.0.100.2:22', '-i', 'eth0', '--destination-port', '2222']],
    ['SNAT', { source: '10.0.100.0/24', jump: 'SNAT', to_source: '192.0.2.1' }, ['-s', '10.0.100.0/24', '-j', 'SNAT', '--to-source', '192.0.2.1']],
    ['REDIRECT to ports', { protocol: 'tcp', destination_port: '80', jump: 'REDIRECT', to_ports: '8080' }, ['-p', 'tcp', '-j', 'REDIRECT', '--destination-port', '80', '--to-ports', '8080']],
    ['reject_with implies REJECT', { protocol: 'tcp', reject_with: 'tcp-reset' }, ['-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset']],
    ['LOG', { jump: 'LOG', log_prefix: 'dropped: ', log_level: 'info' }, ['-j', 'LOG', '--log-prefix', 'dropped: ', '--log-level', 'info']],
    ['limit and owner', { limit: '10/second', limit_burst: '20', uid_owner: 'www-data', jump: 'ACCEPT' }, ['-j', 'ACCEPT', '-m', 'limit', '--limit', '10/second', '--limit-burst', '20', '-m', 'owner', '--uid-owner', 'www-data']],
    ['iprange', { src_range: '10.0.100.2-10.0.100.50', jump: 'ACCEPT' }, ['-j', 'ACCEPT', '-m', 'iprange', '--src-range', '10.0.100.2-10.0.100.50']],
    ['tcp flags and syn', { protocol: 'tcp', tcp_flags: { flags: ['ALL'], flags_set: ['ACK', 'SYN'] }, syn: 'negate', jump: 'DROP' }, ['-p', 'tcp', '--tcp-flags', 'ALL', 'ACK,SYN', '-j', 'DROP', '!', '--syn']],
    ['icmp type v4 and v6', { protocol: 'icmp', icmp_type: 'echo-request', jump: 'ACCEPT' }, ['-p', 'icmp', '-j', 'ACCEPT', '--icmp-type', 'echo-request']],
    ['icmpv6', { protocol: 'icmpv6', icmp_type: 'echo-request', jump: 'ACCEPT', ip_version: 'ipv6' }, ['-p', 'icmpv6', '-j', 'ACCEPT', '--icmpv6-type', 'echo-request']],
    ['goto', { goto: 'LOGDROP' }, ['-g', 'LOGDROP']],
    ['empty rule', {}, []],
  ] as [string, RuleParams, string[]][])('%s', (_name, params, argv) => {
    expect(buildRule(params)).toEqual(argv);
  });
});

describe('canonicalRule and rulePositions', () => {
  const listing = parseListing(INPUT_LISTING).INPUT!;
  it.each([
    ['our ssh rule is the -S line with -m tcp', buildRule(SSH), [2]],
    ['a bare address gets /32', buildRule({ source: '10.0.100.0/24', jump: 'ACCEPT' }), [1]],
    ['long options', ['--source', '10.0.100.0/24', '--jump', 'ACCEPT'], [1]],
    ['state order does not matter', buildRule({ ...SSH, ctstate: ['ESTABLISHED', 'NEW'] }), [2]],
    ['another comment is another rule', buildRule({ ...SSH, comment: 'ssh' }), []],
    ['another port is another rule', buildRule({ ...SSH, destination_port: '2222' }), []],
  ])('%s', (_name, rule, positions) => {
    expect(rulePositions(listing, rule)).toEqual(positions);
  });

  it.each([
    [['-s', '10.0.0.1', '-j', 'ACCEPT'], ['-j ACCEPT', '-s 10.0.0.1/32']],
    [['-s', '2001:db8::1', '-j', 'ACCEPT'], ['-j ACCEPT', '-s 2001:db8::1/128'], 'ipv6'],
    [['!', '-s', '10.0.0.1/8', '-p', 'all', '-j', 'DROP'], ['! -s 10.0.0.1/8', '-j DROP']],
    [['-p', 'TCP', '-m', 'tcp', '--dport', '22'], ['--dport 22', '-p tcp']],
  ] as [string[], string[], ('ipv4' | 'ipv6')?][])('%j → %j', (args, canonical, v) => {
    expect(canonicalRule(args, v)).toEqual(canonical);
  });

  it('parses a whole table listing', () => {
    expect(parseListing(FILTER_LISTING)).toEqual({
      INPUT: { policy: 'ACCEPT', rules: [['-s', '10.0.100.0/24', '-j', 'ACCEPT'], ['-p', 'tcp', '-m', 'tcp', '--dport', '22', '-m', 'conntrack', '--ctstate', 'NEW,ESTABLISHED', '-m', 'comment', '--comment', 'ssh in', '-j', 'ACCEPT']] },
      FORWARD: { policy: 'DROP', rules: [] },
      OUTPUT: { policy: 'ACCEPT', rules: [] },
    });
  });
});

describe('iptables fact', () => {
  it('checks the rule with -C, every word quoted', () => {
    const req = factsFor(iptables, { chain: 'INPUT', ...SSH, wait: '5' }).iptables!;
    const text = req.fact.command(req.args).text;
    expect(text.split('\n')[0]).toBe("b=iptables; t=filter; c=INPUT; w=-w5");
    expect(text).toContain(`-C "$c" -p tcp -j ACCEPT --destination-port 22 -m conntrack --ctstate NEW,ESTABLISHED -m comment --comment 'ssh in' 2>&1 >/dev/null`);
    expect(text).not.toMatch(/ -[AIDPFNX] /);
  });

  it('asks for no rule check for a policy, a flush or a chain', () => {
    expect(factsFor(iptables, { chain: 'FORWARD', policy: 'ACCEPT' }).iptables!.args).toMatchObject({ rule: undefined });
    expect(factsFor(iptables, { flush: true, table: 'nat' }).iptables!.args).toMatchObject({ rule: undefined, chain: undefined });
    expect(factsFor(iptables, { chain: 'LOGDROP', chain_management: true }).iptables!.args).toMatchObject({ rule: undefined });
    expect(factsFor(iptables, { chain: 'LOGDROP', jump: 'DROP', ip_version: 'ipv6' }).iptables!.args).toMatchObject({ binary: 'ip6tables', rule: ['-j', 'DROP'] });
  });

  it.each([
    ['rule present (real)', `@@tsible-list 0\n${INPUT_LISTING}\n@@tsible-check 0\n`, { missing: false, listRc: 0, listing: INPUT_LISTING, checkRc: 0 }],
    ['rule absent (real)', '@@tsible-list 0\n-P POSTROUTING ACCEPT\n@@tsible-check 1\niptables: Bad rule (does a matching rule exist in that chain?).', { listRc: 0, checkRc: 1, checkError: 'iptables: Bad rule (does a matching rule exist in that chain?).' }],
    ['no such chain (real)', '@@tsible-list 1\niptables: No chain/target/match by that name.\n@@tsible-check 1\niptables: Bad rule (does a matching rule exist in that chain?).', { listRc: 1, listing: 'iptables: No chain/target/match by that name.', checkRc: 1 }],
    [
      'bad rule (real)',
      "@@tsible-list 0\n-P INPUT ACCEPT\n@@tsible-check 2\niptables v1.8.11 (nf_tables): invalid port/service `x' specified\nTry `iptables -h' or 'iptables --help' for more information.",
      { checkRc: 2, checkError: "iptables v1.8.11 (nf_tables): invalid port/service `x' specified\nTry `iptables -h' or 'iptables --help' for more information." },
    ],
    ['no iptables', '@@tsible-missing', { missing: true }],
  ])('%s', (_name, stdout, expected) => {
    expect(parseIptablesState(stdout)).toMatchObject(expected);
  });

  it('runs in sh against a fake iptables', () => {
    const req = factsFor(iptables, { table: 'nat', chain: 'POSTROUTING', out_interface: 'eth0', jump: 'MASQUERADE' }).iptables!;
    const fake = `iptables() { case "$*" in *" -S "*) printf '%s\\n' '-P POSTROUTING ACCEPT';; *" -C "*) echo "args: $*" >&2; return 1;; esac; }\n`;
    const stdout = execFileSync('/bin/sh', ['-c', fake.replace('iptables()', 'fake_ipt()') + req.fact.command(req.args).text.replace('b=iptables', 'b=fake_ipt')]).toString();
    expect(parseIptablesState(stdout)).toEqual({ missing: false, listRc: 0, listing: '-P POSTROUTING ACCEPT', checkRc: 1, checkError: 'args: -t nat -C POSTROUTING -j MASQUERADE -o eth0' });
  });
});

function st(over: Partial<IptablesState> = {}): IptablesState {
  return { missing: false, listRc: 0, listing: INPUT_LISTING, checkRc: 1, ...over };
}

const rows: { name: string; args: Record<string, unknown>; facts: { iptables: IptablesState }; expect: Expectation }[] = [
  {
    name: 'thesis: MASQUERADE on the master, first run',
    args: { table: 'nat', chain: 'POSTROUTING', out_interface: 'eth0', jump: 'MASQUERADE' },
    facts: { iptables: st({ listing: '-P POSTROUTING ACCEPT', checkRc: 1 }) },
    expect: { changes: [{ kind: 'exec', describe: 'iptables -t nat -A POSTROUTING -j MASQUERADE -o eth0', command: /^iptables -t nat -A POSTROUTING -j MASQUERADE -o eth0$/ }], result: { rule: '-j MASQUERADE -o eth0' } },
  },
  {
    name: 'thesis: MASQUERADE, second run',
    args: { table: 'nat', chain: 'POSTROUTING', out_interface: 'eth0', jump: 'MASQUERADE' },
    facts: { iptables: st({ listing: NAT_LISTING, checkRc: 0 }) },
    expect: { noop: /the rule is in nat\/POSTROUTING/ },
  },
  { name: 'thesis: -P FORWARD ACCEPT', args: { chain: 'FORWARD', policy: 'ACCEPT' }, facts: { iptables: st({ listing: '-P FORWARD DROP', checkRc: undefined }) }, expect: { changes: [{ kind: 'exec', describe: 'iptables -t filter -P FORWARD ACCEPT' }], result: { policy: 'ACCEPT', previous_policy: 'DROP' } } },
  { name: 'policy already set', args: { chain: 'FORWARD', policy: 'ACCEPT' }, facts: { iptables: st({ listing: '-P FORWARD ACCEPT', checkRc: undefined }) }, expect: { noop: /policy of FORWARD is ACCEPT/ } },
  { name: 'policy on a user chain', args: { chain: 'LOGDROP', policy: 'DROP' }, facts: { iptables: st({ listing: '-N LOGDROP', checkRc: undefined }) }, expect: { failure: /not a built-in chain/ } },
  {
    name: 'ssh rule with wait: -w goes before the table',
    args: { chain: 'INPUT', ...SSH, wait: '5' },
    facts: { iptables: st({ listing: '-P INPUT ACCEPT' }) },
    expect: { changes: [{ kind: 'exec', describe: 'iptables -w5 -t filter -A INPUT -p tcp -j ACCEPT --destination-port 22 -m conntrack --ctstate NEW,ESTABLISHED -m comment --comment ssh in', command: /--comment 'ssh in'$/ }] },
  },
  { name: 'insert without rule_num goes first', args: { chain: 'INPUT', action: 'insert', source: '10.0.100.0/24', jump: 'ACCEPT' }, facts: { iptables: st({ listing: '-P INPUT ACCEPT' }) }, expect: { changes: [{ kind: 'exec', describe: 'iptables -t filter -I INPUT -s 10.0.100.0/24 -j ACCEPT' }] } },
  { name: 'insert at 1, already rule 1', args: { chain: 'INPUT', action: 'insert', rule_num: 1, source: '10.0.100.0/24', jump: 'ACCEPT' }, facts: { iptables: st({ checkRc: 0 }) }, expect: { noop: /the rule is rule 1 of filter\/INPUT/, result: { position: 1 } } },
  {
    name: 'insert at 2, but it is rule 1 → move it',
    args: { chain: 'INPUT', action: 'insert', rule_num: 2, source: '10.0.100.0/24', jump: 'ACCEPT' },
    facts: { iptables: st({ checkRc: 0 }) },
    expect: { changes: [{ kind: 'exec', describe: 'iptables -t filter -D INPUT -s 10.0.100.0/24 -j ACCEPT' }, { kind: 'exec', describe: 'iptables -t filter -I INPUT 2 -s 10.0.100.0/24 -j ACCEPT' }], result: { position: 2, previous_position: 1 } },
  },
  {
    name: 'insert: present per -C but not recognisable in -S → left alone',
    args: { chain: 'INPUT', action: 'insert', rule_num: 1, protocol: 'icmpv6', icmp_type: 'echo-request', jump: 'ACCEPT', ip_version: 'ipv6' },
    facts: { iptables: st({ listing: '-P INPUT ACCEPT\n-A INPUT -s 2001:db8::1/128 -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT', checkRc: 0 }) },
    expect: { noop: /position could not be read/ },
  },
  { name: 'absent and present → delete', args: { chain: 'INPUT', ...SSH, state: 'absent' }, facts: { iptables: st({ checkRc: 0 }) }, expect: { changes: [{ kind: 'exec', describe: /^iptables -t filter -D INPUT -p tcp -j ACCEPT/ }] } },
  { name: 'absent and absent', args: { chain: 'INPUT', ...SSH, state: 'absent' }, facts: { iptables: st() }, expect: { noop: /the rule is not in filter\/INPUT/ } },
  { name: 'bad rule → iptables\'s message', args: { chain: 'INPUT', protocol: 'tcp', destination_port: 'x', jump: 'ACCEPT' }, facts: { iptables: st({ checkRc: 2, checkError: "iptables v1.8.11 (nf_tables): invalid port/service `x' specified" }) }, expect: { failure: /iptables does not accept the rule: .*invalid port\/service `x'/ } },
  { name: 'missing user chain', args: { chain: 'LOGDROP', jump: 'DROP' }, facts: { iptables: st({ listRc: 1, listing: 'iptables: No chain/target/match by that name.' }) }, expect: { failure: /chain LOGDROP does not exist in table filter \(set chain_management: true/ } },
  {
    name: 'missing user chain with chain_management → -N then -A',
    args: { chain: 'LOGDROP', jump: 'DROP', chain_management: true },
    facts: { iptables: st({ listRc: 1, listing: 'iptables: No chain/target/match by that name.' }) },
    expect: { changes: [{ kind: 'exec', describe: 'iptables -t filter -N LOGDROP' }, { kind: 'exec', describe: 'iptables -t filter -A LOGDROP -j DROP' }] },
  },
  { name: 'absent rule in a missing chain is fine', args: { chain: 'LOGDROP', jump: 'DROP', state: 'absent' }, facts: { iptables: st({ listRc: 1, listing: 'iptables: No chain/target/match by that name.' }) }, expect: { noop: /chain LOGDROP does not exist/ } },
  { name: 'chain_management: create', args: { chain: 'LOGDROP', chain_management: true }, facts: { iptables: st({ listRc: 1, listing: 'iptables: No chain/target/match by that name.', checkRc: undefined }) }, expect: { changes: [{ kind: 'exec', describe: 'iptables -t filter -N LOGDROP' }] } },
  { name: 'chain_management: exists', args: { chain: 'LOGDROP', chain_management: true }, facts: { iptables: st({ listing: '-N LOGDROP', checkRc: undefined }) }, expect: { noop: /chain LOGDROP exists/ } },
  {
    name: 'chain_management: delete a chain with rules',
    args: { chain: 'LOGDROP', chain_management: true, state: 'absent' },
    facts: { iptables: st({ listing: '-N LOGDROP\n-A LOGDROP -j DROP', checkRc: undefined }) },
    expect: { changes: [{ kind: 'exec', describe: 'iptables -t filter -F LOGDROP' }, { kind: 'exec', describe: 'iptables -t filter -X LOGDROP' }] },
  },
  { name: 'chain_management cannot delete INPUT', args: { chain: 'INPUT', chain_management: true, state: 'absent' }, facts: { iptables: st({ checkRc: undefined }) }, expect: { failure: /built-in chain and cannot be deleted/ } },
  { name: 'flush a chain with rules', args: { chain: 'INPUT', flush: true }, facts: { iptables: st({ checkRc: undefined }) }, expect: { changes: [{ kind: 'exec', describe: 'iptables -t filter -F INPUT' }], result: { flushed: 2 } } },
  { name: 'flush an empty chain', args: { chain: 'INPUT', flush: true }, facts: { iptables: st({ listing: '-P INPUT ACCEPT', checkRc: undefined }) }, expect: { noop: /chain INPUT has no rules/ } },
  { name: 'flush a whole table', args: { table: 'nat', flush: true }, facts: { iptables: st({ listing: NAT_LISTING, checkRc: undefined }) }, expect: { changes: [{ kind: 'exec', describe: 'iptables -t nat -F' }] } },
  { name: 'ip6tables', args: { chain: 'INPUT', ip_version: 'ipv6', protocol: 'tcp', destination_port: '22', jump: 'ACCEPT' }, facts: { iptables: st({ listing: '-P INPUT ACCEPT' }) }, expect: { changes: [{ kind: 'exec', describe: 'ip6tables -t filter -A INPUT -p tcp -j ACCEPT --destination-port 22' }] } },
  { name: 'iptables missing', args: { chain: 'INPUT', jump: 'ACCEPT' }, facts: { iptables: st({ missing: true }) }, expect: { failure: /iptables is not installed/ } },
  { name: 'xtables lock held', args: { chain: 'INPUT', jump: 'ACCEPT' }, facts: { iptables: st({ listRc: 4, listing: 'Another app is currently holding the xtables lock.' }) }, expect: { failure: /-S failed: Another app is currently holding the xtables lock/ } },
];

describe('iptables plans', () => {
  it.each(rows)('$name', async ({ args, facts, expect: e }) => {
    expect(mismatches(await planWith(iptables, args, facts), e)).toEqual([]);
  });

  it.each([
    [{ jump: 'ACCEPT' }, /chain is required/],
    [{ chain: 'INPUT', rule_num: 2, jump: 'ACCEPT' }, /rule_num only applies to action=insert/],
    [{ chain: 'INPUT', action: 'insert', rule_num: 0, jump: 'ACCEPT' }, /rule_num must be 1 or more/],
    [{ chain: 'INPUT', jump: 'ACCEPT', wait: 'soon' }, /wait must be a number of seconds/],
    [{ chain: 'INPUT', policy: 'MAYBE' }, /policy must be one of/],
  ])('%j is refused', async (args, message) => {
    await expect(planWith(iptables, args, { iptables: st() })).rejects.toThrow(message);
  });
});

describe('shell syntax', () => {
  it('every fact and change command parses in sh -n', async () => {
    expect(await assertRowsShellSyntax(iptables, rows.filter((r) => !r.expect.failure))).toBeGreaterThan(0);
  });
});
