import { describe, expect, it } from 'vitest';
import { inventoryFromText } from '../../src/inventory/index.js';
import { splitHostLine } from '../../src/inventory/ini.js';
import { ParseError } from '../../src/errors.js';

const ini = (text: string) => inventoryFromText(text, { file: 'hosts', format: 'ini' });

describe('INI inventory', () => {
  it('reads groups, ranges, ports and children defined later', () => {
    const inv = ini(`
bastion
[web]
web[1:3]
web4:2222
[prod:children]
web
db
[db]
db-[a:b]
`);
    expect(inv.hostNames()).toEqual(['bastion', 'web1', 'web2', 'web3', 'web4', 'db-a', 'db-b']);
    expect(inv.groupNames()).toEqual(['all', 'ungrouped', 'web', 'prod', 'db']);
    expect(inv.groupChildren('prod')).toEqual(['web', 'db']);
    expect(inv.groupChildren('all')).toEqual(['ungrouped', 'prod']);
    expect(inv.groupHosts('ungrouped')).toEqual(['bastion']);
    expect(inv.hostVars('web4')).toEqual({ ansible_port: 2222 });
  });

  it('reads inline host variables with Python literal rules', () => {
    const inv = ini(`h1 port=22 on=True off=False none=None text="a b" octal=0644 word=yes list="[1, 'a']" tuple=1,2 q="'x'" empty= dict="{'k': 'v'}"\n`);
    expect(inv.hostVars('h1')).toEqual({
      port: 22,
      on: true,
      off: false,
      none: null,
      text: 'a b',
      octal: '0644',
      word: 'yes',
      list: [1, 'a'],
      tuple: [1, 2],
      q: 'x',
      empty: '',
      dict: { k: 'v' },
    });
  });

  it('reads [group:vars] with literal_eval too, keeping the rest of the line', () => {
    const inv = ini(`[g]\nh\n[g:vars]\nn=3\nb=True\nspaced = a value  \nhash=a # kept\nnum=1 # a Python comment\nlist=[1, 2]\nquoted="x y"\n`);
    expect(inv.hostVars('h')).toEqual({ n: 3, b: true, spaced: 'a value', hash: 'a # kept', num: 1, list: [1, 2], quoted: 'x y' });
  });

  it('takes comments starting with # or ; and # after a host', () => {
    const inv = ini(`# comment\n; comment\n  # indented\n[g] # comment\nh1 a=1 # comment\nh2 b=x#y\n`);
    expect(inv.groupHosts('g')).toEqual(['h1', 'h2']);
    expect(inv.hostVars('h2')).toEqual({ b: 'x' });
  });

  it('moves a host out of ungrouped once it is in a group, and a host in [all] into ungrouped', () => {
    const inv = ini(`early\nboth\n[g]\nboth\n[all]\nonly_all\n`);
    expect(inv.groupHosts('ungrouped')).toEqual(['early', 'only_all']);
    expect(inv.groupsOf('both')).toEqual(['all', 'g']);
  });

  it('applies a port only where the host is created, as Ansible does', () => {
    const inv = ini(`[a]\nh:2200\n[b]\nh:3300\n`);
    expect(inv.hostVars('h')).toEqual({ ansible_port: 2200 });
  });

  it('keeps ansible_group_priority off the variables', () => {
    const inv = ini(`[g]\nh\n[g:vars]\nansible_group_priority=5\nx=1\n`);
    expect(inv.hostVars('h')).toEqual({ x: 1 });
  });

  it('accepts IPv6 and bracketed addresses with a port', () => {
    const inv = ini(`[v6]\n[2001:db8::1]:2222\nfe80::1\n`);
    expect(inv.groupHosts('v6')).toEqual(['2001:db8::1', 'fe80::1']);
    expect(inv.hostVars('2001:db8::1')).toEqual({ ansible_port: 2222 });
  });

  it.each([
    ['a range that runs backwards', '[web]\nnode[5:1]\n', /runs backwards/, 2, 1],
    ['an unterminated section', '[web\nhost1\n', /unterminated section header/, 1, 1],
    ['a section with a space', '[web servers]\n', /invalid section header/, 1, 1],
    ['an unknown section type', '[web:hosts2]\n', /unknown type "hosts2"/, 1, 6],
    ['a host line in [g:children]', '[web]\n[prod:children]\nweb1 ansible_host=10.0.0.1\n', /expected a group name in \[prod:children\]/, 3, 1],
    ['an undefined child group', '[prod:children]\nweb\n', /includes "web", which is not defined/, 2, 1],
    ['[g:vars] of an undefined group', '[web:vars]\nx=1\n', /\[web:vars\] is for a group that is not defined/, 1, 2],
    ['a [g:vars] line without =', '[web]\n[web:vars]\nlonely\n', /expected key=value in \[web:vars\]/, 3, 1],
    ['a host variable without =', 'host1 novalue\n', /expected key=value after the host name, got "novalue"/, 1, 7],
    ['a semicolon after a host', 'host1 a=1 ; note\n', /got ";"/, 1, 11],
    ['an unclosed quote', 'host1 foo="bar\n', /no closing quotation/, 1, 11],
    ['a YAML document', '---\nall:\n', /looks like a YAML file/, 1, 1],
    ['a trailing colon', 'host1:\n', /trailing ":"/, 1, 1],
    ['a group cycle', '[a:children]\nb\n[b:children]\na\n', /dependency loop/, 4, 1],
    ['a group that is its own child', '[a:children]\na\n', /child of itself/, 2, 1],
    ['a bad priority', '[g]\nh\n[g:vars]\nansible_group_priority=high\n', /must be an integer/, 4, 1],
    ['a zero-padded range of unequal width', 'n[01:100]\n', /same width/, 1, 1],
  ])('reports %s at file:line:col', (_what, text, message, line, col) => {
    let error: unknown;
    try {
      ini(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ParseError);
    const e = error as ParseError;
    expect(e.message).toMatch(message);
    expect(e.location).toMatchObject({ file: 'hosts', line, col });
    expect(e.location?.lineText).toBe(text.split('\n')[line - 1]);
  });
});

describe('splitHostLine (shlex.split with comments)', () => {
  const fail = (message: string): never => {
    throw new Error(message);
  };
  it.each([
    ['h foo=a#b', ['h', 'foo=a']],
    ['h foo="a#b" x=1', ['h', 'foo=a#b', 'x=1']],
    ['h foo=a\\ b', ['h', 'foo=a b']],
    [`h foo="a"b'c'`, ['h', 'foo=abc']],
    ['h foo="a\\"b"', ['h', 'foo=a"b']],
    ["h foo='a\\b'", ['h', 'foo=a\\b']],
    ['h foo="a\\nb"', ['h', 'foo=a\\nb']],
    ['h foo=""', ['h', 'foo=']],
    ['h foo=a;b', ['h', 'foo=a;b']],
    ['  h   #c', ['h']],
  ])('%s', (line, expected) => {
    expect(splitHostLine(line, fail).map((t) => t.value)).toEqual(expected);
  });

  it('records where each token starts', () => {
    expect(splitHostLine('  web1  a="x y"', fail)).toEqual([
      { value: 'web1', col: 3 },
      { value: 'a=x y', col: 9 },
    ]);
  });
});
