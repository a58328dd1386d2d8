/**
 * get_url: a file downloaded on the host.
 *
 * The host downloads (curl, or wget when curl is missing) into a temp file
 * next to dest, the checksum is verified there, and only then is it renamed
 * over dest, so a failed or corrupted download never replaces a good file.
 * URL, headers and credentials reach curl through a config on stdin
 * (`curl --config -`; for wget, a private wgetrc), never through argv.
 *
 * Idempotence: dest exists and, with `checksum`, has that checksum → nothing
 * is downloaded. Without a checksum an existing dest is kept unless `force`.
 * With `force` the file is downloaded every time and reported as changed
 * (whether the content differs is only known after downloading it).
 */
import { posix } from 'node:path';
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type Plan } from './types.js';
// The chmod arithmetic is shared with unarchive (symbolic modes compared, not re-applied every run).
import { applyMode } from './unarchive.js';

export const ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];
const HEX_LENGTH: Record<Algorithm, number> = { md5: 32, sha1: 40, sha224: 56, sha256: 64, sha384: 96, sha512: 128 };

/** `sha256:HEX` → {algorithm, hex}; the algorithm is checked and the digest's length with it. */
export function parseChecksum(value: string): { algorithm: Algorithm; hex: string } {
  const m = /^([a-z0-9]+):(.+)$/i.exec(value.trim());
  if (!m) throw new ArgError(`checksum must look like sha256:<hex digest>, got ${JSON.stringify(value)}`, 'checksum');
  const algorithm = m[1]!.toLowerCase() as Algorithm;
  if (!ALGORITHMS.includes(algorithm)) throw new ArgError(`checksum algorithm must be one of ${ALGORITHMS.join(', ')}, got ${m[1]}`, 'checksum');
  const hex = m[2]!.trim().toLowerCase();
  if (/^[a-z]+:\/\//.test(hex)) throw new ArgError('a checksum URL (sha256:https://.../SHA256SUMS) is not supported; give the digest itself', 'checksum');
  if (!new RegExp(`^[0-9a-f]{${HEX_LENGTH[algorithm]}}$`).test(hex)) throw new ArgError(`a ${algorithm} digest is ${HEX_LENGTH[algorithm]} hex digits, got ${JSON.stringify(m[2])}`, 'checksum');
  return { algorithm, hex };
}

/** The file name a URL gives when dest is a directory (last path segment, decoded). */
export function urlFileName(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    throw new ArgError(`not a URL: ${JSON.stringify(url)}`, 'url');
  }
  const name = decodeURIComponent(path.split('/').pop() ?? '');
  if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new ArgError(`cannot take a file name from ${url}; give dest as a file path`, 'dest');
  return name;
}

