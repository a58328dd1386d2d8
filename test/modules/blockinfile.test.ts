import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import blockinfile, { editBlock, splitLinesKeep, type BlockEdit } from '../../src/modules/blockinfile.js';
import { aDir, aFile, aLink, absent, mismatches, planFor, type Expect } from './context.js';
import type { FileState } from '../../src/facts/file.js';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const DEFAULTS: BlockEdit = { state: 'present', block: '', marker: '# {mark} ANSIBLE MANAGED BLOCK', marker_begin: 'BEGIN', marker_end: 'END' };

describe('splitLinesKeep (bytes.splitlines(True))', () => {
  it.each([
    ['', []],
    ['a', ['a']],
    ['a\nb\r\nc\rd', ['a\n', 'b\r\n', 'c\r', 'd']],
    ['\n\n', ['\n', '\n']],
  ])('%j', (text, lines) => expect(splitLinesKeep(text)).toEqual(lines));
});

// ------------------------------------------------------------------ Ansible's integration tests, step by step

type Step = [Partial<BlockEdit>, { changed: boolean; msg?: string; sha1?: string }];

const L3 = 'line1\nline2\nline3\n';
const LISTENER_ORA = `LISTENER=(DESCRIPTION=(ADDRESS_LIST=(ADDRESS=(PROTOCOL=IPC)(KEY=LISTENER)))) # line added by Agent
ENABLE_GLOBAL_DYNAMIC_ENDPOINT_LISTENER=ON                                   # line added by Agent

SID_LIST_LISTENER_DG =
    (SID_LIST =
        (SID_DESC =
            (GLOBAL_DBNAME = DB01_DG)
            (ORACLE_HOME = /u01/app/oracle/product/12.1.0.1/db_1)
            (SID_NAME = DB011)
        )
    )

SID_LIST_LISTENER =
    (SID_LIST =
        (SID_DESC =
            (GLOBAL_DBNAME = DB02)
            (ORACLE_HOME = /u01/app/oracle/product/12.1.0.1/db_1)
            (SID_NAME = DB021)
        )
    )
`;
// listener_line | indent(width=8, first=True)
const LISTENER_BLOCK = ['(SID_DESC =', '  (GLOBAL_DBNAME = DB03', '  (ORACLE_HOME = /u01/app/oracle/product/12.1.0.1/db_1)', '  (SID_NAME = DB031)', ')'].map((l) => '        ' + l).join('\n') + '\n';
const ORA_MARKER = '    <!-- {mark} ANSIBLE MANAGED BLOCK -->';

