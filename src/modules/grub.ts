/**
 * grub: the boot loader of a host, or of a system in a directory (a cloned
 * partition mounted at /mnt/sda1, as in the thesis's node cloning).
 *
 * Independent parts, any combination per task, applied in this order:
 * - `defaults`: keys of /etc/default/grub, edited here (one write);
 * - `custom_entries` / `custom`: a managed block in /etc/grub.d/40_custom;
 * - `scripts`: /etc/grub.d scripts enabled or disabled (chmod +x / -x);
 * - `install_device`: grub-install, when the boot loader is not installed;
 * - `update`: grub.cfg regenerated, only when one of the above changed in
 *   this task or grub.cfg is missing.
 *
 * With `chroot`, every file is the one inside that directory, and
 * grub-install and update-grub run inside it, with /dev, /dev/pts, /proc and
 * /sys bind-mounted for the command and unmounted after it.
 *
 * When is GRUB "installed"? For BIOS targets (i386-pc): the first sector of
 * the device carries GRUB's boot code (the string "GRUB" in it), the core
 * image BOOT/grub/i386-pc/core.img exists, and BOOT/grub/i386-pc/normal.mod is
 * byte-identical to the grub package's (so a GRUB upgrade re-installs). For
 * EFI targets: core.efi exists and the modules match the same way.
 */
import { ShellCommand, sh } from '../util/shell.js';
import { factRequest, type Fact, type FactRequest } from '../facts/types.js';
import { ArgError } from './argspec.js';
import { defineModule, type Change, type FileDiff, type Plan } from './types.js';

// ------------------------------------------------------------------ /etc/default/grub

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The value a shell assignment's right-hand side yields, or undefined when it is not a plain literal (command substitution, variables). */
export function parseShellValue(raw: string): string | undefined {
  let s = raw.trim();
  let out = '';
  while (s.length > 0) {
    const ch = s[0]!;
    if (ch === '#' || /\s/.test(ch)) break;
    if (ch === '"') {
      let i = 1;
      for (; i < s.length && s[i] !== '"'; i++) {
        if (s[i] === '$' || s[i] === '`') return undefined;
        if (s[i] === '\\' && i + 1 < s.length && '"\\$`\n'.includes(s[i + 1]!)) i++;
        out += s[i];
      }
      if (i >= s.length) return undefined;
      s = s.slice(i + 1);
    } else if (ch === "'") {
      const end = s.indexOf("'", 1);
      if (end < 0) return undefined;
      out += s.slice(1, end);
      s = s.slice(end + 1);
    } else if (ch === '$' || ch === '`') {
      return undefined;
    } else if (ch === '\\' && s.length > 1) {
      out += s[1];
      s = s.slice(2);
    } else {
      out += ch;
      s = s.slice(1);
    }
  }
  return out;
}

/** How a value is written: integers bare (GRUB_TIMEOUT=5), anything else in double quotes, as grub's own file does. */
export function quoteGrubValue(value: string): string {
  if (/^-?\d+$/.test(value)) return value;
  return `"${value.replace(/([\\"$`])/g, '\\$1')}"`;
}

export function grubValueOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(String).join(' ');
  throw new ArgError(`defaults values must be strings, numbers or booleans, got ${JSON.stringify(value)}`, 'defaults');
}

/**
 * Sets keys in /etc/default/grub text: an active `KEY=` line whose value
 * differs is rewritten (an `export ` prefix is kept); a missing key goes
 * right after its commented-out example (`#GRUB_TERMINAL=console`) or at the
 * end; null removes the key's active lines. Everything else stays as it is.
 */
export function editGrubDefaults(content: string, settings: Record<string, string | null>): { content: string; changed: boolean } {
  const lines = content === '' ? [] : content.replace(/\n$/, '').split('\n');
  let changed = false;
  for (const [key, value] of Object.entries(settings)) {
    const active = new RegExp(`^(\\s*)(export\\s+)?${key}=(.*)$`);
    const commented = new RegExp(`^\\s*#\\s*(export\\s+)?${key}=`);
    let found = false;
    for (let i = 0; i < lines.length; i++) {
      const m = active.exec(lines[i]!);
      if (!m) continue;
      found = true;
      if (value === null) {
        lines.splice(i, 1);
        i--;
        changed = true;
        continue;
      }
      const current = parseShellValue(m[3]!);
      if (current !== value) {
        lines[i] = `${m[1]}${m[2] ?? ''}${key}=${quoteGrubValue(value)}`;
        changed = true;
      }
    }
    if (found || value === null) continue;
    let at = -1;
    lines.forEach((l, i) => {
      if (commented.test(l)) at = i;
    });
    const line = `${key}=${quoteGrubValue(value)}`;
    if (at >= 0) lines.splice(at + 1, 0, line);
    else lines.push(line);
    changed = true;
  }
  return { content: lines.length ? lines.join('\n') + '\n' : '', changed };
}

