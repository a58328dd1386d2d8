/**
 * `gather_facts`: everything Ansible's setup module reports that playbooks
 * commonly use, read in a single round trip with POSIX tools only (no Python
 * needed on the host). The result is `ansible_facts`; the executor also
 * exposes each key as `ansible_<key>`.
 */
import { ShellCommand } from '../util/shell.js';
import type { Fact } from './types.js';

/** What modules themselves rely on, typed. The full set is in `ansible`. */
export interface HostFacts {
  osFamily: string;
  distribution: string;
  serviceMgr: 'systemd' | 'sysvinit' | 'openrc' | 'unknown';
  pkgMgr: 'apt' | 'dnf' | 'yum' | 'apk' | 'zypper' | 'pacman' | 'unknown';
  /** ansible_facts, without the ansible_ prefix */
  ansible: Record<string, unknown>;
}

const SECTION = '@@tsible@@';

// Each section starts with a marker line, so one failing probe cannot shift the others.
const SCRIPT = `
s() { printf '\\n${SECTION}%s\\n' "$1"; }
s os_release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
s debian_version; cat /etc/debian_version 2>/dev/null
s redhat_release; cat /etc/redhat-release 2>/dev/null
s hostname; hostname 2>/dev/null || cat /proc/sys/kernel/hostname
s fqdn; hostname -f 2>/dev/null || hostname 2>/dev/null
s uname; uname -s; uname -r; uname -m; uname -v
s addr; ip -o -4 addr show 2>/dev/null
s addr6; ip -o -6 addr show scope global 2>/dev/null
s link; ip -o link show 2>/dev/null
s route; ip -4 route show default 2>/dev/null
s meminfo; cat /proc/meminfo
s cpuinfo; grep -E '^(processor|model name|physical id|core id|cpu cores)' /proc/cpuinfo 2>/dev/null
s nproc; nproc 2>/dev/null
s mounts; cat /proc/mounts
s df; df -P -k 2>/dev/null
s init; cat /proc/1/comm 2>/dev/null; [ -d /run/systemd/system ] && echo systemd-running
s pkg; for p in apt-get dnf yum apk zypper pacman; do command -v $p >/dev/null 2>&1 && echo $p; done
s user; id -un; id -u; id -g; echo "$HOME"; echo "$SHELL"
s date; date +%s; date -u +%Y-%m-%dT%H:%M:%SZ; date +%Z
s machine_id; cat /etc/machine-id 2>/dev/null
s virt; [ -f /.dockerenv ] && echo docker; grep -qa container=docker /proc/1/environ 2>/dev/null && echo docker; [ -n "$container" ] && echo "$container"
s python; command -v python3 2>/dev/null || command -v python 2>/dev/null
s end
`;

export const hostFactsFact: Fact<void, HostFacts> = {
  name: 'host_facts',
  cacheable: true,
  command: () => ShellCommand.script(SCRIPT),
  parse: (out) => parseHostFacts(out.stdout),
};

function sections(stdout: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(SECTION)) {
      current = [];
      map.set(line.slice(SECTION.length), current);
    } else if (current && line !== '') {
      current.push(line);
    }
  }
  return map;
}

function keyValues(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.replace(/^["']|["']$/g, '');
  }
  return out;
}

const OS_FAMILY: Record<string, string> = {
  debian: 'Debian', ubuntu: 'Debian', raspbian: 'Debian', linuxmint: 'Debian', devuan: 'Debian', kali: 'Debian',
  rhel: 'RedHat', centos: 'RedHat', fedora: 'RedHat', rocky: 'RedHat', almalinux: 'RedHat', ol: 'RedHat', amzn: 'RedHat',
  sles: 'Suse', opensuse: 'Suse', 'opensuse-leap': 'Suse', 'opensuse-tumbleweed': 'Suse',
  arch: 'Archlinux', manjaro: 'Archlinux', alpine: 'Alpine', gentoo: 'Gentoo',
};

const DISTRIBUTION_NAME: Record<string, string> = {
  debian: 'Debian', ubuntu: 'Ubuntu', centos: 'CentOS', rhel: 'RedHat', fedora: 'Fedora', rocky: 'Rocky',
  almalinux: 'AlmaLinux', alpine: 'Alpine', arch: 'Archlinux', opensuse: 'openSUSE', sles: 'SLES', raspbian: 'Debian',
};

function prefixToNetmask(prefix: number): string {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (mask >>> s) & 255).join('.');
}

