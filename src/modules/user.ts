/**
 * user (ansible.builtin.user): a local account present with the given
 * properties, or absent.
 *
 * One fact reads the passwd entry, the supplementary groups (the groups that
 * list the user as a member, as Ansible counts them), the groups the task
 * names, the shadow entry and whether the home directory and SSH key exist.
 * The password hash never crosses the wire: the fact sends its SHA-256 and
 * the planner compares that with the wanted hash's. A new password is set
 * with `chpasswd -e`, the hash on stdin, never in argv where `ps` shows it.
 *
 * Creating and changing follow Ansible's useradd/usermod choices (-N when a
 * group named like the user already exists, -G with the full list unless
 * append, -d with -m for move_home); a missing home directory of an existing
 * user is created from /etc/skel like Ansible does.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type Plan } from './types.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  comment: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface UserState {
  passwd?: PasswdEntry;
  /** the name of the primary group */
  primaryGroup?: string;
  /** groups that list the user as a member */
  memberOf: string[];
  /** the groups the task names (by name or gid), as the host knows them; missing ones are absent */
  groups: Record<string, GroupEntry>;
  shadow?: {
    /** SHA-256 of the hash without its lock marks */
    sha256: string;
    locked: boolean;
    /** account expiry, days since the epoch; undefined when none */
    expireDays?: number;
    /** the field holds a real hash (not *, ! or empty) */
    hasPassword: boolean;
  };
  homeExists: boolean;
  /** the SSH private key file exists; its public half when readable */
  sshKey?: { exists: boolean; publicKey?: string };
  /** HOME_MODE from /etc/login.defs */
  homeMode?: string;
  /** parent directory of the wanted home exists */
  homeParentExists: boolean;
}

const M = '@@tsible-';

// $name, $home (wanted), $key (relative or absolute key path) and "$@" (named groups) are set by `sh`.
const USER_SCRIPT = `echo '${M}passwd'
getent passwd "$name"
pw=$(getent passwd "$name")
h=$(printf '%s' "$pw" | cut -d: -f6)
if [ -n "$pw" ]; then
  echo '${M}primary'
  id -gn "$name" 2>/dev/null
  echo '${M}member'
  getent group | awk -F: -v u="$name" '{ n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) { print $1; break } }'
  echo '${M}shadow'
  s=$(getent shadow "$name" 2>/dev/null)
  if [ -n "$s" ]; then
    hash=$(printf '%s' "$s" | cut -d: -f2)
    case "$hash" in '!'*) echo locked ;; esac
    bare=$(printf '%s' "$hash" | sed 's/^!*//')
    case "$bare" in ''|'*'|'!'*|x) ;; *) echo has-password ;; esac
    echo "sha256 $(printf '%s' "$bare" | sha256sum | cut -d' ' -f1)"
    echo "expire $(printf '%s' "$s" | cut -d: -f8)"
  fi
fi
echo '${M}groups'
for g in "$@"; do getent group "$g"; done
[ -n "$home" ] || home=$h
echo '${M}home'
[ -n "$home" ] && [ -d "$home" ] && echo exists
[ -n "$home" ] && [ -d "$(dirname "$home")" ] && echo parent
if [ -n "$key" ]; then
  echo '${M}key'
  case "$key" in /*) k=$key ;; *) k=$home/$key ;; esac
  [ -f "$k" ] && echo exists && [ -r "$k.pub" ] && printf 'pub %s\\n' "$(head -n 1 "$k.pub")"
fi
echo '${M}login'
awk '$1 == "HOME_MODE" { print "home_mode " $2 }' /etc/login.defs 2>/dev/null
true`;

function parseGroupLine(line: string): GroupEntry | undefined {
  const f = line.split(':');
  if (f.length < 3 || !/^\d+$/.test(f[2]!)) return undefined;
  return { name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) };
}

