import { describe, expect, it } from 'vitest';
import { render, templar } from './helpers.js';
import { VarScope } from '../../src/template/index.js';

type Row = [template: string, vars: Record<string, unknown>, expected: unknown];

describe('native values: a lone {{ expr }} keeps its type', () => {
  it.each<Row>([
    ['{{ x }}', { x: [1, 2] }, [1, 2]],
    ['{{ x }}', { x: { a: 1 } }, { a: 1 }],
    ['{{ 1 + 1 }}', {}, 2],
    ['{{ x }}', { x: true }, true],
    ['{{ None }}', {}, null],
    ['{{ x }}', { x: null }, null],
    ['  {{ x }}  ', { x: 5 }, 5],
    ['{{ x }}\n', { x: [1] }, [1]],
    ['{{ [1] + [2] }}', {}, [1, 2]],
    ['{{ {"a": x} }}', { x: 1 }, { a: 1 }],
    ['{{ x | length }}', { x: 'abc' }, 3],
    ['{{ x }}', { x: 'text' }, 'text'],
    // strings keep the whitespace around them, and the trailing newline Ansible keeps
    ['{{ x }}\n', { x: 'text' }, 'text\n'],
    [' {{ x }}', { x: 'text' }, ' text'],
  ])('%j with %j', (tpl, vars, expected) => {
    expect(render(tpl, vars)).toEqual(expected);
  });
});

describe('mixed text renders to a string, values printed as Python prints them', () => {
  it.each<Row>([
    ['Hello {{ name }}!', { name: 'World' }, 'Hello World!'],
    ['n={{ x }}', { x: 5 }, 'n=5'],
    ['l={{ x }}', { x: [1, 'a', null, true] }, "l=[1, 'a', None, True]"],
    ['d={{ x }}', { x: { k: "it's" } }, `d={'k': "it's"}`],
    ['{{ True }}/{{ False }}/{{ None }}', {}, 'True/False/'],
    ['{{ true }}/{{ false }}/{{ none }}', {}, 'True/False/'],
    ['{{ x }}{{ y }}', { x: 1, y: 2 }, '12'],
    ['no template here', {}, 'no template here'],
  ])('%j with %j', (tpl, vars, expected) => {
    expect(render(tpl, vars)).toEqual(expected);
  });

  it('leaves strings without {{, {% or {# alone, and walks lists and dicts (not keys)', () => {
    const args = { a: 'plain', b: ['{{ x }}', 'y'], '{{ k }}': { c: '{{ x + 1 }}' } };
    expect(render(args, { x: 1 })).toEqual({ a: 'plain', b: [1, 'y'], '{{ k }}': { c: 2 } });
  });

  it('does not change the value it was given', () => {
    const args = { a: '{{ x }}' };
    render(args, { x: 1 });
    expect(args).toEqual({ a: '{{ x }}' });
  });
});

