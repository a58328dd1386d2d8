import { describe, expect, it } from 'vitest';
import { ArgError, toBool, validateArgs, type ArgSpecs } from '../../src/modules/argspec.js';
import { loadYaml } from '../../src/util/yaml.js';

const specs = {
  path: { type: 'path', required: true, aliases: ['dest', 'name'], description: '' },
  mode: { type: 'mode', description: '' },
  force: { type: 'bool', default: false, description: '' },
  count: { type: 'int', description: '' },
  names: { type: 'list', elements: 'str', description: '' },
  state: { type: 'str', choices: ['present', 'absent'], default: 'present', description: '' },
} satisfies ArgSpecs;

describe('validateArgs', () => {
  it.each([
    [{ path: '/x' }, { path: '/x', force: false, state: 'present' }],
    [{ dest: '/x', force: 'yes' }, { path: '/x', force: true, state: 'present' }],
    [{ name: '/x', count: '3' }, { path: '/x', count: 3, force: false, state: 'present' }],
    [{ path: '/x', names: 'a, b,c' }, { path: '/x', names: ['a', 'b', 'c'], force: false, state: 'present' }],
    [{ path: '/x', mode: '644' }, { path: '/x', mode: '0644', force: false, state: 'present' }],
    [{ path: '/x', mode: 'u=rw,g=r' }, { path: '/x', mode: 'u=rw,g=r', force: false, state: 'present' }],
  ])('%j', (raw, expected) => {
    expect(validateArgs(specs, raw)).toEqual(expected);
  });

  it.each([
    [{}, /missing required argument "path"/],
    [{ path: '/x', bogus: 1 }, /unsupported argument "bogus"/],
    [{ path: '/x', force: 'maybe' }, /must be a boolean/],
    [{ path: '/x', state: 'gone' }, /must be one of present, absent/],
    [{ path: '/x', count: 1.5 }, /must be an integer/],
    [{ path: '/x', dest: '/y' }, /given twice/],
  ])('%j is refused', (raw, message) => {
    expect(() => validateArgs(specs, raw)).toThrow(message);
  });

  it.each([
    ['mode: 0644', '0644'],
    ['mode: 01777', '01777'],
    ["mode: '644'", '0644'],
  ])('YAML %s gives mode %s', (yaml, mode) => {
    const raw = { path: '/x', ...(loadYaml('t.yml', yaml) as object) };
    expect(validateArgs(specs, raw).mode).toBe(mode);
  });

  it('rejects a decimal-looking integer mode with a hint', () => {
    const raw = loadYaml('t.yml', 'path: /x\nmode: 644\n') as Record<string, unknown>;
    try {
      validateArgs(specs, raw);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ArgError);
      expect((err as ArgError).message).toMatch(/not an octal-looking number/);
      expect((err as ArgError).hint).toMatch(/0644/);
    }
  });
});

describe('toBool', () => {
  it.each([['yes', true], ['No', false], ['on', true], ['0', false], [1, true], [true, true], ['false', false]])('%j → %s', (v, b) => {
    expect(toBool(v)).toBe(b);
  });
  it('refuses nonsense', () => expect(() => toBool('perhaps')).toThrow(/boolean/));
});
