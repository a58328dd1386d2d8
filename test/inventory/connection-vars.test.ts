import { describe, expect, it } from 'vitest';
import { connectionVars, type ConnectionVars } from '../../src/inventory/connection-vars.js';
import { UsageError } from '../../src/errors.js';
import { UnsafeText, VaultedText } from '../../src/util/markers.js';

describe('connectionVars', () => {
  it.each<[string, Record<string, unknown>, ConnectionVars]>([
    ['nothing set', { foo: 1 }, {}],
    [
      'the usual Ansible names',
      {
        ansible_host: '10.0.0.1',
        ansible_port: 2222,
        ansible_user: 'deploy',
        ansible_ssh_private_key_file: '~/.ssh/id_ed25519',
        ansible_connection: 'ssh',
        ansible_password: 'pw',
        ansible_become: true,
        ansible_become_user: 'postgres',
        ansible_become_method: 'su',
        ansible_become_password: 'bpw',
      },
      {
        address: '10.0.0.1',
        port: 2222,
        user: 'deploy',
        privateKeyFile: '~/.ssh/id_ed25519',
        connection: 'ssh',
        password: 'pw',
        becomeEnabled: true,
        becomeUser: 'postgres',
        becomeMethod: 'su',
        becomePassword: 'bpw',
      },
    ],
    [
      'legacy names, which beat the modern ones as in Ansible',
      { ansible_host: 'new', ansible_ssh_host: 'old', ansible_port: 1, ansible_ssh_port: '2', ansible_user: 'u', ansible_ssh_user: 'legacy', ansible_password: 'p', ansible_ssh_pass: 'sp' },
      { address: 'old', port: 2, user: 'legacy', password: 'sp' },
    ],
    ['ansible_become_pass over ansible_become_password', { ansible_become_password: 'a', ansible_become_pass: 'b' }, { becomePassword: 'b' }],
    ['ansible_private_key_file', { ansible_private_key_file: 'k' }, { privateKeyFile: 'k' }],
    [
      'tsible_* aliases, which win over everything',
      {
        ansible_host: 'a',
        ansible_ssh_host: 'b',
        tsible_host: 'c',
        tsible_port: 2200,
        ansible_port: 22,
        tsible_user: 'tu',
        tsible_private_key_file: 'tk',
        tsible_connection: 'local',
        ansible_connection: 'ssh',
        tsible_become: 'no',
        ansible_become: true,
        tsible_become_user: 'tb',
        tsible_become_password: 'tbp',
        tsible_proxy_jump: 'jump@bastion:2222',
        ansible_ssh_proxy_jump: 'other',
        tsible_known_hosts_file: '/etc/tsible/known_hosts',
      },
      {
        address: 'c',
        port: 2200,
        user: 'tu',
        privateKeyFile: 'tk',
        connection: 'local',
        becomeEnabled: false,
        becomeUser: 'tb',
        becomePassword: 'tbp',
        proxyJump: 'jump@bastion:2222',
        knownHostsFile: '/etc/tsible/known_hosts',
      },
    ],
    ['ansible_ssh_proxy_jump', { ansible_ssh_proxy_jump: 'bastion' }, { proxyJump: 'bastion' }],
    ['null as not set', { tsible_user: null, ansible_user: 'u', ansible_port: null }, { user: 'u' }],
    ['a port written as a string', { ansible_port: ' 2222 ' }, { port: 2222 }],
    ['a port that is still a template', { ansible_port: '{{ base_port + 1 }}' }, { port: '{{ base_port + 1 }}' }],
    ['a templated address, left to the caller', { ansible_host: '{{ inventory_hostname }}.lan' }, { address: '{{ inventory_hostname }}.lan' }],
    ['a numeric user', { ansible_user: 1000 }, { user: '1000' }],
    ['smart and paramiko as ssh', { ansible_connection: 'smart' }, { connection: 'ssh' }],
    ['paramiko as ssh', { ansible_connection: 'paramiko' }, { connection: 'ssh' }],
    ['an !unsafe value', { ansible_password: new UnsafeText('p{{w}}') }, { password: 'p{{w}}' }],
    ...(['yes', 'Yes', 'true', 'on', '1', 'y', 't', 1] as const).map(
      (v) => [`become ${JSON.stringify(v)}`, { ansible_become: v }, { becomeEnabled: true }] as [string, Record<string, unknown>, ConnectionVars],
    ),
    ...(['no', 'False', 'off', '0', 'n', 0, false] as const).map(
      (v) => [`become ${JSON.stringify(v)}`, { ansible_become: v }, { becomeEnabled: false }] as [string, Record<string, unknown>, ConnectionVars],
    ),
  ])('reads %s', (_what, vars, expected) => {
    expect(connectionVars(vars)).toEqual(expected);
  });

  it.each<[Record<string, unknown>, RegExp]>([
    [{ ansible_port: 'ssh' }, /ansible_port must be a port number \(1-65535\), got string "ssh"/],
    [{ ansible_port: 0 }, /ansible_port must be a port number/],
    [{ ansible_port: 70000 }, /got number 70000/],
    [{ tsible_port: 22.5 }, /tsible_port must be a port number/],
    [{ ansible_port: [22] }, /got a list \[22\]/],
    [{ ansible_host: ['a', 'b'] }, /ansible_host must be a string, got a list/],
    [{ ansible_user: { name: 'x' } }, /ansible_user must be a string, got a mapping/],
    [{ ansible_user: true }, /ansible_user must be a string, got boolean true/],
    [{ ansible_connection: 'docker' }, /ansible_connection "docker" is not supported/],
    [{ ansible_connection: 3 }, /ansible_connection must be a string/],
    [{ ansible_become: 'maybe' }, /ansible_become must be a boolean .*got string "maybe"/],
    [{ ansible_become: '{{ use_sudo }}' }, /ansible_become must be a boolean/],
    [{ ansible_become_password: new VaultedText('$ANSIBLE_VAULT;1.1;AES256\n6162') }, /vault-encrypted/],
  ])('rejects %j', (vars, message) => {
    expect(() => connectionVars(vars)).toThrow(UsageError);
    expect(() => connectionVars(vars)).toThrow(message);
  });
});
