/**
 * The lab image: a Debian 13 (trixie) root filesystem made by debootstrap and
 * imported into the local Docker engine (no registry is reachable, so nothing
 * is pulled). The tag is a hash of the recipe, so a changed recipe builds a new
 * image and an unchanged one is reused at once.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsibleError } from '../errors.js';
import { sh } from '../util/shell.js';
import { withLock } from './lock.js';
import { mustRun, runLocal } from './local.js';

export const LAB_SUITE = 'trixie';
export const DEFAULT_LAB_MIRROR = 'http://deb.debian.org/debian';

/** What every lab host has: enough for systemd, sshd, Ansible-style modules (python3, sudo) and network roles. */
export const LAB_PACKAGES: readonly string[] = [
  'openssh-server',
  'systemd',
  'systemd-sysv',
  'dbus',
  'iproute2',
  'procps',
  'sudo',
  'python3',
  'ca-certificates',
  'kmod',
  'iptables',
  // What the disk, boot and archive modules drive, so their tests need no download.
  'fdisk',
  'e2fsprogs',
  'dosfstools',
  'grub-pc-bin',
  'grub2-common',
  'curl',
  'unzip',
  'xz-utils',
  'bzip2',
];

/** Units that fail, hang or only cost time in a container; masked so that `systemctl is-system-running` says running. */
export const LAB_MASKED_UNITS: readonly string[] = [
  'systemd-modules-load.service', // no module loading in a container
  'modprobe@.service',
  'getty.target', // no consoles
  'getty@.service',
  'console-getty.service',
  'systemd-firstboot.service', // would prompt: machine-id is empty on purpose
  'sshd-keygen.service', // each container's host key is injected before start
  'systemd-remount-fs.service', // there is no fstab root to remount
  'sys-kernel-config.mount',
  'sys-kernel-debug.mount',
  'sys-kernel-tracing.mount',
  'dev-hugepages.mount',
  'systemd-pstore.service',
  // Timers that would grab the dpkg lock in the middle of a test, or do nothing useful here.
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'dpkg-db-backup.timer',
  'fstrim.timer',
  'e2scrub_all.timer',
];

/**
 * Loop devices: the engine gives a container only the device nodes it is
 * told about, but `losetup -f` may pick any loop number the kernel has free.
 * The container is allowed every loop device (a cgroup rule, see docker.ts)
 * and systemd-tmpfiles makes the nodes at boot, in a step that runs anyway.
 */
const LOOP_TMPFILES = Array.from({ length: 64 }, (_, i) => `b! /dev/loop${i} 0660 root disk - 7:${i}\n`).join('');

/** Generators that look for hardware, consoles or TPMs: nothing to find in a container, and each costs a process per boot. */
const DISABLED_GENERATORS: readonly string[] = [
  'systemd-getty-generator',
  'systemd-gpt-auto-generator',
  'systemd-hibernate-resume-generator',
  'systemd-tpm2-generator',
  'systemd-ssh-generator',
];

const SSHD_DROP_IN = `# tsible lab hosts: key-only root login, fast logins.
PermitRootLogin prohibit-password
UseDNS no
# Only the injected key: no other host key is generated in the image.
HostKey /etc/ssh/ssh_host_ed25519_key
# MaxSessions stays at OpenSSH's default of 10 on purpose: tsible must cope with real servers.
# Every connection comes from one address (the bridge gateway), and tests refuse host keys or probe
# banners on purpose: with OpenSSH's per-source penalties the controller would soon be locked out.
PerSourcePenalties no
`;

const JOURNALD_DROP_IN = `[Journal]
# Logs in memory only: less disk work while dozens of hosts boot at once.
Storage=volatile
RuntimeMaxUse=16M
`;

/** The shell script run in a chroot of the new tree; part of the recipe hash. */
export function setupScript(mirror: string): string {
  const lines = [
    'set -eu',
    // Each container gets its own host key, injected at start; no key is shared through the image.
    'rm -f /etc/ssh/ssh_host_*',
    // An empty machine-id makes systemd generate a fresh one in every container.
    ': > /etc/machine-id',
    'rm -f /var/lib/dbus/machine-id',
    ...LAB_MASKED_UNITS.map((u) => sh`ln -sf /dev/null ${`/etc/systemd/system/${u}`}`.text),
    'rm -rf /etc/systemd/system/getty.target.wants',
    sh`printf %s ${LOOP_TMPFILES} > /etc/tmpfiles.d/tsible-loop.conf`.text,
    'mkdir -p /etc/systemd/system-generators',
    ...DISABLED_GENERATORS.map((g) => sh`ln -sf /dev/null ${`/etc/systemd/system-generators/${g}`}`.text),
    'mkdir -p /etc/ssh/sshd_config.d /etc/systemd/journald.conf.d',
    sh`printf %s ${SSHD_DROP_IN} > /etc/ssh/sshd_config.d/tsible-lab.conf`.text,
    sh`printf %s ${JOURNALD_DROP_IN} > /etc/systemd/journald.conf.d/tsible-lab.conf`.text,
    sh`printf '%s\n' ${`deb ${mirror} ${LAB_SUITE} main`} > /etc/apt/sources.list`.text,
    'install -d -m 0700 /root/.ssh',
    // Marks /etc and /var as up to date with /usr, so that boots skip ldconfig, sysusers and the journal catalog rebuild.
    '/usr/lib/systemd/systemd-update-done',
    // The package lists stay (apt-get install works without an update); the downloaded .debs go.
    'apt-get clean',
  ];
  return lines.join('\n') + '\n';
}

