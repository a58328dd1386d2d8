import { describe, expect, it } from 'vitest';
import { isSelected } from '../../src/executor/tags.js';
import { batches } from '../../src/executor/serial.js';
import { loopItems } from '../../src/executor/loop.js';
import type { LoopSpec } from '../../src/playbook/ast.js';

describe('isSelected (--tags / --skip-tags)', () => {
  it.each([
    [[], [], [], true],
    [['a'], [], [], true],
    [['a'], ['a'], [], true],
    [['b'], ['a'], [], false],
    [[], ['a'], [], false],
    [['always'], ['a'], [], true],
    [['always'], ['a'], ['always'], false],
    [['never'], [], [], false],
    [['never', 'debug'], ['debug'], [], true],
    [['a'], [], ['a'], false],
    [['a'], ['tagged'], [], true],
    [[], ['untagged'], [], true],
    [['a'], ['untagged'], [], false],
  ])('tags %j with --tags %j --skip-tags %j → %s', (tags, only, skip, expected) => {
    expect(isSelected(tags, { only, skip })).toBe(expected);
  });
});

describe('batches (serial)', () => {
  const hosts = ['a', 'b', 'c', 'd', 'e'];
  it.each([
    [undefined, [['a', 'b', 'c', 'd', 'e']]],
    [2, [['a', 'b'], ['c', 'd'], ['e']]],
    ['40%', [['a', 'b'], ['c', 'd'], ['e']]],
    [[1, 2], [['a'], ['b', 'c'], ['d', 'e']]],
    [[1, '100%'], [['a'], ['b', 'c', 'd', 'e']]],
  ])('serial %j', (serial, expected) => {
    expect(batches(hosts, serial)).toEqual(expected);
  });
  it('rejects nonsense', () => expect(() => batches(hosts, 'x')).toThrow(/serial/));
});

describe('loopItems', () => {
  const spec = (flavor: LoopSpec['flavor']): LoopSpec => ({ items: null, flavor, loopVar: 'item' });
  it.each([
    ['loop', [1, [2, 3]], [1, [2, 3]]],
    ['items', [1, [2, 3]], [1, 2, 3]],
    ['items', 'one', ['one']],
    ['dict', { a: 1 }, [{ key: 'a', value: 1 }]],
    ['indexed_items', ['x', 'y'], [[0, 'x'], [1, 'y']]],
    ['together', [[1, 2], ['a']], [[1, 'a'], [2, null]]],
    ['nested', [[1, 2], ['a', 'b']], [[1, 'a'], [1, 'b'], [2, 'a'], [2, 'b']]],
    ['sequence', 'start=2 end=5 format=cluster%d', ['cluster2', 'cluster3', 'cluster4', 'cluster5']],
    ['sequence', '1-3', ['1', '2', '3']],
    ['sequence', 'start=1 end=3 format=node%02d', ['node01', 'node02', 'node03']],
  ] as const)('%s %j', (flavor, value, expected) => {
    expect(loopItems(spec(flavor), value)).toEqual(expected);
  });
  it('loop: needs a list', () => expect(() => loopItems(spec('loop'), { a: 1 })).toThrow(/dict2items/));
});