/** From ansible/ansible test/integration/targets/blockinfile/tasks/*.yml, with the SHA-1s Ansible asserts. */
const chains: { name: string; start: string | undefined; steps: Step[] }[] = [
  {
    name: 'insertafter.yml',
    start: L3,
    steps: [
      [{ insertafter: 'line2', block: 'block1\nblock2\n' }, { changed: true, msg: 'Block inserted', sha1: 'a8adeb971358230a28ce554f3b8fdd1ef65fdf1c' }],
      [{ insertafter: 'line2', block: 'block1\nblock2\n' }, { changed: false }],
    ],
  },
  {
    name: 'insertbefore.yml',
    start: L3,
    steps: [
      [{ insertbefore: 'line2', block: 'block1\nblock2\n' }, { changed: true, sha1: '16681d1d7f29d173243bb951d6afb9c0824d7bf4' }],
      [{ insertbefore: 'line2', block: 'block1\nblock2\n' }, { changed: false }],
    ],
  },
  {
    name: 'prepend_newline.yml',
    start: L3,
    steps: [
      [{ prepend_newline: true, insertbefore: 'line1', block: 'line0.5\n' }, { changed: true, sha1: 'bfd32c880bbfadd1983c67836c46bf8ed9d50343' }],
      [{ prepend_newline: true, marker: '#{mark} WRAPPED TEXT', insertafter: 'line1', block: 'line1.5\n' }, { changed: true, sha1: 'd5b8b42690f4a38b9a040adc3240a6f81ad5f8ee' }],
      [{ prepend_newline: true, marker: '#{mark} WRAPPED TEXT', insertafter: 'line1', block: 'line1.5\n' }, { changed: false }],
      [{ marker: '#{mark} UNWRAPPED TEXT', insertafter: 'line3', block: 'line3.5\n' }, { changed: true, sha1: 'ad06200e7ee5b22b7eff4c57075b42d038eaffb6' }],
      [{ prepend_newline: true, marker: '#{mark} UNWRAPPED TEXT', insertafter: 'line3', block: 'line3.5\n' }, { changed: true, sha1: 'f2dd48160fb3c7c8e02d292666a1a3f08503f6bf' }],
      [{ prepend_newline: true, marker: '#{mark} UNWRAPPED TEXT', state: 'absent' }, { changed: true, msg: 'Block removed', sha1: 'c97c3da7d607acfd5d786fbb81f3d93d867c914a' }],
    ],
  },
  {
    name: 'append_newline.yml (no blank line added at the end of the file)',
    start: L3,
    steps: [
      [{ append_newline: true, insertafter: 'line1', block: 'line1.5\n' }, { changed: true, sha1: '525ffd613a0b0eb6675e506226dc2adedf621f34' }],
      [{ append_newline: true, insertafter: 'line1', block: 'line1.5\n' }, { changed: false }],
      [{ marker: '#{mark} UNWRAPPED TEXT', insertafter: 'line2', block: 'line2.5\n' }, { changed: true, sha1: 'd5f5ed1428af50b5484a5184dc7e1afda1736646' }],
      [{ append_newline: true, marker: '#{mark} UNWRAPPED TEXT', insertafter: 'line2', block: 'line2.5\n' }, { changed: true, sha1: 'b09dd16be73a0077027d5a324294db8a75a7b0f9' }],
      [{ append_newline: true, marker: '#{mark} END OF FILE TEXT', insertafter: 'line3', block: 'line3.5\n' }, { changed: true, sha1: '9b90722b84d9bdda1be781cc4bd44d8979887691' }],
      [{ append_newline: true, marker: '#{mark} UNWRAPPED TEXT', state: 'absent' }, { changed: true, sha1: '9a40d4c0969255cd6147537b38309d69a9b10049' }],
    ],
  },
  {
    name: 'file_without_trailing_newline.yml',
    start: '# File with no newline',
    steps: [
      [{ block: 'one\ntwo\nthree\n' }, { changed: true, sha1: 'dab16f864025e59125e74d1498ffb2bb048224e6' }],
      [{ block: 'one\ntwo\nthree\n' }, { changed: false }],
    ],
  },
  {
    name: 'block_without_trailing_newline.yml (create)',
    start: undefined,
    steps: [
      [{ block: 'one\ntwo\nthree' }, { changed: true, msg: 'File created', sha1: '50d49f528a5f7147c7029ed6220c326b1ee2c4ae' }],
      [{ block: 'one\ntwo\nthree' }, { changed: false }],
    ],
  },
  {
    name: 'insert_wrapping_with_blank_lines.yml: removing the only block leaves an empty file',
    start: undefined,
    steps: [
      [{ block: 'Content from block (without blank lines wrapping)\n' }, { changed: true, sha1: '66ca3e896cae76e64e3fe4f03b42fb0e7a8093be' }],
      [{ state: 'absent', block: 'Content from block (without blank lines wrapping)\n' }, { changed: true, sha1: 'da39a3ee5e6b4b0d3255bfef95601890afd80709' }],
    ],
  },
  {
    name: 'multiline search: (?m) insertafter searches the whole text',
    start: LISTENER_ORA,
    steps: [
      [{ block: LISTENER_BLOCK, insertafter: '(?m)SID_LIST_LISTENER_DG =\\n.*\\(SID_LIST =', marker: ORA_MARKER }, { changed: true, sha1: 'c4485ff5b324f801f99c5ae4425c755ea2e06ed6' }],
      [{ block: LISTENER_BLOCK, insertafter: '(?m)SID_LIST_LISTENER_DG =\\n.*\\(SID_LIST =', marker: ORA_MARKER }, { changed: false }],
      [{ block: LISTENER_BLOCK, insertafter: 'SID_LIST_LISTENER_DG =\\n.*\\(SID_LIST =', marker: ORA_MARKER }, { changed: false }],
    ],
  },
];

