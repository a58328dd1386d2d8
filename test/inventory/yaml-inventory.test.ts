import { describe, expect, it } from 'vitest';
import { inventoryFromText } from '../../src/inventory/index.js';
import { ParseError, UsageError } from '../../src/errors.js';
import { UnsafeText, VaultedText } from '../../src/util/markers.js';

const yaml = (text: string) => inventoryFromText(text, { file: 'hosts.yml' });

describe('YAML inventory', () => {
  it('reads hosts, vars and nested children', () => {
    const inv = yaml(`
all:
  vars: {ntp: 10.0.0.1}
  hosts:
    solo:
  children:
    prod:
      children:
        web:
          hosts:
            web[1:2]:
              http_port: 80
            web3:2222:
        db:
          hosts: db1
      vars:
        env: prod
`);
    expect(inv.hostNames()).toEqual(['solo', 'web1', 'web2', 'web3', 'db1']);
    expect(inv.groupChildren('prod')).toEqual(['web', 'db']);
    expect(inv.groupHosts('ungrouped')).toEqual(['solo']);
    expect(inv.hostVars('web1')).toEqual({ ntp: '10.0.0.1', env: 'prod', http_port: 80 });
    expect(inv.hostVars('web3')).toEqual({ ntp: '10.0.0.1', env: 'prod', ansible_port: 2222 });
  });

  it('accepts groups at the top level besides all, and empty groups', () => {
    const inv = yaml(`web:\n  hosts: {w1: }\nempty:\nall:\n  children:\n    other: {}\n`);
    expect(inv.groupChildren('all')).toEqual(['ungrouped', 'other', 'web', 'empty']);
  });

  it('keeps YAML 1.1 types, !unsafe and !vault values as they are', () => {
    const inv = yaml(`all:\n  hosts:\n    h:\n      mode: 0644\n      enabled: yes\n      raw: !unsafe '{{ x }}'\n      secret: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        6162\n`);
    const vars = inv.hostVars('h');
    expect(vars.mode).toBe(420);
    expect(vars.enabled).toBe(true);
    expect(vars.raw).toBeInstanceOf(UnsafeText);
    expect(vars.secret).toBeInstanceOf(VaultedText);
  });

  it.each([
    ['a list of hosts', 'all:\n  hosts:\n    - web1\n', /"hosts" of group "all" must be a mapping/, 2, 3],
    ['a misspelt section', 'all:\n  children:\n    web:\n      host:\n        w1:\n', /unexpected key "host" in group "web"/, 4, 7],
    ['host vars that are not a mapping', 'all:\n  hosts:\n    w1: 22\n', /variables of host "w1" must be a mapping/, 3, 5],
    ['a bad range', 'all:\n  hosts:\n    n[3:1]:\n', /runs backwards/, 3, 5],
    ['a group that is a list', 'web:\n  - w1\n', /group "web" must be a mapping/, 1, 1],
    ['a group cycle', 'a:\n  children:\n    b:\n      children:\n        a:\n', /dependency loop/, 3, 5],
    ['bad YAML', 'all:\n  hosts:\n    w1:\n   bad: [\n', /YAML syntax error/, 4, 4],
    ['a duplicate key', 'all:\n  hosts:\n    w1:\n    w1:\n', /YAML syntax error/, 4, 5],
    ['a YAML list', '- a\n- b\n', /must be a mapping of group names/, 1, 1],
    ['a plugin configuration', 'plugin: aws_ec2\nregions: [eu-west-1]\n', /plugin configurations .* not supported/, 1, 1],
  ])('reports %s at file:line:col', (_what, text, message, line, col) => {
    let error: unknown;
    try {
      yaml(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ParseError);
    expect((error as ParseError).message).toMatch(message);
    expect((error as ParseError).location).toMatchObject({ file: 'hosts.yml', line, col });
  });

  it('treats an empty YAML file as an empty inventory', () => {
    expect(yaml('# nothing yet\n').hostNames()).toEqual([]);
  });

  it('refuses dynamic inventory scripts', () => {
    expect(() => inventoryFromText('#!/usr/bin/env python3\nprint("{}")\n', { file: 'ec2.py' })).toThrow(UsageError);
  });
});
