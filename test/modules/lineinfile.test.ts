import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import lineinfile, { editLines, expandTemplate, pythonRegExp, splitLines, type LineEdit } from '../../src/modules/lineinfile.js';
import { aFile, aDir, aLink, absent, mismatches, planFor, type Expect } from './context.js';
import type { FileState } from '../../src/facts/file.js';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

describe('pythonRegExp: Python syntax and semantics', () => {
  it.each<{ pattern: string; text: string; match: string | null }>([
    // `$` also matches before a final newline; lines are matched with their "\n"
    { pattern: '^foo$', text: 'foo\n', match: 'foo' },
    { pattern: '^foo$', text: 'foo\nbar', match: null },
    // \s matches the line's own newline, as in Python on the raw line
    { pattern: '^foo\\s', text: 'foo\n', match: 'foo\n' },
    // `.` matches \r (a CRLF line) but not \n
    { pattern: '^key=.*$', text: 'key=1\r\n', match: 'key=1\r' },
    { pattern: 'a.b', text: 'a\nb', match: null },
    { pattern: '(?s)a.b', text: 'a\nb', match: 'a\nb' },
    { pattern: '(?P<k>\\w+)=(?P=k)', text: 'x=x', match: 'x=x' },
    { pattern: '(?i)^permitrootlogin', text: 'PermitRootLogin yes\n', match: 'PermitRootLogin' },
    { pattern: '(?m)^b$', text: 'a\nb\nc', match: 'b' },
    { pattern: '\\Aab', text: 'ab', match: 'ab' },
    { pattern: 'ab\\Z', text: 'ab\n', match: null },
    { pattern: 'x{,2}y', text: 'xxy', match: 'xxy' },
    { pattern: '[]a]+', text: ']a]', match: ']a]' },
    { pattern: '[^]]+', text: 'ab]', match: 'ab' },
    { pattern: '\\$HOME', text: 'echo $HOME', match: '$HOME' },
    { pattern: '[$.]', text: 'a.b', match: '.' },
    { pattern: '(?x) a  b # comment', text: 'ab', match: 'ab' },
  ])('$pattern on $text', ({ pattern, text, match }) => {
    const m = pythonRegExp(pattern).exec(text);
    expect(m ? m[0] : null).toBe(match);
  });

  it('reports a bad pattern as an argument error', () => {
    expect(() => pythonRegExp('(unclosed')).toThrow(/invalid regular expression/);
  });
});

describe("expandTemplate: Python's Match.expand", () => {
  const m = pythonRegExp('^(?P<key>\\w+)\\s*=\\s*(\\w+)?(x)?').exec('alpha = beta')!;
  it.each([
    ['\\1=\\2', 'alpha=beta'],
    ['\\g<key>: \\g<2>', 'alpha: beta'],
    ['\\3', ''], // unmatched group: empty
    ['a\\tb\\\\c', 'a\tb\\c'],
    ['\\10', 'alpha0'], // \10 is group 1 then "0" when there is no group 10
    ['keep \\. this', 'keep \\. this'],
  ])('%j → %j', (template, out) => expect(expandTemplate(template, m)).toBe(out));

  it.each([['\\g<nope>'], ['\\9'], ['\\q']])('%j is an error', (template) => {
    expect(() => expandTemplate(template, m)).toThrow();
  });
});

describe('splitLines (readlines)', () => {
  it.each([
    ['', []],
    ['a', ['a']],
    ['a\n', ['a\n']],
    ['a\nb', ['a\n', 'b']],
    ['a\r\nb\n\n', ['a\r\n', 'b\n', '\n']],
  ])('%j', (text, lines) => expect(splitLines(text)).toEqual(lines));
});

// ------------------------------------------------------------------ Ansible's own integration test, step by step

type Step = [Partial<LineEdit>, { changed: boolean; msg?: string; sha1?: string }];

/**
 * Chains from ansible/ansible test/integration/targets/lineinfile/tasks
 * (main.yml, test_string01.yml, test_string02.yml): each step edits the
 * previous step's content, and the SHA-1s are the ones Ansible asserts.
 */