describe("editBlock reproduces Ansible's integration tests", () => {
  it.each(chains)('$name', ({ start, steps }) => {
    let content = start;
    steps.forEach(([o, want], i) => {
      const r = editBlock(content, { ...DEFAULTS, ...o });
      expect(r.changed, `step ${i}: ${JSON.stringify(o)}`).toBe(want.changed);
      if (want.msg) expect(r.msg).toBe(want.msg);
      content = r.content;
      if (want.sha1) expect(sha1(content), `step ${i}: ${JSON.stringify(content)}`).toBe(want.sha1);
    });
  });

  it('crlf_markers.yml: CRLF marker lines are recognised; the lines around keep their CRLF', () => {
    const original = 'before\r\n# BEGIN ANSIBLE MANAGED BLOCK\r\nold\r\n# END ANSIBLE MANAGED BLOCK\r\nafter\r\n';
    const updated = 'before\r\n# BEGIN ANSIBLE MANAGED BLOCK\nnew\n# END ANSIBLE MANAGED BLOCK\nafter\r\n';
    expect(editBlock(original, { ...DEFAULTS, block: 'new' })).toEqual({ content: updated, changed: true, msg: 'Block inserted' });
    expect(editBlock(updated, { ...DEFAULTS, block: 'new' }).changed).toBe(false);
    expect(editBlock(original, { ...DEFAULTS, state: 'absent' }).content).toBe('before\r\nafter\r\n');
  });

  it('preserve_line_endings.yml: a CRLF block keeps its CRLFs', () => {
    const before = 'unix\nunix\nunix\n\ndos\r\ndos\r\ndos\r\n\nunix\nunix\n# BEGIN ANSIBLE MANAGED BLOCK\ndos\r\n# END ANSIBLE MANAGED BLOCK\nunix\nunix\nunix\nunix\n';
    const r = editBlock(before, { ...DEFAULTS, block: 'dos\r\ndos\r\ndos\r\n' });
    expect(r.msg).toBe('Block inserted');
    expect(splitLinesKeep(r.content).filter((l) => l === 'dos\r\n')).toHaveLength(6);
  });
});

// ------------------------------------------------------------------ documented behaviours

const HOSTS = '127.0.0.1 localhost\n';
const BLOCK = '10.0.100.1 cluster1\n10.0.100.2 cluster2\n';
const MANAGED = `# BEGIN ANSIBLE MANAGED BLOCK\n${BLOCK}# END ANSIBLE MANAGED BLOCK\n`;

