import { describe, expect, it } from 'vitest';
import { OMIT, UndefinedVariableError, VarScope } from '../../src/template/index.js';
import { loadYaml, valueLocationOf } from '../../src/util/yaml.js';
import { errorOf, render, templar } from './helpers.js';

type ErrorRow = [template: string, vars: Record<string, unknown>, message: RegExp];

const vars = { d: { a: 1 }, l: [1, 2], s: 'text', n: null };

describe('an undefined variable is an error wherever it is used', () => {
  it.each<ErrorRow>([
    ['{{ foo }}', vars, /^'foo' is undefined$/],
    ['x {{ foo }} y', vars, /^'foo' is undefined$/],
    ['{{ "a" ~ foo }}', vars, /^'foo' is undefined$/],
    ['{{ foo ~ "a" }}', vars, /^'foo' is undefined$/],
    ['{% if foo %}x{% endif %}', vars, /^'foo' is undefined$/],
    ['{{ "y" if foo else "n" }}', vars, /^'foo' is undefined$/],
    ['{{ foo and true }}', vars, /^'foo' is undefined$/],
    ['{{ not foo }}', vars, /^'foo' is undefined$/],
    ['{{ foo == 1 }}', vars, /^'foo' is undefined$/],
    ['{{ 1 != foo }}', vars, /^'foo' is undefined$/],
    ['{{ foo < 1 }}', vars, /^'foo' is undefined$/],
    ['{{ foo + 1 }}', vars, /^'foo' is undefined$/],
    ['{{ 2 * foo }}', vars, /^'foo' is undefined$/],
    ['{{ -foo }}', vars, /^'foo' is undefined$/],
    ['{{ "x" in foo }}', vars, /^'foo' is undefined$/],
    ['{{ foo in l }}', vars, /^'foo' is undefined$/],
    ['{% for x in foo %}{% endfor %}', vars, /^'foo' is undefined$/],
    ['{{ foo | upper }}', vars, /^'foo' is undefined$/],
    ['{{ s | replace(foo, "x") }}', vars, /^'foo' is undefined$/],
    ['{{ l | join(foo) }}', vars, /^'foo' is undefined$/],
    ['{{ foo is string }} {{ foo is match("x") }}', vars, /^'foo' is undefined$/],
    ['{{ foo() }}', vars, /^'foo' is undefined$/],
    ['{{ foo.bar }}', vars, /^'foo' is undefined$/],
    ['{{ foo.bar.baz }}', vars, /^'foo' is undefined$/],
    ['{{ foo["bar"] }}', vars, /^'foo' is undefined$/],
    ['{{ d.missing }}', vars, /^'d' has no attribute 'missing'$/],
    ['{{ d["missing"] }}', vars, /^'d' has no attribute 'missing'$/],
    ['{{ d.missing.deeper }}', vars, /^'d' has no attribute 'missing'$/],
    ['{{ d.a.b }}', vars, /^'d\.a' \(a int\) has no attribute 'b'$/],
    ['{{ l[5] }}', vars, /^'l' has no element 5$/],
    ['{{ s.nosuchmethod() }}', vars, /^'s' \(a str\) has no attribute 'nosuchmethod'$/],
    ['{{ n.x }}', vars, /^'n' is None, it has no attribute 'x'$/],
    ['{{ [foo] }}', vars, /^'foo' is undefined$/],
    ['{{ {"k": foo} }}', vars, /^'foo' is undefined$/],
    ['{{ l | map(attribute="x") | list }}', vars, /has no attribute 'x'/],
    ['{{ foo | default(bar) }}', vars, /^'bar' is undefined$/],
    ['{{ [] | first }}', vars, /No first item, sequence was empty/],
  ])('%j', (tpl, v, message) => {
    const err = errorOf(() => render(tpl, v));
    expect(err).toBeInstanceOf(UndefinedVariableError);
    expect(err.message).toMatch(message);
  });

  it.each<[string, unknown]>([
    ['foo', /'foo' is undefined/],
    ['foo.bar == 1', /'foo' is undefined/],
    ['d.missing', /'d' has no attribute 'missing'/],
  ])('in a condition: when: %s', (cond, message) => {
    expect(() => templar.isTrue(cond, new VarScope([{ values: vars, kind: 'data' }]))).toThrow(message as RegExp);
  });
});