function networkOf(address: string, prefix: number): string {
  const parts = address.split('.').map(Number);
  const ip = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = (ip & mask) >>> 0;
  return [24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.');
}

function kb(meminfo: Record<string, number>, key: string): number {
  return Math.floor((meminfo[key] ?? 0) / 1024);
}

export function parseHostFacts(stdout: string): HostFacts {
  const sec = sections(stdout);
  const get = (name: string) => sec.get(name) ?? [];
  const f: Record<string, unknown> = {};

  const os = keyValues(get('os_release'));
  const id = (os.ID ?? 'linux').toLowerCase();
  const idLike = (os.ID_LIKE ?? '').toLowerCase().split(/\s+/);
  const family = OS_FAMILY[id] ?? idLike.map((l) => OS_FAMILY[l]).find(Boolean) ?? (get('redhat_release').length ? 'RedHat' : 'Linux');
  let version = os.VERSION_ID ?? '';
  const debianVersion = get('debian_version')[0];
  // Debian's point release lives in /etc/debian_version (13.2), os-release only has the major (13).
  if (id === 'debian' && debianVersion && /^\d+(\.\d+)*$/.test(debianVersion)) version = debianVersion;
  f.os_family = family;
  f.distribution = DISTRIBUTION_NAME[id] ?? os.NAME ?? 'Linux';
  f.distribution_version = version;
  f.distribution_major_version = version.split('.')[0] ?? '';
  f.distribution_release = os.VERSION_CODENAME ?? '';
  f.distribution_file_variety = family;

  const [system = 'Linux', kernel = '', machine = '', kernelVersion = ''] = get('uname');
  f.system = system;
  f.kernel = kernel;
  f.kernel_version = kernelVersion;
  f.architecture = machine;
  f.machine = machine;
  const nodename = get('hostname')[0] ?? '';
  f.nodename = nodename;
  f.hostname = nodename.split('.')[0];
  const fqdn = get('fqdn')[0] ?? nodename;
  f.fqdn = fqdn;
  f.domain = fqdn.includes('.') ? fqdn.slice(fqdn.indexOf('.') + 1) : '';

  // Interfaces and addresses.
  const interfaces: string[] = [];
  const ifaceFacts: Record<string, Record<string, unknown>> = {};
  for (const line of get('link')) {
    const m = /^\d+:\s+([^:@]+)(?:@[^:]+)?:\s+<([^>]*)>/.exec(line);
    if (!m) continue;
    const dev = m[1]!;
    const mac = /link\/\S+\s+([0-9a-f:]+)/.exec(line)?.[1] ?? '';
    interfaces.push(dev);
    ifaceFacts[dev] = { device: dev, active: m[2]!.split(',').includes('UP'), macaddress: mac, type: dev === 'lo' ? 'loopback' : 'ether' };
  }
  const allIpv4: string[] = [];
  for (const line of get('addr')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\/(\d+)(?:\s+brd\s+([\d.]+))?/.exec(line);
    if (!m) continue;
    const [, dev, address, prefixText, broadcast] = m;
    const prefix = Number(prefixText);
    const info = { address, netmask: prefixToNetmask(prefix), network: networkOf(address!, prefix), prefix: String(prefix), broadcast: broadcast ?? '' };
    const iface = (ifaceFacts[dev!] ??= { device: dev, active: true });
    if (!iface.ipv4) iface.ipv4 = info;
    else ((iface.ipv4_secondaries as unknown[]) ??= []).push(info);
    if (dev !== 'lo') allIpv4.push(address!);
  }
  const allIpv6: string[] = [];
  for (const line of get('addr6')) {
    const m = /^\d+:\s+(\S+)\s+inet6\s+([0-9a-f:]+)\/(\d+)/.exec(line);
    if (m) allIpv6.push(m[2]!);
  }
  f.interfaces = interfaces;
  for (const [dev, info] of Object.entries(ifaceFacts)) f[dev.replace(/[^A-Za-z0-9_]/g, '_')] = info;
  f.all_ipv4_addresses = allIpv4;
  f.all_ipv6_addresses = allIpv6;
  const route = /default via ([\d.]+) dev (\S+)/.exec(get('route')[0] ?? '');
  if (route) {
    const dev = route[2]!;
    const ipv4 = (ifaceFacts[dev]?.ipv4 ?? {}) as Record<string, unknown>;
    f.default_ipv4 = { gateway: route[1], interface: dev, ...ipv4, macaddress: ifaceFacts[dev]?.macaddress ?? '' };
  } else {
    f.default_ipv4 = {};
  }

  // Memory, in MB like Ansible.
  const mem: Record<string, number> = {};
  for (const line of get('meminfo')) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m) mem[m[1]!] = Number(m[2]);
  }
  f.memtotal_mb = kb(mem, 'MemTotal');
  f.memfree_mb = kb(mem, 'MemFree');
  f.swaptotal_mb = kb(mem, 'SwapTotal');
  f.swapfree_mb = kb(mem, 'SwapFree');
  f.memory_mb = {
    real: { total: f.memtotal_mb, free: f.memfree_mb, used: (f.memtotal_mb as number) - (f.memfree_mb as number) },
    swap: { total: f.swaptotal_mb, free: f.swapfree_mb },
    nocache: { free: kb(mem, 'MemAvailable') },
  };

  // Processors.
  const cpuLines = get('cpuinfo');
  const models = cpuLines.filter((l) => l.startsWith('model name')).map((l) => l.split(':')[1]!.trim());
  const physical = new Set(cpuLines.filter((l) => l.startsWith('physical id')).map((l) => l.split(':')[1]!.trim()));
  const coresPer = Number(cpuLines.find((l) => l.startsWith('cpu cores'))?.split(':')[1]?.trim() ?? 1);
  const vcpus = Number(get('nproc')[0] ?? cpuLines.filter((l) => l.startsWith('processor')).length) || 1;
  f.processor_vcpus = vcpus;
  f.processor_nproc = vcpus;
  f.processor_count = Math.max(1, physical.size);
  f.processor_cores = coresPer || 1;
  f.processor_threads_per_core = Math.max(1, Math.round(vcpus / (Math.max(1, physical.size) * (coresPer || 1))));
  f.processor = models.flatMap((m, i) => [String(i), 'GenuineIntel', m]);

  // Mounts, with sizes from df.
  const sizes = new Map<string, { total: number; avail: number }>();
  for (const line of get('df').slice(1)) {
    const p = line.split(/\s+/);
    if (p.length >= 6) sizes.set(p.slice(5).join(' '), { total: Number(p[1]) * 1024, avail: Number(p[3]) * 1024 });
  }
  f.mounts = get('mounts')
    .map((line) => line.split(' '))
    .filter((p) => p.length >= 4 && p[1]!.startsWith('/') && !/^(proc|sysfs|cgroup2?|devpts|mqueue|securityfs|debugfs|tracefs|pstore|bpf|configfs|fusectl|hugetlbfs|autofs|binfmt_misc)$/.test(p[2]!))
    .map(([device, mount, fstype, options]) => {
      const mnt = mount!.replace(/\\040/g, ' ');
      const size = sizes.get(mnt);
      return { device, mount: mnt, fstype, options, size_total: size?.total ?? 0, size_available: size?.avail ?? 0 };
    });

  const init = get('init');
  const serviceMgr: HostFacts['serviceMgr'] = init.includes('systemd-running') || init[0] === 'systemd' ? 'systemd' : init[0] === 'openrc-init' ? 'openrc' : init[0] === 'init' ? 'sysvinit' : 'unknown';
  f.service_mgr = serviceMgr;
  const pkgs = get('pkg');
  const pkgMgr = (pkgs.includes('apt-get') ? 'apt' : (pkgs[0] as HostFacts['pkgMgr']) ?? 'unknown') as HostFacts['pkgMgr'];
  f.pkg_mgr = pkgMgr;

  const [userId = '', uid = '', gid = '', home = '', shell = ''] = get('user');
  f.user_id = userId;
  f.user_uid = Number(uid);
  f.user_gid = Number(gid);
  f.user_dir = home;
  f.user_shell = shell;
  const [epoch = '0', iso = '', tz = ''] = get('date');
  f.date_time = { epoch, iso8601: iso, date: iso.slice(0, 10), time: iso.slice(11, 19), tz, year: iso.slice(0, 4) };
  f.machine_id = get('machine_id')[0] ?? '';
  const virt = get('virt');
  f.virtualization_type = virt[0] ?? '';
  f.virtualization_role = virt.length ? 'guest' : '';
  f.python = { executable: get('python')[0] ?? '' };

  return { osFamily: family, distribution: f.distribution as string, serviceMgr, pkgMgr, ansible: f };
}
