import { describe, expect, it } from 'vitest';
import { Templar, VarScope } from '../../src/template/index.js';
import { UnsafeText, VaultedText } from '../../src/util/markers.js';
import { errorOf, source, templar } from './helpers.js';

const EVIL = "{{ range.constructor('return process')() }}";

describe('source layers are templated lazily, as Ansible does', () => {
  it.each<[Record<string, unknown>, string, unknown]>([
    [{ a: '{{ b }}', b: 1 }, '{{ a }}', 1],
    [{ a: '{{ b }}', b: '{{ c }}', c: [1, 2] }, '{{ a }}', [1, 2]],
    [{ a: 'x-{{ b }}', b: 1 }, '{{ a }}', 'x-1'],
    [{ cfg: { url: 'http://{{ host }}:{{ port }}', ports: ['{{ port }}'] }, host: 'h', port: 80 }, '{{ cfg.url }} {{ cfg.ports[0] + 1 }}', 'http://h:80 81'],
    [{ cfg: { ports: ['{{ port }}'] }, port: 80 }, '{{ cfg.ports }}', [80]],
    [{ l: ['{{ a }}', '{{ b }}'], a: 1, b: 'two' }, '{{ l }}', [1, 'two']],
    [{ broken: '{{ nope }}', ok: 1 }, '{{ ok }}', 1],
    [{ flag: '{{ "yes" | bool }}' }, '{{ flag is sameas true }}', true],
  ])('%j renders %j', (vars, tpl, expected) => {
    expect(templar.renderValue(tpl, source(vars))).toEqual(expected);
  });

  it('later layers win, and a lower variable sees the winning value of what it refers to', () => {
    const scope = new VarScope([
      { values: { greeting: 'hello {{ who }}', who: 'default' }, kind: 'source' },
      { values: { who: 'override' }, kind: 'source' },
    ]);
    expect(templar.renderValue('{{ greeting }}', scope)).toBe('hello override');
  });

  it('resolves in the scope where the variable is read (a role default may use a loop variable)', () => {
    const scope = new VarScope([{ values: { path: '/srv/{{ item }}' }, kind: 'source' }]);
    const item = scope.child({ values: { item: 'web' }, kind: 'data' });
    expect(templar.renderValue('{{ path }}', item)).toBe('/srv/web');
    expect(item.get('path')).toBe('/srv/web');
  });

  it('detects recursion loops and names the variables', () => {
    expect(() => templar.renderValue('{{ a }}', source({ a: '{{ b }}', b: '{{ a }}' }))).toThrow(
      "recursive loop detected in template: variable 'a' refers to itself (a -> b -> a)",
    );
    expect(() => templar.renderValue('{{ x }}', source({ x: '{{ x | default(1) }}' }))).toThrow(/variable 'x' refers to itself \(x -> x\)/);
  });

  it('renders a variable once per scope', () => {
    let calls = 0;
    const t = new Templar({
      decryptVault: (v) => {
        calls++;
        return v.ciphertext;
      },
    });
    const scope = source({ secret: new VaultedText('s3cret') });
    expect(t.renderValue('{{ secret }}{{ secret }}', scope)).toBe('s3crets3cret');
    expect(calls).toBe(1);
  });
});

