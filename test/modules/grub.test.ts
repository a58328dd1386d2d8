import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import grub, {
  BLOCK_BEGIN,
  BLOCK_END,
  DEFAULT_40_CUSTOM,
  editCustomFile,
  editGrubDefaults,
  grubFileFact,
  grubScriptsFact,
  grubValueOf,
  inChroot,
  parseInstallState,
  parseShellValue,
  quoteGrubTitle,
  quoteGrubValue,
  renderMenuEntries,
  type InstallState,
  type ScriptState,
} from '../../src/modules/grub.js';
import { assertRowsShellSyntax, mismatches, planWith, type Expectation } from './disk-context.js';

/** /usr/share/grub/default/grub from grub2-common 2.12 (Debian 13): what /etc/default/grub starts as. */
const DEBIAN_DEFAULT_GRUB = `# If you change this file or any /etc/default/grub.d/*.cfg file,
# run 'update-grub' afterwards to update /boot/grub/grub.cfg.
# For full documentation of the options in these files, see:
#   info -f grub -n 'Simple configuration'

GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=\`( . /etc/os-release && echo \${NAME} )\`
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX=""

# If your computer has multiple operating systems installed, then you
# probably want to run os-prober. However, if your computer is a host
# for guest OSes installed via LVM or raw disk devices, running
# os-prober can cause damage to those guest OSes as it mounts
# filesystems to look for things.
GRUB_DISABLE_OS_PROBER=true

# Uncomment to enable BadRAM filtering, modify to suit your needs
# This works with Linux (no patch required) and with any kernel that obtains
# the memory map information from GRUB (GNU Mach, kernel of FreeBSD ...)
#GRUB_BADRAM="0x01234567,0xfefefefe,0x89abcdef,0xefefefef"

# Uncomment to disable graphical terminal
#GRUB_TERMINAL=console

# The resolution used on graphical terminal
# note that you can use only modes which your graphic card supports via VBE/GOP/UGA
# you can see them in real GRUB with the command \`videoinfo'
#GRUB_GFXMODE=640x480

# Uncomment if you don't want GRUB to pass "root=UUID=xxx" parameter to Linux
#GRUB_DISABLE_LINUX_UUID=true

# Uncomment to disable generation of recovery mode menu entries
#GRUB_DISABLE_RECOVERY="true"

# Uncomment to get a beep at grub start
#GRUB_INIT_TUNE="480 440 1"
`;

const THESIS_ENTRY = { title: 'Ubuntu-Part1', content: 'set root=(hd0,1)\nlinux /vmlinuz root=/dev/sda1\ninitrd /initrd.img\n' };
const THESIS_BLOCK = 'menuentry "Ubuntu-Part1" {\n    set root=(hd0,1)\n    linux /vmlinuz root=/dev/sda1\n    initrd /initrd.img\n}';
/** 40_custom after the thesis task (as read back from the chroot in the lab). */
const THESIS_40_CUSTOM = `${DEFAULT_40_CUSTOM}\n${BLOCK_BEGIN}\n${THESIS_BLOCK}\n${BLOCK_END}\n`;

// ---------------------------------------------------------------- /etc/default/grub

describe('parseShellValue', () => {
  it.each([
    ['5', '5'],
    ['"quiet"', 'quiet'],
    ['""', ''],
    ["'quiet splash'", 'quiet splash'],
    ['"a \\"b\\" \\$c"', 'a "b" $c'],
    ['5 # comment', '5'],
    ['"x"y', 'xy'],
    ['`( . /etc/os-release && echo ${NAME} )`', undefined],
    ['"$VAR"', undefined],
    ['"unterminated', undefined],
  ])('%s → %j', (raw, value) => {
    expect(parseShellValue(raw)).toBe(value);
  });
});

