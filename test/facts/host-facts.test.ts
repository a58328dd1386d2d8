import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { hostFactsFact, parseHostFacts } from '../../src/facts/host-facts.js';

describe('host facts', () => {
  // The fact script is plain POSIX sh: run it for real on this Linux controller.
  const out = execFileSync('/bin/sh', ['-c', hostFactsFact.command(undefined).text]).toString();
  const facts = parseHostFacts(out);

  it('reads the OS', () => {
    expect(facts.osFamily).toBe('Debian');
    expect(facts.ansible.distribution).toBe('Debian');
    expect(facts.ansible.distribution_major_version).toMatch(/^\d+$/);
    expect(facts.ansible.architecture).toBe(execFileSync('uname', ['-m']).toString().trim());
  });

  it('reads hostname, memory, processors and mounts', () => {
    expect(facts.ansible.hostname).toBe(execFileSync('hostname').toString().trim().split('.')[0]);
    expect(facts.ansible.memtotal_mb).toBeGreaterThan(100);
    expect(facts.ansible.processor_vcpus).toBe(Number(execFileSync('nproc').toString()));
    const mounts = facts.ansible.mounts as { mount: string }[];
    expect(mounts.some((m) => m.mount === '/')).toBe(true);
  });

  it('reads interfaces and the default IPv4', () => {
    expect(facts.ansible.interfaces).toContain('lo');
    expect((facts.ansible.lo as { ipv4: { address: string } }).ipv4.address).toBe('127.0.0.1');
  });

  it('parses a known sample', () => {
    const sample = [
      '@@tsible@@os_release', 'ID=debian', 'VERSION_ID="13"', 'VERSION_CODENAME=trixie',
      '@@tsible@@debian_version', '13.2',
      '@@tsible@@hostname', 'cluster2',
      '@@tsible@@fqdn', 'cluster2.lab',
      '@@tsible@@uname', 'Linux', '6.1.0', 'x86_64', '#1 SMP',
      '@@tsible@@addr', '1: lo    inet 127.0.0.1/8 scope host lo', '5: eth0    inet 10.0.100.2/24 brd 10.0.100.255 scope global eth0',
      '@@tsible@@link', '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00', '5: eth0@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default \\    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0',
      '@@tsible@@route', 'default via 10.0.100.1 dev eth0',
      '@@tsible@@meminfo', 'MemTotal:        2048000 kB', 'MemFree:         1024000 kB',
      '@@tsible@@nproc', '4',
      '@@tsible@@init', 'systemd', 'systemd-running',
      '@@tsible@@pkg', 'apt-get',
      '@@tsible@@end',
    ].join('\n');
    const f = parseHostFacts(sample);
    expect(f).toMatchObject({ osFamily: 'Debian', serviceMgr: 'systemd', pkgMgr: 'apt' });
    expect(f.ansible).toMatchObject({
      distribution_version: '13.2',
      distribution_release: 'trixie',
      fqdn: 'cluster2.lab',
      domain: 'lab',
      processor_vcpus: 4,
      memtotal_mb: 2000,
      default_ipv4: { address: '10.0.100.2', gateway: '10.0.100.1', interface: 'eth0', netmask: '255.255.255.0', network: '10.0.100.0' },
      all_ipv4_addresses: ['10.0.100.2'],
    });
    expect((f.ansible.eth0 as { macaddress: string }).macaddress).toBe('02:42:ac:11:00:02');
  });
});