// ------------------------------------------------------------------ /etc/grub.d/40_custom

/** Debian's 40_custom as the grub-common package ships it. */
export const DEFAULT_40_CUSTOM = `#!/bin/sh
exec tail -n +3 $0
# This file provides an easy way to add custom menu entries.  Simply type the
# menu entries you want to add after this comment.  Be careful not to change
# the 'exec tail' line above.
`;

export const BLOCK_BEGIN = '# BEGIN TSIBLE MANAGED BLOCK';
export const BLOCK_END = '# END TSIBLE MANAGED BLOCK';

export interface MenuEntry {
  title: string;
  content: string;
}

function dedent(text: string): string[] {
  const lines = text.replace(/\s+$/, '').split('\n');
  while (lines.length && lines[0]!.trim() === '') lines.shift();
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^\s*/.exec(l)![0].length));
  return lines.map((l) => (l.trim() === '' ? '' : l.slice(Number.isFinite(indent) ? indent : 0)));
}

/** grub.cfg's double-quoted string: backslash, quote, dollar and backquote are escaped. */
export function quoteGrubTitle(title: string): string {
  if (/\n/.test(title)) throw new ArgError(`a menu entry title cannot span lines: ${JSON.stringify(title)}`, 'custom_entries');
  return `"${title.replace(/([\\"$`])/g, '\\$1')}"`;
}

export function renderMenuEntries(entries: readonly MenuEntry[]): string {
  return entries
    .map((e) => [`menuentry ${quoteGrubTitle(e.title)} {`, ...dedent(e.content).map((l) => (l === '' ? '' : `    ${l}`)), '}'].join('\n'))
    .join('\n\n');
}

/**
 * Puts `block` between the managed-block markers of 40_custom (replacing the
 * previous block, or appending one), and makes sure the file starts with the
 * two lines that make grub-mkconfig print the rest verbatim.
 */
export function editCustomFile(content: string | null, block: string): { content: string; changed: boolean } {
  const before = content ?? '';
  let lines = (content ?? DEFAULT_40_CUSTOM).replace(/\n$/, '').split('\n');
  if (lines[0] !== '#!/bin/sh' || !/^exec tail -n \+3 \$0\s*$/.test(lines[1] ?? '')) {
    lines = ['#!/bin/sh', 'exec tail -n +3 $0', ...lines.filter((l, i) => !(i === 0 && l.startsWith('#!')))];
  }
  const body = block.replace(/\n+$/, '');
  const managed = [BLOCK_BEGIN, ...(body === '' ? [] : body.split('\n')), BLOCK_END];
  const begin = lines.indexOf(BLOCK_BEGIN);
  const end = lines.indexOf(BLOCK_END, begin + 1);
  if (begin >= 0 && end > begin) lines.splice(begin, end - begin + 1, ...managed);
  else {
    if (lines.length && lines[lines.length - 1]!.trim() !== '') lines.push('');
    lines.push(...managed);
  }
  const after = lines.join('\n') + '\n';
  return { content: after, changed: after !== before };
}

// ------------------------------------------------------------------ facts

/** A file's content, or null when there is none. */
export const grubFileFact: Fact<{ path: string }, string | null> = {
  name: 'grub_file',
  command: ({ path }) => sh`if [ -f ${path} ]; then echo present; cat ${path}; else echo absent; fi`,
  parse: (out) => (out.stdout.startsWith('present\n') ? out.stdout.slice('present\n'.length) : out.stdout === 'present' ? '' : null),
};

export type ScriptState = 'enabled' | 'disabled' | 'missing';