const TEST_TXT = 'This is line 1\nThis is line 2\nREF this is a line for backrefs REF\nThis is line 4\nThis is line 5\n';
const TESTSTRING_TXT = 'This is line 1\nThis is line 2\n(\\\\w)(\\\\s+)([\\\\.,])\nThis is line 4\n<FilesMatch ".py[45]?$">\n';
const TEST_CONF = '[section_one]\n\n[section_two]\n\n[section_three]\n';
const FIRSTMATCH_TXT = 'line1\nline1\nline1\nline2\nline3\n';
const T58923 = '#!/bin/sh\n\ncase "`uname`" in\n  Darwin*) if [ -z "$JAVA_HOME" ] ; then\n';
const FISHEYE = 'export FISHEYE_OPTS="-Xmx4096m -Xms2048m"';
const BEFAF = [
  ['option_one=', 'option_one=1'],
  ['option_two=', 'option_two=2'],
  ['option_three=', 'option_three=3'],
] as const;

const chains: { name: string; start: string; startSha1?: string; steps: Step[] }[] = [
  {
    name: 'main.yml on test.txt',
    start: TEST_TXT,
    startSha1: '5feac65e442c91f557fc90069ce6efc4d346ab51',
    steps: [
      [{ line: 'New line at the beginning', insertbefore: 'BOF' }, { changed: true, msg: 'line added', sha1: '7eade4042b23b800958fe807b5bfc29f8541ec09' }],
      [{ line: 'New line at the beginning', insertbefore: 'BOF' }, { changed: false }],
      [{ line: 'New line at the end', insertafter: 'EOF' }, { changed: true, msg: 'line added', sha1: 'fb57af7dc10a1006061b000f1f04c38e4bef50a9' }],
      [{ line: 'New line after line 1', insertafter: '^This is line 1$' }, { changed: true, msg: 'line added', sha1: '5348da605b1bc93dbadf3a16474cdf22ef975bec' }],
      [{ line: 'New line before line 5', insertbefore: '^This is line 5$' }, { changed: true, msg: 'line added', sha1: '2e9e460ff68929e4453eb765761fd99814f6e286' }],
      [{ line: 'This is line 3', backrefs: true, regexp: '^(REF) .* \\1$' }, { changed: true, msg: 'line replaced', sha1: '72f60239a735ae06e769d823f5c2b4232c634d9c' }],
      [{ line: 'This is line 3', backrefs: true, regexp: '^(REF) .* \\1$' }, { changed: false, sha1: '72f60239a735ae06e769d823f5c2b4232c634d9c' }],
      [{ state: 'absent', regexp: '^This is line 3$' }, { changed: true, msg: '1 line(s) removed', sha1: 'd4eeb07bdebab2d1cdb3ec4a3635afa2618ad4ea' }],
      [{ state: 'absent', regexp: '^This is line 3$' }, { changed: false }],
      [{ state: 'absent', regexp: '^This is line 5$' }, { changed: true, msg: '1 line(s) removed', sha1: 'ab56c210ea82839a54487464800fed4878cb2608' }],
      [{ line: 'This is a line\nwith \\n character', insertafter: 'EOF' }, { changed: true, msg: 'line added', sha1: 'fde683229429a4f05d670e6c10afc875e1d5c489' }],
      [{ line: 'New \\1 created with the backref', backrefs: true, regexp: '^This is (line 4)$' }, { changed: true, msg: 'line replaced', sha1: '981ad35c4b30b03bc3a1beedce0d1e72c491898e' }],
    ],
  },
  {
    name: 'test_string01.yml: search_string is a literal, not a regex',
    start: TESTSTRING_TXT,
    startSha1: '481c2b73fe062390afdd294063a4f8285d69ac85',
    steps: [
      [{ line: 'New line at the beginning', insertbefore: 'BOF' }, { changed: true }],
      [{ line: 'New line at the beginning', insertbefore: 'BOF' }, { changed: false }],
      [{ line: 'Thi$ i^ [ine 3', search_string: '(\\\\w)(\\\\s+)([\\\\.,])' }, { changed: true, msg: 'line replaced', sha1: '8084519b53e268920a46592a112297715951f167' }],
      [{ line: 'Thi$ i^ [ine 3', search_string: '(\\\\w)(\\\\s+)([\\\\.,])' }, { changed: false }],
      [{ state: 'absent', search_string: 'Thi$ i^ [ine 3' }, { changed: true, msg: '1 line(s) removed', sha1: '89919ef2ef91e48ad02e0ca2bcb76dfc2a86d516' }],
      [{ state: 'absent', search_string: '<FilesMatch ".py[45]?$">' }, { changed: true, sha1: 'ba9600b34febbc88bfb3ca99cd6b57f1010c19a4' }],
    ],
  },
  { name: 'create=yes with insertbefore=BOF', start: '', steps: [[{ line: 'This is a new file', insertbefore: 'BOF' }, { changed: true, sha1: '038f10f9e31202451b093163e81e06fbac0c6f3a' }]] },
  { name: 'empty file: no stray newline before the line', start: '', steps: [[{ line: 'New line at the end', insertafter: 'EOF' }, { changed: true, sha1: 'f440dc65ea9cec3fd496c1479ddf937e1b949412' }]] },
  {
    name: 'issue 8535: quotes in lines',
    start: '',
    steps: [
      [{ line: "'foo'", insertbefore: 'BOF' }, { changed: true }],
      [{ line: 'dotenv.load();', insertbefore: 'BOF' }, { changed: true }],
      [{ line: "var dotenv = require('dotenv');", insertbefore: 'BOF' }, { changed: true, sha1: '7dc3cb033c3971e73af0eaed6623d4e71e5743f1' }],
      [{ line: "import g'" }, { changed: true, sha1: '73b271c2cc1cef5663713bc0f00444b4bf9f4543' }],
      [{ line: '"quote" and "unquote"' }, { changed: true, sha1: 'b10ab2a3c3b6492680c8d0b1d6f35aa6b8f9e731' }],
    ],
  },
  {
    name: 'issue 36156: regexp with insertafter (then without regexp: the exact line stops an insert)',
    start: TEST_CONF,
    startSha1: '6037f13e419b132eb3fd20a89e60c6c87a6add38',
    steps: [
      ...BEFAF.map(([regexp, line]): Step => [{ regexp, line, insertafter: 'section_one' }, { changed: true }]),
      ...BEFAF.map(([regexp, line]): Step => [{ regexp, line, insertafter: 'section_one' }, { changed: false }]),
      ...BEFAF.map(([, line]): Step => [{ line, insertafter: 'section_one' }, { changed: false, sha1: '06e2c456e5028dd7bcd0b117b5927a1139458c82' }]),
    ],
  },
  {
    name: 'issue 36156: regexp with insertbefore',
    start: TEST_CONF,
    steps: [
      ...BEFAF.map(([regexp, line]): Step => [{ regexp, line, insertbefore: 'section_three' }, { changed: true }]),
      ...BEFAF.map(([regexp, line]): Step => [{ regexp, line, insertbefore: 'section_three' }, { changed: false }]),
      ...BEFAF.map(([, line]): Step => [{ line, insertbefore: 'section_three' }, { changed: false, sha1: 'c3be9438a07c44d4c256cebfcdbca15a15b1db91' }]),
    ],
  },
  {
    name: 'test_string02.yml: search_string with insertbefore',
    start: TEST_CONF,
    steps: [
      ...BEFAF.map(([search_string, line]): Step => [{ search_string, line, insertbefore: 'section_three' }, { changed: true }]),
      ...BEFAF.map(([search_string, line]): Step => [{ search_string, line, insertbefore: 'section_three' }, { changed: false, sha1: 'c3be9438a07c44d4c256cebfcdbca15a15b1db91' }]),
    ],
  },
  {
    name: 'insertbefore that matches nothing in an empty file, twice',
    start: '',
    steps: [
      [{ line: 'top', insertbefore: '^not in the file$' }, { changed: true }],
      [{ line: 'top', insertbefore: '^not in the file$' }, { changed: false, sha1: '4dca56d05a21f0d018cd311f43e134e4501cf6d9' }],
    ],
  },
  { name: 'issue 29443: an empty regexp replaces the last line', start: TEST_TXT, steps: [[{ regexp: '', line: 'This is line 6' }, { changed: true, msg: 'line replaced', sha1: '23555a98ceaa88756b4c7c7bba49d9f86eed868f' }]] },
  { name: 'an empty search_string replaces the last line', start: TESTSTRING_TXT, steps: [[{ search_string: '', line: 'This is line 6' }, { changed: true, sha1: 'eaa79f878557d4bd8d96787a850526a0facab342' }]] },
  {
    name: 'issue 58923: firstmatch with insertafter does not insert twice',
    start: FIRSTMATCH_TXT,
    startSha1: '1d644e5e2e51c67f1bd12d7bbe2686017f39923d',
    steps: [
      [{ line: 'INSERT', insertafter: 'line1', firstmatch: true }, { changed: true, sha1: '114aae024073a3ee8ec8db0ada03c5483326dd86' }],
      [{ line: 'INSERT', insertafter: 'line1', firstmatch: true }, { changed: false }],
    ],
  },
  ...(
    [
      ['regexp + insertafter', { insertafter: '^#!/bin/sh', regexp: '^export FISHEYE_OPTS' }, '9232aed6fe88714964d9e29d13e42cd782070b08'],
      ['insertafter', { insertafter: '^#!/bin/sh' }, '9232aed6fe88714964d9e29d13e42cd782070b08'],
      ['regexp + insertbefore', { insertbefore: '^#!/bin/sh', regexp: '^export FISHEYE_OPTS' }, '3c6630b9d44f561ea9ad999be56a7504cadc12f7'],
      ['insertbefore', { insertbefore: '^#!/bin/sh' }, '3c6630b9d44f561ea9ad999be56a7504cadc12f7'],
      ['search_string + insertafter', { insertafter: '^#!/bin/sh', search_string: 'export FISHEYE_OPTS' }, '9232aed6fe88714964d9e29d13e42cd782070b08'],
      ['search_string + insertbefore', { insertbefore: '^#!/bin/sh', search_string: 'export FISHEYE_OPTS' }, '3c6630b9d44f561ea9ad999be56a7504cadc12f7'],
    ] as const
  ).map(([what, o, sum]) => ({
    name: `issue 58923: firstmatch with ${what}`,
    start: T58923,
    startSha1: 'b6379ba43261c451a62102acb2c7f438a177c66e',
    steps: [
      [{ ...o, firstmatch: true, line: FISHEYE }, { changed: true, sha1: sum }],
      [{ ...o, firstmatch: true, line: FISHEYE }, { changed: false, sha1: sum }],
    ] as Step[],
  })),
  {
    name: 'issue 58923: the line elsewhere stops an insertbefore',
    start: T58923.replace('#!/bin/sh\n', `${FISHEYE}\n#!/bin/sh\n`),
    steps: [[{ insertbefore: '   Darwin\\*\\) if \\[ -z \\"\\$JAVA_HOME\\" \\] ; then', firstmatch: true, line: FISHEYE }, { changed: false, sha1: '3c6630b9d44f561ea9ad999be56a7504cadc12f7' }]],
  },
  {
    name: 'issue 63684: regexp with insertafter matching the last line',
    start: '',
    steps: [
      [{ line: 'testline' }, { changed: true }],
      [{ insertafter: 'testline', regexp: 'line at the end', line: 'line at the end' }, { changed: true, sha1: 'ef36116966836ce04f6b249fd1837706acae4e19' }],
    ],
  },
];

