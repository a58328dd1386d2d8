import { describe, expect, it } from 'vitest';
import { parseKv } from '../../src/playbook/kv.js';
import { shlexSplit } from '../../src/util/shlex.js';

describe('parseKv', () => {
  it.each([
    ['path=/tmp/x state=directory', undefined, { path: '/tmp/x', state: 'directory' }, ''],
    ['content="a b" dest=/f', undefined, { content: 'a b', dest: '/f' }, ''],
    ["msg='it is {{ x }}'", undefined, { msg: 'it is {{ x }}' }, ''],
    ['msg={{ a | default("b c") }}', undefined, { msg: '{{ a | default("b c") }}' }, ''],
    ['ls -l /tmp chdir=/var creates=/x', ['chdir', 'creates'], { chdir: '/var', creates: '/x' }, 'ls -l /tmp'],
    ['echo a=b', ['chdir'], {}, 'echo a=b'],
    ['content="a\\nB\\n" dest=/f', undefined, { content: 'a\nB\n', dest: '/f' }, ''],
    ['msg="say \\"hi\\""', undefined, { msg: 'say "hi"' }, ''],
  ])('%s', (text, raw, params, rawParams) => {
    expect(parseKv(text, raw)).toEqual({ params, rawParams });
  });
});

describe('shlexSplit', () => {
  it.each([
    ['ls -l', ['ls', '-l']],
    ["echo 'a b' \"c d\"", ['echo', 'a b', 'c d']],
    ['echo a\\ b', ['echo', 'a b']],
    ['echo "x\\"y"', ['echo', 'x"y']],
    ["echo ''", ['echo', '']],
  ])('%s', (text, words) => {
    expect(shlexSplit(text)).toEqual(words);
  });

  it('rejects an unterminated quote', () => expect(() => shlexSplit("echo 'a")).toThrow(/unterminated/));
});