/** For each /etc/grub.d script: executable or not, or missing. */
export const grubScriptsFact: Fact<{ dir: string; names: string[] }, Record<string, ScriptState>> = {
  name: 'grub_scripts',
  command: ({ dir, names }) =>
    ShellCommand.join([sh`d=${dir}; set -- ${names}`, ShellCommand.script('for n in "$@"; do if [ ! -f "$d/$n" ]; then echo "missing $n"; elif [ -x "$d/$n" ]; then echo "enabled $n"; else echo "disabled $n"; fi; done')], '\n'),
  parse: (out) => {
    const r: Record<string, ScriptState> = {};
    for (const line of out.stdout.split('\n')) {
      const m = /^(enabled|disabled|missing) (.+)$/.exec(line);
      if (m) r[m[2]!] = m[1] as ScriptState;
    }
    return r;
  },
};

export interface InstallState {
  /** BOOT/grub/grub.cfg exists */
  cfg: boolean;
  /** core.img / core.efi exists in BOOT/grub/TARGET */
  core: boolean;
  /** BOOT/grub/TARGET/normal.mod equals the package's */
  modulesCurrent: boolean;
  /** /usr/lib/grub/TARGET exists (the package for the target is installed) */
  targetPackage: boolean;
  /** the first sector of the device has GRUB's boot code; undefined without a device */
  mbr?: boolean;
  deviceMissing: boolean;
  haveInstall: boolean;
  haveUpdateGrub: boolean;
  haveMkconfig: boolean;
}

const INSTALL_SCRIPT = `
B="$c$b"
[ -f "$B/grub/grub.cfg" ] && echo cfg
if [ -n "$t" ]; then
  { [ -f "$B/grub/$t/core.img" ] || [ -f "$B/grub/$t/core.efi" ]; } && echo core
  [ -d "$c/usr/lib/grub/$t" ] && echo package
  cmp -s "$B/grub/$t/normal.mod" "$c/usr/lib/grub/$t/normal.mod" 2>/dev/null && echo modules
fi
if [ -n "$dev" ]; then
  if [ -e "$dev" ]; then dd if="$dev" bs=512 count=1 2>/dev/null | grep -aq GRUB && echo mbr-grub || echo mbr-other; else echo nodev; fi
fi
have() { if [ -n "$c" ]; then for p in /usr/sbin /usr/bin /sbin /bin; do [ -x "$c$p/$1" ] && return 0; done; return 1; else command -v "$1" >/dev/null 2>&1; fi; }
have grub-install && echo have-install
have update-grub && echo have-update-grub
have grub-mkconfig && echo have-mkconfig
true
`;

export function parseInstallState(stdout: string): InstallState {
  const words = new Set(stdout.split('\n').map((l) => l.trim()));
  return {
    cfg: words.has('cfg'),
    core: words.has('core'),
    modulesCurrent: words.has('modules'),
    targetPackage: words.has('package'),
    mbr: words.has('mbr-grub') ? true : words.has('mbr-other') ? false : undefined,
    deviceMissing: words.has('nodev'),
    haveInstall: words.has('have-install'),
    haveUpdateGrub: words.has('have-update-grub'),
    haveMkconfig: words.has('have-mkconfig'),
  };
}

export const grubInstallFact: Fact<{ chroot: string; bootDir: string; target: string; device: string }, InstallState> = {
  name: 'grub_install',
  command: ({ chroot, bootDir, target, device }) => ShellCommand.join([sh`c=${chroot}; b=${bootDir}; t=${target}; dev=${device}`, ShellCommand.script(INSTALL_SCRIPT)], '\n'),
  parse: (out) => parseInstallState(out.stdout),
};

// ------------------------------------------------------------------ commands

/**
 * Runs argv inside `dir` with /dev, /dev/pts, /proc and /sys bind-mounted for
 * it: only those not mounted there already, and only those are unmounted
 * after, whatever the command's exit code (which is the script's).
 */
export function inChroot(dir: string, argv: readonly string[]): ShellCommand {
  return ShellCommand.join(
    [
      sh`c=${dir}; u=''`,
      ShellCommand.script('b() { mountpoint -q "$c$1" && return 0; mount --bind "$1" "$c$1" || return 1; u="$1 $u"; }'),
      sh`if b /dev && b /dev/pts && b /proc && b /sys; then chroot "$c" ${argv}; rc=$?; else rc=1; fi`,
      ShellCommand.script('for d in $u; do umount "$c$d"; done\nexit $rc'),
    ],
    '\n',
  );
}

