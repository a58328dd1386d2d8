import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Inventory, inventoryFromText, loadInventory } from '../../src/inventory/index.js';
import { ParseError, UsageError } from '../../src/errors.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (...parts: string[]) => join(fixtures, ...parts);

const scratch = mkdtempSync(join(tmpdir(), 'tsible-inventory-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes files under a fresh directory and returns its path. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(scratch, 'inv-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('variable precedence (checked against ansible-inventory --host)', () => {
  it.each<[string, Record<string, unknown>]>([
    // host_vars/web1/ files last, read in sorted order
    ['web1', { layer: 'host_vars', web1_file: 'secrets', ansible_host: '10.0.0.1', http_port: 80 }],
    // group_vars/prod beats the inline vars of the deeper group web; priority 10 beats 1 at equal depth
    ['web2', { layer: 'group_vars-prod-10', tier: 'high', prod_file: 'override', web_file: 'extensionless' }],
    // inline host vars beat group_vars/all
    ['solo', { layer: 'host-inline', from_all_file: 1 }],
    // group_vars/db.json
    ['db1', { layer: 'group_vars-db', db_engine: 'postgres', backup: true, ansible_port: 5432 }],
  ])('%s', async (host, expected) => {
    const inv = await loadInventory([fixture('yaml-vars', 'hosts.yml')]);
    expect(inv.hostVars(host)).toMatchObject(expected);
  });

  it('skips hidden files, backups and other extensions in a group_vars directory', async () => {
    const vars = (await loadInventory([fixture('yaml-vars', 'hosts.yml')])).hostVars('web1');
    expect(vars).not.toHaveProperty('hidden');
    expect(vars).not.toHaveProperty('not');
    expect(vars.backup).toBeUndefined();
  });

  it('orders groups by depth, then priority, then name', () => {
    const inv = inventoryFromText(`[a]\nh\n[b]\nh\n[c:children]\na\n[a:vars]\nx=a\n[b:vars]\nx=b\n[c:vars]\nx=c\n`);
    // a (depth 2) beats b and c (depth 1)
    expect(inv.hostVars('h').x).toBe('a');
    expect(inv.groupsOf('h')).toEqual(['all', 'b', 'c', 'a']);
    const prio = inventoryFromText(`[a]\nh\n[b]\nh\n[a:vars]\nx=a\nansible_group_priority=2\n[b:vars]\nx=b\n`);
    expect(prio.hostVars('h').x).toBe('a');
  });

  it('reads group_vars of every source, source by source', async () => {
    const inv = await loadInventory([fixture('multi', 'a', 'hosts'), fixture('multi', 'b', 'hosts.yml')]);
    expect(inv.groupHosts('shared')).toEqual(['x1', 'x2', 'x3']);
    // b's inline "who" loses to b's group_vars/all, which loses to a's group_vars/shared
    expect(inv.hostVars('x3')).toEqual({ who: 'group_vars-a', only_a: 1 });
    expect(inv.hostVars('x1')).toEqual({ who: 'group_vars-a', only_a: 1, from_b: 1 });
  });

  it('merges without mixing dictionaries (hash_behaviour=replace)', () => {
    const root = tree({
      hosts: '[g]\nh\n[g:vars]\nd="{\'a\': 1, \'b\': 2}"\n',
      'host_vars/h.yml': 'd: {a: 9}\n',
    });
    return loadInventory([join(root, 'hosts')]).then((inv) => expect(inv.hostVars('h').d).toEqual({ a: 9 }));
  });
});

describe('sources', () => {
  it('reads a directory in sorted order, skipping .ini files and group_vars/', async () => {
    const inv = await loadInventory([fixture('directory')]);
    expect(inv.groupNames()).toEqual(['all', 'ungrouped', 'alpha', 'beta', 'gamma']);
    expect(inv.groupHosts('beta')).toEqual(['b1', 'a1']);
    expect(inv.hasHost('ini_host')).toBe(false);
    // group_vars/ beside the directory's files apply to everything in it
    expect(inv.hostVars('g1')).toEqual({ dir_var: 1, dir_wide: true });
    expect(inv.inventoryFileOf('g1')).toBe(fixture('directory', 'sub', 'hosts'));
  });

  it.each<[string, string[], Record<string, unknown>]>([
    ['localhost,', ['localhost'], {}],
    ['web1,web2:2222,', ['web1', 'web2'], { web2: { ansible_port: 2222 } }],
    [' a , b ,a', ['a', 'b'], {}],
    ['node[01:03],', ['node01', 'node02', 'node03'], {}],
  ])('reads the host list %j', async (list, hosts, vars) => {
    const inv = await loadInventory([list]);
    expect(inv.hostNames()).toEqual(hosts);
    expect(inv.groupHosts('ungrouped')).toEqual(hosts);
    for (const [h, v] of Object.entries(vars)) expect(inv.hostVars(h)).toEqual(v);
  });

  it('merges several sources into one inventory', async () => {
    const inv = await loadInventory([fixture('ini-basic', 'hosts'), 'extra1,extra2']);
    // host-list hosts are ungrouped, and ungrouped hosts come first (as `ansible all --list-hosts` shows)
    expect(inv.hostNames().slice(0, 5)).toEqual(['bastion', 'lonely', 'extra1', 'extra2', 'web1']);
  });

  it('sniffs the format of a file without extension', async () => {
    const root = tree({ yamlish: 'all:\n  hosts:\n    y1:\n', iniish: 'i1\n[g]\ni2\n' });
    expect((await loadInventory([join(root, 'yamlish')])).hostNames()).toEqual(['y1']);
    expect((await loadInventory([join(root, 'iniish')])).hostNames()).toEqual(['i1', 'i2']);
  });

  it('gives the YAML error for a broken YAML file without extension', async () => {
    const root = tree({ hosts: 'all:\n  hosts:\n    a: [\n' });
    await expect(loadInventory([join(root, 'hosts')])).rejects.toThrow(/YAML syntax error/);
  });

  it('names a missing source', async () => {
    await expect(loadInventory(['/nonexistent/hosts'])).rejects.toThrow(UsageError);
    await expect(loadInventory(['/nonexistent/hosts'])).rejects.toThrow(/does not exist/);
  });

  it('reports a syntax error in a group_vars file with its location', async () => {
    const root = tree({ hosts: '[web]\nw1\n', 'group_vars/web.yml': 'a: 1\nb: [\n' });
    const err = await loadInventory([join(root, 'hosts')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).location?.file).toBe(join(root, 'group_vars', 'web.yml'));
  });

  it('refuses a group_vars file that is not a mapping', async () => {
    const root = tree({ hosts: 'w1\n', 'host_vars/w1.yml': '- a\n- b\n' });
    await expect(loadInventory([join(root, 'hosts')])).rejects.toThrow(/must hold a mapping/);
  });

  it('asks for a vault secret for an encrypted vars file, and uses one when given', async () => {
    const root = tree({ hosts: 'w1\n', 'group_vars/all/vault.yml': '$ANSIBLE_VAULT;1.1;AES256\n6162\n' });
    await expect(loadInventory([join(root, 'hosts')])).rejects.toThrow(/vault-encrypted/);
    const inv = await loadInventory([join(root, 'hosts')], { decryptFile: () => 'secret: s3cret\n' });
    expect(inv.hostVars('w1')).toEqual({ secret: 's3cret' });
  });
});

describe('queries', () => {
  const inv = inventoryFromText(`
lone
[web]
web1
web2
[db]
db1
[prod:children]
web
db
[prod:vars]
env=prod
`);

  it('answers membership questions', () => {
    expect(inv.hasHost('web1')).toBe(true);
    expect(inv.hasHost('prod')).toBe(false);
    expect(inv.hasGroup('prod')).toBe(true);
    expect(inv.groupsOf('web1')).toEqual(['all', 'prod', 'web']);
    expect(inv.groupsOf('lone')).toEqual(['all', 'ungrouped']);
    expect(inv.groupHosts('prod')).toEqual(['web1', 'web2', 'db1']);
    expect(inv.groupHosts('all')).toEqual(['lone', 'web1', 'web2', 'db1']);
    expect(inv.groupChildren('prod')).toEqual(['web', 'db']);
  });

  it('names unknown hosts and groups', () => {
    expect(() => inv.hostVars('nope')).toThrow(/"nope" is not a host/);
    expect(() => inv.groupHosts('nope')).toThrow(/"nope" is not a group/);
  });

  it('returns a fresh object from hostVars', () => {
    inv.hostVars('web1').env = 'changed';
    expect(inv.hostVars('web1').env).toBe('prod');
  });

  it('gives the implicit localhost the variables of all and a local connection', () => {
    const withAll = inventoryFromText('[all:vars]\nntp=10.0.0.1\n[g]\nh\n');
    expect(withAll.hasHost('localhost')).toBe(false);
    expect(withAll.hostVars('localhost')).toEqual({ ntp: '10.0.0.1', ansible_connection: 'local' });
    expect(withAll.groupsOf('localhost')).toEqual([]);
  });

  it('prints the group tree as ansible-inventory --graph', () => {
    expect(inv.toGraph()).toBe(
      ['@all:', '  |--@ungrouped:', '  |  |--lone', '  |--@prod:', '  |  |--@web:', '  |  |  |--web1', '  |  |  |--web2', '  |  |--@db:', '  |  |  |--db1'].join('\n'),
    );
    expect(inv.toGraph('web')).toBe(['@web:', '  |--web1', '  |--web2'].join('\n'));
  });

  it('lists as ansible-inventory --list: no empty groups, hostvars only when there are some', () => {
    const small = inventoryFromText('lone\n[g]\nh x=1\n[empty]\n');
    expect(small.toAnsibleList()).toEqual({
      _meta: { hostvars: { h: { x: 1 } } },
      all: { children: ['ungrouped', 'g', 'empty'] },
      ungrouped: { hosts: ['lone'] },
      g: { hosts: ['h'] },
    });
  });
});

describe('addHost', () => {
  it('adds a new host to all (hence ungrouped) first, like add_host', () => {
    const inv = inventoryFromText('[web]\nweb1\n');
    inv.addHost('new1', [], { ansible_host: '10.0.0.9' });
    expect(inv.hostNames()).toEqual(['new1', 'web1']);
    expect(inv.groupHosts('ungrouped')).toEqual(['new1']);
    expect(inv.hostVars('new1')).toEqual({ ansible_host: '10.0.0.9' });
  });

  it('creates missing groups and moves the host out of ungrouped', () => {
    const inv = new Inventory();
    inv.addHost('n1');
    inv.addHost('n1', ['compute'], { rank: 1 });
    expect(inv.groupChildren('all')).toEqual(['ungrouped', 'compute']);
    expect(inv.groupHosts('ungrouped')).toEqual([]);
    expect(inv.groupsOf('n1')).toEqual(['all', 'compute']);
    expect(inv.selectHosts('compute')).toEqual(['n1']);
    expect(inv.hostVars('n1')).toEqual({ rank: 1 });
  });

  it('sees group_vars of the sources for hosts added later', async () => {
    const root = tree({ hosts: '[web]\nw1\n', 'group_vars/web.yml': 'role: web\n', 'host_vars/w9.yml': 'own: 1\n' });
    const inv = await loadInventory([join(root, 'hosts')]);
    inv.addHost('w9', ['web']);
    expect(inv.hostVars('w9')).toEqual({ role: 'web', own: 1 });
  });
});