describe('Jinja2 syntax and semantics', () => {
  it.each<Row>([
    // operators with Python semantics
    ['{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }}', {}, '3 -4 2 1024 3.5'],
    ['{{ 2 * 3 % 4 }} {{ 10 - 2 - 3 }}', {}, '2 5'],
    ['{{ [1, 2] + [3] }} {{ "ab" * 2 }} {{ "a" + "b" }}', {}, "[1, 2, 3] abab ab"],
    ['{{ "a" ~ 1 ~ none ~ true }}', {}, 'a1NoneTrue'],
    ['{{ [1, 2] == [1, 2] }} {{ {"a": 1} == {"a": 1} }} {{ "1" == 1 }} {{ 1 == true }}', {}, 'True True False True'],
    ['{{ 1 < 2 < 3 }} {{ 3 > 2 > 5 }} {{ "a" < "b" }}', {}, 'True False True'],
    ['{{ x or "dflt" }} {{ x and "y" }} {{ not x }}', { x: [] }, 'dflt [] True'],
    ['{{ "y" if x else "n" }} {{ "a" if false else "b" if true else "c" }}', { x: {} }, 'n b'],
    ['{{ "b" in ["a", "b"] }} {{ "x" not in "abc" }} {{ "k" in {"k": 1} }}', {}, 'True True True'],
    // literals, tuples, dicts with expression keys
    ['{{ (1, 2) }} {{ (1,) }} {{ ("a", "b")[1] }}', {}, '(1, 2) (1,) b'],
    ['{{ {k: v} }}', { k: 'name', v: 1 }, { name: 1 }],
    ['{{ {"a": {"b": [1, {"c": "deep"}]}}.a.b.1.c }}', {}, 'deep'],
    // lookups: attributes, items, indexes, negative indexes, slices, x.0
    ['{{ d.a }} {{ d["a"] }} {{ l[0] }} {{ l[-1] }} {{ l.1 }}', { d: { a: 1 }, l: ['x', 'y'] }, '1 1 x y y'],
    ['{{ x.0.k }}', { x: [{ k: 'v' }] }, 'v'],
    ['{{ "abcdef"[1:3] }} {{ "abc"[::-1] }} {{ l[-2:] }} {{ l[:1] }}', { l: [1, 2, 3] }, 'bc cba [2, 3] [1]'],
    // string escapes are Python's: unknown ones keep the backslash
    ["{{ '\\d+' }} {{ 'a\\tb' }} {{ \"it's\" }} {{ 'x\\\\y' }}", {}, '\\d+ a\tb it\'s x\\y'],
    // Python methods
    ["{{ 'a,b'.split(',') }} {{ ' a  b '.split() }} {{ 'a.b.c'.rsplit('.', 1) }}", {}, "['a', 'b'] ['a', 'b'] ['a.b', 'c']"],
    ["{{ 'abc'.startswith('a') }} {{ 'abc'.endswith(('x', 'c')) }} {{ ' x '.strip() }}", {}, 'True True x'],
    ["{{ 'Ab'.upper() }} {{ 'Ab'.lower() }} {{ 'a-b-c'.replace('-', '+') }} {{ 'a-b-c'.replace('-', '+', 1) }}", {}, 'AB ab a+b+c a+b-c'],
    ["{{ '{}-{:03d}-{n}'.format('a', 7, n='z') }} {{ '%s=%02d' % ('x', 5) }} {{ '%.1f%%' % 12.34 }}", {}, 'a-007-z x=05 12.3%'],
    ["{{ d.get('a') }} {{ d.get('z', 'dflt') }} {{ d.get('z') }} {{ d.keys() | list }} {{ d.values() | list }}", { d: { a: 1 } }, "1 dflt  ['a'] [1]"],
    ["{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", { d: { a: 1, b: 2 } }, 'a=1;b=2;'],
    ["{{ l.index('b') }} {{ l.count('a') }}", { l: ['a', 'b', 'a'] }, '1 2'],
    // a dict key named like a method: `.` prefers the method (Jinja2), `[]` the key
    ["{{ d['items'] }} {{ d.items() | length }}", { d: { items: [1] } }, '[1] 1'],
    // for loops
    ['{% for i in xs if i % 2 %}{{ loop.index }}/{{ loop.length }}:{{ i }} {% endfor %}', { xs: [1, 2, 3, 4, 5] }, '1/3:1 2/3:3 3/3:5 '],
    ["{% for i in xs %}{{ loop.cycle('a', 'b') }}{{ loop.first }}{{ loop.last }}{{ loop.index0 }}{{ loop.revindex }} {% endfor %}", { xs: [1, 2] }, 'aTrueFalse02 bFalseTrue11 '],
    ['{% for i in xs %}{{ loop.previtem | default("-") }}{{ i }}{{ loop.nextitem | default("-") }} {% endfor %}', { xs: [1, 2] }, '-12 12- '],
    ['{% for i in [] %}x{% else %}empty{% endfor %}', {}, 'empty'],
    ['{% for c in "ab" %}{{ c }}.{% endfor %}{% for k in {"x": 1} %}{{ k }}{% endfor %}', {}, 'a.b.x'],
    ['{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }} {% endfor %}', {}, '3 7 '],
    // set, namespace, macros
    ['{% set x = 5 %}{{ x }}{% set y %}got {{ x }}{% endset %}|{{ y }}', {}, '5|got 5'],
    ['{% set ns = namespace(found=false) %}{% for i in [1, 2] %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}', {}, 'True'],
    ["{% macro m(a, b='B') %}[{{ a }}{{ b }}]{% endmacro %}{{ m(1) }}{{ m(2, b='c') }}", {}, '[1B][2c]'],
    ['{% macro m() %}<{{ caller() }}>{% endmacro %}{% call m() %}in {{ n }}{% endcall %}', { n: 1 }, '<in 1>'],
    ['{% filter upper %}hello {{ n }}{% endfilter %}', { n: 'w' }, 'HELLO W'],
    // a set inside a loop body stays there (Jinja2 scoping); inside an if it does not
    ['{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}[{{ x }}]{% endfor %}{{ x }}', {}, '[2]1'],
    ['{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }}', {}, '2'],
    ['{% for i in [1, 2] %}{% for j in "ab" %}{{ loop.index }}{{ j }}{% endfor %}{{ loop.index }};{% endfor %}', {}, '1a2b1;1a2b2;'],
    ['{{ x is defined | ternary("y", "n") }} {{ (x is defined) | string }}', {}, 'n False'],
    // tests, with and without parentheses
    ['{{ x is defined }} {{ y is undefined }} {{ 3 is divisibleby 3 }} {{ x is not none }} {{ x is sameas false }}', { x: false }, 'True True True True True'],
    ['{{ "1.10" is version("1.9", ">") }} {{ x is ansible.builtin.string }}', { x: 'a' }, 'True True'],
    ['{{ x | ansible.builtin.to_json }}', { x: [1] }, '[1]'],
    // whitespace control, comments, raw
    ['{%- if true -%}  x  {%- endif -%}  ', {}, 'x'],
    ['{# comment #}x{#- c2 -#}  y', {}, 'xy'],
    ['{% raw %}{{ not rendered }}{% endraw %}', {}, '{{ not rendered }}'],
    // trim_blocks on, lstrip_blocks off
    ['a\n{% if true %}\nb\n{% endif %}\nc', {}, 'a\nb\nc'],
    ['  {% if true %}\n  x\n  {% endif %}', {}, '    x\n  '],
  ])('%j with %j', (tpl, vars, expected) => {
    expect(render(tpl, vars)).toEqual(expected);
  });
});