describe('data layers are never templated', () => {
  it.each<[Record<string, unknown>, string, unknown]>([
    [{ reg: { stdout: EVIL } }, '{{ reg.stdout }}', EVIL],
    [{ reg: { stdout: EVIL } }, '{{ reg }}', { stdout: EVIL }],
    [{ fact: '{{ undefined_thing }}' }, '{{ fact }}', '{{ undefined_thing }}'],
    [{ fact: '{{ undefined_thing }}' }, 'x {{ fact }} y', 'x {{ undefined_thing }} y'],
    [{ lines: ['{% if %}', '{#'] }, '{{ lines | join(",") }}', '{% if %},{#'],
    [{ fact: EVIL }, '{{ fact | upper }}', EVIL.toUpperCase()],
  ])('%j: %j', (vars, tpl, expected) => {
    const scope = new VarScope([{ values: vars, kind: 'data' }]);
    expect(templar.renderValue(tpl, scope)).toEqual(expected);
  });

  it('hands data back as the same object, without copying', () => {
    const facts = { big: { list: [1, 2, 3] } };
    const scope = new VarScope([{ values: { ansible_facts: facts }, kind: 'data' }]);
    expect(templar.renderValue('{{ ansible_facts }}', scope)).toBe(facts);
    expect(scope.get('ansible_facts')).toBe(facts);
  });

  it('a data layer above a source layer hides it (set_fact beats play vars)', () => {
    const scope = new VarScope([
      { values: { x: '{{ 1 + 1 }}' }, kind: 'source' },
      { values: { x: '{{ 2 + 2 }}' }, kind: 'data' },
    ]);
    expect(templar.renderValue('{{ x }}', scope)).toBe('{{ 2 + 2 }}');
  });

  it('supports lazy special names as getters', () => {
    let reads = 0;
    const magic = {
      get groups() {
        reads++;
        return { all: ['a', 'b'] };
      },
    };
    const scope = new VarScope([{ values: magic, kind: 'data' }]);
    expect(reads).toBe(0);
    expect(templar.renderValue('{{ groups.all | length }}', scope)).toBe(2);
    expect(reads).toBeGreaterThan(0);
  });
});

describe('!unsafe and !vault values are used verbatim', () => {
  it('an !unsafe variable is never templated', () => {
    expect(templar.renderValue('{{ v }}', source({ v: new UnsafeText(EVIL) }))).toBe(EVIL);
    expect(templar.renderValue('{{ d.k }}', source({ d: { k: new UnsafeText('{{ x }}') } }))).toBe('{{ x }}');
  });

  it('an !unsafe task argument is never templated', () => {
    expect(templar.renderValue({ cmd: new UnsafeText('echo {{ x }}'), other: '{{ 1 }}' }, source())).toEqual({ cmd: 'echo {{ x }}', other: 1 });
  });

  it('a vaulted value is decrypted and its plaintext not templated', () => {
    const t = new Templar({ decryptVault: (v) => `plain:${v.ciphertext}` });
    expect(t.renderValue('{{ pw }}', source({ pw: new VaultedText('{{ x }}') }))).toBe('plain:{{ x }}');
    expect(t.renderValue({ password: new VaultedText('abc') }, source())).toEqual({ password: 'plain:abc' });
    expect(t.renderValue('{{ d.pw }}', source({ d: { pw: new VaultedText('{{ y }}') } }))).toBe('plain:{{ y }}');
  });

  it('a vaulted value without a vault secret is a clear error', () => {
    const err = errorOf(() => new Templar().renderValue('{{ pw }}', source({ pw: new VaultedText('x') })));
    expect(err.message).toBe('found a vault-encrypted value, but no vault secret was given');
  });
});

describe('VarScope', () => {
  it('has, get, names, child', () => {
    const base = new VarScope([{ values: { a: 1, u: undefined }, kind: 'source' }]);
    const child = base.child({ values: { b: '{{ a + 1 }}' }, kind: 'source' });
    expect(child.has('a')).toBe(true);
    expect(child.has('u')).toBe(false);
    expect(child.has('zzz')).toBe(false);
    expect(child.get('b')).toBe(2);
    expect(child.get('zzz')).toBeUndefined();
    expect(child.names().sort()).toEqual(['a', 'b']);
    expect(base.has('b')).toBe(false);
  });

  it('asObject is a lazy read-only mapping (hostvars[host], vars)', () => {
    const scope = source({ a: '{{ b }}', b: 2 });
    const view = scope.asObject();
    expect(view.a).toBe(2);
    expect('b' in view).toBe(true);
    expect(Object.keys(view).sort()).toEqual(['a', 'b']);
    expect(templar.renderValue('{{ vars["a"] }} {{ vars.b }} {{ lookup("vars", "a") }}', scope)).toBe('2 2 2');
    expect(() => {
      (view as Record<string, unknown>).a = 3;
    }).toThrow();
  });

  it('does not expose JavaScript prototype names as variables', () => {
    const scope = source({});
    expect(scope.has('constructor')).toBe(false);
    expect(() => templar.renderValue('{{ constructor }}', scope)).toThrow("'constructor' is undefined");
    expect(() => templar.renderValue('{{ toString }}', scope)).toThrow("'toString' is undefined");
  });
});
