/**
 * authorized_key (ansible.posix.authorized_key): SSH public keys present in
 * or absent from a user's authorized_keys.
 *
 * The new file content is computed here (`editAuthorizedKeys`, pure) the way
 * Ansible decides it: a key is identified by its base64 blob; a listed key
 * whose options or comment differ is rewritten; `exclusive` keeps only the
 * listed keys; `absent` removes every line with the blob. Lines the task does
 * not concern stay as they are. The file is written with a `write` change,
 * 0600 and owned by the user; `manage_dir` also makes ~/.ssh 0700 and owned
 * by the user. `key` may also be an https URL (e.g. https://github.com/NAME.keys),
 * fetched by the controller.
 */
import { posix } from 'node:path';
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type Plan } from './types.js';

export const KEY_TYPES = new Set([
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ssh-ed25519@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
  'ssh-ed25519',
  'ssh-ed25519-cert-v01@openssh.com',
  'ssh-dss',
  'ssh-dss-cert-v01@openssh.com',
  'ssh-rsa',
  'ssh-rsa-cert-v01@openssh.com',
  'rsa-sha2-256',
  'rsa-sha2-256-cert-v01@openssh.com',
  'rsa-sha2-512',
  'rsa-sha2-512-cert-v01@openssh.com',
  'ssh-xmss@openssh.com',
  'ssh-xmss-cert-v01@openssh.com',
]);

export interface ParsedKey {
  blob: string;
  type: string;
  /** [name, value] pairs in order; value null for flags like no-pty */
  options: [string, string | null][];
  comment: string;
}