describe('the sandbox: templates only see data', () => {
  it.each([
    "{{ range.constructor('return process')() }}",
    "{{ ''.constructor.constructor('return process')() }}",
    "{{ x.constructor.constructor('return process')() }}",
    "{{ x.__proto__ }}",
    "{{ lookup.call }}",
  ])('%s fails without running code', (tpl) => {
    expect(() => render(tpl, { x: {} })).toThrow(/has no attribute|is undefined/);
  });

  it('a dict literal key "__proto__" is just a key', () => {
    expect(render('{{ {"__proto__": 1} }}')).toEqual(JSON.parse('{"__proto__": 1}'));
  });
});

describe('hostvars-like lazy mappings', () => {
  it('reads other hosts through a mapping of scopes', () => {
    const node1 = new VarScope([{ values: { ansible_host: '10.0.0.{{ n }}', n: 5 }, kind: 'source' }]);
    const hostvars = new Proxy({} as Record<string, unknown>, {
      get: (_t, p) => (p === 'node1' ? node1.asObject() : undefined),
      has: (_t, p) => p === 'node1',
      ownKeys: () => ['node1'],
      getOwnPropertyDescriptor: (_t, p) => (p === 'node1' ? { value: node1.asObject(), enumerable: true, configurable: true } : undefined),
    });
    const scope = new VarScope([{ values: { hostvars, inventory_hostname: 'node1' }, kind: 'data' }]);
    expect(templar.renderValue("{{ hostvars['node1'].ansible_host }}", scope)).toBe('10.0.0.5');
    expect(templar.renderValue('{{ hostvars[inventory_hostname]["n"] }}', scope)).toBe(5);
    expect(templar.renderValue('{{ hostvars.node1.missing | default("d") }}', scope)).toBe('d');
    expect(templar.renderValue('{{ hostvars | list }}', scope)).toEqual(['node1']);
  });
});