function curlQuote(value: string): string {
  if (/[\r\n]/.test(value)) throw new ArgError('URLs, headers and credentials cannot contain line breaks', 'headers');
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export interface DownloadOptions {
  url: string;
  headers: Record<string, string>;
  username?: string;
  password?: string;
  /** send basic auth with the first request instead of after a 401 challenge */
  forceBasicAuth?: boolean;
}

/** The curl config (stdin of `curl --config -`) that carries everything secret-ish. */
export function curlConfig(o: DownloadOptions): string {
  const lines = [`url = ${curlQuote(o.url)}`];
  for (const [k, v] of Object.entries(o.headers)) lines.push(`header = ${curlQuote(`${k}: ${v}`)}`);
  if (o.username !== undefined) {
    lines.push(`user = ${curlQuote(`${o.username}:${o.password ?? ''}`)}`);
    // Like Ansible: credentials only in answer to a 401, unless force_basic_auth.
    if (!o.forceBasicAuth) lines.push('anyauth');
  }
  return lines.join('\n') + '\n';
}

/** The wgetrc for the same (wget reads no URL from it; the URL stays in argv). */
export function wgetrc(o: DownloadOptions): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(o.headers)) {
    if (/[\r\n]/.test(k + v)) throw new ArgError('headers cannot contain line breaks', 'headers');
    lines.push(`header = ${k}: ${v}`);
  }
  if (o.username !== undefined) {
    if (/[\r\n]/.test(o.username + (o.password ?? ''))) throw new ArgError('credentials cannot contain line breaks', 'url_password');
    lines.push(`user = ${o.username}`, `password = ${o.password ?? ''}`);
    if (o.forceBasicAuth) lines.push('auth_no_challenge = on');
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

// ------------------------------------------------------------------ the fact

export interface DestState {
  /** dest is a directory (the file is dest/<name from the URL>) */
  isDir: boolean;
  /** the directory the file goes into exists */
  dirExists: boolean;
  exists: boolean;
  /** digest of the existing file with the checksum's algorithm */
  digest?: string;
  uid?: string;
  user?: string;
  gid?: string;
  group?: string;
  mode?: string;
  curl: boolean;
  wget: boolean;
}

const M = '@@tsible-';

// Values: d (dest), n (file name from the URL, used when dest is a directory), a (algorithm or empty).
const DEST_SCRIPT = `
if [ -d "$d" ]; then echo '${M}isdir'; f="$d/$n"; else f=$d; fi
[ -d "$(dirname "$f")" ] && echo '${M}dir'
if [ -f "$f" ]; then
  echo "${M}stat $(stat -L -c '%u|%U|%g|%G|%a' "$f")"
  case "$a" in md5|sha1|sha224|sha256|sha384|sha512) echo "${M}digest $("\${a}sum" "$f" | cut -d' ' -f1)" ;; esac
fi
command -v curl >/dev/null 2>&1 && echo '${M}curl'
command -v wget >/dev/null 2>&1 && echo '${M}wget'
true
`;

export function parseDestState(stdout: string): DestState {
  const st: DestState = { isDir: false, dirExists: false, exists: false, curl: false, wget: false };
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(M)) continue;
    const [tag = '', ...rest] = line.slice(M.length).split(' ');
    const value = rest.join(' ');
    if (tag === 'isdir') st.isDir = true;
    else if (tag === 'dir') st.dirExists = true;
    else if (tag === 'curl') st.curl = true;
    else if (tag === 'wget') st.wget = true;
    else if (tag === 'digest') st.digest = value.trim();
    else if (tag === 'stat') {
      const [uid, user, gid, group, mode] = value.split('|');
      Object.assign(st, { exists: true, uid, user, gid, group, mode });
    }
  }
  return st;
}

export const destFact: Fact<{ dest: string; name: string; algorithm?: string }, DestState> = {
  name: 'get_url_dest',
  command: ({ dest, name, algorithm }) => ShellCommand.join([sh`d=${dest}; n=${name}; a=${algorithm ?? ''}`, ShellCommand.script(DEST_SCRIPT)], '\n'),
  parse: (out) => parseDestState(out.stdout),
};

// ------------------------------------------------------------------ the download command

export interface DownloadCommand {
  file: string;
  url: string;
  tool: 'curl' | 'wget';
  timeout: number;
  validateCerts: boolean;
  useProxy: boolean;
  checksum?: { algorithm: Algorithm; hex: string };
  mode?: string;
  owner?: string;
  group?: string;
  backup: boolean;
}

