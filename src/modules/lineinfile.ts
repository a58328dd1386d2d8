/**
 * lineinfile: one line present in (or absent from) a text file.
 *
 * The whole file is read by the fact (base64, one read); the new content is
 * computed here by `editLines`, a line-by-line port of Ansible's algorithm
 * (including its quirks: the last regexp match is replaced unless
 * firstmatch, an exact copy of the line anywhere stops an insert, backrefs
 * without a match changes nothing), and written back in one `write`.
 *
 * Regular expressions are Python's: `pythonRegExp` translates the syntax
 * that differs (named groups, `$` before a final newline, `.` and `\s`,
 * inline flags), and matching runs on the file's bytes (one character per
 * byte), as Ansible's matching on bytes does.
 */
import { posix } from 'node:path';
import { sh } from '../util/shell.js';
import { factRequest, type FactRequest } from '../facts/types.js';
import { fileStateFact, followed, type FileState, type PresentFile } from '../facts/file.js';
import { ArgError } from './argspec.js';
import { attributeChanges, contentChanges, diffText, type WantedAttrs } from './file.js';
import { defineModule, type Change, type FileDiff, type Plan } from './types.js';

// ------------------------------------------------------------------ Python regular expressions

/**
 * A Python `re` pattern as a JavaScript RegExp with the same meaning on
 * single-byte text: `(?P<n>…)`/`(?P=n)`, `\A`/`\Z`, a leading `(?imsx)`,
 * `$` that also matches before a final newline, `.` and `\s` that follow
 * Python's (ASCII) definitions, `{,n}`, and a `]` first in a class.
 */