describe('quoteGrubValue and grubValueOf', () => {
  it.each([
    ['5', '5'],
    ['-1', '-1'],
    ['quiet', '"quiet"'],
    ['', '""'],
    ['console=ttyS0 "x" $y `z` \\', '"console=ttyS0 \\"x\\" \\$y \\`z\\` \\\\"'],
  ])('%j → %s', (value, quoted) => {
    expect(quoteGrubValue(value)).toBe(quoted);
    expect(parseShellValue(quoted)).toBe(value);
  });

  it.each([
    [5, '5'],
    [true, 'true'],
    ['saved', 'saved'],
    [null, null],
    [['quiet', 'splash'], 'quiet splash'],
  ])('%j → %j', (input, value) => {
    expect(grubValueOf(input)).toBe(value);
  });

  it('refuses a mapping', () => expect(() => grubValueOf({ a: 1 })).toThrow(/must be strings, numbers or booleans/));
});

describe('editGrubDefaults', () => {
  it.each<{ name: string; content: string; settings: Record<string, string | null>; expected: string; changed: boolean }>([
    {
      name: 'an existing key with another value is rewritten in place',
      content: DEBIAN_DEFAULT_GRUB,
      settings: { GRUB_TIMEOUT: '2' },
      expected: DEBIAN_DEFAULT_GRUB.replace('GRUB_TIMEOUT=5', 'GRUB_TIMEOUT=2'),
      changed: true,
    },
    {
      name: 'the same value with other quoting is left alone',
      content: DEBIAN_DEFAULT_GRUB,
      settings: { GRUB_DEFAULT: '0', GRUB_TIMEOUT: '5', GRUB_CMDLINE_LINUX_DEFAULT: 'quiet', GRUB_CMDLINE_LINUX: '', GRUB_DISABLE_OS_PROBER: 'true' },
      expected: DEBIAN_DEFAULT_GRUB,
      changed: false,
    },
    {
      name: 'a commented example gets the key right after it',
      content: DEBIAN_DEFAULT_GRUB,
      settings: { GRUB_TERMINAL: 'console' },
      expected: DEBIAN_DEFAULT_GRUB.replace('#GRUB_TERMINAL=console\n', '#GRUB_TERMINAL=console\nGRUB_TERMINAL="console"\n'),
      changed: true,
    },
    {
      name: 'a new key goes at the end',
      content: DEBIAN_DEFAULT_GRUB,
      settings: { GRUB_SERIAL_COMMAND: 'serial --speed=115200' },
      expected: DEBIAN_DEFAULT_GRUB + 'GRUB_SERIAL_COMMAND="serial --speed=115200"\n',
      changed: true,
    },
    {
      name: 'a command substitution is replaced by a literal',
      content: DEBIAN_DEFAULT_GRUB,
      settings: { GRUB_DISTRIBUTOR: 'Debian' },
      expected: DEBIAN_DEFAULT_GRUB.replace('GRUB_DISTRIBUTOR=`( . /etc/os-release && echo ${NAME} )`', 'GRUB_DISTRIBUTOR="Debian"'),
      changed: true,
    },
    {
      name: 'null removes the key',
      content: DEBIAN_DEFAULT_GRUB,
      settings: { GRUB_DISABLE_OS_PROBER: null },
      expected: DEBIAN_DEFAULT_GRUB.replace('GRUB_DISABLE_OS_PROBER=true\n', ''),
      changed: true,
    },
    { name: 'null for a missing key is nothing', content: DEBIAN_DEFAULT_GRUB, settings: { GRUB_FOO: null }, expected: DEBIAN_DEFAULT_GRUB, changed: false },
    {
      name: 'export prefix and indentation are kept',
      content: '  export GRUB_TIMEOUT=5\n',
      settings: { GRUB_TIMEOUT: '10' },
      expected: '  export GRUB_TIMEOUT=10\n',
      changed: true,
    },
    {
      name: 'every active duplicate is set',
      content: 'GRUB_TIMEOUT=5\nGRUB_TIMEOUT=7\n',
      settings: { GRUB_TIMEOUT: '7' },
      expected: 'GRUB_TIMEOUT=7\nGRUB_TIMEOUT=7\n',
      changed: true,
    },
    { name: 'empty file', content: '', settings: { GRUB_TIMEOUT: '1' }, expected: 'GRUB_TIMEOUT=1\n', changed: true },
  ])('$name', ({ content, settings, expected, changed }) => {
    expect(editGrubDefaults(content, settings)).toEqual({ content: expected, changed });
  });
});