describe('default, defined and undefined look at undefined values without failing', () => {
  it.each<[string, Record<string, unknown>, unknown]>([
    ['{{ foo | default("a") }}', vars, 'a'],
    ['{{ foo | d("a") }}', vars, 'a'],
    ['{{ foo | default }}', vars, ''],
    ['{{ foo.bar | default("a") }}', vars, 'a'],
    ['{{ foo.bar.baz | default("a") }}', vars, 'a'],
    ['{{ d.missing | default("a") }}', vars, 'a'],
    ['{{ d["missing"]["x"] | default("a") }}', vars, 'a'],
    ['{{ l[9] | default("a") }}', vars, 'a'],
    ['{{ n | default("a") }}', vars, null],
    ['{{ "" | default("a", true) }}', vars, 'a'],
    ['{{ 0 | default("a", boolean=true) }}', vars, 'a'],
    ['{{ foo | default(omit) }}', vars, OMIT],
    ['{{ d.missing | default(omit) }}', vars, OMIT],
    ['{{ foo is defined }}', vars, false],
    ['{{ foo is undefined }}', vars, true],
    ['{{ foo.bar is defined }}', vars, false],
    ['{{ d.a is defined }}', vars, true],
    ['{{ d.missing is not defined }}', vars, true],
    ['{{ foo is defined and foo }}', vars, false],
    ['{{ foo is not defined or foo }}', vars, true],
    ['{{ (foo | default({})).x | default(3) }}', vars, 3],
    ['{{ lookup("vars", "foo", default="v") }}', vars, 'v'],
  ])('%j', (tpl, v, expected) => {
    expect(render(tpl, v)).toEqual(expected);
  });

  it('mandatory names the variable', () => {
    expect(() => render('{{ foo | mandatory }}')).toThrow("Mandatory variable 'foo' not defined.");
    expect(() => render('{{ foo | mandatory("set foo!") }}')).toThrow('set foo!');
    expect(render('{{ 1 | mandatory }}')).toBe(1);
  });
});

describe('errors point at file:line:col', () => {
  const file = '/nonexistent/play.yml';
  const text = ['- name: t', '  debug:', '    msg: "hello {{ foo }}"', '    other: x is {{ d.nope }}', '  when: bar == 1', ''].join('\n');
  const doc = (loadYaml(file, text) as Record<string, Record<string, unknown>>[])[0]!;
  const debug = doc.debug as Record<string, unknown>;

  it('in a quoted value', () => {
    const err = errorOf(() => templar.renderValue(debug, new VarScope([]), valueLocationOf(doc, 'debug')));
    expect(err.message).toBe("'foo' is undefined");
    expect(err.location).toEqual({ file, line: 3, col: 20, lineText: '    msg: "hello {{ foo }}"' });
  });

  it('in a plain value, at the start of the failing lookup', () => {
    const err = errorOf(() => templar.renderValue(debug.other, new VarScope([{ values: vars, kind: 'data' }]), valueLocationOf(debug, 'other')));
    expect(err.location).toMatchObject({ line: 4, col: 20 });
  });

  it('in a condition', () => {
    const err = errorOf(() => templar.isTrue(doc.when, new VarScope([]), valueLocationOf(doc, 'when')));
    expect(err.message).toBe("'bar' is undefined");
    expect(err.location).toMatchObject({ line: 5, col: 9 });
  });

  it('in a variable defined elsewhere, at its definition', () => {
    const vfile = '/nonexistent/vars.yml';
    const values = loadYaml(vfile, 'a: 1\nb: "{{ a + missing }}"\n') as Record<string, unknown>;
    const scope = new VarScope([{ values, kind: 'source' }]);
    const err = errorOf(() => templar.renderValue('{{ b }}', scope));
    expect(err.message).toBe("'missing' is undefined");
    expect(err.location).toMatchObject({ file: vfile, line: 2, col: 12 });
    expect(err.hint).toBe("in the value of variable 'b'");
  });

  it('shows the template when no location is known', () => {
    const err = errorOf(() => render('{{ nope }}'));
    expect(err.hint).toBe('in template "{{ nope }}"');
  });
});
