/**
 * blockinfile: a block of lines between two marker lines, kept up to date
 * (or removed) in a text file.
 *
 * Like lineinfile, the whole file comes from one fact read and the new
 * content from a pure function, `editBlock`, a port of Ansible's: markers
 * are found as whole lines, an existing block is replaced where it is, a new
 * one goes after the last line insertafter matches (or before the last
 * insertbefore match; a `(?m)` pattern is searched in the whole text).
 */
import { ArgError } from './argspec.js';
import { FILE_EDIT_ARGS, editedFileFacts, fromByteString, planEditedFile, pythonRegExp, toByteString } from './lineinfile.js';
import { followed, type PresentFile } from '../facts/file.js';
import { defineModule, type Plan } from './types.js';

export interface BlockEdit {
  state: 'present' | 'absent';
  block: string;
  marker: string;
  marker_begin: string;
  marker_end: string;
  insertafter?: string;
  insertbefore?: string;
  append_newline?: boolean;
  prepend_newline?: boolean;
}

export interface BlockEditResult {
  content: string;
  changed: boolean;
  /** Ansible's msg: 'Block inserted', 'Block removed', 'File created', or '' */
  msg: string;
}

/** Python's bytes.splitlines(True): lines end at \n, \r\n or \r and keep their ending. */
export function splitLinesKeep(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

/**
 * The content blockinfile leaves. `original` is undefined for a file that
 * does not exist yet (create=yes).
 */
export function editBlock(original: string | undefined, o: BlockEdit): BlockEditResult {
  const lines = original === undefined ? [] : splitLinesKeep(original);
  const present = o.state === 'present';
  let insertafter = o.insertafter;
  const insertbefore = o.insertbefore;
  if (insertbefore === undefined && insertafter === undefined) insertafter = 'EOF';

  let insertRe: RegExp | undefined;
  let insertPattern: string | undefined;
  if (insertafter !== undefined && insertafter !== 'EOF') insertPattern = insertafter;
  else if (insertbefore !== undefined && insertbefore !== 'BOF') insertPattern = insertbefore;
  if (insertPattern !== undefined) insertRe = pythonRegExp(insertPattern);
  const multiline = insertPattern !== undefined && /^\(\?[aiLsux]*m[aiLmsux]*\)/.test(insertPattern);

  const marker0 = o.marker.split('{mark}').join(o.marker_begin) + '\n';
  const marker1 = o.marker.split('{mark}').join(o.marker_end) + '\n';
  let blockLines: string[] = [];
  if (present && o.block !== '') {
    const block = o.block.endsWith('\n') ? o.block : o.block + '\n';
    blockLines = [marker0, ...splitLinesKeep(block), marker1];
  }

  let n0: number | undefined;
  let n1: number | undefined;
  // A marker line may end in \r\n (a file edited on Windows), as newer Ansible accepts.
  const lf = (line: string) => (line.endsWith('\r\n') ? line.slice(0, -2) + '\n' : line);
  lines.forEach((line, i) => {
    if (lf(line) === marker0) n0 = i;
    if (lf(line) === marker1) n1 = i;
  });

  if (n0 === undefined || n1 === undefined) {
    n0 = undefined;
    if (insertRe) {
      if (multiline) {
        const text = original ?? '';
        insertRe.lastIndex = 0;
        const m = insertRe.exec(text);
        if (m) {
          const upTo = insertafter !== undefined ? m.index + m[0].length : m.index;
          n0 = text.slice(0, upTo).split('\n').length - 1;
        }
      } else {
        lines.forEach((line, i) => {
          insertRe!.lastIndex = 0;
          if (insertRe!.test(line)) n0 = i;
        });
      }
      if (n0 === undefined) n0 = lines.length;
      else if (insertafter !== undefined) n0 += 1;
    } else if (insertbefore !== undefined) n0 = 0; // BOF
    else n0 = lines.length; // EOF
  } else if (n0 < n1) {
    lines.splice(n0, n1 - n0 + 1);
  } else {
    lines.splice(n1, n0 - n1 + 1);
    n0 = n1;
  }

  // A line separator before the block.
  if (n0 > 0 && n0 <= lines.length && !lines[n0 - 1]!.endsWith('\n')) lines[n0 - 1] += '\n';

  if (o.prepend_newline && present && n0 !== 0 && lines[n0 - 1] !== '\n') {
    lines.splice(n0, 0, '\n');
    n0 += 1;
  }
  lines.splice(n0, 0, ...blockLines);
  if (o.append_newline && present) {
    const after = n0 + blockLines.length;
    if (after < lines.length && lines[after] !== '\n') lines.splice(after, 0, '\n');
  }

  const result = lines.join('');
  if (original === result) return { content: result, changed: false, msg: '' };
  if (original === undefined) return { content: result, changed: true, msg: 'File created' };
  if (blockLines.length === 0) return { content: result, changed: true, msg: 'Block removed' };
  return { content: result, changed: true, msg: 'Block inserted' };
}

export default defineModule({
  name: 'blockinfile',
  collections: ['ansible.builtin'],
  description:
    'Keep a block of lines between marker lines in a text file: inserted once, replaced in place when it changes, removed with state=absent (or an empty block).',
  args: {
    ...FILE_EDIT_ARGS,
    block: { type: 'str', default: '', aliases: ['content'], description: 'The lines to put between the markers. Empty removes the block.' },
    marker: { type: 'str', default: '# {mark} ANSIBLE MANAGED BLOCK', description: '{mark} is replaced by marker_begin/marker_end. Use a comment syntax the file understands.' },
    marker_begin: { type: 'str', default: 'BEGIN', description: '{mark} in the first marker line.' },
    marker_end: { type: 'str', default: 'END', description: '{mark} in the last marker line.' },
    append_newline: { type: 'bool', default: false, description: 'Put an empty line after the block unless one is already there or it ends the file.' },
    prepend_newline: { type: 'bool', default: false, description: 'Put an empty line before the block unless one is already there or it starts the file.' },
  },
  returns: { msg: "'Block inserted', 'Block removed', 'File created', or ''", backup_file: 'the backup, when one was made' },
  example: [
    '- name: Cluster nodes in /etc/hosts',
    '  ansible.builtin.blockinfile:',
    '    path: /etc/hosts',
    '    marker: "# {mark} tsible cluster nodes"',
    '    block: |',
    '      10.0.100.1 cluster1',
    '      10.0.100.2 cluster2',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (args.insertafter !== undefined && args.insertbefore !== undefined) throw new ArgError('insertafter and insertbefore are mutually exclusive', 'insertbefore');
    if (args.validate !== undefined && !args.validate.includes('%s')) throw new ArgError(`validate must contain %s: ${args.validate}`, 'validate');
    if (args.insertafter !== undefined && args.insertafter !== 'EOF') pythonRegExp(args.insertafter);
    if (args.insertbefore !== undefined && args.insertbefore !== 'BOF') pythonRegExp(args.insertbefore);
  },
  facts: (args) => editedFileFacts(args.path),
  plan(args, facts): Plan {
    const st = facts.file!;
    const target = followed(st);
    const path = args.path;
    if (target.exists && target.type === 'directory') return { changes: [], failure: { message: `Path ${path} is a directory !` }, result: { rc: 256 } };
    // Like Ansible, a missing file fails without create even for state=absent.
    if (!target.exists && !args.create) return { changes: [], failure: { message: `Path ${path} does not exist !`, missing: path }, result: { rc: 257 } };
    if (!target.exists && args.state === 'absent') return { changes: [], noopReason: `${path} does not exist`, result: { msg: `File ${path} not present` } };
    const before = target.exists ? (target as PresentFile).content : undefined;
    if (target.exists && before === undefined) return { changes: [], failure: { message: `cannot read ${path}` } };

    const edit = editBlock(before !== undefined ? toByteString(before) : undefined, {
      state: args.state as 'present' | 'absent',
      block: toByteString(args.block),
      marker: toByteString(args.marker),
      marker_begin: toByteString(args.marker_begin),
      marker_end: toByteString(args.marker_end),
      insertafter: args.insertafter !== undefined ? toByteString(args.insertafter) : undefined,
      insertbefore: args.insertbefore !== undefined ? toByteString(args.insertbefore) : undefined,
      append_newline: args.append_newline,
      prepend_newline: args.prepend_newline,
    });
    const plan = planEditedFile({
      path,
      state: st,
      after: edit.changed ? fromByteString(edit.content) : undefined,
      changed: edit.changed,
      msg: edit.msg,
      want: { mode: args.mode, owner: args.owner, group: args.group },
      backup: args.backup,
      validate: args.validate,
      describe: `${edit.msg.toLowerCase() || 'edit'} in ${path}`,
    });
    const result = { msg: plan.msg };
    if (plan.changes.length === 0) {
      const why = args.state === 'absent' || args.block === '' ? `${path} has no block marked "${args.marker}"` : `the block in ${path} is up to date`;
      return { changes: [], noopReason: why, result };
    }
    return { changes: plan.changes, diff: plan.diff, result };
  },
});
