/**
 * fileState: everything the file modules need to know about one path, read
 * in one go: whether it exists and as what, its mode and owner, what a link
 * points to, and on request a checksum, the content, and a summary of the
 * tree below a directory.
 *
 * "Absent" and "wrong type" are different answers (pyinfra's distinction):
 * `{exists: false}` means nothing is there, `{exists: true, type: 'directory'}`
 * where a file was wanted means something else is in the way. For an absent
 * path the fact also reports its deepest existing ancestor, so a planner
 * knows which directories it would have to create.
 *
 * The output is one `key=value` per line in `@section`s; every value that
 * could hold arbitrary bytes (link targets, content) is base64, and the path
 * itself is never printed, so spaces and newlines in names cannot confuse it.
 */
import { posix } from 'node:path';
import { ShellCommand, sh } from '../util/shell.js';
import type { Fact, FactOutput } from './types.js';

export const CHECKSUM_ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface FileStateArgs {
  path: string;
  /** When the path is a link, also stat what it points to (`target`); checksum and content then come from there. */
  follow?: boolean;
  /** Checksum a regular file (through a link only with follow). */
  checksum?: ChecksumAlgorithm;
  /** Read the content of a regular file: at most this many bytes (-1: all of it). Larger files come back as `contentTruncated`. */
  content?: number;
  /** Summarise everything below a directory: the distinct (type, mode, owner, group) combinations. */
  recurse?: boolean;
  /** `file --mime-type` / `--mime-encoding` (when `file` is installed). */
  mime?: boolean;
  /** `lsattr` flags. */
  attributes?: boolean;
}

/** Ansible's view of a path: regular files, devices, fifos and sockets are all 'other' except regular files. */
export type FileType = 'file' | 'directory' | 'link' | 'other';
export type FileKind = 'file' | 'directory' | 'link' | 'fifo' | 'socket' | 'char' | 'block' | 'unknown';

export interface FileStat {
  type: FileType;
  kind: FileKind;
  /** permission bits with the special ones, four octal digits: '0644', '4755' */
  mode: string;
  uid: number;
  gid: number;
  /** user name, or the uid as a string when it has none */
  owner: string;
  group: string;
  size: number;
  /** seconds since the epoch, with the fraction */
  mtime: number;
  atime: number;
  ctime: number;
  inode: number;
  dev: number;
  nlink: number;
  blocks: number;
  blockSize: number;
  /** device number of a char/block special file */
  rdev?: { major: number; minor: number };
}

/** One distinct combination below a directory (recurse). Links have mode undefined. */
export interface TreeEntry {
  type: 'file' | 'directory' | 'link' | 'other';
  mode?: string;
  uid: number;
  gid: number;
  owner: string;
  group: string;
}

export interface AbsentFile {
  exists: false;
  /** the remote user's umask (what new files get) */
  umask: number;
  /**
   * The deepest ancestor that exists, and whether it is a directory; absent
   * for a dangling link's target. `path` equals dirname(path) when only the
   * last component is missing.
   */
  ancestor?: { path: string; isDir: boolean };
}

export interface PresentFile extends FileStat {
  exists: true;
  umask: number;
  /** what a link points to, as written in it (readlink) */
  linkTarget?: string;
  /** the fully resolved path of a link (readlink -f) */
  realPath?: string;
  /** with follow, for a link: what it points to (exists false when dangling) */
  target?: (FileStat & { exists: true }) | { exists: false };
  /** of the regular file the path is (or, with follow, points to) */
  checksum?: string;
  content?: Buffer;
  /** the file is larger than the content limit; `content` is then absent */
  contentTruncated?: boolean;
  /** access(2) by the remote user, of the path or (through a link) its target */
  readable: boolean;
  writeable: boolean;
  executable: boolean;
  /** a directory (or, through a link, its target) with nothing in it */
  empty?: boolean;
  /** with recurse, for a directory: distinct combinations below it */
  tree?: TreeEntry[];
  /** the tree had too many combinations to list, or find failed: treat it as "differs" */
  treeIncomplete?: boolean;
  mime?: { type?: string; charset?: string };
  attributes?: string;
}