export function parseUserState(stdout: string, names: readonly string[] = []): UserState {
  const st: UserState = { memberOf: [], groups: {}, homeExists: false, homeParentExists: false };
  let section = '';
  const groupLines: GroupEntry[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(M)) {
      section = line.slice(M.length);
      if (section === 'key') st.sshKey = { exists: false };
      continue;
    }
    if (line === '') continue;
    let m: RegExpExecArray | null;
    switch (section) {
      case 'passwd': {
        const f = line.split(':');
        if (f.length >= 7) st.passwd = { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), comment: f[4]!, home: f[5]!, shell: f.slice(6).join(':') };
        break;
      }
      case 'primary':
        st.primaryGroup = line.trim();
        break;
      case 'member':
        st.memberOf.push(line.trim());
        break;
      case 'shadow':
        st.shadow ??= { sha256: '', locked: false, hasPassword: false };
        if (line === 'locked') st.shadow.locked = true;
        else if (line === 'has-password') st.shadow.hasPassword = true;
        else if ((m = /^sha256 ([0-9a-f]{64})$/.exec(line))) st.shadow.sha256 = m[1]!;
        else if ((m = /^expire (\d*)$/.exec(line)) && m[1] !== '') st.shadow.expireDays = Number(m[1]);
        break;
      case 'groups': {
        const g = parseGroupLine(line);
        if (g) groupLines.push(g);
        break;
      }
      case 'home':
        if (line === 'exists') st.homeExists = true;
        if (line === 'parent') st.homeParentExists = true;
        break;
      case 'key':
        if (line === 'exists') st.sshKey!.exists = true;
        else if ((m = /^pub (.*)$/.exec(line))) st.sshKey!.publicKey = m[1]!;
        break;
      case 'login':
        if ((m = /^home_mode (\d+)$/.exec(line))) st.homeMode = m[1]!;
        break;
    }
  }
  // Each named group, looked up by name or gid.
  for (const n of names) {
    const g = groupLines.find((x) => x.name === n) ?? (/^\d+$/.test(n) ? groupLines.find((x) => x.gid === Number(n)) : undefined);
    if (g) st.groups[n] = g;
  }
  return st;
}

export interface UserFactArgs {
  name: string;
  home?: string;
  key?: string;
  groups: string[];
}

export const userFact: Fact<UserFactArgs, UserState> = {
  name: 'user',
  command: ({ name, home, key, groups }) => ShellCommand.join([sh`name=${name}; home=${home ?? ''}; key=${key ?? ''}; set -- ${groups}`, ShellCommand.script(USER_SCRIPT)], '\n'),
  parse: (out, args) => parseUserState(out.stdout, [...args.groups]),
};

// ------------------------------------------------------------------ planning

/** Ansible's test for "this looks like a crypt(3) hash" (it warns otherwise). */
export function looksHashed(password: string): boolean {
  return /^\$[0-9a-z]+\$/.test(password.replace(/^!+/, '')) || /^[!*]+$/.test(password) || /^[./0-9A-Za-z]{13}$/.test(password);
}

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

/** `expires` (epoch seconds) as useradd/usermod -e takes it; '' removes the expiry. */
export function expireDate(expires: number): string {
  if (expires < 0) return '';
  return new Date(expires * 1000).toISOString().slice(0, 10);
}

function sshKeygen(args: { ssh_key_type: string; ssh_key_bits?: number; ssh_key_comment?: string; ssh_key_passphrase?: string }, path: string, user: string, group: string | number): ShellCommand {
  const bits = args.ssh_key_bits ?? (args.ssh_key_type === 'rsa' ? 4096 : undefined);
  const dir = posix.dirname(path);
  const keygen = ['ssh-keygen', '-q', '-t', args.ssh_key_type, ...(bits && args.ssh_key_type !== 'ed25519' ? ['-b', String(bits)] : []), '-f', path, '-N', args.ssh_key_passphrase ?? ''];
  const comment = args.ssh_key_comment !== undefined ? sh`-C ${args.ssh_key_comment}` : ShellCommand.script('-C "ansible-generated on $(hostname)"');
  // user: (empty group) is the user's login group.
  const owner = `${user}:${group}`;
  return ShellCommand.join([sh`mkdir -p ${dir}`, sh`chmod 0700 ${dir}`, sh`chown ${owner} ${dir}`, sh`${keygen} ${comment}`, sh`chown ${owner} ${path} ${path + '.pub'}`], '&&');
}

