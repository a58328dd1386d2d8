import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OMIT, stripOmit, Templar, TemplateSyntaxError, VarScope } from '../../src/template/index.js';
import { loadYaml, valueLocationOf } from '../../src/util/yaml.js';
import { errorOf, source, templar } from './helpers.js';

const data = (values: Record<string, unknown>) => new VarScope([{ values, kind: 'data' }]);

describe('evaluate and isTrue: conditions', () => {
  it.each<[unknown, Record<string, unknown>, boolean]>([
    ['x == 1', { x: 1 }, true],
    ['x is defined and x > 0', { x: 1 }, true],
    ['x is not defined', {}, true],
    ['x', { x: [] }, false],
    ['x', { x: {} }, false],
    ['x', { x: '' }, false],
    ['x', { x: 'some text' }, true],
    ['x', { x: 'no' }, false],
    ['x', { x: 'False' }, false],
    ['x', { x: '0' }, false],
    ['x', { x: 'yes' }, true],
    ['x', { x: 0 }, false],
    ['x', { x: null }, false],
    ['"a" in x', { x: ['a'] }, true],
    ['result.rc != 0', { result: { rc: 2 } }, true],
    ['result is failed', { result: { failed: true } }, true],
    ['ansible_facts.os_family == "Debian"', { ansible_facts: { os_family: 'Debian' } }, true],
    ['{{ x == 1 }}', { x: 1 }, true],
    [true, {}, true],
    [false, {}, false],
    [null, {}, true],
    ['', {}, true],
    [['x == 1', 'y == 2'], { x: 1, y: 2 }, true],
    [['x == 1', 'y == 3'], { x: 1, y: 2 }, false],
    ['x == 1\nand y == 2', { x: 1, y: 2 }, true],
  ])('%j with %j is %s', (cond, vars, expected) => {
    expect(templar.isTrue(cond, data(vars))).toBe(expected);
  });

  it('evaluate returns the value', () => {
    expect(templar.evaluate('x | map(attribute="a") | list', data({ x: [{ a: 1 }] }))).toEqual([1]);
    expect(templar.evaluate('  1 + 1 ', data({}))).toBe(2);
    expect(templar.evaluate(true, data({}))).toBe(true);
  });

  it('warns about {{ }} around a condition and refuses templates inside one', () => {
    const warnings: string[] = [];
    const t = new Templar({ warn: (m) => warnings.push(m) });
    expect(t.isTrue('{{ x }}', data({ x: true }))).toBe(true);
    expect(warnings[0]).toMatch(/should not include jinja2 templating delimiters/);
    expect(() => t.isTrue('x == "{{ y }}"', data({ x: 1, y: 1 }))).toThrow(/must not contain \{\{ \}\}/);
  });

  it('reports condition errors at the column inside the YAML line', () => {
    const file = '/nonexistent/t.yml';
    const doc = loadYaml(file, '- debug: msg=hi\n  when: x is defined and y.z\n') as Record<string, unknown>[];
    const err = errorOf(() => templar.isTrue(doc[0]!.when, data({ x: 1, y: {} }), valueLocationOf(doc[0]!, 'when')));
    expect(err.message).toBe("'y' has no attribute 'z'");
    expect(err.location).toMatchObject({ file, line: 2, col: 26 });
  });
});

describe('omit', () => {
  it('default(omit) gives the placeholder, and stripOmit drops those arguments', () => {
    const args = templar.renderValue({ name: 'x', mode: '{{ mode | default(omit) }}', nested: { a: '{{ omit }}', b: 1 }, list: [{ c: '{{ omit }}' }] }, data({}));
    expect((args as Record<string, unknown>).mode).toBe(OMIT);
    expect(stripOmit(args)).toEqual({ name: 'x', nested: { b: 1 }, list: [{}] });
  });
});

describe('syntax errors', () => {
  it.each<[string, RegExp, number, number]>([
    ['{{ x }', /expected variable end/, 1, 6],
    ['{{ x | nofilter }}', /no filter named 'nofilter'/, 1, 8],
    ['{{ x is notatest }}', /no test named 'notatest'/, 1, 9],
    ['{% if x %}never closed', /expected elif, else, or endif, got end of file/, 1, 24],
    ['line one\n{% for %}', /unexpected token: %}/, 2, 8],
    ['{{ [1, 2 }}', /expected "," or "\]"/, 1, 10],
    ['{% unknowntag %}', /unknown block tag: unknowntag/, 1, 4],
  ])('%j', (tpl, message, line, col) => {
    const where = { file: '/nonexistent/play.yml', line: 10, col: 10, lineText: `    msg: ${tpl.split('\n')[0]}` };
    const err = errorOf(() => templar.renderValue(tpl, data({}), where));
    expect(err).toBeInstanceOf(TemplateSyntaxError);
    expect(err.message).toMatch(/^template syntax error: /);
    expect(err.message).toMatch(message);
    // line 1 of the template is on the YAML line, 9 columns in
    expect(err.location).toMatchObject({ line: 10 + line - 1, col: line === 1 ? 9 + col : col });
  });

  it('checkSyntax is what the loader calls; a condition already in {{ }} is accepted', () => {
    expect(() => templar.checkSyntax('{{ {{ x }} }}')).not.toThrow();
    expect(() => templar.checkSyntax('{{ x | bogus }}', { file: 'p.yml', line: 3, col: 5 })).toThrow(/no filter named 'bogus'/);
    expect(() => templar.checkExpression('x is defined and (y')).toThrow(TemplateSyntaxError);
  });
});