export type FileState = AbsentFile | PresentFile;

/** How many distinct tree combinations are listed before giving up. */
export const TREE_LIMIT = 1000;

/** The ancestors of a path, deepest first ('/a/b/c' → ['/a/b', '/a', '/']). */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  let p = path.length > 1 ? path.replace(/\/+$/, '') : path;
  for (;;) {
    const d = posix.dirname(p);
    if (d === p) break;
    out.push(d);
    p = d;
  }
  return out;
}

const STAT_FORMAT = [
  'ftype=%f',
  'uid=%u',
  'gid=%g',
  'owner=%U',
  'group=%G',
  'size=%s',
  'mtime=%.9Y',
  'atime=%.9X',
  'ctime=%.9Z',
  'inode=%i',
  'dev=%d',
  'nlink=%h',
  'blocks=%b',
  'block_size=%B',
  'rdev=%t,%T',
]
  .map((f) => f + '\\n')
  .join('');

// Fixed text: every user value reaches it through $p, $follow, $sum, $limit, $tree and "$@" (ancestors), set by `sh`.
const SCRIPT = `
echo "umask=$(umask)"
if [ ! -e "$p" ] && [ ! -L "$p" ]; then
  echo exists=0
  i=0
  for a in "$@"; do
    if [ -e "$a" ]; then
      if [ -d "$a" ]; then echo "ancestor=$i d"; else echo "ancestor=$i f"; fi
      break
    fi
    i=$((i+1))
  done
  exit 0
fi
echo exists=1
echo @lstat
stat --printf '${STAT_FORMAT}' -- "$p" || exit 1
echo @access
[ -r "$p" ] && echo readable=1
[ -w "$p" ] && echo writeable=1
[ -x "$p" ] && echo executable=1
[ -d "$p" ] && [ -z "$(find -H "$p" -mindepth 1 -maxdepth 1 -print -quit 2>/dev/null)" ] && echo empty=1
if [ -L "$p" ]; then
  echo @link
  printf 'link=%s\\n' "$(readlink -- "$p" | base64 -w0)"
  printf 'real=%s\\n' "$(readlink -f -- "$p" | base64 -w0)"
  [ "$follow" = 1 ] || exit 0
  if [ -e "$p" ]; then echo @target; stat -L --printf '${STAT_FORMAT}' -- "$p"; else echo @target-missing; exit 0; fi
fi
if [ -f "$p" ]; then
  if [ -n "$sum" ] && [ -r "$p" ]; then echo @checksum; $sum < "$p" | cut -d' ' -f1; fi
  if [ -n "$limit" ] && [ -r "$p" ]; then
    echo @content
    if [ "$limit" = all ]; then base64 -w0 < "$p"; else head -c "$limit" < "$p" | base64 -w0; fi
    echo
  fi
fi
if [ "$tree" = 1 ] && [ -d "$p" ]; then
  echo @tree
  { find -H "$p" -mindepth 1 \\( -type l -printf 'l - %U %G %u %g\\n' -o -printf '%y %m %U %G %u %g\\n' \\) 2>/dev/null || echo find-failed; } | sort -u | head -n ${TREE_LIMIT + 1}
  echo @tree-end
fi
if [ "$mime" = 1 ] && command -v file >/dev/null 2>&1; then
  echo @mime
  echo "type=$(file -b -L --mime-type -- "$p" 2>/dev/null)"
  echo "charset=$(file -b -L --mime-encoding -- "$p" 2>/dev/null)"
fi
if [ "$attrs" = 1 ] && command -v lsattr >/dev/null 2>&1; then
  echo @attributes
  lsattr -d -- "$p" 2>/dev/null | cut -d' ' -f1
fi
exit 0
`;

