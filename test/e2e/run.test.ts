/**
 * `tsible run` against real hosts: five lab containers with systemd and
 * sshd, reached over SSH with verified host keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { generateEd25519KeyPair } from '../../src/lab/ssh-keys.js';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { tsible } from './cli.js';

const HOSTS = ['node1', 'node2', 'node3', 'node4', 'node5'];
let lab: Lab;
let inv: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsible-run-'));
  lab = await startLab({ name: `run-${process.pid}`, hosts: HOSTS, groups: { nodes: { hosts: HOSTS.slice(1) } }, dir });
  inv = lab.inventoryPath;
});

afterAll(async () => {
  await lab?.dispose();
});

describe('tsible run', () => {
  it('runs a command on five hosts, prefixing each line with its host', async () => {
    const r = await tsible(['run', '-a', 'all', '-i', inv, 'hostname; echo second line']);
    expect(r.code).toBe(0);
    for (const h of HOSTS) {
      expect(r.stdout).toContain(`${h}: ${h}\n`);
      expect(r.stdout).toContain(`${h}: second line\n`);
    }
    expect(r.stderr).toMatch(/ok=5\s+failed=0\s+unreachable=0/);
  });

  it('selects hosts with patterns and node sets', async () => {
    const r = await tsible(['run', '-a', 'node[2-3,5]', '-i', inv, 'hostname']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['node2: node2', 'node3: node3', 'node5: node5']);
    const ex = await tsible(['run', '-a', 'nodes:!node4', '-i', inv, 'hostname']);
    expect(ex.stdout.trim().split('\n').sort()).toEqual(['node2: node2', 'node3: node3', 'node5: node5']);
  });

  it('refuses an unknown group instead of running on nothing', async () => {
    const r = await tsible(['run', '-a', 'computes', '-i', inv, 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/computes/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports failed hosts with their exit code and exits 2', async () => {
    const r = await tsible(['run', '-a', 'all', '-i', inv, 'test "$(hostname)" != node2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/failed=1/);
    expect(r.stderr).toMatch(/failed: node2/);
    expect(r.stderr).toMatch(/node2: exit code 1/);
  });

  it('--gather folds identical output into a node set', async () => {
    const r = await tsible(['run', '-a', 'all', '-i', inv, '--gather', 'cat /etc/debian_version | cut -d. -f1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/node\[1-5\] \(5\)\n-+\n13\n/);
  });

  it('--copy pushes a file atomically with its mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'copy-'));
    const src = join(dir, 'sda.out');
    writeFileSync(src, 'label: dos\n/dev/sda1 : start=2048, size=1024, type=83\n');
    chmodSync(src, 0o640);
    const r = await tsible(['run', '-a', 'nodes', '-i', inv, '--copy', src, '/root/sda.out', 'stat -c %a /root/sda.out && cat /root/sda.out']);
    expect(r.code).toBe(0);
    for (const h of HOSTS.slice(1)) {
      expect(r.stdout).toContain(`${h}: 640\n`);
      const on = await lab.exec(h, 'cat /root/sda.out; ls -a /root | grep -c tsible-tmp || true');
      expect(on.stdout).toBe(readFileSync(src, 'utf8') + '0\n');
    }
  });

  it('--one-by-one runs hosts in inventory order', async () => {
    const r = await tsible(['run', '-a', 'all', '-i', inv, '--one-by-one', 'hostname']);
    expect(r.stdout.trim().split('\n')).toEqual(HOSTS.map((h) => `${h}: ${h}`));
  });

  it('--command-timeout kills the remote command and its children', async () => {
    const r = await tsible(['run', '-a', 'node1', '-i', inv, '--command-timeout', '2', 'sleep 60 & sleep 61; echo never']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/timed out/);
    const left = await lab.exec('node1', 'pgrep -f "sleep 6[01]" || true');
    expect(left.stdout.trim()).toBe('');
  });

  it('-b runs as root through sudo, with the password over stdin (-K)', async () => {
    await lab.exec('node2', "useradd -m -s /bin/bash alice && echo 'alice:s3cret-pw' | chpasswd && echo 'alice ALL=(ALL) ALL' > /etc/sudoers.d/alice && mkdir -p /home/alice/.ssh && cp /root/.ssh/authorized_keys /home/alice/.ssh/ && chown -R alice /home/alice/.ssh");
    const r = await tsible(['run', '-a', 'node2', '-i', inv, '-u', 'alice', '-b', '-K', 'id -un; cat /proc/$$/cmdline | tr "\\0" " "'], { input: 's3cret-pw\n' });
    expect(r.stderr).not.toContain('s3cret-pw');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('node2: root\n');
    expect(r.stdout).not.toContain('s3cret-pw');
    const wrong = await tsible(['run', '-a', 'node2', '-i', inv, '-u', 'alice', '-b', '-K', 'id -un'], { input: 'wrong\n' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/incorrect password/);
  });

  it('asks once for the passphrase of an encrypted key, and never shows it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsible-enc-'));
    const key = join(dir, 'id_enc');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'key-pass-42', '-C', 'enc', '-f', key]);
    const pub = readFileSync(`${key}.pub`, 'utf8').trim();
    for (const h of ['node3', 'node4']) await lab.exec(h, `echo '${pub}' >> /root/.ssh/authorized_keys`);
    const r = await tsible(['run', '-a', 'node3:node4', '-i', inv, '--private-key', key, 'echo in'], { input: 'key-pass-42\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.endsWith(': in')).sort()).toEqual(['node3: in', 'node4: in']);
    expect(r.stdout + r.stderr).not.toContain('key-pass-42');
    const wrong = await tsible(['run', '-a', 'node3', '-i', inv, '--private-key', key, 'echo in'], { input: 'nope\n' });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain(`wrong passphrase for ${key}`);
  });

  it('authenticates through ssh-agent when no key file is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsible-agent-'));
    const key = join(dir, 'id_agent');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'agent', '-f', key]);
    await lab.exec('node5', `echo '${readFileSync(`${key}.pub`, 'utf8').trim()}' >> /root/.ssh/authorized_keys`);
    const node5 = lab.hosts.find((h) => h.name === 'node5')!;
    // An inventory without any key, and an empty home: the agent is the only way in.
    writeFileSync(join(dir, 'hosts'), `node5 ansible_host=${node5.address} ansible_user=root tsible_known_hosts_file=${lab.knownHostsPath}\n`);
    const socket = join(dir, 'agent.sock');
    const agent = execFileSync('ssh-agent', ['-a', socket, '-s'], { encoding: 'utf8' });
    const agentPid = /SSH_AGENT_PID=(\d+)/.exec(agent)![1]!;
    try {
      const env = { SSH_AUTH_SOCK: socket, HOME: dir };
      const without = await tsible(['run', '-a', 'all', '-i', join(dir, 'hosts'), 'echo via-agent'], { env });
      expect(without.code, 'no key in the agent yet').toBe(4);
      execFileSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
      const r = await tsible(['run', '-a', 'all', '-i', join(dir, 'hosts'), 'echo via-agent'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('node5: via-agent');
    } finally {
      process.kill(Number(agentPid));
    }
  });

  it('a host stopped mid-run is unreachable while the others finish', async () => {
    const run = tsible(['run', '-a', 'all', '-i', inv, 'sleep 4; echo done']);
    await new Promise((r) => setTimeout(r, 1500));
    await lab.stop('node4');
    const r = await run;
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/unreachable=1/);
    expect(r.stderr).toMatch(/unreachable: node4/);
    for (const h of ['node1', 'node2', 'node3', 'node5']) expect(r.stdout).toContain(`${h}: done`);
    // Later runs report it unreachable at once, and still run elsewhere.
    const again = await tsible(['run', '-a', 'all', '-i', inv, '-T', '3', 'true']);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/ok=4\s+failed=0\s+unreachable=1/);
    await lab.start('node4');
  });
});

describe('host keys', () => {
  it('refuses a changed host key, naming the host and both fingerprints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-'));
    const forged = generateEd25519KeyPair('forged');
    const node1 = lab.hosts.find((h) => h.name === 'node1')!;
    const original = readFileSync(lab.knownHostsPath, 'utf8');
    const known = join(dir, 'known_hosts');
    writeFileSync(known, original.split('\n').filter((l) => !l.startsWith(`${node1.address} `)).join('\n') + `\n${node1.address} ${forged.public}\n`);
    for (const extra of [[], ['--accept-new']]) {
      const r = await tsible(['run', '-a', 'node1', '-i', inv, '--known-hosts', known, ...extra, 'true']);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/HOST KEY CHANGED for 172\.|HOST KEY CHANGED for \d/);
      expect(r.stderr).toMatch(/node1/);
      expect((r.stderr.match(/SHA256:[A-Za-z0-9+/]+/g) ?? []).length).toBeGreaterThanOrEqual(2);
    }
  });

  it('refuses an unknown host unless --accept-new, which records the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-'));
    const known = join(dir, 'known_hosts');
    writeFileSync(known, '');
    const refused = await tsible(['run', '-a', 'node3', '-i', inv, '--known-hosts', known, 'true']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/not in .*known_hosts/);
    const accepted = await tsible(['run', '-a', 'node3', '-i', inv, '--known-hosts', known, '--accept-new', 'true']);
    expect(accepted.code).toBe(0);
    const node3 = lab.hosts.find((h) => h.name === 'node3')!;
    expect(readFileSync(known, 'utf8')).toMatch(new RegExp(`^${node3.address.replace(/\./g, '\\.')} ssh-ed25519 `, 'm'));
    const strictAgain = await tsible(['run', '-a', 'node3', '-i', inv, '--known-hosts', known, 'true']);
    expect(strictAgain.code).toBe(0);
  });
});

describe('ProxyJump', () => {
  it('reaches a host by its lab name through another lab host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jump-'));
    const node1 = lab.hosts.find((h) => h.name === 'node1')!;
    const jumpInv = join(dir, 'hosts.ini');
    // "inner" is only resolvable inside the lab network: the controller cannot reach it directly.
    writeFileSync(
      jumpInv,
      `inner ansible_host=node5 ansible_user=root ansible_ssh_private_key_file=${lab.keyPath} tsible_known_hosts_file=${lab.knownHostsPath} tsible_proxy_jump=root@${node1.address}\n`,
    );
    const r = await tsible(['run', '-a', 'inner', '-i', jumpInv, 'hostname']);
    expect(r.stderr).toMatch(/ok=1/);
    expect(r.stdout).toBe('inner: node5\n');
  });
});