/** Splits key options at commas outside double or single quotes (Ansible's parseoptions). */
export function parseOptions(text: string | undefined): [string, string | null][] {
  if (!text) return [];
  const parts = text.match(/(?:[^,"']|"[^"]*"|'[^']*')+/g) ?? [];
  return parts.map((p) => {
    const eq = p.indexOf('=');
    return eq >= 0 ? [p.slice(0, eq), p.slice(eq + 1)] : [p, null];
  });
}

export function formatOptions(options: [string, string | null][]): string {
  return options.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join(',');
}

/** One authorized_keys line: options, type, blob, comment; undefined for comments, blank and unreadable lines. */
export function parseKeyLine(line: string): ParsedKey | undefined {
  const raw = line.replace(/\\#/g, '#').trim();
  if (raw === '' || raw.startsWith('#')) return undefined;
  const parts = raw.split(/\s+/);
  const at = parts.findIndex((p) => KEY_TYPES.has(p));
  if (at < 0 || at + 1 >= parts.length) return undefined;
  return { type: parts[at]!, blob: parts[at + 1]!, options: parseOptions(at > 0 ? parts.slice(0, at).join(' ') : undefined), comment: parts.slice(at + 2).join(' ') };
}

export function formatKey(k: ParsedKey): string {
  const opts = k.options.length ? formatOptions(k.options) + ' ' : '';
  return `${opts}${k.type} ${k.blob}${k.comment ? ' ' + k.comment : ''}`;
}

const optionKey = (o: [string, string | null][]) => o.map(([k, v]) => `${k}=${v ?? ''}`).sort().join('\0');
/** Same key, type, options (in any order) and comment. */
export const sameKey = (a: ParsedKey, b: ParsedKey) => a.blob === b.blob && a.type === b.type && a.comment === b.comment && optionKey(a.options) === optionKey(b.options);

export interface KeyEdit {
  content: string;
  changed: boolean;
  added: string[];
  updated: string[];
  removed: string[];
}

/**
 * The authorized_keys content after the task (pure). `keys` is the task's
 * key text (one key per line, comments and blank lines ignored).
 */
export function editAuthorizedKeys(
  existing: string,
  keys: string,
  opts: { state: 'present' | 'absent'; exclusive?: boolean; keyOptions?: string; comment?: string },
): KeyEdit {
  const wanted: ParsedKey[] = [];
  for (const line of keys.split('\n')) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const k = parseKeyLine(line);
    if (!k) throw new ArgError(`invalid key specified: ${line.trim()}`, 'key');
    if (opts.keyOptions !== undefined) k.options = parseOptions(opts.keyOptions);
    if (opts.comment !== undefined) k.comment = opts.comment;
    // The same key twice in the task counts once; the last spelling wins.
    const i = wanted.findIndex((w) => w.blob === k.blob);
    if (i >= 0) wanted[i] = k;
    else wanted.push(k);
  }
  const lines = existing === '' ? [] : existing.replace(/\n$/, '').split('\n');
  const edit: KeyEdit = { content: existing, changed: false, added: [], updated: [], removed: [] };
  const byBlob = new Map(wanted.map((k) => [k.blob, k]));
  const out: string[] = [];
  const seen = new Set<string>();
  for (const line of lines) {
    const k = parseKeyLine(line);
    const w = k ? byBlob.get(k.blob) : undefined;
    if (opts.state === 'absent') {
      if (w) edit.removed.push(formatKey(k!));
      else out.push(line);
      continue;
    }
    if (!k || !w) {
      // Exclusive keeps only the listed keys, like Ansible (comments and other keys go too).
      if (opts.exclusive) edit.removed.push(line);
      else out.push(line);
      continue;
    }
    if (seen.has(k.blob)) {
      if (opts.exclusive) edit.removed.push(line);
      else out.push(line);
      continue;
    }
    seen.add(k.blob);
    if (sameKey(k, w)) out.push(line);
    else {
      out.push(formatKey(w));
      edit.updated.push(formatKey(w));
    }
  }
  if (opts.state === 'present') {
    for (const w of wanted) {
      if (!seen.has(w.blob)) {
        out.push(formatKey(w));
        edit.added.push(formatKey(w));
      }
    }
  }
  edit.changed = edit.added.length + edit.updated.length + edit.removed.length > 0;
  if (edit.changed) edit.content = out.length ? out.join('\n') + '\n' : '';
  return edit;
}

// ------------------------------------------------------------------ the fact

export interface AuthorizedKeysState {
  user?: { uid: number; gid: number; home: string };
  /** the resolved file path */
  path?: string;
  dir?: { exists: boolean; mode?: string; uid?: number; gid?: number };
  file?: { exists: boolean; mode?: string; uid?: number; content?: string };
}

const M = '@@tsible-';

// $user, $path (may be empty: the default, or ~/...) and $follow are set by `sh`.
const KEYS_SCRIPT = `pw=$(getent passwd "$user") || { echo '${M}nouser'; exit 0; }
echo "${M}user $(printf '%s' "$pw" | cut -d: -f3,4,6)"
home=$(printf '%s' "$pw" | cut -d: -f6)
case "$path" in
  '') f=$home/.ssh/authorized_keys ;;
  '~/'*) f=$home/\${path#'~/'} ;;
  *) f=$path ;;
esac
[ "$follow" = yes ] && [ -L "$f" ] && f=$(readlink -f -- "$f")
echo "${M}path $f"
d=$(dirname -- "$f")
if [ -d "$d" ]; then echo "${M}dir $(stat -c '%a %u %g' -- "$d")"; fi
if [ -f "$f" ]; then echo "${M}file $(stat -L -c '%a %u' -- "$f")"; base64 -w0 < "$f"; echo; fi
true`;

export function parseAuthorizedKeysState(stdout: string): AuthorizedKeysState {
  const st: AuthorizedKeysState = {};
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let m: RegExpExecArray | null;
    if ((m = /^@@tsible-user (\d+):(\d+):(.*)$/.exec(line))) st.user = { uid: Number(m[1]), gid: Number(m[2]), home: m[3]! };
    else if ((m = /^@@tsible-path (.*)$/.exec(line))) {
      st.path = m[1]!;
      st.dir = { exists: false };
      st.file = { exists: false };
    } else if ((m = /^@@tsible-dir (\d+) (\d+) (\d+)$/.exec(line))) st.dir = { exists: true, mode: m[1]!.padStart(4, '0'), uid: Number(m[2]), gid: Number(m[3]) };
    else if ((m = /^@@tsible-file (\d+) (\d+)$/.exec(line))) {
      st.file = { exists: true, mode: m[1]!.padStart(4, '0'), uid: Number(m[2]), content: Buffer.from(lines[i + 1] ?? '', 'base64').toString('utf8') };
      i++;
    }
  }
  return st;
}

export const authorizedKeysFact: Fact<{ user: string; path?: string; follow: boolean }, AuthorizedKeysState> = {
  name: 'authorized_keys',
  command: ({ user, path, follow }) => ShellCommand.join([sh`user=${user}; path=${path ?? ''}; follow=${follow ? 'yes' : 'no'}`, ShellCommand.script(KEYS_SCRIPT)], '\n'),
  parse: (out) => parseAuthorizedKeysState(out.stdout),
};

async function keyText(key: string): Promise<string> {
  if (!/^https?:\/\//.test(key.trim())) return key;
  const res = await fetch(key.trim());
  if (!res.ok) throw new Error(`Error getting key from: ${key.trim()} (HTTP ${res.status})`);
  return res.text();
}

export default defineModule({
  name: 'authorized_key',
  collections: ['ansible.posix'],
  description:
    "SSH public keys present in or absent from a user's authorized_keys (0600, owned by the user); ~/.ssh is created 0700 when missing. exclusive removes every other key.",
  args: {
    user: { type: 'str', required: true, description: 'The user whose authorized_keys is edited.' },
    key: { type: 'str', required: true, description: 'One or several public keys, one per line (e.g. a lookup of id_ed25519.pub), or an https URL that serves them.' },
    path: { type: 'path', description: 'The file (default ~USER/.ssh/authorized_keys; ~/ means the user\'s home).' },
    manage_dir: { type: 'bool', default: true, description: "Create the file's directory 0700 owned by the user, and fix its mode and owner. Set false with a path outside ~/.ssh." },
    state: { type: 'str', default: 'present', choices: ['present', 'absent'] as const, description: 'Whether the keys are there.' },
    key_options: { type: 'str', description: 'Options for every key given, e.g. from="10.0.0.0/24",no-agent-forwarding (replace options in key).' },
    exclusive: { type: 'bool', default: false, description: 'Remove every key (and comment line) not given.' },
    comment: { type: 'str', description: 'Comment for every key given (replaces theirs).' },
    follow: { type: 'bool', default: false, description: 'When the file is a symlink, write its target.' },
    validate_certs: { type: 'bool', default: true, description: 'For a key URL; only true is supported.' },
  },
  returns: { user: 'the user', key: 'the key text', keyfile: 'the file', added: 'keys added', updated: 'keys whose options or comment changed', removed: 'lines removed' },
  example: [
    "- name: The admin's key on every node",
    '  ansible.posix.authorized_key:',
    '    user: root',
    "    key: \"{{ lookup('file', 'files/admin_ed25519.pub') }}\"",
    '    key_options: from="192.168.1.0/24"',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (!args.validate_certs) throw new ArgError('validate_certs: false is not supported', 'validate_certs');
    if (!/^https?:\/\//.test(args.key.trim())) editAuthorizedKeys('', args.key, { state: 'present' });
    if (args.key_options !== undefined && /\n/.test(args.key_options)) throw new ArgError('key_options must be one line', 'key_options');
  },
  facts: (args) => ({ keys: factRequest(authorizedKeysFact, { user: args.user, ...(args.path ? { path: args.path } : {}), follow: args.follow }) }),
  async plan(args, facts): Promise<Plan> {
    const st = facts.keys;
    if (!st.user) return { changes: [], failure: { message: `user ${args.user} does not exist`, missing: `user ${args.user}` } };
    const path = st.path!;
    const result: Record<string, unknown> = { user: args.user, keyfile: path, key: args.key, exclusive: args.exclusive };
    let text: string;
    try {
      text = await keyText(args.key);
    } catch (err) {
      return { changes: [], result, failure: { message: (err as Error).message } };
    }
    let edit: KeyEdit;
    try {
      edit = editAuthorizedKeys(st.file?.content ?? '', text, { state: args.state, exclusive: args.exclusive, keyOptions: args.key_options, comment: args.comment });
    } catch (err) {
      return { changes: [], result, failure: { message: (err as Error).message } };
    }
    Object.assign(result, { added: edit.added, updated: edit.updated, removed: edit.removed });
    const changes: Change[] = [];
    const dir = posix.dirname(path);
    const owner = String(st.user.uid);
    const group = String(st.user.gid);
    if (args.manage_dir && (args.state === 'present' || st.dir?.exists)) {
      if (!st.dir?.exists) {
        if (edit.changed) changes.push({ kind: 'exec', command: ShellCommand.join([sh`mkdir -p -m 0700 ${dir}`, sh`chown ${`${owner}:${group}`} ${dir}`], '&&'), describe: `create ${dir} (0700, owned by ${args.user})` });
      } else if (st.dir.mode !== '0700' || st.dir.uid !== st.user.uid || st.dir.gid !== st.user.gid) {
        changes.push({ kind: 'exec', command: ShellCommand.join([sh`chmod 0700 ${dir}`, sh`chown ${`${owner}:${group}`} ${dir}`], '&&'), describe: `chmod 0700 and chown ${args.user} ${dir} (was ${st.dir.mode}, uid ${st.dir.uid})` });
      }
    } else if (!st.dir?.exists && edit.changed) {
      return { changes: [], result, failure: { message: `${dir} does not exist (manage_dir is false)`, missing: `directory ${dir}` } };
    }
    if (edit.changed) {
      const what = [
        edit.added.length ? `add ${edit.added.length} key${edit.added.length > 1 ? 's' : ''}` : '',
        edit.updated.length ? `update ${edit.updated.length}` : '',
        edit.removed.length ? `remove ${edit.removed.length} line${edit.removed.length > 1 ? 's' : ''}` : '',
      ].filter(Boolean);
      changes.push({ kind: 'write', path, content: edit.content, mode: '0600', owner, group, describe: `${what.join(', ')} in ${path}` });
    }
    if (!changes.length) {
      return { changes, result, noopReason: args.state === 'present' ? `${path} has the key${text.trim().includes('\n') ? 's' : ''}` : `${path} does not have the key${text.trim().includes('\n') ? 's' : ''}` };
    }
    return { changes, result, diff: edit.changed ? [{ path, before: st.file?.content ?? '', after: edit.content }] : undefined };
  },
});
