import { describe, expect, it } from 'vitest';
import { errorOf, render } from './helpers.js';

type Row = [template: string, vars: Record<string, unknown>, expected: unknown];
type ErrorRow = [template: string, vars: Record<string, unknown>, message: RegExp];

const users = [
  { name: 'alice', uid: 1001, admin: true, groups: ['wheel', 'dev'] },
  { name: 'bob', uid: 1000, admin: false, groups: ['dev'] },
  { name: 'carol', uid: 1002, groups: [] },
];

const rows: Record<string, Row[]> = {
  'default / d': [
    ['{{ x | default("d") }}', { x: 'v' }, 'v'],
    ['{{ missing | d(5) }}', {}, 5],
    ['{{ "" | default("d") }}', {}, ''],
    ['{{ "" | default("d", true) }}', {}, 'd'],
    ['{{ [] | d("d", true) }}', {}, 'd'],
  ],
  bool: [
    ['{{ "yes" | bool }} {{ "On" | bool }} {{ "1" | bool }} {{ "true" | bool }} {{ 1 | bool }}', {}, 'True True True True True'],
    ['{{ "no" | bool }} {{ "false" | bool }} {{ "0" | bool }} {{ "y" | bool }} {{ "anything" | bool }} {{ 0 | bool }}', {}, 'False False False False False False'],
    ['{{ true | bool }}', {}, true],
    ['{{ None | bool }}', {}, null],
  ],
  'int / float': [
    ['{{ "42" | int }}', {}, 42],
    ['{{ "3.9" | int }} {{ "x" | int }} {{ "x" | int(7) }} {{ true | int }} {{ 2.7 | int }}', {}, '3 0 7 1 2'],
    ['{{ "0x1A" | int(base=16) }} {{ "ff" | int(0, 16) }} {{ "101" | int(base=2) }}', {}, '26 255 5'],
    ['{{ "1.5" | float }}', {}, 1.5],
    ['{{ "x" | float }} {{ "x" | float(2.5) }} {{ 3 | float }}', {}, '0 2.5 3'],
  ],
  'string / lower / upper / capitalize / title / trim': [
    ['{{ 5 | string }}', {}, '5'],
    ['{{ [1, "a"] | string }}', {}, "[1, 'a']"],
    ['{{ "Hello World" | lower }} {{ "x" | upper }} {{ "hELLO" | capitalize }} {{ "hello big-world" | title }}', {}, 'hello world X Hello Hello Big-World'],
    ['[{{ "  x  " | trim }}] [{{ "xxaxx" | trim("x") }}]', {}, '[x] [a]'],
  ],
  'join / split': [
    ['{{ [1, 2, 3] | join("-") }} {{ ["a", "b"] | join }}', {}, '1-2-3 ab'],
    ['{{ users | join(", ", attribute="name") }}', { users }, 'alice, bob, carol'],
    ['{{ "a,b,,c" | split(",") }}', {}, ['a', 'b', '', 'c']],
    ['{{ " a  b " | split }}', {}, ['a', 'b']],
    ['{{ "a:b:c" | split(":", 1) }}', {}, ['a', 'b:c']],
  ],
  'length / count / first / last': [
    ['{{ [1, 2, 3] | length }} {{ "abc" | length }} {{ {"a": 1} | count }}', {}, '3 3 1'],
    ['{{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }} {{ "abc" | first }} {{ "abc" | last }}', {}, '1 3 a c'],
  ],
  'unique / union / difference / intersect / symmetric_difference': [
    ['{{ [1, 2, 1, 3, 2] | unique }}', {}, [1, 2, 3]],
    ['{{ ["a", "A", "b"] | unique }}', {}, ['a', 'b']],
    ['{{ ["a", "A", "b"] | unique(case_sensitive=true) }}', {}, ['a', 'A', 'b']],
    ['{{ [{"a": 1}, {"a": 1}, {"a": 2}] | unique }}', {}, [{ a: 1 }, { a: 2 }]],
    ['{{ users | unique(attribute="admin") | map(attribute="name") | list }}', { users: users.slice(0, 2) }, ['alice', 'bob']],
    ['{{ [1, 2] | union([2, 3]) }}', {}, [1, 2, 3]],
    ['{{ [1, 2, 3] | difference([2]) }}', {}, [1, 3]],
    ['{{ [1, 2, 3] | intersect([3, 2, 5]) }}', {}, [2, 3]],
    ['{{ [1, 2, 3] | symmetric_difference([3, 4]) }}', {}, [1, 2, 4]],
  ],
  map: [
    ['{{ users | map(attribute="name") | list }}', { users }, ['alice', 'bob', 'carol']],
    ['{{ users | map(attribute="admin", default=false) | list }}', { users }, [true, false, false]],
    ['{{ ["a", "b"] | map("upper") | list }}', {}, ['A', 'B']],
    ['{{ ["1", "2"] | map("int") | list }}', {}, [1, 2]],
    ['{{ ["a.b", "c.d"] | map("regex_replace", "\\\\.", "-") | list }}', {}, ['a-b', 'c-d']],
    ['{{ ["x"] | map("default", "d") | list }}', {}, ['x']],
  ],
  'select / reject / selectattr / rejectattr': [
    ['{{ [0, 1, "", "a", none] | select | list }}', {}, [1, 'a']],
    ['{{ [0, 1, "", "a"] | reject | list }}', {}, [0, '']],
    ['{{ [1, 2, 3, 4] | select("odd") | list }}', {}, [1, 3]],
    ['{{ [1, 2, 3] | select(">", 1) | list }} {{ [1, 2, 3] | reject("equalto", 2) | list }}', {}, '[2, 3] [1, 3]'],
    ['{{ ["ab", "cd", "ax"] | select("match", "a") | list }}', {}, ['ab', 'ax']],
    ['{{ ["ab", "cd", "xa"] | select("search", "a") | list }}', {}, ['ab', 'xa']],
    ['{{ [1, 5] | select("in", [5, 6]) | list }}', {}, [5]],
    ['{{ users | selectattr("admin") | map(attribute="name") | list }}', { users: users.slice(0, 2) }, ['alice']],
    ['{{ users | selectattr("admin", "defined") | map(attribute="name") | list }}', { users }, ['alice', 'bob']],
    ['{{ users | rejectattr("admin", "defined") | map(attribute="name") | list }}', { users }, ['carol']],
    ['{{ users | selectattr("name", "equalto", "bob") | map(attribute="uid") | first }}', { users }, 1000],
    ['{{ users | selectattr("name", "==", "bob") | list | length }}', { users }, 1],
    ['{{ users | selectattr("uid", ">=", 1001) | map(attribute="name") | list }}', { users }, ['alice', 'carol']],
    ['{{ users | selectattr("groups", "truthy") | map(attribute="name") | list }}', { users }, ['alice', 'bob']],
    ['{{ users | selectattr("name", "match", "^[ab]") | map(attribute="name") | list }}', { users }, ['alice', 'bob']],
    ['{{ users | selectattr("groups", "contains", "wheel") | map(attribute="name") | list }}', { users }, ['alice']],
    ['{{ users | rejectattr("admin") | map(attribute="name") | list }}', { users: users.slice(0, 2) }, ['bob']],
  ],
  'to_json / to_nice_json / from_json': [
    ['{{ {"b": [1, 2], "a": "é"} | to_json }}', {}, '{"b": [1, 2], "a": "\\u00e9"}'],
    ['{{ {"b": 1, "a": {"c": null}} | to_nice_json }}', {}, '{\n    "a": {\n        "c": null\n    },\n    "b": 1\n}'],
    ['{{ [] | to_nice_json }} {{ {} | to_json }}', {}, '[] {}'],
    ['{{ {"a": 1} | to_nice_json(indent=2) }}', {}, '{\n  "a": 1\n}'],
    ['{{ {"b": 1, "a": 2} | to_json(sort_keys=true) }}', {}, '{"a": 2, "b": 1}'],
    ['{{ \'{"a": [1, true, null]}\' | from_json }}', {}, { a: [1, true, null] }],
  ],
  'to_yaml / to_nice_yaml / from_yaml': [
    ['{{ {"b": [1, 2], "a": {"y": "yes", "x": 1}} | to_yaml }}', {}, "a: {x: 1, y: 'yes'}\nb: [1, 2]\n"],
    ['{{ {"b": [1, {"k": "v", "l": [1]}], "a": "x"} | to_nice_yaml }}', {}, 'a: x\nb:\n- 1\n-   k: v\n    l:\n    - 1\n'],
    ['{{ {"a": {"b": 1}} | to_nice_yaml(indent=2) }}', {}, 'a:\n  b: 1\n'],
    ['{{ "abc" | to_yaml }}', {}, 'abc\n...\n'],
    ['{{ "a: 1\\nb: [yes, no]\\n" | from_yaml }}', {}, { a: 1, b: [true, false] }],
    ['{{ "---\\na: 1\\n---\\nb: 2\\n" | from_yaml_all }}', {}, [{ a: 1 }, { b: 2 }]],
  ],
  'regex_replace / regex_search / regex_findall / regex_escape': [
    ['{{ "hello world" | regex_replace("o", "0") }}', {}, 'hell0 w0rld'],
    ['{{ "ab12cd" | regex_replace("\\\\d+", "#") }}', {}, 'ab#cd'],
    ['{{ "key=value" | regex_replace("^(\\\\w+)=(\\\\w+)$", "\\\\2=\\\\1") }}', {}, 'value=key'],
    ['{{ "key=value" | regex_replace("^(?P<k>\\\\w+)=(?P<v>\\\\w+)$", "\\\\g<v>:\\\\g<k>") }}', {}, 'value:key'],
    ['{{ "AbA" | regex_replace("a", "x", ignorecase=true) }}', {}, 'xbx'],
    ['{{ "a$b" | regex_replace("\\\\$", "$$") }}', {}, 'a$$b'],
    ['{{ "a\\nb" | regex_replace("^", "> ", multiline=true) }}', {}, '> a\n> b'],
    ['{{ "server01.example" | regex_search("\\\\d+") }}', {}, '01'],
    ['{{ "user=bob id=7" | regex_search("user=(\\\\w+) id=(\\\\d+)", "\\\\1", "\\\\2") }}', {}, ['bob', '7']],
    ['{{ "user=bob" | regex_search("user=(?P<u>\\\\w+)", "\\\\g<u>") }}', {}, ['bob']],
    ['{{ "nothing" | regex_search("\\\\d") }}', {}, null],
    ['{{ "a1b22c333" | regex_findall("\\\\d+") }}', {}, ['1', '22', '333']],
    ['{{ "k1=v1 k2=v2" | regex_findall("(\\\\w+)=(\\\\w+)") }}', {}, [['k1', 'v1'], ['k2', 'v2']]],
    ['{{ "a.b*c" | regex_escape }}', {}, 'a\\.b\\*c'],
  ],
  replace: [['{{ "a b c" | replace(" ", "_") }} {{ "aaa" | replace("a", "b", 2) }}', {}, 'a_b_c bba']],
  'b64encode / b64decode': [['{{ "héllo" | b64encode }} {{ "aMOpbGxv" | b64decode }}', {}, 'aMOpbGxv héllo']],
  combine: [
    ['{{ {"a": 1, "b": {"x": 1}} | combine({"b": {"y": 2}, "c": 3}) }}', {}, { a: 1, b: { y: 2 }, c: 3 }],
    ['{{ {"a": 1, "b": {"x": 1}} | combine({"b": {"y": 2}}, recursive=true) }}', {}, { a: 1, b: { x: 1, y: 2 } }],
    ['{{ {"a": 1} | combine({"a": 2}, {"a": 3, "b": 4}) }}', {}, { a: 3, b: 4 }],
    ['{{ [{"a": 1}, {"b": 2}] | combine }}', {}, { a: 1, b: 2 }],
    ['{{ {"l": [1, 2]} | combine({"l": [2, 3]}, list_merge="append") }}', {}, { l: [1, 2, 2, 3] }],
    ['{{ {"l": [1, 2]} | combine({"l": [2, 3]}, list_merge="prepend") }}', {}, { l: [2, 3, 1, 2] }],
    ['{{ {"l": [1, 2]} | combine({"l": [2, 3]}, list_merge="append_rp") }}', {}, { l: [1, 2, 3] }],
    ['{{ {"l": [1, 2]} | combine({"l": [2, 3]}, list_merge="prepend_rp") }}', {}, { l: [2, 3, 1] }],
    ['{{ {"l": [1, 2]} | combine({"l": [3]}, list_merge="keep") }}', {}, { l: [1, 2] }],
    ['{{ {"d": {"l": [1]}} | combine({"d": {"l": [2]}}, recursive=true, list_merge="append") }}', {}, { d: { l: [1, 2] } }],
    ['{{ acc | combine({item.k: item.v}) }}', { acc: { a: 1 }, item: { k: 'b', v: 2 } }, { a: 1, b: 2 }],
  ],
  'dict2items / items2dict / items / dict / list': [
    ['{{ {"a": 1, "b": 2} | dict2items }}', {}, [{ key: 'a', value: 1 }, { key: 'b', value: 2 }]],
    ['{{ {"a": 1} | dict2items(key_name="k", value_name="v") }}', {}, [{ k: 'a', v: 1 }]],
    ['{{ [{"key": "a", "value": 1}] | items2dict }}', {}, { a: 1 }],
    ['{{ [{"n": "a", "v": 1}] | items2dict(key_name="n", value_name="v") }}', {}, { a: 1 }],
    ['{{ {"a": 1} | items | list }}', {}, [['a', 1]]],
    ['{{ [["a", 1], ["b", 2]] | dict }}', {}, { a: 1, b: 2 }],
    ['{{ "ab" | list }} {{ {"k": 1} | list }}', {}, "['a', 'b'] ['k']"],
    ['{{ dict(["a", "b"] | zip([1, 2])) }}', {}, { a: 1, b: 2 }],
  ],
  'basename / dirname / splitext / path_join / expanduser': [
    ['{{ "/etc/ssh/sshd_config" | basename }} {{ "/etc/ssh/sshd_config" | dirname }}', {}, 'sshd_config /etc/ssh'],
    ['[{{ "/a/b/" | basename }}] [{{ "/a/b/" | dirname }}] [{{ "file" | dirname }}] [{{ "/file" | dirname }}]', {}, '[] [/a/b] [] [/]'],
    ['{{ "/x/archive.tar.gz" | splitext }}', {}, ['/x/archive.tar', '.gz']],
    ['{{ ["/etc", "ssh", "x"] | path_join }} {{ ["a", "/abs"] | path_join }}', {}, '/etc/ssh/x /abs'],
  ],
  quote: [['{{ "safe" | quote }} {{ "it\'s here" | quote }} {{ "" | quote }}', {}, "safe 'it'\\''s here' ''"]],
  ternary: [
    ['{{ true | ternary("y", "n") }} {{ [] | ternary("y", "n") }}', {}, 'y n'],
    ['{{ None | ternary("y", "n", "none") }} {{ None | ternary("y", "n") }}', {}, 'none n'],
  ],
  'zip / zip_longest / product': [
    ['{{ [1, 2] | zip(["a", "b", "c"]) | list }}', {}, [[1, 'a'], [2, 'b']]],
    ['{{ [1] | zip_longest(["a", "b"], fillvalue="-") | list }}', {}, [[1, 'a'], ['-', 'b']]],
    ['{{ [1, 2] | product(["a"]) | list }}', {}, [[1, 'a'], [2, 'a']]],
  ],
  flatten: [
    ['{{ [1, [2, [3, [4]]], None, "None"] | flatten }}', {}, [1, 2, 3, 4]],
    ['{{ [1, [2, [3]]] | flatten(levels=1) }}', {}, [1, 2, [3]]],
    ['{{ [1, None] | flatten(skip_nulls=false) }}', {}, [1, null]],
  ],
  'sort / dictsort / reverse / batch / groupby': [
    ['{{ [3, 1, 2] | sort }} {{ ["b", "A", "c"] | sort }} {{ [3, 1, 2] | sort(reverse=true) }}', {}, "[1, 2, 3] ['A', 'b', 'c'] [3, 2, 1]"],
    ['{{ ["b", "A", "c"] | sort(case_sensitive=true) }}', {}, ['A', 'b', 'c']],
    ['{{ users | sort(attribute="uid") | map(attribute="name") | list }}', { users }, ['bob', 'alice', 'carol']],
    ['{{ [{"a": 2, "b": 1}, {"a": 1, "b": 2}, {"a": 1, "b": 1}] | sort(attribute="a,b") }}', {}, [{ a: 1, b: 1 }, { a: 1, b: 2 }, { a: 2, b: 1 }]],
    ['{{ {"b": 1, "a": 2} | dictsort }} {{ {"b": 1, "a": 2} | dictsort(by="value") }}', {}, "[('a', 2), ('b', 1)] [('b', 1), ('a', 2)]"],
    ['{{ [1, 2, 3] | reverse | list }} {{ "abc" | reverse }}', {}, '[3, 2, 1] cba'],
    ['{{ [1, 2, 3, 4, 5] | batch(2) | list }}', {}, [[1, 2], [3, 4], [5]]],
    ['{{ [{"g": "x", "v": 1}, {"g": "y", "v": 2}, {"g": "x", "v": 3}] | groupby("g") }}', {}, [['x', [{ g: 'x', v: 1 }, { g: 'x', v: 3 }]], ['y', [{ g: 'y', v: 2 }]]]],
  ],
  'hash / md5 / sha1 / checksum / password_hash': [
    ['{{ "abc" | hash("md5") }}', {}, '900150983cd24fb0d6963f7d28e17f72'],
    ['{{ "abc" | hash }} {{ "abc" | sha1 }} {{ "abc" | checksum }}', {}, 'a9993e364706816aba3e25717850c26c9cd0d89d a9993e364706816aba3e25717850c26c9cd0d89d a9993e364706816aba3e25717850c26c9cd0d89d'],
    ['{{ "abc" | hash("sha256") }}', {}, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['{{ "abc" | md5 }}', {}, '900150983cd24fb0d6963f7d28e17f72'],
    ['{{ "Hello world!" | password_hash("sha512", "saltstring") }}', {}, '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
    ['{{ "Hello world!" | password_hash("sha256", salt="saltstring") }}', {}, '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
    ['{{ "Hello world!" | password_hash("sha512", "saltstringsaltstring", rounds=10000) }}', {}, '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.'],
  ],
  'min / max / sum / abs / round / pow / log / root': [
    ['{{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ users | max(attribute="uid") | attr("name") }}', { users }, '1 3 carol'],
    ['{{ [1, 2, 3] | sum }} {{ users | sum(attribute="uid") }} {{ [[1], [2]] | sum(start=[]) }}', { users }, '6 3003 [1, 2]'],
    ['{{ -3 | abs }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.567 | round(2) }} {{ 2.1 | round(0, "ceil") }} {{ 2.9 | round(method="floor") }}', {}, '3 2 4 2.57 3 2'],
    ['{{ 2 | pow(10) }} {{ 100 | log(10) }} {{ 16 | root }} {{ 27 | root(3) }}', {}, '1024 2 4 3'],
  ],
  'type_debug / indent / format / center / e / safe / comment': [
    ['{{ 1 | type_debug }} {{ 1.5 | type_debug }} {{ "s" | type_debug }} {{ [] | type_debug }} {{ {} | type_debug }} {{ none | type_debug }} {{ true | type_debug }}', {}, 'int float str list dict NoneType bool'],
    ['{{ "a\\nb\\n\\nc" | indent(2) }}', {}, 'a\n  b\n\n  c'],
    ['{{ "a\\nb" | indent(4, true) }}', {}, '    a\n    b'],
    ['{{ "a\\n\\nb" | indent(width=2, blank=true) }}', {}, 'a\n  \n  b'],
    ['{{ "%s is %d" | format("x", 4) }}', {}, 'x is 4'],
    ['{{ "<a & b>" | e }} {{ "x" | safe }}', {}, '&lt;a &amp; b&gt; x'],
  ],
  'comment / strftime / to_uuid': [
    ['{{ "Ansible managed" | comment }}', {}, '#\n# Ansible managed\n#'],
    ['{{ "a\n\nb" | comment("c") }}', {}, '//\n// a\n//\n// b\n//'],
    ['{{ "a\nb" | comment("cblock") }}', {}, '/*\n *\n * a\n * b\n *\n */'],
    ['{{ "x" | comment(decoration="; ", prefix_count=2) }}', {}, ';\n;\n; x\n;'],
    ['{{ "%Y-%m-%d %H:%M:%S" | strftime(1700000000, utc=true) }}', {}, '2023-11-14 22:13:20'],
    ['{{ "host1" | to_uuid }}', {}, '7590dc85-6b79-5d0a-b4fc-5a7f0e7910a6'],
  ],
  'extract / subelements / attr': [
    ['{{ ["a", "b"] | map("extract", {"a": 1, "b": 2}) | list }}', {}, [1, 2]],
    ['{{ ["n1"] | map("extract", hv, "ip") | list }}', { hv: { n1: { ip: '10.0.0.1' } } }, ['10.0.0.1']],
    ['{{ [0, 2] | map("extract", ["x", "y", "z"]) | list }}', {}, ['x', 'z']],
    ['{{ users | subelements("groups") | map("last") | list }}', { users }, ['wheel', 'dev', 'dev']],
    ['{{ users | subelements("missing", skip_missing=true) }}', { users }, []],
    ['{{ {"a": 1} | attr("a") }}', {}, 1],
  ],
};

describe.each(Object.entries(rows))('filter %s', (_name, table) => {
  it.each(table)('%j with %j', (tpl, vars, expected) => {
    expect(render(tpl, vars)).toEqual(expected);
  });
});

describe('filter errors', () => {
  it.each<ErrorRow>([
    ['{{ "x" | nosuchfilter }}', {}, /no filter named 'nosuchfilter'/],
    ['{{ 5 | length }}', {}, /object of type 'int' has no len\(\)/],
    ['{{ [1] | dict2items }}', {}, /dict2items requires a dictionary, got list/],
    ['{{ {"a": 1} | combine({"a": 2}, bogus=1) }}', {}, /'recursive' and 'list_merge' are the only valid keyword arguments/],
    ['{{ "{not json" | from_json }}', {}, /from_json/],
    ['{{ "x" | hash("nope") }}', {}, /unsupported hash type 'nope'/],
    ['{{ "x" | regex_search("(") }}', {}, /invalid regular expression/],
    ['{{ [1, "a"] | sort }}', {}, /'<' not supported between instances of 'str' and 'int'/],
    ['{{ "a" + 1 }}', {}, /can only concatenate str \(not "int"\) to str/],
    ['{{ users | selectattr("admin", "equalto", true) | list }}', { users }, /has no attribute 'admin'/],
  ])('%j', (tpl, vars, message) => {
    expect(errorOf(() => render(tpl, vars)).message).toMatch(message);
  });

  it('names the filter and where it failed', () => {
    const err = errorOf(() => render('ok {{ "x" | from_json }}'));
    expect(err.message).toMatch(/^filter 'from_json': from_json:|^from_json:/);
  });
});