// ---------------------------------------------------------------- 40_custom

describe('menu entries and 40_custom', () => {
  it('renders the thesis entry (Imagen 13), dedenting and indenting the body', () => {
    expect(renderMenuEntries([THESIS_ENTRY])).toBe(THESIS_BLOCK);
    expect(renderMenuEntries([{ title: 'Ubuntu-Part1', content: '\n      set root=(hd0,1)\n      linux /vmlinuz root=/dev/sda1\n\n      initrd /initrd.img\n' }])).toBe(
      'menuentry "Ubuntu-Part1" {\n    set root=(hd0,1)\n    linux /vmlinuz root=/dev/sda1\n\n    initrd /initrd.img\n}',
    );
    expect(renderMenuEntries([THESIS_ENTRY, { title: 'Part 2', content: 'set root=(hd0,2)' }])).toBe(`${THESIS_BLOCK}\n\nmenuentry "Part 2" {\n    set root=(hd0,2)\n}`);
  });

  it.each([
    ['Ubuntu-Part1', '"Ubuntu-Part1"'],
    ['say "hi" $x', '"say \\"hi\\" \\$x"'],
  ])('title %j → %s', (title, quoted) => expect(quoteGrubTitle(title)).toBe(quoted));
  it('refuses a title over two lines', () => expect(() => quoteGrubTitle('a\nb')).toThrow(/cannot span lines/));

  it.each([
    { name: 'Debian\'s file gets the block appended after a blank line', content: DEFAULT_40_CUSTOM, block: THESIS_BLOCK, expected: THESIS_40_CUSTOM, changed: true },
    { name: 'the same block again changes nothing', content: THESIS_40_CUSTOM, block: THESIS_BLOCK, expected: THESIS_40_CUSTOM, changed: false },
    {
      name: 'a new block replaces the old one, lines around it stay',
      content: THESIS_40_CUSTOM + 'menuentry "mine" {\n}\n',
      block: 'menuentry "B" {\n}',
      expected: `${DEFAULT_40_CUSTOM}\n${BLOCK_BEGIN}\nmenuentry "B" {\n}\n${BLOCK_END}\nmenuentry "mine" {\n}\n`,
      changed: true,
    },
    { name: 'a missing file starts from Debian\'s header', content: null, block: THESIS_BLOCK, expected: THESIS_40_CUSTOM, changed: true },
    {
      name: 'a file without the exec tail header gets it back',
      content: 'menuentry "old" {\n}\n',
      block: 'x',
      expected: `#!/bin/sh\nexec tail -n +3 $0\nmenuentry "old" {\n}\n\n${BLOCK_BEGIN}\nx\n${BLOCK_END}\n`,
      changed: true,
    },
    { name: 'an empty block keeps the markers', content: THESIS_40_CUSTOM, block: '', expected: `${DEFAULT_40_CUSTOM}\n${BLOCK_BEGIN}\n${BLOCK_END}\n`, changed: true },
  ])('$name', ({ content, block, expected, changed }) => {
    expect(editCustomFile(content, block)).toEqual({ content: expected, changed });
  });
});

// ---------------------------------------------------------------- facts

