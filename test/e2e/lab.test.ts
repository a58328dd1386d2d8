/**
 * The lab itself: three real hosts in containers, checked from the inside
 * (docker exec) and from the outside with OpenSSH's own client, which proves
 * that the written key, known_hosts and inventory are right.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { ROOT, tsible } from './cli.js';

const run = promisify(execFile);
const HOSTS = ['node1', 'node2', 'node3'];
const NAME = `labtest-${process.pid}`;
let lab: Lab;
let upSeconds = 0;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsible-lab-'));
  const started = Date.now();
  lab = await startLab({ name: NAME, hosts: HOSTS, groups: { even: { hosts: ['node2'], vars: { parity: 'even' } } }, dir });
  upSeconds = (Date.now() - started) / 1000;
});

afterAll(async () => {
  await lab?.dispose();
});

const addressOf = (host: string) => lab.hosts.find((h) => h.name === host)!.address;

/** OpenSSH with only the lab's files: strict host key checking, no agent, no user config. */
function openssh(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = ['-F', '/dev/null', '-i', lab.keyPath, '-o', `UserKnownHostsFile=${lab.knownHostsPath}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes'];
  return new Promise((resolve) => {
    const child = spawn('ssh', [...base, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('a lab of three hosts', () => {
  it('comes up quickly', () => {
    // Generous: the machines are shared; alone, three hosts are up in about 3 s.
    expect(upSeconds).toBeLessThan(60);
  });

  it('boots systemd on every host, with no failed unit', async () => {
    for (const h of HOSTS) {
      const r = await lab.exec(h, 'systemctl is-system-running --wait; systemctl --failed --no-legend --plain');
      expect(r.stdout, `${h}: ${r.stderr}`).toBe('running\n');
    }
  });

  it('names each host after its inventory name, and hosts resolve each other by name', async () => {
    expect((await lab.exec('node1', 'hostname')).stdout).toBe('node1\n');
    const r = await lab.exec('node1', 'getent hosts node2 node3');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${addressOf('node2').replace(/\./g, '\\.')}\\s+node2$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${addressOf('node3').replace(/\./g, '\\.')}\\s+node3$`, 'm'));
    // One interface on the lab network only: no second address on Docker's default bridge.
    expect((await lab.exec('node1', 'hostname -I')).stdout.trim()).toBe(addressOf('node1'));
  });

  it('serves the injected host key, the one in known_hosts', async () => {
    const known = readFileSync(lab.knownHostsPath, 'utf8');
    const keys = new Set<string>();
    for (const h of HOSTS) {
      const inContainer = (await lab.exec(h, 'cat /etc/ssh/ssh_host_ed25519_key.pub')).stdout.trim().split(/\s+/).slice(0, 2).join(' ');
      const scanned = (await run('ssh-keyscan', ['-t', 'ed25519', addressOf(h)])).stdout.trim().split(/\s+/).slice(1, 3).join(' ');
      expect(scanned).toBe(inContainer);
      expect(known).toContain(`${addressOf(h)} ${inContainer}\n`);
      expect(known).toContain(`${h} ${inContainer}\n`);
      // No other host key type is offered: the image has none.
      expect((await lab.exec(h, 'ls /etc/ssh/ | grep -c ssh_host_')).stdout.trim()).toBe('2');
      keys.add(inContainer);
    }
    expect(keys.size, 'every host has its own key').toBe(3);
  });

  it('writes an inventory with every host reachable and the groups given', () => {
    const inv = parse(readFileSync(lab.inventoryPath, 'utf8')) as {
      all: { hosts: Record<string, Record<string, string>>; children: Record<string, unknown> };
    };
    for (const h of HOSTS) {
      expect(inv.all.hosts[h]).toMatchObject({ ansible_host: addressOf(h), ansible_user: 'root', ansible_ssh_private_key_file: lab.keyPath });
    }
    expect(inv.all.children.even).toEqual({ hosts: { node2: {} }, vars: { parity: 'even' } });
  });

  it('lets OpenSSH in with the written key and known_hosts, strictly', async () => {
    for (const h of HOSTS) {
      const r = await openssh([`root@${addressOf(h)}`, 'true']);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('does not lock the controller out after many connections without authentication', async () => {
    // OpenSSH's PerSourcePenalties would: every lab connection comes from the same gateway address.
    // 20 connections (the default limit is 15 one-second penalties), 5 at a time to stay under MaxStartups.
    for (let i = 0; i < 4; i++) {
      await Promise.all(Array.from({ length: 5 }, () => run('ssh-keyscan', ['-T', '3', addressOf('node2')]).catch(() => {})));
    }
    const r = await openssh([`root@${addressOf('node2')}`, 'true']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('lets OpenSSH jump through one host to another addressed by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-jump-'));
    const config = join(dir, 'ssh_config');
    // ProxyJump's inner ssh reads the config file, not the command line's -i/-o.
    writeFileSync(
      config,
      `Host *\n  User root\n  IdentityFile ${lab.keyPath}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${lab.knownHostsPath}\n  StrictHostKeyChecking yes\n  BatchMode yes\n`,
    );
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('ssh', ['-F', config, '-J', addressOf('node1'), 'node3', 'hostname'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
    rmSync(dir, { recursive: true, force: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('node3\n');
  });

  it('has /dev/fuse and working loop devices', async () => {
    expect((await lab.exec('node1', 'test -c /dev/fuse && echo yes')).stdout).toBe('yes\n');
    const r = await lab.exec('node1', 'truncate -s 10M /root/img && dev=$(losetup -f --show /root/img) && echo "$dev" && losetup -d "$dev"');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\/dev\/loop\d+\n$/);
  });

  it('lets /proc/sys be written (sysctl in roles)', async () => {
    const r = await lab.exec('node2', 'sysctl -w net.ipv4.ip_forward=1');
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it('stops a host (unreachable) and starts it again at the same address', async () => {
    await lab.stop('node3');
    expect((await openssh(['-o', 'ConnectTimeout=2', `root@${addressOf('node3')}`, 'true'])).code).toBe(255);
    await lab.start('node3');
    const r = await openssh([`root@${addressOf('node3')}`, 'hostname']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('node3\n');
  });
});

describe('stopLab', () => {
  it('removes the containers, the network and the files, from another process', async () => {
    const { stdout: before } = await run('docker', ['ps', '-aq', '--filter', `label=tsible.lab=${NAME}`]);
    expect(before.trim().split('\n')).toHaveLength(3);
    // `tsible lab down` runs in a new process: all it has is the directory.
    const script = `import { stopLab } from ${JSON.stringify(join(ROOT, 'src/lab/lab.ts'))}; await stopLab(${JSON.stringify(lab.dir)});`;
    await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT });
    const { stdout: after } = await run('docker', ['ps', '-aq', '--filter', `label=tsible.lab=${NAME}`]);
    expect(after.trim()).toBe('');
    const { stdout: nets } = await run('docker', ['network', 'ls', '-q', '--filter', `name=^tsible-${NAME}$`]);
    expect(nets.trim()).toBe('');
    expect(existsSync(lab.dir)).toBe(false);
    // Disposing afterwards is harmless: everything is already gone.
    await lab.dispose();
  });
});

describe('tsible lab up / down (the CLI a user runs)', () => {
  it('starts the inventory hosts, lets tsible reach them by the written files, and removes everything', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'tsible-labcli-'));
    const name = `labcli-${process.pid}`;
    writeFileSync(join(cwd, 'hosts.ini'), '[master]\ncluster1\n\n[nodes]\ncluster[2:3]\n');
    const up = await tsible(['lab', 'up', '-i', 'hosts.ini', '--name', name], { cwd });
    try {
      expect(up.code, up.stderr).toBe(0);
      const inventory = join(cwd, '.tsible/lab/inventory.yml');
      for (const file of ['inventory.yml', 'id_ed25519', 'known_hosts']) expect(existsSync(join(cwd, '.tsible/lab', file)), file).toBe(true);
      // The written inventory alone is enough (it names its known_hosts: strict checking); names resolve between hosts.
      const r = await tsible(['run', '-a', 'nodes', '-i', inventory, 'getent hosts cluster1 >/dev/null && hostname'], { cwd });
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout.trim().split('\n').sort()).toEqual(['cluster2: cluster2', 'cluster3: cluster3']);
    } finally {
      const down = await tsible(['lab', 'down'], { cwd });
      expect(down.code, down.stderr).toBe(0);
    }
    const { stdout: left } = await run('docker', ['ps', '-aq', '--filter', `label=tsible.lab=${name}`]);
    expect(left.trim()).toBe('');
    expect(existsSync(join(cwd, '.tsible/lab/inventory.yml'))).toBe(false);
    expect(existsSync(join(cwd, '.tsible/lab/id_ed25519'))).toBe(false);
  });
});