export default defineModule({
  name: 'user',
  collections: ['ansible.builtin'],
  description:
    'A local account present with the given uid, groups, shell, home, comment and password hash, or absent (remove: true also deletes its home). Passwords are hashes, set through stdin; the stored hash is compared by checksum without being sent to the controller.',
  args: {
    name: { type: 'str', required: true, aliases: ['user'], description: 'The login name.' },
    state: { type: 'str', default: 'present', choices: ['present', 'absent'] as const, description: 'Whether the account exists.' },
    uid: { type: 'int', description: 'The user id.' },
    non_unique: { type: 'bool', default: false, description: 'Allow a uid another user has (-o).' },
    group: { type: 'str', description: 'The primary group (name or gid); it must exist.' },
    groups: { type: 'list', elements: 'str', description: 'Supplementary groups; an empty list removes all (unless append).' },
    append: { type: 'bool', default: false, description: 'Add to the groups listed, keep the others.' },
    shell: { type: 'str', description: 'The login shell, e.g. /bin/bash.' },
    home: { type: 'path', description: 'The home directory, e.g. /nfs/jordi for a home on the NFS share.' },
    create_home: { type: 'bool', default: true, aliases: ['createhome'], description: 'Create the home directory (from /etc/skel) when creating the user, or when it is missing.' },
    move_home: { type: 'bool', default: false, description: 'When home changes, move the old directory there (usermod -m).' },
    skeleton: { type: 'path', description: 'Skeleton directory for a new home (useradd -k).' },
    system: { type: 'bool', default: false, description: 'Create a system account (useradd -r); no effect on existing users.' },
    comment: { type: 'str', description: 'The GECOS field (full name).' },
    password: { type: 'str', noLog: true, description: 'The crypted password hash (e.g. from the password_hash filter), never the clear text.' },
    update_password: { type: 'str', default: 'always', choices: ['always', 'on_create'] as const, description: 'always: set the hash when it differs; on_create: only for a new user.' },
    password_lock: { type: 'bool', description: 'Lock (true) or unlock (false) the password (usermod -L/-U).' },
    expires: { type: 'float', description: 'Account expiry, seconds since the epoch; negative removes the expiry.' },
    remove: { type: 'bool', default: false, description: 'With state absent: also delete the home directory and mail spool (userdel -r).' },
    force: { type: 'bool', default: false, description: 'With state absent: remove even when the user is logged in (userdel -f).' },
    generate_ssh_key: { type: 'bool', default: false, description: 'Create an SSH key pair when the key file does not exist.' },
    ssh_key_type: { type: 'str', default: 'rsa', description: 'Type of the generated key (rsa, ed25519, ecdsa).' },
    ssh_key_bits: { type: 'int', description: 'Bits of the generated key (default 4096 for rsa).' },
    ssh_key_file: { type: 'path', description: 'The key file, relative to the home directory (default .ssh/id_<type>).' },
    ssh_key_comment: { type: 'str', description: 'Comment of the generated key (default "ansible-generated on <hostname>").' },
    ssh_key_passphrase: { type: 'str', noLog: true, description: 'Passphrase of the generated key (passed to ssh-keygen -N).' },
    local: { type: 'bool', default: false, description: 'Not supported (luseradd); accepted as false.' },
  },
  returns: {
    name: 'the login name',
    uid: 'the user id (before a change for an existing user)',
    group: 'the primary gid',
    groups: 'the supplementary groups, comma-separated',
    home: 'the home directory',
    shell: 'the login shell',
    comment: 'the GECOS field',
    ssh_key_file: 'the SSH key path, with generate_ssh_key',
    ssh_public_key: 'the public key, when it already exists',
    warnings: 'e.g. a password that does not look hashed',
  },
  example: [
    '- name: Cluster user with the home on the NFS share (thesis: useradd jordi -s /bin/bash -b /nfs -m)',
    '  ansible.builtin.user:',
    '    name: jordi',
    '    shell: /bin/bash',
    '    home: /nfs/jordi',
    '    create_home: true',
    '    password: "{{ \'secret\' | password_hash(\'sha512\') }}"',
    '',
    '- name: Remove a user with the home directory (userdel -r)',
    '  ansible.builtin.user:',
    '    name: olduser',
    '    state: absent',
    '    remove: true',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (!/^[a-z_][a-z0-9_.-]*\$?$/i.test(args.name) || args.name.length > 32) throw new ArgError(`${JSON.stringify(args.name)} is not a valid login name`, 'name');
    if (args.local) throw new ArgError('local: true (luseradd) is not supported', 'local');
    if (args.password !== undefined && /[:\n]/.test(args.password)) throw new ArgError('password must be a crypted hash without ":" or newlines', 'password');
    if (args.uid !== undefined && args.uid < 0) throw new ArgError(`uid must not be negative, got ${args.uid}`, 'uid');
    for (const f of ['comment', 'shell', 'home'] as const) if (args[f] !== undefined && /[:\n]/.test(args[f]!)) throw new ArgError(`${f} must not contain ":" or newlines`, f);
  },
  facts(args) {
    // Without group, a group named like the user decides useradd -N (as in Ansible).
    const named = [args.group ?? args.name, ...(args.groups ?? []).map((g) => g.trim()).filter(Boolean)];
    const key = args.generate_ssh_key ? (args.ssh_key_file ?? `.ssh/id_${args.ssh_key_type}`) : undefined;
    return { user: factRequest(userFact, { name: args.name, ...(args.home ? { home: args.home } : {}), ...(key ? { key } : {}), groups: [...new Set(named)] }) };
  },
  plan(args, facts): Plan {
    const st = facts.user;
    const pw = st.passwd;
    const changes: Change[] = [];
    const reasons: string[] = [];
    const warnings: string[] = [];
    const result: Record<string, unknown> = { name: args.name, state: args.state };

    if (args.state === 'absent') {
      if (!pw) return { changes, result, noopReason: `user ${args.name} does not exist` };
      const argv = ['userdel', ...(args.force ? ['-f'] : []), ...(args.remove ? ['-r'] : []), args.name];
      changes.push({ kind: 'exec', command: sh`${argv}`, describe: `${argv.join(' ')}${args.remove && st.homeExists ? ` (removes ${pw.home})` : ''}` });
      return { changes, result: { ...result, uid: pw.uid, home: pw.home } };
    }

    if (args.password !== undefined && !looksHashed(args.password)) {
      warnings.push('The input password appears not to have been hashed. The password argument must be a crypted hash (see the password_hash filter).');
    }
    const missingGroup = (g: string): Plan => ({ changes: [], result, failure: { message: `Group ${g} does not exist`, missing: `group ${g}` } });
    if (args.group !== undefined && !st.groups[args.group]) return missingGroup(args.group);
    const wanted = (args.groups ?? []).map((g) => g.trim()).filter(Boolean);
    for (const g of wanted) if (!st.groups[g]) return missingGroup(g);
    const wantedNames = [...new Set(wanted.map((g) => st.groups[g]!.name))];
    const setPassword = (why: string): Change => ({
      kind: 'exec',
      command: sh`chpasswd -e`,
      stdin: `${args.name}:${args.password_lock ? '!' + args.password!.replace(/^!+/, '') : args.password}\n`,
      describe: `set the password of ${args.name} (${why})`,
    });

    if (!pw) {
      // A new account.
      const argv = ['useradd'];
      if (args.uid !== undefined) argv.push('-u', String(args.uid), ...(args.non_unique ? ['-o'] : []));
      if (args.group !== undefined) argv.push('-g', args.group);
      else if (st.groups[args.name]) argv.push('-N');
      const primaryGid = args.group !== undefined ? st.groups[args.group]!.gid : undefined;
      const supplementary = wanted.filter((g) => st.groups[g]!.gid !== primaryGid).map((g) => st.groups[g]!.name);
      if (supplementary.length) argv.push('-G', [...new Set(supplementary)].join(','));
      if (args.comment !== undefined) argv.push('-c', args.comment);
      if (args.home !== undefined) argv.push('-d', args.home);
      if (args.shell !== undefined) argv.push('-s', args.shell);
      if (args.expires !== undefined) argv.push('-e', expireDate(args.expires));
      if (args.create_home) {
        argv.push('-m');
        if (args.skeleton !== undefined) argv.push('-k', args.skeleton);
      } else argv.push('-M');
      if (args.system) argv.push('-r');
      argv.push(args.name);
      // useradd -m creates the home but not its parents.
      if (args.create_home && args.home !== undefined && !st.homeParentExists) {
        changes.push({ kind: 'exec', command: sh`mkdir -p ${posix.dirname(args.home)}`, describe: `mkdir -p ${posix.dirname(args.home)}` });
      }
      changes.push({ kind: 'exec', command: sh`${argv}`, describe: argv.join(' ') });
      if (args.password !== undefined) changes.push(setPassword('new user'));
      else if (args.password_lock) changes.push({ kind: 'exec', command: sh`usermod -L ${args.name}`, describe: `usermod -L ${args.name}` });
      if (args.generate_ssh_key) {
        const home = args.home ?? `/home/${args.name}`;
        const keyFile = args.ssh_key_file ?? `.ssh/id_${args.ssh_key_type}`;
        const path = keyFile.startsWith('/') ? keyFile : posix.join(home, keyFile);
        changes.push({ kind: 'exec', command: sshKeygen(args, path, args.name, args.group ?? ''), describe: `generate an SSH key ${path}` });
        result.ssh_key_file = path;
      }
      Object.assign(result, { uid: args.uid, home: args.home, shell: args.shell, comment: args.comment, groups: wantedNames.join(','), create_home: args.create_home, system: args.system });
      if (warnings.length) result.warnings = warnings;
      return { changes, result };
    }

    // An existing account.
    Object.assign(result, { uid: pw.uid, group: pw.gid, home: pw.home, shell: pw.shell, comment: pw.comment, groups: st.memberOf.join(',') });
    const mod: string[] = [];
    const what: string[] = [];
    if (args.uid !== undefined && pw.uid !== args.uid) {
      mod.push('-u', String(args.uid), ...(args.non_unique ? ['-o'] : []));
      what.push(`uid ${pw.uid} → ${args.uid}`);
    }
    if (args.group !== undefined && st.groups[args.group]!.gid !== pw.gid) {
      mod.push('-g', args.group);
      what.push(`primary group ${st.primaryGroup ?? pw.gid} → ${st.groups[args.group]!.name}`);
    }
    if (args.groups !== undefined) {
      const current = new Set(st.memberOf);
      const want = new Set(wantedNames);
      const diff = [...new Set([...current, ...want])].filter((g) => current.has(g) !== want.has(g));
      if (wanted.length === 0) {
        if (current.size && !args.append) {
          mod.push('-G', '');
          what.push(`remove from ${[...current].join(', ')}`);
        }
      } else if (diff.length) {
        if (args.append) {
          const add = wantedNames.filter((g) => !current.has(g));
          if (add.length) {
            mod.push('-a', '-G', wantedNames.join(','));
            what.push(`add to ${add.join(', ')}`);
          }
        } else {
          mod.push('-G', wantedNames.join(','));
          const add = wantedNames.filter((g) => !current.has(g));
          const drop = [...current].filter((g) => !want.has(g));
          what.push([add.length ? `add to ${add.join(', ')}` : '', drop.length ? `remove from ${drop.join(', ')}` : ''].filter(Boolean).join(', '));
        }
      }
    }
    if (args.comment !== undefined && pw.comment !== args.comment) {
      mod.push('-c', args.comment);
      what.push(`comment ${JSON.stringify(pw.comment)} → ${JSON.stringify(args.comment)}`);
    }
    if (args.home !== undefined && pw.home !== args.home) {
      mod.push('-d', args.home, ...(args.move_home ? ['-m'] : []));
      what.push(`home ${pw.home} → ${args.home}${args.move_home ? ' (moved)' : ''}`);
    }
    if (args.shell !== undefined && pw.shell !== args.shell) {
      mod.push('-s', args.shell);
      what.push(`shell ${pw.shell} → ${args.shell}`);
    }
    if (args.expires !== undefined) {
      const cur = st.shadow?.expireDays;
      if (args.expires < 0) {
        if (cur !== undefined && cur >= 0) {
          mod.push('-e', '');
          what.push('no expiry');
        }
      } else if (cur === undefined || cur < 0 || expireDate(cur * 86400) !== expireDate(args.expires)) {
        mod.push('-e', expireDate(args.expires));
        what.push(`expires ${expireDate(args.expires)}`);
      }
    }
    const passwordDiffers = args.password !== undefined && args.update_password === 'always' && st.shadow?.sha256 !== sha256(args.password.replace(/^!+/, ''));
    if (args.password_lock === true && !st.shadow?.locked && !passwordDiffers) {
      mod.push('-L');
      what.push('lock the password');
    } else if (args.password_lock === false && st.shadow?.locked && !passwordDiffers) {
      mod.push('-U');
      what.push('unlock the password');
    }
    if (mod.length) {
      const argv = ['usermod', ...mod, args.name];
      changes.push({ kind: 'exec', command: sh`${argv}`, describe: `usermod ${args.name}: ${what.join('; ')}` });
    } else reasons.push(`user ${args.name} (uid ${pw.uid}) is as wanted`);
    if (passwordDiffers) changes.push(setPassword('it differs'));
    else if (args.password !== undefined) reasons.push(args.update_password === 'on_create' ? 'the password is only set on create' : 'the password is the wanted one');

    const home = args.home ?? pw.home;
    if (args.create_home && !st.homeExists && !(args.move_home && args.home !== undefined && pw.home !== args.home)) {
      const mode = st.homeMode ?? '0755';
      const skel = args.skeleton ?? '/etc/skel';
      changes.push({
        kind: 'exec',
        command: ShellCommand.join([sh`mkdir -p ${home}`, sh`chmod ${mode} ${home}`, sh`{ [ ! -d ${skel} ] || cp -a ${skel + '/.'} ${home}; }`, sh`chown -R ${`${pw.uid}:${pw.gid}`} ${home}`], '&&'),
        describe: `create the home directory ${home} from ${skel}`,
      });
    }
    if (args.generate_ssh_key) {
      const keyFile = args.ssh_key_file ?? `.ssh/id_${args.ssh_key_type}`;
      const path = keyFile.startsWith('/') ? keyFile : posix.join(home, keyFile);
      result.ssh_key_file = path;
      if (st.sshKey?.exists) {
        reasons.push(`${path} exists`);
        if (st.sshKey.publicKey) result.ssh_public_key = st.sshKey.publicKey;
      } else changes.push({ kind: 'exec', command: sshKeygen(args, path, args.name, pw.gid), describe: `generate an SSH key ${path}` });
    }
    if (warnings.length) result.warnings = warnings;
    if (!changes.length) return { changes, result, noopReason: reasons.join('; ') };
    return { changes, result };
  },
});
