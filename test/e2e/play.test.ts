/** The playbook engine on real hosts: handlers, blocks, serial, failure isolation, --limit and --tags. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { playJson } from './scenario.js';
import { tsible, ROOT } from './cli.js';
import { encryptVault, formatVaultYaml } from '../../src/vault/format.js';
import { spawn } from 'node:child_process';

let lab: Lab;
const HOSTS = ['p1', 'p2', 'p3'];

beforeAll(async () => {
  lab = await startLab({ name: `play-${process.pid}`, hosts: HOSTS, groups: { web: { hosts: ['p1', 'p2'] }, db: { hosts: ['p3'] } }, dir: mkdtempSync(join(tmpdir(), 'tsible-play-')) });
});
afterAll(async () => {
  await lab?.dispose();
});

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'play-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return join(dir, 'site.yml');
}

const inv = () => ['-i', lab.inventoryPath];
const byHost = (results: { host: string; task: string; status: string }[], task: string) =>
  Object.fromEntries(results.filter((r) => r.task === task).map((r) => [r.host, r.status]));

describe('tsible play', () => {
  it('runs handlers once, at the end, only where notified', async () => {
    const pb = project({
      'site.yml': `- hosts: all
  gather_facts: false
  tasks:
    - name: config
      copy: content="v1 {{ inventory_hostname }}" dest=/srv/handler.conf
      notify: restart
      when: inventory_hostname != 'p3'
    - name: config again
      copy: content="v1 {{ inventory_hostname }}" dest=/srv/handler.conf
      notify: restart
  handlers:
    - name: restart
      shell: echo restarted >> /srv/handler.log
`,
    });
    const first = await playJson([pb, ...inv()]);
    expect(first.code).toBe(0);
    expect(byHost(first.results, 'restart')).toEqual({ p1: 'changed', p2: 'changed', p3: 'changed' });
    for (const h of HOSTS) expect((await lab.exec(h, 'cat /srv/handler.log')).stdout).toBe('restarted\n');
    const second = await playJson([pb, ...inv()]);
    expect(byHost(second.results, 'restart')).toEqual({});
  });

  it('block/rescue/always: rescued hosts count as rescued, always runs for everyone', async () => {
    const pb = project({
      'site.yml': `- hosts: all
  gather_facts: false
  tasks:
    - block:
        - name: may fail
          command: /bin/false
          when: inventory_hostname == 'p2'
        - name: after failure
          command: echo fine
      rescue:
        - name: rescue
          debug: msg="rescued {{ ansible_failed_task.name }}"
      always:
        - name: always
          command: echo always
    - name: next
      command: echo next
`,
    });
    const run = await playJson([pb, ...inv()]);
    expect(run.code).toBe(0);
    expect(byHost(run.results, 'after failure')).toEqual({ p1: 'changed', p3: 'changed' });
    expect(byHost(run.results, 'rescue')).toEqual({ p2: 'ok' });
    expect(byHost(run.results, 'always')).toEqual({ p1: 'changed', p2: 'changed', p3: 'changed' });
    expect(byHost(run.results, 'next')).toEqual({ p1: 'changed', p2: 'changed', p3: 'changed' });
    const recap = (await tsible(['play', pb, ...inv()])).stdout;
    expect(recap).toMatch(/p2\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0\s+skipped=\d+\s+rescued=1/);
  });

  it('a failing host leaves the play; the others go on; exit code 2', async () => {
    const pb = project({
      'site.yml': `- hosts: all
  gather_facts: false
  tasks:
    - name: break p1
      command: "test {{ inventory_hostname }} != p1"
    - name: later
      command: echo later
`,
    });
    const run = await playJson([pb, ...inv()]);
    expect(run.code).toBe(2);
    expect(byHost(run.results, 'later')).toEqual({ p2: 'changed', p3: 'changed' });
    const text = await tsible(['play', pb, ...inv()]);
    expect(text.stdout).toMatch(/fatal: \[p1\]: FAILED! => .*"cmd":"test p1 != p1".*"rc":1/);
  });

  it('serial runs the play in batches', async () => {
    const pb = project({
      'site.yml': `- hosts: all
  gather_facts: false
  serial: [1, 2]
  tasks:
    - name: one
      command: echo {{ ansible_play_batch | join(',') }}
      register: out
    - debug: var=out.stdout
`,
    });
    const r = await tsible(['play', pb, ...inv()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/PLAY \[all\] \(batch 1\/2\)[\s\S]*"out.stdout": "p1"[\s\S]*PLAY \[all\] \(batch 2\/2\)[\s\S]*"out.stdout": "p2,p3"/);
  });

  it('--limit and --tags narrow the run', async () => {
    const pb = project({
      'site.yml': `- hosts: all
  gather_facts: false
  tasks:
    - name: tagged
      command: echo a
      tags: [nfs]
    - name: untagged
      command: echo b
    - name: always
      command: echo c
      tags: always
`,
    });
    const run = await playJson([pb, ...inv(), '--limit', 'web', '--tags', 'nfs']);
    expect(run.code).toBe(0);
    expect([...new Set(run.results.map((r) => r.host))].sort()).toEqual(['p1', 'p2']);
    expect([...new Set(run.results.map((r) => r.task))].sort()).toEqual(['always', 'tagged']);
    const skip = await playJson([pb, ...inv(), '--skip-tags', 'nfs']);
    expect([...new Set(skip.results.map((r) => r.task))].sort()).toEqual(['always', 'untagged']);
    const bad = await tsible(['play', pb, ...inv(), '--limit', 'nosuchgroup']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/nosuchgroup/);
  });

  it('facts are gathered once, in one round trip, and usable in templates', async () => {
    const pb = project({
      'site.yml': `- hosts: p1
  tasks:
    - debug: msg="{{ ansible_facts.distribution }} {{ ansible_distribution_major_version }} {{ ansible_hostname }} {{ ansible_default_ipv4.address }} {{ ansible_service_mgr }}"
`,
    });
    const r = await tsible(['play', pb, ...inv()]);
    expect(r.code).toBe(0);
    const p1 = lab.hosts.find((h) => h.name === 'p1')!;
    expect(r.stdout).toContain(`"msg": "Debian 13 p1 ${p1.address} systemd"`);
  });

  it('--check --diff previews a file change and leaves the host alone', async () => {
    await lab.exec('p3', "printf 'a\\nb\\n' > /srv/diff.txt");
    const pb = project({ 'site.yml': `- hosts: p3\n  gather_facts: false\n  tasks:\n    - copy: content="a\\nB\\n" dest=/srv/diff.txt\n` });
    const r = await tsible(['play', pb, ...inv(), '--check', '--diff']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--- before: \/srv\/diff.txt.*\n\+\+\+ after: .*\n@@ -1,2 \+1,2 @@\n a\n-b\n\+B\n/);
    expect((await lab.exec('p3', 'cat /srv/diff.txt')).stdout).toBe('a\nb\n');
  });

  it('a remote failure names the host, the task and stderr; no stack trace', async () => {
    const pb = project({ 'site.yml': `- hosts: p1\n  gather_facts: false\n  tasks:\n    - name: write into a missing dir\n      copy: content=x dest=/nonexistent/dir/file\n` });
    const r = await tsible(['play', pb, ...inv()]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/TASK \[write into a missing dir\]/);
    expect(r.stdout).toMatch(/fatal: \[p1\]: FAILED!.*nonexistent/);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
  });

  it('an undefined variable is a clear error with its location', async () => {
    const pb = project({ 'site.yml': `- hosts: p1\n  gather_facts: false\n  tasks:\n    - name: uses x\n      debug: msg="{{ nope }}"\n` });
    const r = await tsible(['play', pb, ...inv()]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/'nope' is undefined/);
    expect(r.stdout).toMatch(/site\.yml:5/);
  });

  it('Ctrl-C stops cleanly: running tasks finish, no new ones start, the recap prints, exit 99', async () => {
    const pb = project({ 'site.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: slow\n      command: sleep 3\n    - name: never\n      command: touch /srv/never\n` });
    const child = spawn(process.execPath, [join(ROOT, 'bin/tsible.js'), 'play', pb, ...inv()], { env: { ...process.env, NO_COLOR: '1', TSIBLE_NO_LIVE: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(99);
    expect(out).toMatch(/TASK \[slow\]/);
    expect(out).not.toMatch(/TASK \[never\]/);
    expect(out).toMatch(/PLAY RECAP/);
    for (const h of HOSTS) expect((await lab.exec(h, 'test -e /srv/never && echo yes || echo no')).stdout).toBe('no\n');
  });

  it('vault values and no_log results never reach any output', async () => {
    const secret = 's3cr3t-db-pa55';
    const envelope = encryptVault(secret, { id: 'default', password: Buffer.from('vaultpw') });
    const dir = mkdtempSync(join(tmpdir(), 'vault-'));
    writeFileSync(join(dir, 'pw'), 'vaultpw\n');
    const pb = project({
      'site.yml': `- hosts: p1\n  gather_facts: false\n  vars:\n${formatVaultYaml(envelope, 'db_password').replace(/^/gm, '    ')}\n  tasks:\n    - name: uses the secret\n      copy: content="{{ db_password }}" dest=/srv/db.pw mode=0600\n    - name: shows it\n      debug: msg="password is {{ db_password }}"\n    - name: hidden\n      command: echo {{ db_password }}\n      no_log: true\n`,
    });
    for (const extra of [['--output', 'json'], ['-vvv'], ['--diff']]) {
      const r = await tsible(['play', pb, ...inv(), '--vault-password-file', join(dir, 'pw'), ...extra]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
    expect((await lab.exec('p1', 'cat /srv/db.pw')).stdout).toBe(secret);
  });

  it('-v shows module arguments, -vv the commands, -vvv the SSH exchange', async () => {
    const pb = project({ 'site.yml': `- hosts: p2\n  gather_facts: false\n  tasks:\n    - name: marker\n      copy: content=v dest=/srv/verbose-{{ 99999999 | string | length }}.txt\n` });
    const levels = await Promise.all(['-v', '-vv', '-vvv'].map((v) => tsible(['play', pb, ...inv(), v])));
    for (const r of levels) expect(r.code, r.stderr).toBe(0);
    const [v1, v2, v3] = levels.map((r) => r.stdout + r.stderr);
    expect(v1).toMatch(/<p2> copy \{"content":"v","dest":"\/srv\/verbose-8.txt"/);
    expect(v1).not.toMatch(/read state/);
    expect(v2).toMatch(/<p2> read state \(file_state\):/);
    expect(v2).not.toMatch(/kex|KEX|handshake/i);
    expect(v3).toMatch(/<p2> read state/);
    expect(v3).toMatch(/KEX|Handshake|handshake/);
  });
});