/** Docker image settings given to `docker import`. */
const IMPORT_CHANGES = [
  'CMD ["/sbin/init"]',
  'ENV container=docker',
  // (STOPSIGNAL is not accepted by `docker import` on engine 20.10: containers set it at creation.)
];

export interface LabRecipe {
  suite: string;
  mirror: string;
  packages: readonly string[];
  setup: string;
  importChanges: readonly string[];
}

export function labRecipe(mirror = process.env.TSIBLE_LAB_MIRROR || DEFAULT_LAB_MIRROR): LabRecipe {
  return { suite: LAB_SUITE, mirror, packages: LAB_PACKAGES, setup: setupScript(mirror), importChanges: IMPORT_CHANGES };
}

export function labImageTag(recipe: LabRecipe = labRecipe()): string {
  const hash = createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 16);
  return `tsible-lab:${hash}`;
}

async function imageExists(tag: string): Promise<boolean> {
  const r = await runLocal(sh`docker image inspect --format '{{.Id}}' ${tag}`);
  if (r.exitCode === 0) return true;
  if (/no such image/i.test(r.stderr)) return false;
  throw new TsibleError('cannot talk to the Docker engine', {
    command: `docker image inspect ${tag}`,
    stderr: r.stderr,
    exitCode: r.exitCode,
    hint: 'the lab needs a running Docker engine and the docker client on PATH',
  });
}

export interface EnsureLabImageOptions {
  onProgress?: (msg: string) => void;
}

/** Returns the tag of the lab image, building it first (about a minute) if this recipe has no image yet. */
export async function ensureLabImage(opts: EnsureLabImageOptions = {}): Promise<string> {
  const recipe = labRecipe();
  const tag = labImageTag(recipe);
  if (await imageExists(tag)) return tag;
  const progress = opts.onProgress ?? (() => {});
  const lockDir = join(tmpdir(), `tsible-lab-build-${tag.replace(/[^a-z0-9]/gi, '-')}.lock`);
  // The lock only saves duplicate work: two builds of one recipe would import the same tag.
  return withLock(
    lockDir,
    async () => {
      if (await imageExists(tag)) return tag; // built by whoever held the lock
      await buildImage(recipe, tag, progress);
      return tag;
    },
    { onWait: (pid) => progress(`waiting for another build of ${tag}${pid ? ` (pid ${pid})` : ''}`) },
  );
}

async function buildImage(recipe: LabRecipe, tag: string, progress: (msg: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new TsibleError(`building the lab image ${tag} needs root (debootstrap and chroot)`, {
      hint: 'run `tsible lab up` once as root, or build on a machine where you are root',
    });
  }
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'tsible-lab-rootfs-'));
  try {
    progress(`building ${tag}: debootstrap ${recipe.suite} from ${recipe.mirror} (about a minute)`);
    const verbs = new Set<string>();
    await mustRun(
      sh`debootstrap --variant=minbase ${`--include=${recipe.packages.join(',')}`} ${recipe.suite} ${dir} ${recipe.mirror}`,
      'debootstrap',
      {
        keep: 64 * 1024,
        // debootstrap prints a line per package; report its phase headings ("Unpacking the base system...")
        // and the first line of each kind ("Retrieving", "Validating", ...).
        onLine: (line) => {
          const m = /^I: (\S+)/.exec(line);
          if (!m) return;
          const heading = /packages\.\.\.$|base system|successfully/.test(line);
          if (heading || !verbs.has(m[1]!)) progress(`debootstrap: ${line.slice(3)}`);
          verbs.add(m[1]!);
        },
      },
    );
    progress('configuring the image (sshd, masked units)');
    await mustRun(sh`chroot ${dir} /bin/sh -c ${recipe.setup}`, 'lab image setup');
    progress(`importing ${tag} into Docker`);
    const changes = recipe.importChanges.flatMap((c) => ['-c', c]);
    // pipefail (bash): a tar that fails half-way must not leave a truncated image behind.
    const pipeline = sh`tar -C ${dir} --numeric-owner -c . | docker import ${changes} - ${tag}`;
    await mustRun(sh`bash -o pipefail -c ${pipeline.text}`, 'docker import');
    progress(`built ${tag} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