describe("editLines reproduces Ansible's integration test", () => {
  it.each(chains)('$name', ({ start, startSha1, steps }) => {
    if (startSha1) expect(sha1(start)).toBe(startSha1);
    let content = start;
    steps.forEach(([o, want], i) => {
      const r = editLines(content, { state: 'present', ...o });
      expect(r.changed, `step ${i}: ${JSON.stringify(o)}`).toBe(want.changed);
      if (want.msg) expect(r.msg, `step ${i}`).toBe(want.msg);
      if (!r.changed) expect(r.content).toBe(content);
      content = r.content;
      if (want.sha1) expect(sha1(content), `step ${i}: ${JSON.stringify(content)}`).toBe(want.sha1);
    });
  });
});

// ------------------------------------------------------------------ documented behaviours, content in, content out

const edits: { name: string; before: string; o: Partial<LineEdit>; after: string; msg?: string }[] = [
  { name: 'regexp: the last matching line is replaced', before: 'a=1\nb=2\na=3\n', o: { regexp: '^a=', line: 'a=9' }, after: 'a=1\nb=2\na=9\n', msg: 'line replaced' },
  { name: 'regexp with firstmatch: the first', before: 'a=1\nb=2\na=3\n', o: { regexp: '^a=', line: 'a=9', firstmatch: true }, after: 'a=9\nb=2\na=3\n' },
  { name: 'regexp without a match: appended at EOF', before: 'b=2\n', o: { regexp: '^a=', line: 'a=9' }, after: 'b=2\na=9\n', msg: 'line added' },
  { name: 'regexp without a match, insertafter regex: after its last match', before: '[x]\nk=1\n[x]\nk=2\n', o: { regexp: '^a=', line: 'a=9', insertafter: '^\\[x\\]' }, after: '[x]\nk=1\n[x]\na=9\nk=2\n' },
  { name: 'insertafter regex that matches nothing: EOF', before: 'k=1\n', o: { line: 'a=9', insertafter: '^\\[nope\\]' }, after: 'k=1\na=9\n' },
  { name: 'insertbefore regex: before its last match', before: '# x\nk=1\n# x\n', o: { line: 'new', insertbefore: '^# x' }, after: '# x\nk=1\nnew\n# x\n' },
  { name: 'insertbefore regex with firstmatch: before the first', before: '# x\nk=1\n# x\n', o: { line: 'new', insertbefore: '^# x', firstmatch: true }, after: 'new\n# x\nk=1\n# x\n' },
  { name: 'insertbefore=BOF', before: 'k=1\n', o: { line: '#!/bin/sh', insertbefore: 'BOF' }, after: '#!/bin/sh\nk=1\n' },
  { name: 'insertafter=BOF also means the beginning', before: 'k=1\n', o: { line: 'top', insertafter: 'BOF' }, after: 'top\nk=1\n' },
  { name: 'the exact line anywhere: nothing to add', before: 'x\nMaxSessions 20\ny\n', o: { line: 'MaxSessions 20' }, after: 'x\nMaxSessions 20\ny\n' },
  // Ansible finds the line (it strips \r\n to compare) and then rewrites it with its own "\n".
  { name: 'the exact line with CRLF is found and rewritten with LF (Ansible quirk)', before: 'x\r\nMaxSessions 20\r\n', o: { line: 'MaxSessions 20' }, after: 'x\r\nMaxSessions 20\n', msg: 'line replaced' },
  { name: 'no newline at EOF: one is added before the new line', before: 'a\nb', o: { line: 'c' }, after: 'a\nb\nc\n' },
  { name: 'insertafter the last line, which has no newline', before: 'a\nb', o: { line: 'c', insertafter: '^b' }, after: 'a\nb\nc\n' },
  { name: 'regexp matches the last line without newline: replaced, newline added', before: 'a\nkey=1', o: { regexp: '^key=', line: 'key=1' }, after: 'a\nkey=1\n', msg: 'line replaced' },
  { name: 'regexp on a CRLF line: replaced with a LF line', before: 'key=1\r\nz\r\n', o: { regexp: '^key=.*$', line: 'key=2' }, after: 'key=2\nz\r\n' },
  { name: 'backrefs: groups fill the line', before: 'ListenAddress 0.0.0.0\n', o: { regexp: '^(ListenAddress) .*$', line: '\\1 10.0.0.1', backrefs: true }, after: 'ListenAddress 10.0.0.1\n' },
  { name: 'backrefs with a named group', before: 'host=old\n', o: { regexp: '^(?P<k>host=).*', line: '\\g<k>new', backrefs: true }, after: 'host=new\n' },
  { name: 'backrefs without a match: nothing happens (not even at EOF)', before: 'a\n', o: { regexp: '^(b)=', line: '\\1=2', backrefs: true }, after: 'a\n' },
  { name: 'backrefs off: \\1 stays literal', before: 'x=1\n', o: { regexp: '^(x)=', line: '\\1=2' }, after: '\\1=2\n' },
  { name: 'search_string replaces the last line containing it', before: 'a [x]\nb [x]\n', o: { search_string: '[x]', line: 'c' }, after: 'a [x]\nc\n' },
  { name: 'absent with regexp removes every match', before: 'UseDNS yes\nx\nUseDNS no\n', o: { state: 'absent', regexp: '^UseDNS' }, after: 'x\n', msg: '2 line(s) removed' },
  { name: 'absent with line removes exact lines only', before: 'a\na \na\r\n', o: { state: 'absent', line: 'a' }, after: 'a \n', msg: '2 line(s) removed' },
  { name: 'absent with search_string', before: 'keep\ndrop.me\n', o: { state: 'absent', search_string: '.me' }, after: 'keep\n', msg: '1 line(s) removed' },
  { name: 'absent, nothing matches', before: 'keep\n', o: { state: 'absent', regexp: '^nope' }, after: 'keep\n', msg: '' },
  { name: 'an empty file gets the line', before: '', o: { line: 'first' }, after: 'first\n' },
];