describe('grub facts', () => {
  it.each([
    ['present\nGRUB_TIMEOUT=5\n', 'GRUB_TIMEOUT=5\n'],
    ['present\n', ''],
    ['absent\n', null],
  ])('file fact %j', (stdout, value) => {
    expect(grubFileFact.parse({ stdout, exitCode: 0 }, { path: '/etc/default/grub' })).toBe(value);
  });

  it('scripts fact: real output from the lab chroot', () => {
    const stdout = 'disabled 10_linux\nmissing 20_memtest86+\ndisabled 30_os-prober\nenabled 40_custom\n';
    expect(grubScriptsFact.parse({ stdout, exitCode: 0 }, { dir: '/mnt/sda1/etc/grub.d', names: [] })).toEqual({
      '10_linux': 'disabled',
      '20_memtest86+': 'missing',
      '30_os-prober': 'disabled',
      '40_custom': 'enabled',
    });
  });

  it('scripts fact runs for real in sh', () => {
    const cmd = grubScriptsFact.command({ dir: '/bin', names: ['sh', 'no such script'] }).text;
    const stdout = execFileSync('/bin/sh', ['-c', cmd]).toString();
    expect(grubScriptsFact.parse({ stdout, exitCode: 0 }, { dir: '/bin', names: [] })).toEqual({ sh: 'enabled', 'no such script': 'missing' });
  });

  it.each([
    ['installed (lab chroot, after grub-install)', 'cfg\ncore\npackage\nmodules\nmbr-grub\nhave-install\nhave-update-grub\nhave-mkconfig\n', { cfg: true, core: true, modulesCurrent: true, targetPackage: true, mbr: true, deviceMissing: false, haveInstall: true }],
    ['device missing', 'package\nnodev\nhave-install\nhave-update-grub\nhave-mkconfig\n', { core: false, mbr: undefined, deviceMissing: true }],
    ['no target asked', 'have-install\nhave-update-grub\nhave-mkconfig\n', { cfg: false, targetPackage: false, haveMkconfig: true }],
    ['blank disk', 'package\nmbr-other\nhave-install\n', { mbr: false, haveUpdateGrub: false }],
  ])('install fact: %s', (_n, stdout, expected) => {
    expect(parseInstallState(stdout)).toMatchObject(expected);
  });
});

describe('install fact in sh', () => {
  it('runs for real: a missing device and an empty boot directory', async () => {
    const { factsFor } = await import('./disk-context.js');
    const req = factsFor(grub, { install_device: '/nonexistent/disk', boot_directory: '/nonexistent/boot' }).install!;
    const state = parseInstallState(execFileSync('/bin/sh', ['-c', req.fact.command(req.args).text]).toString());
    expect(state).toMatchObject({ cfg: false, core: false, modulesCurrent: false, deviceMissing: true, mbr: undefined });
  });
});

describe('inChroot', () => {
  it('binds the four file systems, runs the command and unmounts only what it mounted', () => {
    const text = inChroot('/mnt/sda 1', ['update-grub']).text;
    expect(text).toBe(
      [
        "c='/mnt/sda 1'; u=''",
        'b() { mountpoint -q "$c$1" && return 0; mount --bind "$1" "$c$1" || return 1; u="$1 $u"; }',
        'if b /dev && b /dev/pts && b /proc && b /sys; then chroot "$c" update-grub; rc=$?; else rc=1; fi',
        'for d in $u; do umount "$c$d"; done',
        'exit $rc',
      ].join('\n'),
    );
  });

  it('unmounts in reverse order and passes the exit code (run in sh with fake mount commands)', () => {
    const script = inChroot('/x', ['false']).text;
    const fake = 'mountpoint() { [ "$2" = /x/proc ]; }\nmount() { echo "mount $*"; }\numount() { echo "umount $*"; }\nchroot() { echo "chroot $*"; return 7; }\n';
    let out = '';
    let code = 0;
    try {
      execFileSync('/bin/sh', ['-c', fake + script]);
    } catch (err) {
      out = String((err as { stdout: Buffer }).stdout);
      code = (err as { status: number }).status;
    }
    expect(code).toBe(7);
    expect(out).toBe('mount --bind /dev /x/dev\nmount --bind /dev/pts /x/dev/pts\nmount --bind /sys /x/sys\nchroot /x false\numount /x/sys\numount /x/dev/pts\numount /x/dev\n');
  });
});

// ---------------------------------------------------------------- plans

