import { describe, expect, it } from 'vitest';
import { loadYaml, locationOf, scalarSourceOf } from '../../src/util/yaml.js';
import { UnsafeText, VaultedText } from '../../src/util/markers.js';
import { ParseError } from '../../src/errors.js';

describe('loadYaml reads YAML as Ansible does', () => {
  it.each([
    ['yes', true],
    ['no', false],
    ['on', true],
    ['0644', 420],
    ['644', 644],
    ['"0644"', '0644'],
    ['~', null],
    ['1.5', 1.5],
    // Floats as PyYAML resolves them: host names like e1 stay strings.
    ['e1', 'e1'],
    ['1e3', '1e3'],
    ['1.0e3', '1.0e3'],
    ['1.0e+3', 1000],
    ['.5', 0.5],
    ['-2.', -2],
    ['1_000.5', 1000.5],
    ['.', '.'],
    ['.inf', Infinity],
  ])('%s', (src, expected) => {
    expect(loadYaml('t.yml', `v: ${src}\n`)).toEqual({ v: expected });
  });

  it('applies merge keys without overriding explicit keys', () => {
    const v = loadYaml('t.yml', 'base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\n') as Record<string, Record<string, number>>;
    expect(v.x).toEqual({ a: 1, b: 3 });
  });

  it('understands !unsafe and !vault', () => {
    const v = loadYaml('t.yml', 'a: !unsafe "{{ x }}"\nb: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n') as Record<string, unknown>;
    expect(v.a).toBeInstanceOf(UnsafeText);
    expect((v.a as UnsafeText).value).toBe('{{ x }}');
    expect(v.b).toBeInstanceOf(VaultedText);
  });

  it('remembers where keys were written and how scalars were spelled', () => {
    const v = loadYaml('t.yml', 'a: 1\nb:\n  c: 0644\n') as Record<string, Record<string, unknown>>;
    expect(locationOf(v, 'b')).toMatchObject({ line: 2, col: 1 });
    expect(locationOf(v.b!, 'c')).toMatchObject({ line: 3, col: 3, lineText: '  c: 0644' });
    expect(scalarSourceOf(v.b!, 'c')).toBe('0644');
  });

  it.each([
    ['duplicate keys', 'a: 1\na: 2\n', 2, 1],
    ['bad indentation', 'a:\n  b: 1\n c: 2\n', 3, 1],
    ['unclosed flow', 'a: [1, 2\n', 2, 1],
  ])('%s is an error with a position', (_name, text, line, col) => {
    try {
      loadYaml('bad.yml', text);
      expect.unreachable('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(ParseError);
      expect((err as ParseError).location).toMatchObject({ file: 'bad.yml', line });
      expect((err as ParseError).location!.col).toBeGreaterThanOrEqual(col);
    }
  });
});