/** Download to a temp file next to the target, verify, set attributes, rename. Exit 3 = checksum mismatch. */
export function downloadCommand(o: DownloadCommand): ShellCommand {
  const steps: ShellCommand[] = [
    sh`f=${o.file}`,
    ShellCommand.script('t=$(mktemp "$(dirname "$f")/.tsible-get_url.XXXXXX") || exit 1'),
    ShellCommand.script(`trap 'rm -f "$t" "$t.rc"' EXIT`),
  ];
  if (o.tool === 'curl') {
    const flags = ['--fail', '--silent', '--show-error', '--location', '--connect-timeout', String(o.timeout), '--speed-time', String(o.timeout), '--speed-limit', '1'];
    if (!o.validateCerts) flags.push('--insecure');
    if (!o.useProxy) flags.push('--noproxy', '*');
    steps.push(sh`curl ${flags} --config - --output "$t" || exit $?`);
  } else {
    const flags = ['-q', '-T', String(o.timeout)];
    if (!o.validateCerts) flags.push('--no-check-certificate');
    if (!o.useProxy) flags.push('--no-proxy');
    steps.push(ShellCommand.script('(umask 077 && cat > "$t.rc") || exit 1'), sh`WGETRC="$t.rc" wget ${flags} -O "$t" ${o.url} || exit $?`);
  }
  if (o.checksum) {
    const { algorithm, hex } = o.checksum;
    steps.push(sh`got=$(${`${algorithm}sum`} "$t" | cut -d' ' -f1); [ "$got" = ${hex} ] || { printf 'checksum mismatch: expected %s, got %s\n' ${`${algorithm}:${hex}`} "${algorithm}:$got" >&2; exit 3; }`);
  }
  if (o.mode) steps.push(sh`chmod ${o.mode} "$t" || exit 1`);
  else steps.push(ShellCommand.script('if [ -e "$f" ]; then chmod --reference="$f" "$t"; else chmod 0644 "$t"; fi || exit 1'));
  if (o.owner || o.group) steps.push(sh`chown ${`${o.owner ?? ''}${o.group ? `:${o.group}` : ''}`} "$t" || exit 1`);
  else steps.push(ShellCommand.script('if [ -e "$f" ]; then chown --reference="$f" "$t"; fi || exit 1'));
  if (o.backup) steps.push(ShellCommand.script('if [ -f "$f" ]; then cp -p "$f" "$f.$(date +%Y-%m-%d@%H:%M:%S)~" || exit 1; fi'));
  steps.push(ShellCommand.script('mv -f "$t" "$f"'));
  return ShellCommand.join(steps, '\n');
}

// ------------------------------------------------------------------ the module