const INSTALLED: InstallState = { cfg: true, core: true, modulesCurrent: true, targetPackage: true, mbr: true, deviceMissing: false, haveInstall: true, haveUpdateGrub: true, haveMkconfig: true };
const FRESH: InstallState = { ...INSTALLED, cfg: false, core: false, modulesCurrent: false, mbr: false };
const SCRIPTS_ON: Record<string, ScriptState> = { '10_linux': 'enabled', '20_memtest86+': 'missing', '30_os-prober': 'enabled' };
const THESIS_SCRIPTS = { '10_linux': 'disabled', '20_memtest86+': 'disabled', '30_os-prober': 'disabled' };

const rows: { name: string; args: Record<string, unknown>; facts: Record<string, unknown>; expect: Expectation }[] = [
  {
    name: 'thesis 4.3.2 on the master: scripts off, custom entry, grub-install, update-grub',
    args: { scripts: THESIS_SCRIPTS, custom_entries: [THESIS_ENTRY], install_device: '/dev/sda', update: true },
    facts: { custom: DEFAULT_40_CUSTOM, scripts: SCRIPTS_ON, install: FRESH },
    expect: {
      changes: [
        { kind: 'write', describe: 'set the menu entries in /etc/grub.d/40_custom', content: THESIS_40_CUSTOM },
        { kind: 'exec', describe: 'chmod -x /etc/grub.d/10_linux /etc/grub.d/30_os-prober', command: /^chmod -x \/etc\/grub.d\/10_linux \/etc\/grub.d\/30_os-prober$/ },
        { kind: 'exec', describe: 'grub-install --target=i386-pc /dev/sda (no core image)', command: /^grub-install --target=i386-pc \/dev\/sda$/ },
        { kind: 'exec', describe: 'update-grub (the configuration changed)', command: /^update-grub$/ },
      ],
      result: { grub_cfg: '/boot/grub/grub.cfg', installed: true, updated: true },
    },
  },
  {
    name: 'thesis 4.3.2, second run: nothing',
    args: { scripts: THESIS_SCRIPTS, custom_entries: [THESIS_ENTRY], install_device: '/dev/sda', update: true },
    facts: { custom: THESIS_40_CUSTOM, scripts: { '10_linux': 'disabled', '20_memtest86+': 'missing', '30_os-prober': 'disabled' }, install: INSTALLED },
    expect: { noop: /40_custom has the menu entries; the \/etc\/grub.d scripts are as wanted; GRUB \(i386-pc\) is installed on \/dev\/sda; \/boot\/grub\/grub.cfg exists and nothing changed/ },
  },
  {
    name: 'thesis 4.3.3 on a node: in the chroot, with bind mounts',
    args: { chroot: '/mnt/sda1', install_device: '/dev/sda', update: true },
    facts: { install: { ...FRESH, cfg: true } },
    expect: {
      changes: [
        { kind: 'exec', describe: 'chroot /mnt/sda1 grub-install --target=i386-pc /dev/sda (no core image)', command: /chroot "\$c" grub-install --target=i386-pc \/dev\/sda; rc=\$\?/ },
        { kind: 'exec', describe: 'chroot /mnt/sda1 update-grub (the configuration changed)', command: /^c=\/mnt\/sda1; u=''\n[\s\S]*chroot "\$c" update-grub; rc=\$\?/ },
      ],
      result: { grub_cfg: '/mnt/sda1/boot/grub/grub.cfg' },
    },
  },
  {
    name: 'thesis literal: grub-install --root-directory outside the chroot',
    args: { install_device: '/dev/sda', root_directory: '/mnt/sda1' },
    facts: { install: FRESH },
    expect: { changes: [{ kind: 'exec', describe: 'grub-install --target=i386-pc --root-directory=/mnt/sda1 /dev/sda (no core image)' }] },
  },
  {
    name: 'root_directory with update uses grub-mkconfig -o',
    args: { install_device: '/dev/sda', root_directory: '/mnt/sda1', update: true },
    facts: { install: { ...INSTALLED, cfg: false } },
    expect: { changes: [{ kind: 'exec', describe: 'grub-mkconfig -o /mnt/sda1/boot/grub/grub.cfg (/mnt/sda1/boot/grub/grub.cfg is missing)', command: /^grub-mkconfig -o \/mnt\/sda1\/boot\/grub\/grub.cfg$/ }] },
  },
  { name: 'the boot code was overwritten → reinstall', args: { install_device: '/dev/sda' }, facts: { install: { ...INSTALLED, mbr: false } }, expect: { changes: [{ kind: 'exec', describe: 'grub-install --target=i386-pc /dev/sda (no GRUB boot code on the device)' }] } },
  { name: 'GRUB was upgraded → reinstall', args: { install_device: '/dev/sda' }, facts: { install: { ...INSTALLED, modulesCurrent: false } }, expect: { changes: [{ kind: 'exec', describe: 'grub-install --target=i386-pc /dev/sda (modules differ from the package)' }] } },
  { name: 'install device missing', args: { install_device: '/dev/sdz' }, facts: { install: { ...FRESH, deviceMissing: true } }, expect: { failure: /\/dev\/sdz does not exist/ } },
  { name: 'grub-install missing', args: { install_device: '/dev/sda' }, facts: { install: { ...FRESH, haveInstall: false } }, expect: { failure: /grub-install is not installed/ } },
  { name: 'i386-pc modules missing', args: { install_device: '/dev/sda', chroot: '/mnt/sda1' }, facts: { install: { ...FRESH, targetPackage: false } }, expect: { failure: /GRUB for i386-pc is not installed in \/mnt\/sda1/ } },
  {
    name: 'EFI target: no boot sector check',
    args: { target: 'x86_64-efi', efi_directory: '/boot/efi' },
    facts: { install: { ...INSTALLED, mbr: undefined } },
    expect: { noop: /GRUB \(x86_64-efi\) is installed on \/boot\/efi/ },
  },
  {
    name: 'EFI target, fresh',
    args: { target: 'x86_64-efi', efi_directory: '/boot/efi' },
    facts: { install: { ...FRESH, mbr: undefined } },
    expect: { changes: [{ kind: 'exec', describe: 'grub-install --target=x86_64-efi --efi-directory=/boot/efi (no core image)' }] },
  },
  {
    name: 'defaults in the chroot, with update',
    args: { chroot: '/mnt/sda1', defaults: { GRUB_TIMEOUT: 2, GRUB_TERMINAL: 'console' }, update: true },
    facts: { defaults: DEBIAN_DEFAULT_GRUB, install: INSTALLED },
    expect: {
      changes: [
        { kind: 'write', describe: 'set GRUB_TIMEOUT, GRUB_TERMINAL in /mnt/sda1/etc/default/grub', content: DEBIAN_DEFAULT_GRUB.replace('GRUB_TIMEOUT=5', 'GRUB_TIMEOUT=2').replace('#GRUB_TERMINAL=console\n', '#GRUB_TERMINAL=console\nGRUB_TERMINAL="console"\n') },
        { kind: 'exec', describe: 'chroot /mnt/sda1 update-grub (the configuration changed)' },
      ],
    },
  },
  { name: 'defaults unchanged, no update needed', args: { defaults: { GRUB_TIMEOUT: 5 }, update: true }, facts: { defaults: DEBIAN_DEFAULT_GRUB, install: INSTALLED }, expect: { noop: /has GRUB_TIMEOUT; \/boot\/grub\/grub.cfg exists and nothing changed/ } },
  { name: 'update alone, grub.cfg missing', args: { update: true }, facts: { install: { ...INSTALLED, cfg: false } }, expect: { changes: [{ kind: 'exec', describe: 'update-grub (/boot/grub/grub.cfg is missing)' }] } },
  { name: 'update alone, no update-grub → grub-mkconfig', args: { update: true }, facts: { install: { ...INSTALLED, cfg: false, haveUpdateGrub: false } }, expect: { changes: [{ kind: 'exec', describe: 'grub-mkconfig -o /boot/grub/grub.cfg (/boot/grub/grub.cfg is missing)' }] } },
  { name: 'update impossible', args: { update: true }, facts: { install: { ...INSTALLED, cfg: false, haveUpdateGrub: false, haveMkconfig: false } }, expect: { failure: /neither update-grub nor grub-mkconfig/ } },
  { name: '/etc/default/grub missing', args: { defaults: { GRUB_TIMEOUT: 1 } }, facts: { defaults: null }, expect: { failure: /\/etc\/default\/grub does not exist/ } },
  {
    name: 'a missing 40_custom is created executable',
    args: { custom: 'menuentry "x" {\n}' },
    facts: { custom: null },
    expect: { changes: [{ kind: 'write', describe: 'set the menu entries in /etc/grub.d/40_custom', content: `${DEFAULT_40_CUSTOM}\n${BLOCK_BEGIN}\nmenuentry "x" {\n}\n${BLOCK_END}\n` }] },
  },
  { name: 'enable a missing script → failure', args: { scripts: { '10_linux': 'enabled' } }, facts: { scripts: { '10_linux': 'missing' } }, expect: { failure: /\/etc\/grub.d\/10_linux does not exist/ } },
  { name: 'enable with a boolean', args: { scripts: { '30_os-prober': true } }, facts: { scripts: { '30_os-prober': 'disabled' } }, expect: { changes: [{ kind: 'exec', describe: 'chmod +x /etc/grub.d/30_os-prober' }] } },
];