describe('editLines: documented behaviour', () => {
  it.each(edits)('$name', ({ before, o, after, msg }) => {
    const r = editLines(before, { state: 'present', ...o });
    expect(r.content).toBe(after);
    expect(r.changed).toBe(after !== before);
    if (msg !== undefined) expect(r.msg).toBe(msg);
  });
});

// ------------------------------------------------------------------ the module's plans

interface Row {
  name: string;
  args: Record<string, unknown>;
  file: FileState;
  expect: Expect;
  wantDiff?: boolean;
}

const SSHD = 'PermitRootLogin yes\nUseDNS yes\n';

const rows: Row[] = [
  {
    name: 'replace by regexp: one write with the new content and a diff',
    args: { path: '/etc/ssh/sshd_config', regexp: '^PermitRootLogin', line: 'PermitRootLogin no' },
    file: aFile({ text: SSHD, mode: '0600' }),
    expect: {
      changes: ['write: /etc/ssh/sshd_config'],
      content: 'PermitRootLogin no\nUseDNS yes\n',
      diff: [{ before: SSHD, after: 'PermitRootLogin no\nUseDNS yes\n' }],
      result: { msg: 'line replaced' },
    },
  },
  {
    name: 'already there: no change, says why',
    args: { path: '/etc/ssh/sshd_config', regexp: '^UseDNS', line: 'UseDNS yes' },
    file: aFile({ text: SSHD }),
    expect: { noop: /the line is already there in \/etc\/ssh\/sshd_config/, result: { msg: '' } },
  },
  {
    name: 'content fine, mode differs: chmod only, Ansible msg',
    args: { path: '/etc/ssh/sshd_config', line: 'UseDNS yes', mode: '0600' },
    file: aFile({ text: SSHD }),
    expect: { changes: ['exec: chmod 0600 -- /etc/ssh/sshd_config'], result: { msg: 'ownership, perms or SE linux context changed' } },
  },
  {
    name: 'content fine, owner differs: chown only',
    args: { path: '/etc/ssh/sshd_config', line: 'UseDNS yes', owner: 'sshd' },
    file: aFile({ text: SSHD }),
    expect: { changes: ['exec: chown sshd -- /etc/ssh/sshd_config'] },
  },
  {
    name: 'content and mode differ: the write carries the mode, backup and validate',
    args: { path: '/etc/sudoers', line: 'admin ALL=(ALL) ALL', mode: '0440', backup: true, validate: 'visudo -cf %s' },
    file: aFile({ text: 'root ALL=(ALL) ALL\n', mode: '0640' }),
    expect: { changes: ['write: /etc/sudoers mode=0440 backup validate=visudo -cf %s'], content: 'root ALL=(ALL) ALL\nadmin ALL=(ALL) ALL\n', result: { msg: 'line added' } },
  },
  {
    name: 'missing file without create: failure like Ansible (rc 257)',
    args: { path: '/etc/nope.conf', line: 'x' },
    file: absent('/etc/nope.conf'),
    expect: { failure: /^Destination \/etc\/nope\.conf does not exist !$/, result: { rc: 257 } },
  },
  {
    name: 'missing file with create: written as a new file',
    args: { path: '/etc/new.conf', line: 'x', create: true },
    file: absent('/etc/new.conf'),
    expect: { changes: ['write: /etc/new.conf mode=0644'], content: 'x\n' },
  },
  {
    name: 'missing file and directory with create: mkdir first',
    args: { path: '/etc/app/conf.d/new.conf', line: 'x', create: true, mode: '0640' },
    file: absent('/etc/app/conf.d/new.conf', '/etc'),
    expect: { changes: ['exec: mkdir -p -- /etc/app/conf.d', 'write: /etc/app/conf.d/new.conf mode=0640'] },
  },
  {
    name: 'state=absent on a missing file: nothing to do',
    args: { path: '/etc/nope.conf', regexp: '^x', state: 'absent' },
    file: absent('/etc/nope.conf'),
    expect: { noop: /does not exist/, result: { msg: 'file not present' } },
  },
  {
    name: 'state=absent removes matching lines',
    args: { path: '/etc/ssh/sshd_config', regexp: '^UseDNS', state: 'absent' },
    file: aFile({ text: SSHD }),
    expect: { changes: ['write: /etc/ssh/sshd_config'], content: 'PermitRootLogin yes\n', result: { msg: '1 line(s) removed', found: 1 } },
  },
  {
    name: 'state=absent, nothing matches',
    args: { path: '/etc/ssh/sshd_config', regexp: '^Nope', state: 'absent' },
    file: aFile({ text: SSHD }),
    expect: { noop: /no line matches/, result: { found: 0 } },
  },
  {
    name: 'a directory is refused',
    args: { path: '/etc', line: 'x' },
    file: aDir(),
    expect: { failure: /^Path \/etc is a directory !$/ },
  },
  {
    name: 'a link: the file it points to is edited',
    args: { path: '/etc/resolv.conf', line: 'nameserver 10.0.0.1' },
    file: aLink('/run/systemd/resolve/resolv.conf', aFile({ text: 'nameserver 127.0.0.53\n' })),
    expect: { changes: ['write: /run/systemd/resolve/resolv.conf'], content: 'nameserver 127.0.0.53\nnameserver 10.0.0.1\n' },
  },
  {
    name: 'an empty regexp warns like Ansible',
    args: { path: '/f', regexp: '', line: 'z' },
    file: aFile({ text: 'a\n' }),
    expect: { changes: ['write: /f'], content: 'z\n', result: { warnings: ['The regular expression is an empty string, which will match every line in the file. This may have unintended consequences, such as replacing the last line in the file rather than appending.'] } },
  },
  {
    name: 'UTF-8 content and patterns are matched byte-wise and written back unchanged',
    args: { path: '/f', regexp: '^nom=', line: 'nom=Zoë' },
    file: aFile({ text: 'titre=Café\nnom=Zoe\n' }),
    expect: { changes: ['write: /f'], content: 'titre=Café\nnom=Zoë\n' },
  },
];