const edits: { name: string; before: string | undefined; o: Partial<BlockEdit>; after: string; msg: string }[] = [
  { name: 'new block at EOF', before: HOSTS, o: { block: BLOCK }, after: HOSTS + MANAGED, msg: 'Block inserted' },
  { name: 'same block: unchanged', before: HOSTS + MANAGED, o: { block: BLOCK }, after: HOSTS + MANAGED, msg: '' },
  {
    name: 'changed block: replaced where it is',
    before: `a\n${MANAGED}z\n`,
    o: { block: '10.0.100.3 cluster3\n' },
    after: 'a\n# BEGIN ANSIBLE MANAGED BLOCK\n10.0.100.3 cluster3\n# END ANSIBLE MANAGED BLOCK\nz\n',
    msg: 'Block inserted',
  },
  { name: 'existing block ignores insertbefore', before: `a\n${MANAGED}z\n`, o: { block: BLOCK, insertbefore: 'BOF' }, after: `a\n${MANAGED}z\n`, msg: '' },
  { name: 'insertbefore=BOF', before: HOSTS, o: { block: BLOCK, insertbefore: 'BOF' }, after: MANAGED + HOSTS, msg: 'Block inserted' },
  { name: 'insertafter regex: after its last match', before: 'a\nx\na\nx\n', o: { block: 'b\n', insertafter: '^a' }, after: 'a\nx\na\n# BEGIN ANSIBLE MANAGED BLOCK\nb\n# END ANSIBLE MANAGED BLOCK\nx\n', msg: 'Block inserted' },
  { name: 'insertafter regex without a match: EOF', before: 'a\n', o: { block: 'b\n', insertafter: '^nope' }, after: 'a\n# BEGIN ANSIBLE MANAGED BLOCK\nb\n# END ANSIBLE MANAGED BLOCK\n', msg: 'Block inserted' },
  { name: 'state=absent removes markers and content', before: `a\n${MANAGED}z\n`, o: { state: 'absent' }, after: 'a\nz\n', msg: 'Block removed' },
  { name: 'an empty block removes too', before: `a\n${MANAGED}z\n`, o: { block: '' }, after: 'a\nz\n', msg: 'Block removed' },
  { name: 'state=absent without a block: unchanged', before: 'a\n', o: { state: 'absent' }, after: 'a\n', msg: '' },
  {
    name: 'custom marker and marker_begin/marker_end',
    before: '<x/>\n',
    o: { block: '<y/>\n', marker: '<!-- {mark} tsible -->', marker_begin: 'start', marker_end: 'stop' },
    after: '<x/>\n<!-- start tsible -->\n<y/>\n<!-- stop tsible -->\n',
    msg: 'Block inserted',
  },
  { name: 'only a begin marker: a new block is added (the lone marker stays)', before: '# BEGIN ANSIBLE MANAGED BLOCK\nold\n', o: { block: 'b\n' }, after: '# BEGIN ANSIBLE MANAGED BLOCK\nold\n# BEGIN ANSIBLE MANAGED BLOCK\nb\n# END ANSIBLE MANAGED BLOCK\n', msg: 'Block inserted' },
  { name: 'markers in reverse order: the span between them is replaced', before: 'a\n# END ANSIBLE MANAGED BLOCK\nmid\n# BEGIN ANSIBLE MANAGED BLOCK\nz\n', o: { block: 'b\n' }, after: 'a\n# BEGIN ANSIBLE MANAGED BLOCK\nb\n# END ANSIBLE MANAGED BLOCK\nz\n', msg: 'Block inserted' },
  { name: 'a new file (create=yes)', before: undefined, o: { block: 'b\n' }, after: '# BEGIN ANSIBLE MANAGED BLOCK\nb\n# END ANSIBLE MANAGED BLOCK\n', msg: 'File created' },
  { name: 'prepend_newline at the start of the file adds nothing', before: 'a\n', o: { block: 'b\n', insertbefore: 'BOF', prepend_newline: true }, after: '# BEGIN ANSIBLE MANAGED BLOCK\nb\n# END ANSIBLE MANAGED BLOCK\na\n', msg: 'Block inserted' },
  { name: 'append_newline before a blank line adds nothing', before: 'a\n\nz\n', o: { block: 'b\n', insertafter: '^a', append_newline: true }, after: 'a\n# BEGIN ANSIBLE MANAGED BLOCK\nb\n# END ANSIBLE MANAGED BLOCK\n\nz\n', msg: 'Block inserted' },
];

describe('editBlock: documented behaviour', () => {
  it.each(edits)('$name', ({ before, o, after, msg }) => {
    const r = editBlock(before, { ...DEFAULTS, ...o });
    expect(r.content).toBe(after);
    expect(r.msg).toBe(msg);
    expect(r.changed).toBe(msg !== '');
  });
});

// ------------------------------------------------------------------ the module's plans

interface Row {
  name: string;
  args: Record<string, unknown>;
  file: FileState;
  expect: Expect;
}