const SUM_COMMAND: Record<ChecksumAlgorithm, string> = {
  md5: 'md5sum',
  sha1: 'sha1sum',
  sha224: 'sha224sum',
  sha256: 'sha256sum',
  sha384: 'sha384sum',
  sha512: 'sha512sum',
};

export function fileStateCommand(args: FileStateArgs): ShellCommand {
  const limit = args.content === undefined ? '' : args.content < 0 ? 'all' : String(args.content + 1);
  const vars = sh`p=${args.path} follow=${args.follow ? '1' : '0'} sum=${args.checksum ? SUM_COMMAND[args.checksum] : ''} limit=${limit} tree=${args.recurse ? '1' : '0'} mime=${args.mime ? '1' : '0'} attrs=${args.attributes ? '1' : '0'}`;
  return ShellCommand.join([vars, sh`set -- ${ancestorsOf(args.path)}`, ShellCommand.script(SCRIPT.trim())], '\n');
}

// ------------------------------------------------------------------ parsing

const S_IFMT = 0o170000;
const KINDS: Record<number, FileKind> = {
  0o100000: 'file',
  0o040000: 'directory',
  0o120000: 'link',
  0o010000: 'fifo',
  0o140000: 'socket',
  0o020000: 'char',
  0o060000: 'block',
};

function num(v: string | undefined): number {
  const n = Number(v);
  return v === undefined || v === '' || !Number.isFinite(n) ? 0 : n;
}

/** Four octal digits, the way Ansible prints modes ('%04o'). */
export function formatMode(bits: number): string {
  return (bits & 0o7777).toString(8).padStart(4, '0');
}

function parseStat(kv: Map<string, string>): FileStat | undefined {
  const raw = kv.get('ftype');
  if (raw === undefined || !/^[0-9a-f]+$/i.test(raw)) return undefined;
  const bits = parseInt(raw, 16);
  const kind = KINDS[bits & S_IFMT] ?? 'unknown';
  const type: FileType = kind === 'file' || kind === 'directory' || kind === 'link' ? kind : 'other';
  const uid = num(kv.get('uid'));
  const gid = num(kv.get('gid'));
  // stat prints UNKNOWN for ids without a name; the number is the only name such an owner has.
  const name = (v: string | undefined, id: number) => (v === undefined || v === '' || v === 'UNKNOWN' ? String(id) : v);
  const st: FileStat = {
    type,
    kind,
    mode: formatMode(bits),
    uid,
    gid,
    owner: name(kv.get('owner'), uid),
    group: name(kv.get('group'), gid),
    size: num(kv.get('size')),
    mtime: num(kv.get('mtime')),
    atime: num(kv.get('atime')),
    ctime: num(kv.get('ctime')),
    inode: num(kv.get('inode')),
    dev: num(kv.get('dev')),
    nlink: num(kv.get('nlink')),
    blocks: num(kv.get('blocks')),
    blockSize: num(kv.get('block_size')),
  };
  if (kind === 'char' || kind === 'block') {
    const [maj, min] = (kv.get('rdev') ?? '0,0').split(',');
    st.rdev = { major: parseInt(maj ?? '0', 16) || 0, minor: parseInt(min ?? '0', 16) || 0 };
  }
  return st;
}

function b64text(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  // readlink's own newline is inside the base64; strip exactly that one.
  return Buffer.from(v, 'base64').toString('utf8').replace(/\n$/, '');
}

function parseTreeLine(line: string): TreeEntry | undefined {
  const f = line.split(' ');
  if (f.length < 6) return undefined;
  const [y, m, U, G, u, g] = f as [string, string, string, string, string, string];
  const type = y === 'd' ? 'directory' : y === 'f' ? 'file' : y === 'l' ? 'link' : 'other';
  const uid = num(U);
  const gid = num(G);
  return { type, mode: y === 'l' || !/^[0-7]+$/.test(m) ? undefined : formatMode(parseInt(m, 8)), uid, gid, owner: u || String(uid), group: g || String(gid) };
}

