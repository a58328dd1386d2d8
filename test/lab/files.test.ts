import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hostAddresses, parseLabState, renderInventory, renderKnownHosts, validateLabInput } from '../../src/lab/files.js';
import { UsageError } from '../../src/errors.js';

const hosts = [
  { name: 'node1', address: '172.20.0.2', hostKey: 'ssh-ed25519 AAAAone root@node1' },
  { name: 'node2', address: '172.20.0.3', hostKey: 'ssh-ed25519 AAAAtwo' },
];
const paths = { keyPath: '/lab/id_ed25519', knownHostsPath: '/lab/known_hosts' };

describe('renderInventory', () => {
  it('gives every host its address, user, key and known_hosts file', () => {
    const inv = parse(renderInventory(hosts, {}, paths)) as { all: { hosts: Record<string, Record<string, unknown>> } };
    expect(inv.all.hosts.node2).toEqual({
      ansible_host: '172.20.0.3',
      ansible_user: 'root',
      ansible_ssh_private_key_file: '/lab/id_ed25519',
      tsible_known_hosts_file: '/lab/known_hosts',
    });
  });

  it('writes groups with hosts, children and vars; all vars go to all', () => {
    const text = renderInventory(hosts, {
      web: { hosts: ['node1'], vars: { port: 80 } },
      cluster: { children: ['web'], hosts: ['node2'] },
      all: { vars: { ntp: 'pool' } },
      ungrouped: { hosts: [] },
    }, paths);
    const inv = parse(text) as { all: { vars: unknown; children: Record<string, unknown> } };
    expect(inv.all.vars).toEqual({ ntp: 'pool' });
    expect(inv.all.children).toEqual({
      web: { hosts: { node1: {} }, vars: { port: 80 } },
      cluster: { hosts: { node2: {} }, children: { web: {} } },
    });
  });
});

describe('renderKnownHosts', () => {
  it('lists each key under the address and under the name, without the comment', () => {
    expect(renderKnownHosts(hosts)).toBe(
      '172.20.0.2 ssh-ed25519 AAAAone\nnode1 ssh-ed25519 AAAAone\n172.20.0.3 ssh-ed25519 AAAAtwo\nnode2 ssh-ed25519 AAAAtwo\n',
    );
  });
});

describe('validateLabInput', () => {
  it.each([
    ['bad lab name', 'a b', ['n1'], {}, /lab name/],
    ['no hosts', 'x', [], {}, /at least one host/],
    ['host not a DNS name', 'x', ['web_1'], {}, /DNS names.*web_1/],
    ['host with an empty label', 'x', ['web..example'], {}, /DNS names/],
    ['host too long for a hostname', 'x', ['a'.repeat(64)], {}, /DNS names/],
    ['duplicate host', 'x', ['n1', 'n1'], {}, /twice/],
    ['group with a stranger', 'x', ['n1'], { g: { hosts: ['n9'] } }, /group "g" lists host "n9"/],
    ['unknown child group', 'x', ['n1'], { g: { children: ['h'] } }, /child group "h"/],
  ])('refuses %s', (_what, name, hs, groups, msg) => {
    expect(() => validateLabInput(name, hs, groups)).toThrow(UsageError);
    expect(() => validateLabInput(name, hs, groups)).toThrow(msg);
  });

  it('accepts a normal lab', () => {
    expect(() => validateLabInput('run-123', ['node1', 'node-2', 'web1.example.com'], { g: { hosts: ['node1'], children: [] } })).not.toThrow();
  });
});

describe('hostAddresses', () => {
  it('starts after the gateway and skips it', () => {
    expect(hostAddresses('172.20.0.0/16', '172.20.0.1', 3)).toEqual(['172.20.0.2', '172.20.0.3', '172.20.0.4']);
    expect(hostAddresses('10.0.0.0/29', '10.0.0.3', 5)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
  });

  it('handles addresses with the top bit set', () => {
    expect(hostAddresses('192.168.16.0/20', '192.168.16.1', 1)).toEqual(['192.168.16.2']);
  });

  it('refuses a subnet too small', () => {
    expect(() => hostAddresses('10.0.0.0/30', '10.0.0.1', 2)).toThrow(/room for 1 hosts/);
  });
});

describe('parseLabState', () => {
  it('refuses what is not a state file', () => {
    expect(() => parseLabState('{', 'lab.json')).toThrow(/not a lab state file/);
    expect(() => parseLabState('{"name":"x"}', 'lab.json')).toThrow(/expected name, network and hosts/);
  });
});
