import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { quote, sh, ShellCommand } from '../../src/util/shell.js';

// Each value must come back from a real /bin/sh exactly as it went in.
const nasty = ['plain', 'with space', "it's", '$(touch /tmp/pwned)', '`id`', 'a"b', 'semi;colon', 'new\nline', '', '*', '~root', '--flag', 'ünïcødé', "'", '\\'];

describe('quote', () => {
  it.each(nasty)('round-trips %j through /bin/sh', (value) => {
    const out = execFileSync('/bin/sh', ['-c', `printf %s ${quote(value)}`]).toString();
    expect(out).toBe(value);
  });

  it('leaves safe words bare for readable logs', () => {
    expect(quote('/etc/hosts')).toBe('/etc/hosts');
    expect(quote('0644')).toBe('0644');
  });
});

describe('sh', () => {
  it('quotes every interpolated value and expands arrays into words', () => {
    const cmd = sh`ls -l ${['a b', 'c']} ${'$HOME'}`;
    expect(cmd.text).toBe(`ls -l 'a b' c '$HOME'`);
  });

  it('inserts nested commands as they are', () => {
    const inner = sh`echo ${'x y'}`;
    expect(sh`cd /tmp && ${inner}`.text).toBe(`cd /tmp && echo 'x y'`);
  });

  it('joins commands', () => {
    expect(ShellCommand.join([sh`true`, sh`echo ${'a'}`]).text).toBe('true && echo a');
  });
});
