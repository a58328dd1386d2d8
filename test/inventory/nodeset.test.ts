import { describe, expect, it } from 'vitest';
import { expandAnsibleRange, expandNodeSet, foldNodeSet, naturalCompare } from '../../src/inventory/nodeset.js';
import { UsageError } from '../../src/errors.js';

describe('expandAnsibleRange', () => {
  it.each([
    ['web1', ['web1']],
    ['cluster[2:5]', ['cluster2', 'cluster3', 'cluster4', 'cluster5']],
    ['node[01:03]', ['node01', 'node02', 'node03']],
    ['node[08:11]', ['node08', 'node09', 'node10', 'node11']],
    ['n[1:10:3]', ['n1', 'n4', 'n7', 'n10']],
    ['n[01:10:4]', ['n01', 'n05', 'n09']],
    ['n[:2]', ['n0', 'n1', 'n2']],
    ['db-[a:c].example.com', ['db-a.example.com', 'db-b.example.com', 'db-c.example.com']],
    ['x[y:B]', ['xy', 'xz', 'xA', 'xB']],
    ['rack[a:b]-n[1:2]', ['racka-n1', 'racka-n2', 'rackb-n1', 'rackb-n2']],
    ['n[1:010]', ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9', 'n10']],
    ['n[3:3]', ['n3']],
  ])('%s', (pattern, expected) => {
    expect(expandAnsibleRange(pattern)).toEqual(expected);
  });

  it.each([
    ['node[5:1]', /runs backwards/],
    ['node[c:a]', /runs backwards/],
    ['node[1:5', /no closing/],
    ['node[1]', /must be \[begin:end\]/],
    ['node[1:2:3:4]', /must be \[begin:end\]/],
    ['node[1:]', /no end value/],
    ['node[01:100]', /same width/],
    ['node[1:c]', /numbers .* or single letters/],
    ['node[1:5:0]', /step must be a positive integer/],
  ])('rejects %s', (pattern, message) => {
    expect(() => expandAnsibleRange(pattern)).toThrow(UsageError);
    expect(() => expandAnsibleRange(pattern)).toThrow(message);
  });
});

describe('expandNodeSet', () => {
  it.each([
    ['cluster1', ['cluster1']],
    ['cluster[2-5,7]', ['cluster2', 'cluster3', 'cluster4', 'cluster5', 'cluster7']],
    ['n[01-03]', ['n01', 'n02', 'n03']],
    ['n[08-10]', ['n08', 'n09', 'n10']],
    ['n[1-9/4]', ['n1', 'n5', 'n9']],
    ['r[1-2]n[1-2]', ['r1n1', 'r1n2', 'r2n1', 'r2n2']],
    ['a[1-2],b3', ['a1', 'a2', 'b3']],
    ['a[1-2], a2 ,a3', ['a1', 'a2', 'a3']],
    ['web[1-2].example.com', ['web1.example.com', 'web2.example.com']],
  ])('%s', (spec, expected) => {
    expect(expandNodeSet(spec)).toEqual(expected);
  });

  it.each([
    ['n[3-1]', /runs backwards/],
    ['n[1-3', /without "\]"/],
    ['n1-3]', /without "\["/],
    ['n[a-c]', /must list numbers/],
    ['n[1-3/0]', /step/],
    ['n[]', /must list numbers/],
  ])('rejects %s', (spec, message) => {
    expect(() => expandNodeSet(spec)).toThrow(message);
  });
});

describe('foldNodeSet', () => {
  it.each([
    [['cluster2', 'cluster3', 'cluster4', 'cluster5', 'cluster7'], 'cluster[2-5,7]'],
    [['node03', 'node01', 'node02'], 'node[01-03]'],
    [['node09', 'node10', 'node11'], 'node[09-11]'],
    [['cluster1'], 'cluster1'],
    [['login', 'cluster2', 'cluster1'], 'cluster[1-2],login'],
    [['web1', 'db1', 'db2', 'web2'], 'db[1-2],web[1-2]'],
    [['n1', 'n01'], 'n1,n01'],
    [['rack1-n1', 'rack1-n2', 'rack2-n1'], 'rack1-n[1-2],rack2-n1'],
    [['web1.example.com', 'web2.example.com'], 'web[1-2].example.com'],
    [['a', 'a', 'b'], 'a,b'],
    [[], ''],
    [['n10', 'n9', 'n11', 'n2'], 'n[2,9-11]'],
  ])('%j → %s', (names, folded) => {
    expect(foldNodeSet(names)).toBe(folded);
  });

  it('is undone by expandNodeSet', () => {
    const names = ['c1', 'c2', 'c3', 'c7', 'gpu01', 'gpu02', 'gpu10', 'login'];
    expect(expandNodeSet(foldNodeSet(names)).sort(naturalCompare)).toEqual(names);
  });
});

describe('naturalCompare', () => {
  it('orders numbers by value', () => {
    expect(['n10', 'n2', 'n1', 'm3'].sort(naturalCompare)).toEqual(['m3', 'n1', 'n2', 'n10']);
  });
});