describe('lineinfile plans', () => {
  it.each(rows)('$name', async (row) => {
    const plan = await planFor(lineinfile, row.args, { file: row.file }, { wantDiff: row.wantDiff ?? true });
    expect(mismatches(plan, row.expect)).toEqual([]);
  });

  it('binary-safe: bytes that are not UTF-8 survive an edit', async () => {
    const before = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]); // "caf\xe9\n" in Latin-1
    const plan = await planFor(lineinfile, { path: '/f', line: 'x' }, { file: aFile({ content: before }) });
    const w = plan.changes[0]!;
    expect(w.kind === 'write' && Buffer.from(w.content)).toEqual(Buffer.concat([before, Buffer.from('x\n')]));
  });
});

describe('lineinfile argument checks', () => {
  it.each([
    [{ path: '/f', regexp: 'x' }, /line is required with state=present/],
    [{ path: '/f', line: 'x', backrefs: true }, /regexp is required with backrefs=true/],
    [{ path: '/f', state: 'absent' }, /one of line, search_string, or regexp is required/],
    [{ path: '/f', line: 'x', insertafter: 'a', insertbefore: 'b' }, /mutually exclusive/],
    [{ path: '/f', line: 'x', regexp: 'a', search_string: 'b' }, /mutually exclusive/],
    [{ path: '/f', line: 'x', search_string: 'b', backrefs: true }, /mutually exclusive/],
    [{ path: '/f', line: 'x', validate: 'visudo -c' }, /validate must contain %s/],
    [{ path: '/f', line: 'x', regexp: '(' }, /invalid regular expression/],
  ])('%j', async (args, message) => {
    await expect(planFor(lineinfile, args, { file: aFile() })).rejects.toThrow(message);
  });

  it('accepts the Ansible aliases (dest, regex, value)', async () => {
    const plan = await planFor(lineinfile, { dest: '/f', regex: '^a', value: 'a=2' }, { file: aFile({ text: 'a=1\n' }) });
    expect(mismatches(plan, { changes: ['write: /f'], content: 'a=2\n' })).toEqual([]);
  });
});