export function parseFileState(out: FactOutput, args: FileStateArgs): FileState {
  const lines = out.stdout.split('\n');
  const top = new Map<string, string>();
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of lines) {
    if (line.startsWith('@')) {
      const name = line.slice(1).split(' ')[0]!;
      if (name === 'tree-end') {
        sections.set('tree-end', []);
        current = undefined;
        continue;
      }
      current = [];
      sections.set(name, current);
      continue;
    }
    if (current) current.push(line);
    else {
      const eq = line.indexOf('=');
      if (eq > 0) top.set(line.slice(0, eq), line.slice(eq + 1));
    }
  }
  const umask = parseInt(top.get('umask') ?? '022', 8) || 0;
  const kvOf = (name: string): Map<string, string> => {
    const kv = new Map<string, string>();
    for (const l of sections.get(name) ?? []) {
      const eq = l.indexOf('=');
      if (eq > 0) kv.set(l.slice(0, eq), l.slice(eq + 1));
    }
    return kv;
  };

  const lkv = kvOf('lstat');
  const st = top.get('exists') === '1' ? parseStat(lkv) : undefined;
  if (!st) {
    const absent: AbsentFile = { exists: false, umask };
    const m = /^(\d+) ([df])$/.exec(top.get('ancestor') ?? '');
    const list = ancestorsOf(args.path);
    if (m && list[Number(m[1])] !== undefined) absent.ancestor = { path: list[Number(m[1])]!, isDir: m[2] === 'd' };
    return absent;
  }

  const access = kvOf('access');
  const state: PresentFile = {
    exists: true,
    ...st,
    umask,
    readable: access.get('readable') === '1',
    writeable: access.get('writeable') === '1',
    executable: access.get('executable') === '1',
  };
  if (access.get('empty') === '1') state.empty = true;
  if (st.type === 'link') {
    const link = kvOf('link');
    state.linkTarget = b64text(link.get('link'));
    state.realPath = b64text(link.get('real'));
    if (sections.has('target-missing')) state.target = { exists: false };
    else if (sections.has('target')) {
      const t = parseStat(kvOf('target'));
      state.target = t ? { exists: true, ...t } : { exists: false };
    }
  }
  const sum = sections.get('checksum')?.[0]?.trim();
  if (sum && /^[0-9a-f]+$/.test(sum)) state.checksum = sum;
  const content = sections.get('content');
  if (content && args.content !== undefined) {
    const buf = Buffer.from((content[0] ?? '').trim(), 'base64');
    if (args.content >= 0 && buf.length > args.content) state.contentTruncated = true;
    else state.content = buf;
  }
  const tree = sections.get('tree');
  if (tree) {
    const entries = tree.filter((l) => l !== '').map(parseTreeLine);
    state.tree = entries.filter((e): e is TreeEntry => e !== undefined);
    if (entries.length > TREE_LIMIT || entries.some((e) => e === undefined) || !sections.has('tree-end')) state.treeIncomplete = true;
  }
  const mime = sections.get('mime');
  if (mime) {
    const kv = kvOf('mime');
    state.mime = { type: kv.get('type') || undefined, charset: kv.get('charset') || undefined };
  }
  const attrs = sections.get('attributes')?.[0]?.trim();
  if (attrs) state.attributes = attrs;
  return state;
}

export const fileStateFact: Fact<FileStateArgs, FileState> = {
  name: 'file_state',
  command: fileStateCommand,
  parse: parseFileState,
};

/** What a path amounts to after following a link (when the fact was asked to follow). */
export function followed(state: FileState): FileState {
  if (!state.exists || state.type !== 'link' || !state.target) return state;
  if (!state.target.exists) return { exists: false, umask: state.umask };
  return { ...state, ...state.target, exists: true, linkTarget: state.linkTarget, realPath: state.realPath, target: undefined };
}
