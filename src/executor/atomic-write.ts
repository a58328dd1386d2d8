/**
 * The remote half of every file write: stdin goes to a temp file in the
 * target's directory, gets its mode and owner, and is renamed into place, so
 * a failure never leaves a half-written file. Files that are mount points
 * (Docker bind-mounts /etc/hosts, /etc/hostname, /etc/resolv.conf) cannot be
 * renamed over; those alone are rewritten in place.
 */
import { ShellCommand, sh } from '../util/shell.js';

export interface AtomicWriteOptions {
  /** octal string like '0644', or symbolic 'u=rw,g=r' */
  mode?: string;
  owner?: string;
  group?: string;
  /** Keep the previous file as DEST.<timestamp>~ (Ansible's backup naming). */
  backup?: boolean;
  /** A command run on the temp file before it replaces the target, with %s for its path (e.g. `haproxy -c -f %s`). */
  validate?: string;
}

/** Marker printed on stdout with the backup file's path, so callers can report it. */
export const BACKUP_MARKER = 'TSIBLE_BACKUP_FILE=';

export function atomicWriteCommand(dest: string, opts: AtomicWriteOptions = {}): ShellCommand {
  const steps: ShellCommand[] = [
    sh`t=$(mktemp "$(dirname ${dest})/.tsible-tmp.XXXXXX") || exit 1`,
    ShellCommand.script(`trap 'rm -f "$t"' EXIT`),
    ShellCommand.script(`cat > "$t" || exit 1`),
  ];
  // mktemp creates 0600; a new file without an explicit mode gets the usual umask default instead.
  if (opts.mode) steps.push(sh`chmod ${opts.mode} "$t" || exit 1`);
  else steps.push(sh`if [ -e ${dest} ]; then chmod --reference=${dest} "$t"; else chmod 0644 "$t"; fi || exit 1`);
  if (opts.owner || opts.group) {
    const who = `${opts.owner ?? ''}${opts.group ? ':' + opts.group : ''}`;
    steps.push(sh`chown ${who} "$t" || exit 1`);
  } else {
    steps.push(sh`if [ -e ${dest} ]; then chown --reference=${dest} "$t"; fi || exit 1`);
  }
  if (opts.validate) {
    if (!opts.validate.includes('%s')) throw new Error('validate must contain %s');
    // The validate command is written by the playbook author, like a `shell` task; only the path is ours.
    const parts = opts.validate.split('%s');
    steps.push(ShellCommand.script(`${parts.join('"$t"')} >&2 || { echo "validation failed: ${parts.join('<file>').replace(/["$`\\]/g, '')}" >&2; exit 3; }`));
  }
  if (opts.backup) {
    steps.push(
      sh`if [ -e ${dest} ]; then b=${dest}.$(date +%Y-%m-%d@%H:%M:%S)~; cp -p ${dest} "$b" || exit 1; echo ${BACKUP_MARKER}"$b"; fi`,
    );
  }
  steps.push(
    sh`if ! mv -f "$t" ${dest} 2>/dev/null; then if awk -v p=${dest} '$5 == p { f = 1 } END { exit !f }' /proc/self/mountinfo; then cat "$t" > ${dest} || exit 1; else mv -f "$t" ${dest} || exit 1; fi; fi`,
  );
  return ShellCommand.join(steps, '\n');
}