function joinPath(root: string, path: string): string {
  return root === '' || root === '/' ? path : root.replace(/\/+$/, '') + path;
}

// ------------------------------------------------------------------ the module

const SCRIPT_NAME = /^[A-Za-z0-9_.+-]+$/;

export default defineModule({
  name: 'grub',
  collections: ['tsible'],
  description:
    'Configure and install GRUB 2: /etc/default/grub keys, custom menu entries in /etc/grub.d/40_custom, which /etc/grub.d scripts run, grub-install onto a disk (optionally inside a chroot), and grub.cfg regeneration only when something changed.',
  args: {
    defaults: { type: 'dict', description: 'Keys of /etc/default/grub, e.g. {GRUB_TIMEOUT: 5, GRUB_CMDLINE_LINUX_DEFAULT: quiet}; null removes a key.' },
    custom_entries: { type: 'list', elements: 'dict', description: 'Menu entries for the managed block of /etc/grub.d/40_custom: a list of {title, content}.' },
    custom: { type: 'str', description: 'Raw text for the managed block of 40_custom, instead of custom_entries.' },
    scripts: { type: 'dict', description: 'Scripts in /etc/grub.d to enable or disable: {10_linux: disabled, 30_os-prober: disabled} (chmod +x / -x).' },
    install_device: { type: 'path', description: 'Disk to install the boot loader on (/dev/sda); runs grub-install when GRUB is not installed there.' },
    root_directory: { type: 'path', description: 'grub-install --root-directory: install the GRUB files under DIR/boot (thesis: /mnt/sda1).' },
    boot_directory: { type: 'path', description: 'grub-install --boot-directory (the directory holding grub/).' },
    efi_directory: { type: 'path', description: 'grub-install --efi-directory, for EFI targets.' },
    target: { type: 'str', default: 'i386-pc', description: 'grub-install --target (i386-pc, x86_64-efi, ...).' },
    chroot: { type: 'path', description: 'The system to work on lives in this directory: its files are edited, and grub-install/update-grub run inside it with /dev, /dev/pts, /proc and /sys bind-mounted.' },
    update: { type: 'bool', default: false, description: 'Regenerate grub.cfg (update-grub, or grub-mkconfig -o BOOT/grub/grub.cfg) when anything above changed or grub.cfg is missing.' },
  },
  returns: { grub_cfg: 'the grub.cfg path', installed: 'whether grub-install runs (or would)', updated: 'whether grub.cfg is regenerated (or would be)' },
  example: [
    '- name: Boot only the custom entry (thesis 4.3.2)',
    '  tsible.grub:',
    '    scripts: { 10_linux: disabled, 20_memtest86+: disabled, 30_os-prober: disabled }',
    '    custom_entries:',
    '      - title: Ubuntu-Part1',
    '        content: |',
    '          set root=(hd0,1)',
    '          linux /vmlinuz root=/dev/sda1',
    '          initrd /initrd.img',
    '    install_device: /dev/sda',
    '    update: true',
    '',
    '- name: Make the cloned partition bootable (thesis 4.3.3)',
    '  tsible.grub:',
    '    chroot: /mnt/sda1',
    '    install_device: /dev/sda',
    '    update: true',
  ].join('\n'),
  runsOn: 'host',
  check(args) {
    if (args.install_device === undefined && (args.root_directory || args.boot_directory) && !args.target.endsWith('-efi')) {
      throw new ArgError('root_directory/boot_directory are grub-install options: give install_device too', 'install_device');
    }
    const parts = ['defaults', 'custom_entries', 'custom', 'scripts', 'install_device', 'efi_directory', 'update'] as const;
    if (!parts.some((p) => args[p] !== undefined && args[p] !== false)) throw new ArgError(`give at least one of ${parts.join(', ')}`);
    if (args.custom_entries && args.custom !== undefined) throw new ArgError('custom_entries and custom are mutually exclusive', 'custom');
    for (const key of Object.keys(args.defaults ?? {})) if (!KEY_RE.test(key)) throw new ArgError(`defaults: ${JSON.stringify(key)} is not a valid variable name`, 'defaults');
    for (const [name, value] of Object.entries(args.scripts ?? {})) {
      if (!SCRIPT_NAME.test(name)) throw new ArgError(`scripts: ${JSON.stringify(name)} is not a file name in /etc/grub.d`, 'scripts');
      if (!['enabled', 'disabled', 'true', 'false', 'yes', 'no'].includes(String(value))) throw new ArgError(`scripts.${name} must be enabled or disabled, got ${JSON.stringify(value)}`, 'scripts');
    }
    (args.custom_entries ?? []).forEach((e, i) => {
      if (typeof e.title !== 'string' || e.title === '') throw new ArgError(`custom_entries[${i}].title must be a non-empty string`, 'custom_entries');
      if (typeof e.content !== 'string') throw new ArgError(`custom_entries[${i}].content must be text (the lines inside the menuentry braces)`, 'custom_entries');
    });
    if (!args.target.endsWith('-efi') && args.efi_directory) throw new ArgError('efi_directory only applies to EFI targets', 'efi_directory');
  },
  facts(args) {
    const root = args.chroot ?? '';
    const installing = args.install_device !== undefined || (args.target.endsWith('-efi') && args.efi_directory !== undefined);
    const r: {
      defaults?: FactRequest<string | null>;
      custom?: FactRequest<string | null>;
      scripts?: FactRequest<Record<string, ScriptState>>;
      install?: FactRequest<InstallState>;
    } = {};
    if (args.defaults) r.defaults = factRequest(grubFileFact, { path: joinPath(root, '/etc/default/grub') });
    if (args.custom_entries || args.custom !== undefined) r.custom = factRequest(grubFileFact, { path: joinPath(root, '/etc/grub.d/40_custom') });
    if (args.scripts) r.scripts = factRequest(grubScriptsFact, { dir: joinPath(root, '/etc/grub.d'), names: Object.keys(args.scripts) });
    if (installing || args.update) {
      r.install = factRequest(grubInstallFact, { chroot: root, bootDir: bootDirOf(args), target: installing ? args.target : '', device: args.install_device ?? '' });
    }
    // FactValues has no optional keys: a fact not asked for arrives as undefined, and the types say so.
    return r as {
      defaults: FactRequest<string | null | undefined>;
      custom: FactRequest<string | null | undefined>;
      scripts: FactRequest<Record<string, ScriptState> | undefined>;
      install: FactRequest<InstallState | undefined>;
    };
  },
  plan(args, facts): Plan {
    const root = args.chroot ?? '';
    const changes: Change[] = [];
    const diff: FileDiff[] = [];
    const reasons: string[] = [];

    if (args.defaults) {
      const path = joinPath(root, '/etc/default/grub');
      const current = facts.defaults ?? null;
      if (current === null) return { changes: [], failure: { message: `${path} does not exist (is grub installed there?)`, missing: path } };
      let settings: Record<string, string | null>;
      try {
        settings = Object.fromEntries(Object.entries(args.defaults).map(([k, v]) => [k, grubValueOf(v)]));
      } catch (err) {
        return { changes: [], failure: { message: (err as Error).message } };
      }
      const edit = editGrubDefaults(current, settings);
      if (edit.changed) {
        changes.push({ kind: 'write', path, content: edit.content, describe: `set ${Object.keys(settings).join(', ')} in ${path}` });
        diff.push({ path, before: current, after: edit.content });
      } else reasons.push(`${path} has ${Object.keys(settings).join(', ')}`);
    }

    if (args.custom_entries || args.custom !== undefined) {
      const path = joinPath(root, '/etc/grub.d/40_custom');
      const current = facts.custom ?? null;
      let block: string;
      try {
        block = args.custom ?? renderMenuEntries(args.custom_entries!.map((e) => ({ title: String(e.title), content: String(e.content) })));
      } catch (err) {
        return { changes: [], failure: { message: (err as Error).message } };
      }
      const edit = editCustomFile(current, block);
      if (edit.changed) {
        // A new 40_custom must be executable, or grub-mkconfig skips it; an existing one keeps its mode.
        changes.push({ kind: 'write', path, content: edit.content, ...(current === null ? { mode: '0755' } : {}), describe: `set the menu entries in ${path}` });
        diff.push({ path, before: current ?? '', after: edit.content });
      } else reasons.push(`${path} has the menu entries`);
    }

    if (args.scripts) {
      const dir = joinPath(root, '/etc/grub.d');
      const enable: string[] = [];
      const disable: string[] = [];
      for (const [name, value] of Object.entries(args.scripts)) {
        const want = ['enabled', 'true', 'yes'].includes(String(value)) ? 'enabled' : 'disabled';
        const have = facts.scripts?.[name] ?? 'missing';
        if (have === 'missing') {
          if (want === 'enabled') return { changes: [], failure: { message: `${dir}/${name} does not exist`, missing: `${dir}/${name}` } };
          continue;
        }
        if (have !== want) (want === 'enabled' ? enable : disable).push(`${dir}/${name}`);
      }
      if (disable.length) changes.push({ kind: 'exec', command: sh`chmod -x ${disable}`, describe: `chmod -x ${disable.join(' ')}` });
      if (enable.length) changes.push({ kind: 'exec', command: sh`chmod +x ${enable}`, describe: `chmod +x ${enable.join(' ')}` });
      if (!disable.length && !enable.length) reasons.push(`the ${dir} scripts are as wanted`);
    }

    const install = facts.install;
    const bootDir = bootDirOf(args);
    const cfgPath = joinPath(root, `${bootDir}/grub/grub.cfg`);
    let installed = false;
    if (args.install_device !== undefined || (args.target.endsWith('-efi') && args.efi_directory !== undefined)) {
      if (!install) throw new Error('grub: the install fact was not requested');
      const where = args.install_device ?? args.efi_directory!;
      if (install.deviceMissing) return { changes: [], failure: { message: `${args.install_device} does not exist`, missing: args.install_device } };
      const bios = !args.target.endsWith('-efi');
      const ok = install.core && install.modulesCurrent && (!bios || install.mbr === true);
      if (ok) reasons.push(`GRUB (${args.target}) is installed on ${where}`);
      else {
        if (!install.haveInstall) return { changes: [], failure: { message: `grub-install is not installed${root ? ` in ${root}` : ''} (package grub-pc or grub-efi)`, missing: 'grub-install' } };
        if (!install.targetPackage) return { changes: [], failure: { message: `GRUB for ${args.target} is not installed${root ? ` in ${root}` : ''} (/usr/lib/grub/${args.target} is missing; package grub-pc-bin or grub-efi-amd64-bin)`, missing: `/usr/lib/grub/${args.target}` } };
        const argv = ['grub-install', `--target=${args.target}`];
        if (args.root_directory) argv.push(`--root-directory=${args.root_directory}`);
        if (args.boot_directory) argv.push(`--boot-directory=${args.boot_directory}`);
        if (args.efi_directory) argv.push(`--efi-directory=${args.efi_directory}`);
        if (args.install_device) argv.push(args.install_device);
        const why = !install.core ? 'no core image' : !install.modulesCurrent ? 'modules differ from the package' : 'no GRUB boot code on the device';
        changes.push({ kind: 'exec', command: root ? inChroot(root, argv) : sh`${argv}`, describe: `${root ? `chroot ${root} ` : ''}${argv.join(' ')} (${why})` });
        installed = true;
      }
    }

    let updated = false;
    if (args.update) {
      if (!install) throw new Error('grub: the install fact was not requested');
      if (changes.length > 0 || !install.cfg) {
        let argv: string[];
        if (install.haveUpdateGrub && !args.root_directory && !args.boot_directory) argv = ['update-grub'];
        else if (install.haveMkconfig) argv = ['grub-mkconfig', '-o', `${bootDir}/grub/grub.cfg`];
        else return { changes: [], failure: { message: `neither update-grub nor grub-mkconfig is installed${root ? ` in ${root}` : ''}`, missing: 'grub-mkconfig' } };
        const why = changes.length > 0 ? 'the configuration changed' : `${cfgPath} is missing`;
        changes.push({ kind: 'exec', command: root ? inChroot(root, argv) : sh`${argv}`, describe: `${root ? `chroot ${root} ` : ''}${argv.join(' ')} (${why})` });
        updated = true;
      } else reasons.push(`${cfgPath} exists and nothing changed`);
    }

    const result = { grub_cfg: cfgPath, installed, updated };
    if (changes.length === 0) return { changes, noopReason: reasons.join('; '), result };
    return { changes, diff, result };
  },
});

function bootDirOf(args: { boot_directory?: string; root_directory?: string }): string {
  if (args.boot_directory) return args.boot_directory.replace(/\/+$/, '');
  if (args.root_directory) return `${args.root_directory.replace(/\/+$/, '')}/boot`;
  return '/boot';
}
