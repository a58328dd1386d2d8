import { describe, expect, it } from 'vitest';
import { errorOf, render } from './helpers.js';

type Row = [template: string, vars: Record<string, unknown>, expected: unknown];

const ok = { changed: false, failed: false, rc: 0 };
const changed = { changed: true, failed: false, rc: 0 };
const failed = { changed: false, failed: true, rc: 1 };
const skipped = { changed: false, skipped: true, skip_reason: 'Conditional result was False' };
const loop = { changed: true, msg: 'All items completed', results: [ok, changed] };
const loopFailed = { results: [ok, failed] };
const loopSkipped = { results: [skipped, skipped] };

const rows: Row[] = [
  ['{{ x is defined }}', { x: 1 }, true],
  ['{{ x is defined }}', {}, false],
  ['{{ x is undefined }}', {}, true],
  ['{{ x is none }}', { x: null }, true],
  ['{{ x is none }}', { x: 0 }, false],
  ['{{ r is changed }}', { r: changed }, true],
  ['{{ r is changed }}', { r: ok }, false],
  ['{{ r is changed }}', { r: loop }, true],
  ['{{ r is changed }}', { r: { results: [ok, changed] } }, true],
  ['{{ r is failed }}', { r: failed }, true],
  ['{{ r is failed }}', { r: ok }, false],
  ['{{ r is failed }}', { r: loopFailed }, true],
  ['{{ r is succeeded }}', { r: ok }, true],
  ['{{ r is success }}', { r: failed }, false],
  ['{{ r is succeeded }}', { r: loopFailed }, false],
  ['{{ r is skipped }}', { r: skipped }, true],
  ['{{ r is skipped }}', { r: ok }, false],
  ['{{ r is skipped }}', { r: loopSkipped }, true],
  ['{{ r is not skipped }}', { r: loop }, true],
  ['{{ 2 is in [1, 2] }}', {}, true],
  ['{{ "a" is in "cat" }}', {}, true],
  ['{{ [1, 2] is contains 2 }}', {}, true],
  ['{{ "abc" is match("ab") }}', {}, true],
  ['{{ "abc" is match("bc") }}', {}, false],
  ['{{ "ABC" is match("ab", ignorecase=true) }}', {}, true],
  ['{{ "abc" is search("bc") }}', {}, true],
  ['{{ "abc" is regex("^a.c$") }}', {}, true],
  ['{{ "abc" is regex("b", match_type="match") }}', {}, false],
  ['{{ "x" is string }}', {}, true],
  ['{{ 1 is string }}', {}, false],
  ['{{ 1 is number }} {{ 1.5 is number }}', {}, 'True True'],
  ['{{ "1" is number }}', {}, false],
  ['{{ {} is mapping }}', {}, true],
  ['{{ [] is mapping }}', {}, false],
  ['{{ [] is sequence }}', {}, true],
  ['{{ "s" is sequence }}', {}, true],
  ['{{ 1 is sequence }}', {}, false],
  ['{{ {} is iterable }}', {}, true],
  ['{{ 1 is iterable }}', {}, false],
  ['{{ true is boolean }}', {}, true],
  ['{{ "true" is boolean }}', {}, false],
  ['{{ 3 is equalto 3 }}', {}, true],
  ['{{ 3 is eq(4) }}', {}, false],
  ['{{ [1, 2] | select("==", 2) | list }}', {}, [2]],
  ['{{ x is sameas true }}', { x: true }, true],
  ['{{ x is sameas true }}', { x: 1 }, false],
  ['{{ "x" is truthy }}', {}, true],
  ['{{ "" is truthy }}', {}, false],
  ['{{ "no" is truthy(convert_bool=true) }}', {}, false],
  ['{{ [] is falsy }}', {}, true],
  ['{{ "1.2" is version("1.1", ">=") }}', {}, true],
  ['{{ "1.10" is version("1.9", "gt") }}', {}, true],
  ['{{ "1.2.0" is version("1.2", "==") }}', {}, false],
  ['{{ "2.0" is version("2.0", "eq") }}', {}, true],
  ['{{ "1.0.0-rc.1" is version("1.0.0", "<", version_type="semver") }}', {}, true],
  ['{{ "22.04" is version_compare("20.04", ">") }}', {}, true],
  ['{{ [1, 2] is subset([1, 2, 3]) }}', {}, true],
  ['{{ [1, 4] is subset([1, 2, 3]) }}', {}, false],
  ['{{ [1, 2, 3] is superset([2]) }}', {}, true],
  ['{{ 4 is even }} {{ 3 is odd }} {{ 9 is divisibleby 3 }}', {}, 'True True True'],
  ['{{ "abc" is lower }} {{ "ABC" is upper }}', {}, 'True True'],
  ['{{ [1, 0] is any }} {{ [1, 0] is all }}', {}, 'True False'],
  ['{{ "/etc" is abs }} {{ "/" is directory }} {{ "/nonexistent-x" is exists }}', {}, 'True True False'],
];

describe('Jinja2 and Ansible tests', () => {
  it.each(rows)('%j with %j', (tpl, vars, expected) => {
    expect(render(tpl, vars)).toEqual(expected);
  });

  it.each([
    ['{{ x is nosuchtest }}', /no test named 'nosuchtest'/],
    ['{{ "a" is changed }}', /The 'changed' test expects a dictionary/],
    ['{{ "1.2" is version("1.0", "~") }}', /Invalid operator type/],
    ['{{ x is changed }}', /'x' is undefined/],
    ['{{ x is version("1") }}', /'x' is undefined/],
  ])('%s fails', (tpl, message) => {
    expect(errorOf(() => render(tpl)).message).toMatch(message);
  });
});
