import { describe, expect, it } from 'vitest';
import template, { withNewlines } from '../../src/modules/template.js';
import { sha1 } from '../../src/modules/copy.js';
import type { FileState } from '../../src/facts/file.js';
import { aDir, aFile, absent, mismatches, planFor, requestsFor, type Expect } from './context.js';

const EXPORTS = '# managed by tsible\n/home cluster2(rw,sync,no_subtree_check)\n/home cluster3(rw,sync,no_subtree_check)\n';
const TEMPLATES = { 'exports.j2': EXPORTS, 'haproxy.cfg.j2': 'global\n  daemon\n' };

interface Row {
  name: string;
  args: Record<string, unknown>;
  facts: { dest: FileState; inside?: FileState };
  wantDiff?: boolean;
  expect: Expect;
}

const rows: Row[] = [
  {
    name: 'rendered content already there: no change',
    args: { src: 'exports.j2', dest: '/etc/exports', mode: '0644' },
    facts: { dest: aFile({ text: EXPORTS }) },
    expect: { noop: /has the same content/, result: { dest: '/etc/exports', src: 'exports.j2', checksum: sha1(EXPORTS), state: 'file' } },
  },
  {
    name: 'absent: written with its mode, validate on the temp file',
    args: { src: 'exports.j2', dest: '/etc/exports', mode: '0644', validate: 'grep -q cluster3 %s' },
    facts: { dest: absent('/etc/exports') },
    expect: { changes: ['write: /etc/exports mode=0644 validate=grep -q cluster3 %s'], content: EXPORTS },
  },
  {
    name: 'differs: write and diff (header names the template)',
    args: { src: 'exports.j2', dest: '/etc/exports' },
    facts: { dest: aFile({ text: '# old\n' }) },
    wantDiff: true,
    expect: { changes: ['write: /etc/exports'], diff: [{ before: '# old\n', after: EXPORTS }] },
  },
  {
    name: 'mode-only: chmod',
    args: { src: 'exports.j2', dest: '/etc/exports', mode: '0600' },
    facts: { dest: aFile({ text: EXPORTS }) },
    expect: { changes: ['exec: chmod 0600 -- /etc/exports'] },
  },
  {
    name: 'group-only: chown :group',
    args: { src: 'haproxy.cfg.j2', dest: '/etc/haproxy/haproxy.cfg', group: 'haproxy' },
    facts: { dest: aFile({ text: 'global\n  daemon\n' }) },
    expect: { changes: ['exec: chown :haproxy -- /etc/haproxy/haproxy.cfg'] },
  },
  {
    name: 'newline_sequence \\r\\n: the written file has CRLF',
    args: { src: 'haproxy.cfg.j2', dest: '/srv/win.cfg', newline_sequence: '\\r\\n' },
    facts: { dest: absent('/srv/win.cfg') },
    expect: { content: 'global\r\n  daemon\r\n' },
  },
  {
    name: 'dest is a directory: the template\'s own name inside it (like Ansible, .j2 included)',
    args: { src: 'exports.j2', dest: '/srv/' },
    facts: { dest: aDir(), inside: absent('/srv/exports.j2') },
    expect: { changes: ['write: /srv/exports.j2 mode=0644'] },
  },
  {
    name: 'force=no keeps an existing file',
    args: { src: 'exports.j2', dest: '/etc/exports', force: false },
    facts: { dest: aFile({ text: 'mine\n' }) },
    expect: { noop: /force=no/ },
  },
  {
    name: 'lstrip_blocks=yes is accepted with a warning',
    args: { src: 'exports.j2', dest: '/etc/exports', lstrip_blocks: true },
    facts: { dest: aFile({ text: EXPORTS }) },
    expect: { noop: true, result: { warnings: ['lstrip_blocks=yes is not supported: the template was rendered without it'] } },
  },
];

describe('template plans', () => {
  it.each(rows)('$name', async (row) => {
    const plan = await planFor(template, row.args, row.facts, { templates: TEMPLATES, wantDiff: row.wantDiff ?? false });
    expect(mismatches(plan, row.expect)).toEqual([]);
  });

  it('the diff header names the template source', async () => {
    const plan = await planFor(template, { src: 'exports.j2', dest: '/etc/exports' }, { dest: aFile({ text: 'x\n' }) }, { templates: TEMPLATES, wantDiff: true });
    expect(plan.diff?.[0]).toMatchObject({ beforeHeader: '/etc/exports (content)', afterHeader: 'exports.j2' });
  });

  it('asks for dest and dest/<template name> in one batch, with content only for --diff', () => {
    expect(requestsFor(template, { src: 'exports.j2', dest: '/etc/exports' }, { wantDiff: true })).toEqual({
      dest: ['file_state', { path: '/etc/exports', follow: true, checksum: 'sha1', content: 256 * 1024 }],
      inside: ['file_state', { path: '/etc/exports/exports.j2', follow: true, checksum: 'sha1', content: 256 * 1024 }],
    });
  });

  it('refuses a validate without %s', async () => {
    await expect(planFor(template, { src: 'exports.j2', dest: '/x', validate: 'true' }, {}, { templates: TEMPLATES })).rejects.toThrow(/%s/);
  });
});

describe('withNewlines', () => {
  it.each([
    ['a\nb\n', '\\n', 'a\nb\n'],
    ['a\nb\n', '\\r\\n', 'a\r\nb\r\n'],
    ['a\r\nb\n', '\\r', 'a\rb\r'],
  ])('%j with %s', (text, seq, out) => expect(withNewlines(text, seq)).toBe(out));
});