describe('renderTemplateFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsible-template-'));
  const file = join(dir, 'templates', 'app.conf.j2');
  mkdirSync(join(dir, 'templates'));
  mkdirSync(join(dir, 'files'));
  writeFileSync(join(dir, 'templates', 'part.j2'), 'part={{ name }}\n');
  writeFileSync(join(dir, 'templates', 'macros.j2'), '{% macro kv(k, v) %}{{ k }} = {{ v }}{% endmacro %}');
  writeFileSync(join(dir, 'files', 'motd.txt'), 'welcome\n\n');

  const render = (text: string, vars: Record<string, unknown> = {}) =>
    templar.renderTemplateFile(text, new VarScope([{ values: { role_path: dir, ...vars }, kind: 'data' }]), file);

  it.each<[string, Record<string, unknown>, string]>([
    ['x={{ x }}\n', { x: 1 }, 'x=1\n'],
    ['a\n{% if true %}\nb\n{% endif %}\nc\n', {}, 'a\nb\nc\n'],
    ['{% for h in hosts %}\nserver {{ h }};\n{% endfor %}\n', { hosts: ['a', 'b'] }, 'server a;\nserver b;\n'],
    ['  {% if true %}\n  indented\n  {% endif %}\n', {}, '    indented\n  \n'],
    ['ends without newline', {}, 'ends without newline'],
    ['two newlines\n\n', {}, 'two newlines\n\n'],
    ['{% if false %}\nx\n{% endif %}\n', {}, '\n'],
    ['#jinja2: trim_blocks: False\n{% if true %}\nx\n{% endif %}\n', {}, '\nx\n'],
    ['#jinja2: lstrip_blocks: True\n  {% if true %}\nx\n  {% endif %}\n', {}, 'x\n'],
    ['{% include "part.j2" %}!\n', { name: 'n' }, 'part=n!\n'],
    ['{% from "macros.j2" import kv %}{{ kv("a", 1) }}\n', {}, 'a = 1\n'],
    ['{% import "macros.j2" as m %}{{ m.kv("b", 2) }}\n', {}, 'b = 2\n'],
    ['# {{ ansible_managed }}\n{{ template_path | basename }}\n', {}, '# Ansible managed\napp.conf.j2\n'],
    ['{{ lookup("file", "motd.txt") }}|\n', {}, 'welcome|\n'],
    ['{{ lookup("env", "HOME") }} [{{ lookup("env", "NOPE") }}] {{ lookup("env", "NOPE", default="d") }}\n', {}, '/home/test [] d\n'],
    ['{{ query("items", [1, 2]) }} {{ lookup("list", 1, 2) }}\n', {}, '[1, 2] [1, 2]\n'],
    ['{{ lookup("template", "part.j2") }}|\n', { name: 'z' }, 'part=z\n|\n'],
    ['{{ lookup("first_found", ["nope.txt", "motd.txt"]) | basename }}\n', {}, 'motd.txt\n'],
    ['{{ lookup("fileglob", "*.txt") | basename }}\n', {}, 'motd.txt\n'],
    ['{{ lookup("file", "nope", errors="ignore") }}\n', {}, '\n'],
  ])('%j', (text, vars, expected) => {
    expect(render(text, vars)).toBe(expected);
  });

  it('errors carry the line inside the template file', () => {
    const err = errorOf(() => render('line 1\nline 2 {{ missing }}\n'));
    expect(err.message).toBe("'missing' is undefined");
    expect(err.location).toEqual({ file, line: 2, col: 11, lineText: 'line 2 {{ missing }}' });
  });

  it('syntax errors carry the line inside the template file', () => {
    const err = errorOf(() => render('ok\n{% for x in %}\n{% endfor %}\n'));
    expect(err).toBeInstanceOf(TemplateSyntaxError);
    expect(err.location).toMatchObject({ file, line: 2 });
  });

  it('a lookup of a missing file says where it looked', () => {
    const err = errorOf(() => render('{{ lookup("file", "nope.txt") }}'));
    expect(err.message).toBe("could not find file 'nope.txt'");
    expect(err.hint).toContain(dir);
  });

  it('an unknown lookup plugin is an error', () => {
    expect(() => render('{{ lookup("pipe", "date") }}')).toThrow("lookup plugin 'pipe' is not supported");
  });
});

describe('range and other globals', () => {
  it.each<[string, unknown]>([
    ['{{ range(3) | list }}', [0, 1, 2]],
    ['{{ range(1, 10, 3) | list }}', [1, 4, 7]],
    ['{{ range(5, 0, -2) | list }}', [5, 3, 1]],
    ['{{ dict(a=1) }}', { a: 1 }],
    ['{{ now(fmt="%Y") | int > 2000 }}', true],
  ])('%s', (tpl, expected) => {
    expect(templar.renderValue(tpl, source())).toEqual(expected);
  });
});