export default defineModule({
  name: 'get_url',
  collections: ['ansible.builtin'],
  description:
    'Download a file over HTTP(S) or FTP on the host (with curl, or wget), verify its checksum before it replaces dest, and set its mode and owner. Not downloaded again when dest exists (with the given checksum).',
  args: {
    url: { type: 'str', required: true, description: 'http, https or ftp URL.' },
    dest: { type: 'path', required: true, description: 'File to write; a directory takes the file name from the URL.' },
    checksum: { type: 'str', description: 'algorithm:digest (md5, sha1, sha224, sha256, sha384, sha512), e.g. sha256:9f86d0...; verified before dest is replaced, and dest with this digest is not downloaded again.' },
    force: { type: 'bool', default: false, description: 'Download even when dest exists (always reports a change).' },
    timeout: { type: 'int', default: 10, description: 'Seconds to wait for the connection, or for data while downloading.' },
    headers: { type: 'dict', default: {}, description: 'HTTP headers to send.' },
    validate_certs: { type: 'bool', default: true, description: 'Verify the server certificate.' },
    use_proxy: { type: 'bool', default: true, description: 'Use the proxy from the environment (http_proxy...).' },
    url_username: { type: 'str', aliases: ['username'], description: 'User for HTTP basic authentication.' },
    url_password: { type: 'str', aliases: ['password'], noLog: true, description: 'Its password (sent to curl on stdin, never on the command line).' },
    force_basic_auth: { type: 'bool', default: false, description: 'Send the credentials with the first request instead of waiting for a 401 challenge.' },
    mode: { type: 'mode', description: 'Mode of dest.' },
    owner: { type: 'str', description: 'Owner of dest.' },
    group: { type: 'str', description: 'Group of dest.' },
    backup: { type: 'bool', default: false, description: 'Keep the previous dest as dest.<time>~ when replacing it.' },
  },
  returns: { dest: 'the file', url: 'the URL', checksum_dest: 'digest of the existing file (when a checksum was given)', downloaded: 'whether it is (or would be) downloaded' },
  example: [
    '- name: Fetch MOSIX (thesis 4.6.2)',
    '  ansible.builtin.get_url:',
    '    url: http://www.mosix.cs.huji.ac.il/mos4/MOSIX-4.4.0.tbz',
    '    dest: /root/MOSIX-4.4.0.tbz',
    '    checksum: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    '    mode: "0644"',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (!/^(https?|ftp):\/\//i.test(args.url)) throw new ArgError(`url must be http, https or ftp, got ${JSON.stringify(args.url)}`, 'url');
    if (args.checksum) parseChecksum(args.checksum);
    if (args.url_password !== undefined && args.url_username === undefined) throw new ArgError('url_password needs url_username', 'url_username');
    for (const [k, v] of Object.entries(args.headers)) {
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(k)) throw new ArgError(`headers: ${JSON.stringify(k)} is not a header name`, 'headers');
      if (typeof v === 'object' && v !== null) throw new ArgError(`headers.${k} must be a string`, 'headers');
    }
    if (args.timeout < 1) throw new ArgError(`timeout must be at least 1 second, got ${args.timeout}`, 'timeout');
  },
  facts: (args) => ({
    dest: factRequest(destFact, { dest: args.dest, name: safeFileName(args.url), algorithm: args.checksum ? parseChecksum(args.checksum).algorithm : undefined }),
  }),
  plan(args, facts): Plan {
    const st = facts.dest;
    const checksum = args.checksum ? parseChecksum(args.checksum) : undefined;
    let file = args.dest;
    if (st.isDir) {
      try {
        file = posix.join(args.dest, urlFileName(args.url));
      } catch (err) {
        return { changes: [], failure: { message: (err as Error).message } };
      }
    }
    const result: Record<string, unknown> = { dest: file, url: args.url };
    if (checksum && st.digest) result.checksum_dest = `${checksum.algorithm}:${st.digest}`;
    if (!st.dirExists) return { changes: [], result, failure: { message: `the directory of ${file} does not exist`, missing: posix.dirname(file) } };

    let why: string | undefined;
    if (!st.exists) why = 'missing';
    else if (args.force) why = 'force';
    else if (checksum && st.digest !== checksum.hex) why = `checksum ${st.digest ? `${checksum.algorithm}:${st.digest}` : 'unknown'} differs`;

    const changes: Change[] = [];
    if (why) {
      const tool = st.curl ? 'curl' : st.wget ? 'wget' : undefined;
      if (!tool) return { changes: [], result, failure: { message: 'neither curl nor wget is installed on the host', missing: 'curl' } };
      const headers = Object.fromEntries(Object.entries(args.headers).map(([k, v]) => [k, String(v)]));
      const creds: DownloadOptions = { url: args.url, headers, username: args.url_username, password: args.url_password, forceBasicAuth: args.force_basic_auth };
      let stdin: string;
      try {
        stdin = tool === 'curl' ? curlConfig(creds) : wgetrc(creds);
      } catch (err) {
        return { changes: [], result, failure: { message: (err as Error).message } };
      }
      changes.push({
        kind: 'exec',
        command: downloadCommand({ file, url: args.url, tool, timeout: args.timeout, validateCerts: args.validate_certs, useProxy: args.use_proxy, checksum, mode: args.mode, owner: args.owner, group: args.group, backup: args.backup }),
        stdin,
        describe: `download ${args.url} to ${file} with ${tool} (${why})`,
      });
      return { changes, result: { ...result, downloaded: true } };
    }

    // The file is there: only its attributes may need setting.
    if (args.owner || args.group) {
      const ownerDiffers = args.owner !== undefined && (/^\d+$/.test(args.owner) ? st.uid !== args.owner : st.user !== args.owner);
      const groupDiffers = args.group !== undefined && (/^\d+$/.test(args.group) ? st.gid !== args.group : st.group !== args.group);
      if (ownerDiffers || groupDiffers) {
        const who = `${args.owner ?? ''}${args.group ? `:${args.group}` : ''}`;
        changes.push({ kind: 'exec', command: sh`chown ${who} ${file}`, describe: `chown ${who} ${file}` });
      }
    }
    if (args.mode && args.mode !== 'preserve' && st.mode !== undefined) {
      const current = parseInt(st.mode, 8);
      if (applyMode(current, args.mode, false) !== current) changes.push({ kind: 'exec', command: sh`chmod ${args.mode} ${file}`, describe: `chmod ${args.mode} ${file}` });
    }
    if (changes.length) return { changes, result: { ...result, downloaded: false } };
    return { changes, result: { ...result, downloaded: false }, noopReason: checksum ? `${file} has ${checksum.algorithm}:${checksum.hex}` : `${file} exists (force: false)` };
  },
});

function safeFileName(url: string): string {
  try {
    return urlFileName(url);
  } catch {
    return 'index.html';
  }
}