const rows: Row[] = [
  {
    name: 'the e2e scenario: cluster hosts after localhost',
    args: { path: '/etc/hosts', block: BLOCK },
    file: aFile({ text: HOSTS }),
    expect: { changes: ['write: /etc/hosts'], content: HOSTS + MANAGED, diff: [{ before: HOSTS, after: HOSTS + MANAGED }], result: { msg: 'Block inserted' } },
  },
  {
    name: 'second run: no change',
    args: { path: '/etc/hosts', block: BLOCK },
    file: aFile({ text: HOSTS + MANAGED }),
    expect: { noop: /the block in \/etc\/hosts is up to date/ },
  },
  {
    name: 'block fine, mode differs: chmod only',
    args: { path: '/etc/hosts', block: BLOCK, mode: '0600' },
    file: aFile({ text: HOSTS + MANAGED }),
    expect: { changes: ['exec: chmod 0600 -- /etc/hosts'], result: { msg: 'ownership, perms or SE linux context changed' } },
  },
  {
    name: 'block changes and owner too: one write that carries the owner',
    args: { path: '/etc/hosts', block: '10.0.0.9 x\n', owner: 'root', group: 'adm', backup: true },
    file: aFile({ text: HOSTS + MANAGED }),
    expect: { changes: ['write: /etc/hosts owner=root group=adm backup'] },
  },
  {
    name: 'missing file without create fails (even for state=absent, like Ansible)',
    args: { path: '/etc/nope', state: 'absent' },
    file: absent('/etc/nope'),
    expect: { failure: /^Path \/etc\/nope does not exist !$/, result: { rc: 257 } },
  },
  {
    name: 'missing file with create',
    args: { path: '/etc/exports', block: '/home *(rw)\n', create: true, mode: '0644' },
    file: absent('/etc/exports'),
    expect: { changes: ['write: /etc/exports mode=0644'], content: '# BEGIN ANSIBLE MANAGED BLOCK\n/home *(rw)\n# END ANSIBLE MANAGED BLOCK\n', result: { msg: 'File created' } },
  },
  {
    name: 'missing file with create and state=absent: nothing to do',
    args: { path: '/etc/exports', state: 'absent', create: true },
    file: absent('/etc/exports'),
    expect: { noop: /does not exist/ },
  },
  {
    name: 'state=absent removes the block',
    args: { path: '/etc/hosts', state: 'absent' },
    file: aFile({ text: HOSTS + MANAGED }),
    expect: { changes: ['write: /etc/hosts'], content: HOSTS, result: { msg: 'Block removed' } },
  },
  {
    name: 'state=absent, no block there',
    args: { path: '/etc/hosts', state: 'absent' },
    file: aFile({ text: HOSTS }),
    expect: { noop: /has no block marked/ },
  },
  {
    name: 'a directory is refused',
    args: { path: '/etc', block: 'x' },
    file: aDir(),
    expect: { failure: /^Path \/etc is a directory !$/ },
  },
  {
    name: 'through a link the real file is written',
    args: { path: '/etc/hosts', block: BLOCK },
    file: aLink('/srv/hosts', aFile({ text: HOSTS })),
    expect: { changes: ['write: /srv/hosts'], content: HOSTS + MANAGED },
  },
  {
    name: 'content alias and validate',
    args: { path: '/etc/hosts', content: BLOCK, validate: 'test -s %s' },
    file: aFile({ text: HOSTS }),
    expect: { changes: ['write: /etc/hosts validate=test -s %s'] },
  },
];

describe('blockinfile plans', () => {
  it.each(rows)('$name', async (row) => {
    const plan = await planFor(blockinfile, row.args, { file: row.file }, { wantDiff: true });
    expect(mismatches(plan, row.expect)).toEqual([]);
  });

  it.each([
    [{ path: '/f', insertafter: 'a', insertbefore: 'b' }, /mutually exclusive/],
    [{ path: '/f', validate: 'true' }, /validate must contain %s/],
    [{ path: '/f', insertafter: '[' }, /invalid regular expression/],
  ])('refuses %j', async (args, message) => {
    await expect(planFor(blockinfile, args, { file: aFile() })).rejects.toThrow(message);
  });
});
