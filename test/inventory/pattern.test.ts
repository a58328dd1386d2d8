import { describe, expect, it } from 'vitest';
import { inventoryFromText, splitHostPattern } from '../../src/inventory/index.js';
import { UsageError } from '../../src/errors.js';

// The thesis cluster's shape: `cluster` is a group, and its hosts are cluster1..cluster5.
const inv = inventoryFromText(`
bastion
[master]
cluster1
[nodes]
cluster[2:5]
[cluster:children]
master
nodes
[gluster]
san[1:3]
[storage:children]
gluster
nfs_server
[nfs_server]
nfs
[empty]
[web]
web1.example.com
web2.example.com
`);

describe('splitHostPattern', () => {
  it.each([
    ['a:b', ['a', 'b']],
    ['a,b', ['a', 'b']],
    ['a, b ,,c', ['a', 'b', 'c']],
    ['a:&b:!c', ['a', '&b', '!c']],
    ['web[1:3]:db', ['web[1:3]', 'db']],
    ['cluster[2-5,7],login', ['cluster[2-5,7]', 'login']],
    ['fe80::1', ['fe80::1']],
    ['~(web|db)\\d+', ['~(web|db)\\d+']],
  ])('%s', (pattern, parts) => {
    expect(splitHostPattern(pattern)).toEqual(parts);
  });
});

describe('selectHosts', () => {
  it.each<[string, string[]]>([
    // breadth-first: hosts of top-level groups (ungrouped, web) before those of nested ones
    ['all', ['bastion', 'web1.example.com', 'web2.example.com', 'cluster1', 'cluster2', 'cluster3', 'cluster4', 'cluster5', 'san1', 'san2', 'san3', 'nfs']],
    ['cluster', ['cluster1', 'cluster2', 'cluster3', 'cluster4', 'cluster5']],
    ['cluster3', ['cluster3']],
    ['*', ['bastion', 'web1.example.com', 'web2.example.com', 'cluster1', 'cluster2', 'cluster3', 'cluster4', 'cluster5', 'san1', 'san2', 'san3', 'nfs']],
    // a glob matches groups (their hosts) and host names
    ['clust*', ['cluster1', 'cluster2', 'cluster3', 'cluster4', 'cluster5']],
    ['san?', ['san1', 'san2', 'san3']],
    ['*.example.com', ['web1.example.com', 'web2.example.com']],
    ['web[12]*', ['web1.example.com', 'web2.example.com']],
    // union, in the order written
    ['gluster:master', ['san1', 'san2', 'san3', 'cluster1']],
    ['master,gluster', ['cluster1', 'san1', 'san2', 'san3']],
    // intersection and exclusion, whatever their position
    ['cluster:&nodes', ['cluster2', 'cluster3', 'cluster4', 'cluster5']],
    ['cluster:!master', ['cluster2', 'cluster3', 'cluster4', 'cluster5']],
    ['!cluster3:cluster', ['cluster1', 'cluster2', 'cluster4', 'cluster5']],
    ['cluster:!cluster2:&nodes', ['cluster3', 'cluster4', 'cluster5']],
    ['!cluster:!storage', ['bastion', 'web1.example.com', 'web2.example.com']],
    // regex: Python's re.match on group and host names
    ['~san[12]', ['san1', 'san2']],
    ['~(master|nfs)', ['cluster1', 'nfs']],
    ['~web\\d\\.example', ['web1.example.com', 'web2.example.com']],
    // Ansible subscripts, inclusive
    ['nodes[0]', ['cluster2']],
    ['nodes[-1]', ['cluster5']],
    ['nodes[1:2]', ['cluster3', 'cluster4']],
    ['nodes[2:]', ['cluster4', 'cluster5']],
    ['clust*[0]', ['cluster1']],
    // ClusterShell node sets
    ['cluster[2-3,5]', ['cluster2', 'cluster3', 'cluster5']],
    ['san[1-2],nfs', ['san1', 'san2', 'nfs']],
    ['cluster[1-5]:!nodes', ['cluster1']],
    // `x[N]` where x names nothing is the node set xN
    ['san[2]', ['san2']],
    // existing but empty groups select nothing, without error
    ['empty', []],
    ['ungrouped', ['bastion']],
    // the implicit localhost
    ['localhost', ['localhost']],
    ['127.0.0.1', ['127.0.0.1']],
  ])('%s', (pattern, hosts) => {
    expect(inv.selectHosts(pattern)).toEqual(hosts);
  });

  it.each([
    ['clustr', /"clustr" is neither a host nor a group/, /did you mean "cluster"/],
    ['cluster:!nodez', /"nodez" is neither a host nor a group/, /did you mean "nodes"/],
    ['cluster:&masterz', /"masterz" is neither/, /did you mean "master"/],
    ['db*', /the pattern "db\*" matches no host or group/, undefined],
    ['~^db', /matches no host or group/, undefined],
    ['cluster[5-7]', /not in the inventory: cluster\[6-7\]/, undefined],
    ['cluster[1', /unbalanced brackets/, undefined],
    ['nodes[7]', /no host matches the subscripted pattern "nodes\[7\]"/, undefined],
    ['node[01:03]', /"node" is neither a host nor a group/, /node\[01-03\]/],
    ['~(', /invalid regular expression/, undefined],
    ['', /is empty/, undefined],
    [' , ', /is empty/, undefined],
  ])('rejects %j', (pattern, message, hint) => {
    let error: unknown;
    try {
      inv.selectHosts(pattern);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(message);
    if (hint) expect((error as UsageError).hint).toMatch(hint);
  });

  it('reads x[N] as an Ansible subscript when x is a group, as Ansible does', () => {
    // `cluster[2]` is the third host of group cluster (here cluster3), not host cluster2.
    expect(inv.selectHosts('cluster[2]')).toEqual(['cluster3']);
    // ...but a range with "-" is always a node set (Ansible dropped [x-y] subscripts)
    expect(inv.selectHosts('cluster[2-3]')).toEqual(['cluster2', 'cluster3']);
  });

  it('lets a node set name groups', () => {
    const racks = inventoryFromText('[rack1]\nn1\nn2\n[rack2]\nn3\n[rack3]\nn4\n');
    expect(racks.selectHosts('rack[1-2]')).toEqual(['n1', 'n2', 'n3']);
    expect(racks.selectHosts('rack[1-3]:!n[2-3]')).toEqual(['n1', 'n4']);
  });
});