describe('grub plans', () => {
  it.each(rows)('$name', async ({ args, facts, expect: e }) => {
    expect(mismatches(await planWith(grub, args, facts), e)).toEqual([]);
  });

  it('a new 40_custom gets mode 0755, an existing one keeps its own', async () => {
    const fresh = await planWith(grub, { custom: 'x' }, { custom: null });
    expect(fresh.changes[0]).toMatchObject({ kind: 'write', mode: '0755' });
    const existing = await planWith(grub, { custom: 'x' }, { custom: DEFAULT_40_CUSTOM });
    expect(existing.changes[0]).not.toHaveProperty('mode');
  });

  it.each([
    [{}, /give at least one of/],
    [{ custom: 'x', custom_entries: [THESIS_ENTRY] }, /mutually exclusive/],
    [{ defaults: { 'GRUB TIMEOUT': 1 } }, /not a valid variable name/],
    [{ scripts: { '../../bin/sh': 'disabled' } }, /not a file name in \/etc\/grub.d/],
    [{ scripts: { '10_linux': 'off-ish' } }, /must be enabled or disabled/],
    [{ custom_entries: [{ title: '', content: 'x' }] }, /title must be a non-empty string/],
    [{ custom_entries: [{ title: 'x' }] }, /content must be text/],
    [{ root_directory: '/mnt' }, /give install_device too/],
    [{ install_device: '/dev/sda', efi_directory: '/boot/efi' }, /efi_directory only applies to EFI targets/],
  ])('%j is refused', async (args, message) => {
    await expect(planWith(grub, args, {})).rejects.toThrow(message);
  });

  it('asks only for the facts its parts need', async () => {
    const { factsFor } = await import('./disk-context.js');
    expect(Object.keys(factsFor(grub, { scripts: THESIS_SCRIPTS }))).toEqual(['scripts']);
    expect(Object.keys(factsFor(grub, { defaults: { GRUB_TIMEOUT: 1 }, update: true }))).toEqual(['defaults', 'install']);
    const req = factsFor(grub, { chroot: '/mnt/sda1', install_device: '/dev/sda' }).install!;
    expect(req.args).toEqual({ chroot: '/mnt/sda1', bootDir: '/boot', target: 'i386-pc', device: '/dev/sda' });
  });
});

describe('shell syntax', () => {
  it('every fact and change command parses in sh -n', async () => {
    expect(await assertRowsShellSyntax(grub, rows.filter((r) => !r.expect.failure))).toBeGreaterThan(0);
  });
});