export function pythonRegExp(pattern: string): RegExp {
  let src = pattern;
  const flags = new Set<string>();
  const lead = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (lead) {
    for (const f of lead[1]!) flags.add(f);
    src = src.slice(lead[0].length);
  }
  const multiline = flags.has('m');
  const dotall = flags.has('s');
  const verbose = flags.has('x');
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1] ?? '';
      i += 2;
      if (n === 'A') out += '(?<![\\s\\S])';
      else if (n === 'Z') out += '(?![\\s\\S])';
      else if (n === 's') out += '[ \\t\\n\\r\\f\\v]';
      else if (n === 'S') out += '[^ \\t\\n\\r\\f\\v]';
      else out += '\\' + n;
      continue;
    }
    if (c === '[') {
      // Copy a character class as it is, minding escapes and a leading ].
      let j = i + 1;
      let cls = '[';
      if (src[j] === '^') {
        cls += '^';
        j++;
      }
      if (src[j] === ']') {
        cls += '\\]';
        j++;
      }
      while (j < src.length && src[j] !== ']') {
        if (src[j] === '\\') {
          cls += src.slice(j, j + 2);
          j += 2;
        } else if (src[j] === '[') {
          cls += '\\[';
          j++;
        } else cls += src[j++];
      }
      if (j >= src.length) throw new ArgError(`invalid regular expression ${JSON.stringify(pattern)}: unterminated character set`);
      out += cls + ']';
      i = j + 1;
      continue;
    }
    if (verbose && /\s/.test(c)) {
      i++;
      continue;
    }
    if (verbose && c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (src.startsWith('(?P<', i)) {
      out += '(?<';
      i += 4;
      continue;
    }
    if (src.startsWith('(?P=', i)) {
      const end = src.indexOf(')', i);
      out += `\\k<${src.slice(i + 4, end)}>`;
      i = end + 1;
      continue;
    }
    if (src.startsWith('{,', i)) {
      out += '{0,';
      i += 2;
      continue;
    }
    if (c === '.') out += dotall ? '[\\s\\S]' : '[^\\n]';
    else if (c === '$') out += multiline ? '(?![^\\n])' : '(?=\\n?(?![\\s\\S]))';
    else if (c === '^') out += multiline ? '(?<![^\\n])' : '^';
    else out += c;
    i++;
  }
  try {
    return new RegExp(out, flags.has('i') ? 'i' : '');
  } catch (err) {
    throw new ArgError(`invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}

const TEMPLATE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };

/** Python's Match.expand(): `\1`, `\g<1>`, `\g<name>` and the usual escapes; an unmatched group is empty. */
export function expandTemplate(template: string, m: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '\\' || i + 1 >= template.length) {
      out += c;
      continue;
    }
    const n = template[i + 1]!;
    if (n === 'g') {
      const g = /^<([^>]+)>/.exec(template.slice(i + 2));
      if (!g) throw new ArgError(`bad group reference in ${JSON.stringify(template)}`, 'line');
      const ref = g[1]!;
      const v = /^\d+$/.test(ref) ? m[Number(ref)] : m.groups?.[ref];
      if (!/^\d+$/.test(ref) && !(m.groups && ref in m.groups)) throw new ArgError(`unknown group name ${JSON.stringify(ref)} in line`, 'line');
      if (/^\d+$/.test(ref) && Number(ref) >= m.length) throw new ArgError(`invalid group reference ${ref} in line`, 'line');
      out += v ?? '';
      i += 1 + g[0].length;
      continue;
    }
    const digits = /^[0-9]{1,3}/.exec(template.slice(i + 1))?.[0];
    if (digits !== undefined) {
      if (/^[0-7]{3}$/.test(digits) || digits[0] === '0') {
        // octal escape (\0, \012)
        const oct = /^0[0-7]{0,2}|^[0-7]{3}/.exec(digits)![0];
        out += String.fromCharCode(parseInt(oct, 8));
        i += oct.length;
        continue;
      }
      const ref = digits.length >= 2 && Number(digits.slice(0, 2)) < m.length ? digits.slice(0, 2) : digits[0]!;
      if (Number(ref) >= m.length) throw new ArgError(`invalid group reference ${ref} in line`, 'line');
      out += m[Number(ref)] ?? '';
      i += ref.length;
      continue;
    }
    if (n in TEMPLATE_ESCAPES) {
      out += TEMPLATE_ESCAPES[n];
      i++;
      continue;
    }
    if (/[A-Za-z]/.test(n)) throw new ArgError(`bad escape \\${n} in line`, 'line');
    out += '\\' + n;
    i++;
  }
  return out;
}

// ------------------------------------------------------------------ the edit

/** Python's readlines(): each line keeps its "\n"; a last line without one is a line too. */
export function splitLines(content: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = content.indexOf('\n'); i !== -1; i = content.indexOf('\n', start)) {
    lines.push(content.slice(start, i + 1));
    start = i + 1;
  }
  if (start < content.length) lines.push(content.slice(start));
  return lines;
}

const rstripNewlines = (s: string): string => s.replace(/[\r\n]+$/, '');

export interface LineEdit {
  state: 'present' | 'absent';
  line?: string;
  regexp?: string;
  search_string?: string;
  insertafter?: string;
  insertbefore?: string;
  backrefs?: boolean;
  firstmatch?: boolean;
}

export interface LineEditResult {
  content: string;
  changed: boolean;
  /** Ansible's msg: 'line added', 'line replaced', 'N line(s) removed', or '' */
  msg: string;
  /** state=absent: how many lines were removed */
  found?: number;
  /** why nothing changed */
  reason?: string;
}

function search(re: RegExp, s: string): RegExpExecArray | null {
  re.lastIndex = 0;
  return re.exec(s);
}

/**
 * The content lineinfile leaves, from the content there is (Ansible's
 * present()/absent(), step by step). Lines keep their own line endings;
 * new lines end in "\n".
 */
export function editLines(content: string, o: LineEdit): LineEditResult {
  const lines = splitLines(content);
  const line = o.line ?? '';
  const re = o.regexp !== undefined ? pythonRegExp(o.regexp) : undefined;

  if (o.state === 'absent') {
    let found = 0;
    const kept = lines.filter((cur) => {
      const hit = re ? search(re, cur) !== null : o.search_string !== undefined ? cur.includes(o.search_string) : line === rstripNewlines(cur);
      if (hit) found++;
      return !hit;
    });
    return found > 0 ? { content: kept.join(''), changed: true, msg: `${found} line(s) removed`, found } : { content, changed: false, msg: '', found, reason: 'no line matches' };
  }

  // Neither insertafter nor insertbefore means insertafter=EOF.
  const insertafter = o.insertafter === undefined && o.insertbefore === undefined ? 'EOF' : o.insertafter;
  const insertbefore = o.insertbefore;
  let insRe: RegExp | undefined;
  if (insertafter !== undefined && insertafter !== 'BOF' && insertafter !== 'EOF') insRe = pythonRegExp(insertafter);
  else if (insertbefore !== undefined && insertbefore !== 'BOF') insRe = pythonRegExp(insertbefore);

  // index[0]: the line regexp/search_string/the exact line was found at; index[1]: where insertafter/insertbefore points.
  let found = -1;
  let insertAt = -1;
  let match: RegExpExecArray | true | undefined;
  if (re) {
    for (let i = 0; i < lines.length; i++) {
      const m = search(re, lines[i]!);
      if (m) {
        found = i;
        match = m;
        if (o.firstmatch) break;
      }
    }
  }
  if (o.search_string !== undefined) {
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.includes(o.search_string)) {
        found = i;
        match = true;
        if (o.firstmatch) break;
      }
    }
  }
  if (!match) {
    for (let i = 0; i < lines.length; i++) {
      const cur = lines[i]!;
      if (line === rstripNewlines(cur)) found = i;
      else if (insRe && search(insRe, cur)) {
        insertAt = insertafter !== undefined ? i + 1 : i;
        if (o.firstmatch) break;
      }
    }
  }

  const added = (): LineEditResult => ({ content: lines.join(''), changed: true, msg: 'line added' });
  const unchanged = (reason: string): LineEditResult => ({ content, changed: false, msg: '', reason });
  // A file whose last line has no newline gets one before anything is added after it.
  const terminateLast = () => {
    const last = lines.length - 1;
    if (last >= 0 && !/[\r\n]$/.test(lines[last]!)) lines[last] += '\n';
  };

  if (found !== -1) {
    let newLine = o.backrefs && match && match !== true ? expandTemplate(line, match) : line;
    if (!newLine.endsWith('\n')) newLine += '\n';
    if (lines[found] === newLine) return unchanged('the line is already there');
    lines[found] = newLine;
    return { content: lines.join(''), changed: true, msg: 'line replaced' };
  }
  // backrefs without a match: generating the line is unsafe, so nothing happens.
  if (o.backrefs) return unchanged('regexp matches no line (backrefs: the line is not added)');
  if (insertbefore === 'BOF' || insertafter === 'BOF') {
    lines.unshift(line + '\n');
    return added();
  }
  if (insertafter === 'EOF' || insertAt === -1) {
    terminateLast();
    lines.push(line + '\n');
    return added();
  }
  if (insertafter !== undefined) {
    // Don't insert the line if it is already right there.
    if (insertAt === lines.length) {
      if (rstripNewlines(lines[insertAt - 1]!) === line) return unchanged('the line is already there');
      terminateLast();
      lines.push(line + '\n');
      return added();
    }
    if (rstripNewlines(lines[insertAt]!) === line) return unchanged('the line is already there');
    lines.splice(insertAt, 0, line + '\n');
    return added();
  }
  lines.splice(insertAt, 0, line + '\n');
  return added();
}

// ------------------------------------------------------------------ shared by lineinfile and blockinfile

/** Text as one character per byte (what Python's bytes regexes see) and back. */
export const toByteString = (s: string | Buffer): string => (Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8')).toString('latin1');
export const fromByteString = (s: string): Buffer => Buffer.from(s, 'latin1');

export interface EditedFile {
  /** the path as given */
  path: string;
  /** the fact's (unfollowed) state of the path */
  state: FileState;
  /** the new content, or undefined when the file is left alone */
  after: Buffer | undefined;
  changed: boolean;
  msg: string;
  want: WantedAttrs;
  backup: boolean;
  validate?: string;
  describe: string;
}

/**
 * The changes for an edited text file, for lineinfile and blockinfile: the
 * write goes to the link's target (Ansible edits the real file), missing
 * parent directories are created first (create=yes), and attributes are
 * fixed with chmod/chown when only they differ. Ansible's msg gets
 * "ownership, perms or SE linux context changed" appended like its own.
 */
export function planEditedFile(e: EditedFile): Plan & { msg: string } {
  const target = followed(e.state);
  const st = e.state as PresentFile;
  const path = st.exists && st.type === 'link' && st.realPath ? st.realPath : e.path;
  const changes: Change[] = [];
  let msg = e.msg;
  let diff: FileDiff[] | undefined;
  if (e.changed && e.after !== undefined) {
    if (!target.exists && !e.state.exists && e.state.ancestor && e.state.ancestor.path !== posix.dirname(path)) {
      changes.push({ kind: 'exec', command: sh`mkdir -p -- ${posix.dirname(path)}`, describe: `mkdir -p ${posix.dirname(path)}` });
    }
    changes.push(...contentChanges({ path, state: target, content: e.after, same: false, want: e.want, backup: e.backup, validate: e.validate, describe: e.describe }).changes);
    const before = target.exists ? ((target as PresentFile).content ?? Buffer.alloc(0)) : Buffer.alloc(0);
    diff = [{ path: e.path, before: diffText(before) ?? '(binary)\n', after: diffText(e.after) ?? '(binary)\n', beforeHeader: `${e.path} (content)`, afterHeader: `${e.path} (content)` }];
  } else if (target.exists) {
    const attrs = attributeChanges(path, target as PresentFile, target.umask, e.want);
    if (attrs.changes.length) {
      changes.push(...attrs.changes);
      msg = msg ? `${msg} and ownership, perms or SE linux context changed` : 'ownership, perms or SE linux context changed';
    }
  }
  return { changes, diff, msg };
}

// ------------------------------------------------------------------ the module

export const FILE_EDIT_ARGS = {
  path: { type: 'path', required: true, aliases: ['dest', 'destfile', 'name'], description: 'The file to edit.' },
  state: { type: 'str', default: 'present', choices: ['present', 'absent'], description: 'Whether the line (block) should be there.' },
  insertafter: { type: 'str', description: 'EOF, or a regular expression: add after its last matching line (else at EOF).' },
  insertbefore: { type: 'str', description: 'BOF, or a regular expression: add before its last matching line (else at EOF).' },
  create: { type: 'bool', default: false, description: 'Create the file (and its directory) when it does not exist; otherwise a missing file fails the task.' },
  backup: { type: 'bool', default: false, description: 'Keep the previous file as PATH.<timestamp>~.' },
  validate: { type: 'str', description: 'A command run on the new file (%s is its temp path) before it replaces the file.' },
  mode: { type: 'mode', description: "Permissions of the file: octal ('0644') or symbolic." },
  owner: { type: 'str', description: 'User that should own the file.' },
  group: { type: 'str', description: 'Group that should own the file.' },
} as const;

const LIMIT_ALL = -1;

export function editedFileFacts(path: string): Record<string, FactRequest<FileState>> {
  return { file: factRequest(fileStateFact, { path, follow: true, content: LIMIT_ALL }) };
}

export default defineModule({
  name: 'lineinfile',
  collections: ['ansible.builtin'],
  description:
    "Make sure one line is in a text file (replacing the line a regular expression finds), or that lines are not. Ansible's semantics: Python regular expressions, the last match wins unless firstmatch, backrefs fills the line from the match and does nothing without one.",
  args: {
    ...FILE_EDIT_ARGS,
    line: { type: 'str', aliases: ['value'], description: 'The line (required for state=present). With backrefs, \\1 and \\g<name> refer to regexp groups.' },
    regexp: { type: 'str', aliases: ['regex'], description: 'A Python regular expression: with state=present the last matching line is replaced; with state=absent every matching line is removed.' },
    search_string: { type: 'str', description: 'A literal string instead of regexp: lines containing it are replaced/removed.' },
    backrefs: { type: 'bool', default: false, description: 'Expand regexp groups in line; when regexp matches nothing the file is left alone.' },
    firstmatch: { type: 'bool', default: false, description: 'Use the first line that regexp/insertafter/insertbefore matches instead of the last.' },
  },
  returns: { msg: "'line added', 'line replaced', 'N line(s) removed', 'file not present'", found: 'state=absent: number of lines removed', backup_file: 'the backup, when one was made' },
  example: [
    '- name: No root login with a password',
    '  ansible.builtin.lineinfile:',
    '    path: /etc/ssh/sshd_config',
    "    regexp: '^#?PermitRootLogin'",
    '    line: PermitRootLogin prohibit-password',
    '    validate: /usr/sbin/sshd -t -f %s',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (args.insertafter !== undefined && args.insertbefore !== undefined) throw new ArgError('insertafter and insertbefore are mutually exclusive', 'insertbefore');
    if (args.regexp !== undefined && args.search_string !== undefined) throw new ArgError('regexp and search_string are mutually exclusive', 'search_string');
    if (args.backrefs && args.search_string !== undefined) throw new ArgError('backrefs and search_string are mutually exclusive', 'backrefs');
    if (args.state === 'present') {
      if (args.backrefs && args.regexp === undefined) throw new ArgError('regexp is required with backrefs=true', 'regexp');
      if (args.line === undefined) throw new ArgError('line is required with state=present', 'line');
    } else if (args.line === undefined && args.regexp === undefined && args.search_string === undefined) {
      throw new ArgError('one of line, search_string, or regexp is required with state=absent', 'line');
    }
    if (args.validate !== undefined && !args.validate.includes('%s')) throw new ArgError(`validate must contain %s: ${args.validate}`, 'validate');
    for (const k of ['regexp', 'insertafter', 'insertbefore'] as const) {
      const v = args[k];
      if (v !== undefined && !(k !== 'regexp' && (v === 'EOF' || v === 'BOF'))) pythonRegExp(v);
    }
  },
  facts: (args) => editedFileFacts(args.path),
  plan(args, facts): Plan {
    const st = facts.file!;
    const target = followed(st);
    const path = args.path;
    const warnings: string[] = [];
    if (args.regexp === '' || args.search_string === '') {
      warnings.push(
        `The ${args.regexp === '' ? 'regular expression' : 'search string'} is an empty string, which will match every line in the file. This may have unintended consequences, such as replacing the last line in the file rather than appending.`,
      );
    }
    const extra = warnings.length ? { warnings } : {};
    if (target.exists && target.type === 'directory') return { changes: [], failure: { message: `Path ${path} is a directory !` }, result: { rc: 256, ...extra } };

    if (args.state === 'absent' && !target.exists) return { changes: [], noopReason: `${path} does not exist`, result: { msg: 'file not present', ...extra } };
    if (args.state === 'present' && !target.exists && !args.create) {
      return { changes: [], failure: { message: `Destination ${path} does not exist !`, missing: path }, result: { rc: 257, ...extra } };
    }
    const before = target.exists ? (target as PresentFile).content : Buffer.alloc(0);
    if (before === undefined) return { changes: [], failure: { message: `cannot read ${path}` } };

    const edit = editLines(toByteString(before), {
      state: args.state as 'present' | 'absent',
      line: args.line !== undefined ? toByteString(args.line) : undefined,
      regexp: args.regexp !== undefined ? toByteString(args.regexp) : undefined,
      search_string: args.search_string !== undefined ? toByteString(args.search_string) : undefined,
      insertafter: args.insertafter !== undefined ? toByteString(args.insertafter) : undefined,
      insertbefore: args.insertbefore !== undefined ? toByteString(args.insertbefore) : undefined,
      backrefs: args.backrefs,
      firstmatch: args.firstmatch,
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
      describe: `${edit.msg || 'edit'} in ${path}`,
    });
    const result: Record<string, unknown> = { msg: plan.msg, ...extra };
    if (args.state === 'absent') result.found = edit.found ?? 0;
    if (plan.changes.length === 0) return { changes: [], noopReason: `${edit.reason ?? 'nothing to change'} in ${path}`, result };
    return { changes: plan.changes, diff: plan.diff, result };
  },
});
