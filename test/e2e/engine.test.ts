/**
 * The rest of the playbook language on real hosts: strategies and failure
 * policies, delegation, run_once, retries, composition (roles, includes,
 * imported playbooks), variables from files, prompts and -e, handler
 * flushing, per-task check mode, and the listing options.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { tsible } from './cli.js';

let lab: Lab;
const HOSTS = ['e1', 'e2', 'e3'];

beforeAll(async () => {
  lab = await startLab({ name: `engine-${process.pid}`, hosts: HOSTS, groups: { head: { hosts: ['e1'] }, workers: { hosts: ['e2', 'e3'] } }, dir: mkdtempSync(join(tmpdir(), 'tsible-engine-')) });
});
afterAll(async () => {
  await lab?.dispose();
});

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'engine-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

interface Result {
  type: 'host_result';
  host: string;
  task: string;
  status: string;
  msg?: string;
  item?: string;
  result?: Record<string, unknown>;
}
interface Run {
  code: number;
  events: { type: string; [k: string]: unknown }[];
  results: Result[];
  stdout: string;
  stderr: string;
}

async function play(dir: string, args: string[] = [], input?: string): Promise<Run> {
  const r = await tsible(['play', join(dir, 'site.yml'), '-i', lab.inventoryPath, '--output', 'json', ...args], { input });
  const events = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string });
  return { code: r.code, events, results: events.filter((e): e is Result => e.type === 'host_result'), stdout: r.stdout, stderr: r.stderr };
}

const statuses = (run: Run, task: string) => Object.fromEntries(run.results.filter((r) => r.task === task).map((r) => [r.host, r.status]));
const msgs = (run: Run, task: string) => Object.fromEntries(run.results.filter((r) => r.task === task).map((r) => [r.host, r.result?.msg]));

describe('failure policies and strategies', () => {
  it('any_errors_fatal stops every host when one fails', async () => {
    const dir = project({
      'site.yml': `- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - name: fails on e2
      command: /bin/false
      when: inventory_hostname == 'e2'
    - name: never reached
      command: echo no
`,
    });
    const run = await play(dir);
    expect(run.code).toBe(2);
    expect(statuses(run, 'fails on e2')).toEqual({ e1: 'skipped', e2: 'failed', e3: 'skipped' });
    expect(statuses(run, 'never reached')).toEqual({});
  });

  it('max_fail_percentage stops the play once too many hosts failed, and not before', async () => {
    const files = (pct: number) => ({
      'site.yml': `- hosts: all
  gather_facts: false
  max_fail_percentage: ${pct}
  tasks:
    - name: fails on e3
      command: /bin/false
      when: inventory_hostname == 'e3'
    - name: next
      command: echo next
`,
    });
    const strict = await play(project(files(30)));
    expect(strict.code).toBe(2);
    expect(statuses(strict, 'next')).toEqual({});
    expect(strict.events.some((e) => e.type === 'warning' && String(e.message).includes('max_fail_percentage'))).toBe(true);
    const lenient = await play(project(files(50)));
    expect(lenient.code).toBe(2);
    expect(statuses(lenient, 'next')).toEqual({ e1: 'changed', e2: 'changed' });
  });

  it('strategy free lets fast hosts run ahead; linear waits for every host', async () => {
    const files = (strategy: string) => ({
      'site.yml': `- hosts: all
  gather_facts: false
  strategy: ${strategy}
  tasks:
    - name: slow on e1
      command: sleep {{ 2 if inventory_hostname == 'e1' else 0 }}
    - name: second
      command: echo second
`,
    });
    const order = (run: Run) => run.results.map((r) => `${r.host}:${r.task}`);
    const free = order(await play(project(files('free'))));
    expect(free.indexOf('e2:second')).toBeLessThan(free.indexOf('e1:slow on e1'));
    expect(free).toHaveLength(6);
    const linear = order(await play(project(files('linear'))));
    expect(linear.indexOf('e2:second')).toBeGreaterThan(linear.indexOf('e1:slow on e1'));
  });

  it('ignore_unreachable keeps an unreachable host in the play, counted as Ansible does (ok and ignored)', async () => {
    const dir = project({
      'site.yml': `- hosts: all
  gather_facts: false
  tasks:
    - name: probe
      command: echo up
      ignore_unreachable: true
    - name: after
      debug: msg=after
`,
      hosts: `ghost ansible_host=127.0.0.1 ansible_port=1 ansible_connection=ssh\nlocal ansible_connection=local\n`,
    });
    const r = await tsible(['play', join(dir, 'site.yml'), '-i', join(dir, 'hosts'), '--output', 'json']);
    const results = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Result & { stats?: Record<string, Record<string, number>> });
    const of = (task: string) => Object.fromEntries(results.filter((x) => x.type === 'host_result' && x.task === task).map((x) => [x.host, x.status]));
    expect(of('probe')).toEqual({ ghost: 'unreachable', local: 'changed' });
    expect(of('after')).toEqual({ ghost: 'ok', local: 'ok' });
    const recap = results.find((x) => (x as { type: string }).type === 'play_recap')!.stats!;
    expect(recap.ghost).toMatchObject({ unreachable: 0, ignored: 1, failed: 0 });
    expect(r.code).toBe(0);
    // Without it, the host leaves the play and the run exits 4.
    writeFileSync(join(dir, 'site.yml'), readFileSync(join(dir, 'site.yml'), 'utf8').replace('      ignore_unreachable: true\n', ''));
    const strict = await tsible(['play', join(dir, 'site.yml'), '-i', join(dir, 'hosts'), '--output', 'json']);
    expect(strict.code).toBe(4);
    expect(strict.stdout).not.toMatch(/"host":"ghost","task":"after"/);
  });
});

describe('where and how often a task runs', () => {
  it('delegate_to runs on another host with the delegating host\'s variables; run_once runs once and shares its result', async () => {
    const dir = project({
      'site.yml': `- hosts: workers
  gather_facts: false
  tasks:
    - name: record on the head
      shell: echo "{{ inventory_hostname }}" >> /srv/delegated.log && hostname
      delegate_to: e1
      register: where
    - name: show
      debug: msg="{{ inventory_hostname }} ran on {{ where.stdout }}"
    - name: once
      shell: echo $RANDOM$RANDOM
      run_once: true
      register: token
    - name: token
      debug: msg="{{ token.stdout }}"
`,
    });
    const run = await play(dir);
    expect(run.code, run.stderr).toBe(0);
    expect(msgs(run, 'show')).toEqual({ e2: 'e2 ran on e1', e3: 'e3 ran on e1' });
    expect((await lab.exec('e1', 'sort /srv/delegated.log')).stdout).toBe('e2\ne3\n');
    expect((await lab.exec('e2', 'test -e /srv/delegated.log && echo yes || echo no')).stdout).toBe('no\n');
    const tokens = msgs(run, 'token');
    expect(Object.keys(tokens).sort()).toEqual(['e2', 'e3']);
    expect(tokens.e2).toBe(tokens.e3);
    expect(run.results.filter((r) => r.task === 'once')).toHaveLength(1);
  });

  it('until/retries/delay retries until the condition holds, and fails when retries run out', async () => {
    const dir = project({
      'site.yml': `- hosts: e1
  gather_facts: false
  tasks:
    - name: third time lucky
      shell: n=$(cat /srv/tries 2>/dev/null || echo 0); n=$((n+1)); echo $n > /srv/tries; echo $n
      register: tries
      until: tries.stdout | int >= 3
      retries: 5
      delay: 0
    - name: attempts
      debug: msg="{{ tries.attempts }} {{ tries.stdout }}"
    - name: never
      command: /bin/false
      register: never
      until: never.rc == 0
      retries: 2
      delay: 0
`,
    });
    const run = await play(dir);
    expect(msgs(run, 'attempts')).toEqual({ e1: '3 3' });
    expect(statuses(run, 'never')).toEqual({ e1: 'failed' });
    expect(run.code).toBe(2);
  });

  it('loops: with_dict, loop_control (loop_var, label, index_var)', async () => {
    const dir = project({
      'site.yml': `- hosts: e1
  gather_facts: false
  tasks:
    - name: users
      debug: msg="{{ item.key }}={{ item.value.shell }}"
      with_dict:
        jordi: { shell: /bin/bash }
        anna: { shell: /bin/sh }
    - name: nodes
      debug: msg="{{ idx }}:{{ node }}"
      loop: [cluster2, cluster3]
      loop_control:
        loop_var: node
        index_var: idx
        label: "{{ node }}"
`,
    });
    const run = await play(dir);
    expect(run.code, run.stderr).toBe(0);
    const users = run.results.filter((r) => r.task === 'users').map((r) => r.result?.results ?? r.result?.msg);
    const flat = JSON.stringify(users);
    expect(flat).toContain('jordi=/bin/bash');
    expect(flat).toContain('anna=/bin/sh');
    const nodes = JSON.stringify(run.results.filter((r) => r.task === 'nodes'));
    expect(nodes).toContain('0:cluster2');
    expect(nodes).toContain('1:cluster3');
  });
});

describe('composition', () => {
  it('roles with meta dependencies, include_role, import_role, include_tasks, import_tasks, import_playbook and FQCNs', async () => {
    const dir = project({
      'site.yml': `- import_playbook: first.yml
- hosts: e1
  gather_facts: false
  roles:
    - nfs
  tasks:
    - name: include a role
      ansible.builtin.include_role:
        name: greet
      vars:
        who: include_role
    - import_role:
        name: greet
      vars:
        who: import_role
    - include_tasks: extra.yml
      loop: [a, b]
    - import_tasks: extra.yml
      vars:
        item: imported
`,
      'first.yml': `- hosts: e1
  gather_facts: false
  tasks:
    - name: first playbook
      ansible.builtin.debug: msg=first
`,
      'extra.yml': `- name: extra
  debug: msg="extra {{ item }}"
`,
      'roles/common/tasks/main.yml': `- name: common
  debug: msg="common {{ common_port }}"
`,
      'roles/common/defaults/main.yml': 'common_port: 2049\n',
      'roles/nfs/meta/main.yml': 'dependencies:\n  - role: common\n',
      'roles/nfs/defaults/main.yml': 'nfs_export: /srv/nfs\n',
      'roles/nfs/vars/main.yml': 'nfs_options: rw,sync\n',
      'roles/nfs/tasks/main.yml': `- name: exports
  template: src=exports.j2 dest=/srv/exports
  notify: reload nfs
`,
      'roles/nfs/templates/exports.j2': '{{ nfs_export }} 10.0.0.0/24({{ nfs_options }})\n',
      'roles/nfs/handlers/main.yml': `- name: reload nfs
  copy: src=reloaded dest=/srv/nfs-reloaded
`,
      'roles/nfs/files/reloaded': 'reloaded\n',
      'roles/greet/tasks/main.yml': `- name: greet
  debug: msg="hello from {{ who }}"
`,
    });
    const run = await play(dir);
    expect(run.code, run.stderr).toBe(0);
    const order = run.results.map((r) => r.task);
    // Role tasks are named "role : task", as Ansible prints them; the dependency runs first.
    expect(order.slice(0, 3)).toEqual(['first playbook', 'common : common', 'nfs : exports']);
    expect(msgs(run, 'common : common')).toEqual({ e1: 'common 2049' });
    expect(run.results.filter((r) => r.task === 'greet : greet').map((r) => r.result?.msg)).toEqual(['hello from include_role', 'hello from import_role']);
    expect(run.results.filter((r) => r.task === 'extra').map((r) => r.result?.msg)).toEqual(['extra a', 'extra b', 'extra imported']);
    expect(statuses(run, 'nfs : reload nfs')).toEqual({ e1: 'changed' });
    expect((await lab.exec('e1', 'cat /srv/exports /srv/nfs-reloaded')).stdout).toBe('/srv/nfs 10.0.0.0/24(rw,sync)\nreloaded\n');
  });

  it('vars_files, vars_prompt (from stdin), -e k=v / JSON / @file, with -e winning', async () => {
    const dir = project({
      'site.yml': `- hosts: e1
  gather_facts: false
  vars_files:
    - vars/cluster.yml
  vars_prompt:
    - name: domain
      prompt: NIS domain
      private: false
  tasks:
    - name: show
      debug: msg="{{ master }} {{ domain }} {{ nodes | join(',') }} {{ from_file }} {{ extra }}"
`,
      'vars/cluster.yml': 'master: cluster1\nnodes: [cluster2]\nfrom_file: file\nextra: from-vars-file\n',
      'extra.yml': 'from_file: at-file\n',
    });
    const run = await play(dir, ['-e', 'extra=from-e', '-e', '{"nodes": ["c2", "c3"]}', '-e', `@${join(dir, 'extra.yml')}`], 'cluster-nis\n');
    expect(run.code, run.stderr).toBe(0);
    expect(msgs(run, 'show')).toEqual({ e1: 'cluster1 cluster-nis c2,c3 at-file from-e' });
  });
});

describe('handlers and check mode per task', () => {
  it('meta: flush_handlers runs notified handlers mid-play; listen groups handlers', async () => {
    const dir = project({
      'site.yml': `- hosts: e2
  gather_facts: false
  tasks:
    - name: config
      shell: date +%N > /srv/flush.conf
      notify: web changed
    - meta: flush_handlers
    - name: after flush
      command: cat /srv/flush.log
      register: log
  handlers:
    - name: restart one
      shell: echo one >> /srv/flush.log
      listen: web changed
    - name: restart two
      shell: echo two >> /srv/flush.log
      listen: web changed
`,
    });
    const run = await play(dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.results.find((r) => r.task === 'after flush')?.result?.stdout).toBe('one\ntwo');
    const order = run.results.map((r) => r.task);
    expect(order.indexOf('restart two')).toBeLessThan(order.indexOf('after flush'));
  });

  it('--force-handlers runs notified handlers even on a host that failed later', async () => {
    const files = {
      'site.yml': `- hosts: e3
  gather_facts: false
  tasks:
    - name: config
      shell: date +%N > /srv/force.conf
      notify: restart
    - name: boom
      command: /bin/false
  handlers:
    - name: restart
      shell: echo restarted >> /srv/force.log
`,
    };
    const without = await play(project(files));
    expect(without.code).toBe(2);
    expect(statuses(without, 'restart')).toEqual({});
    const withForce = await play(project(files), ['--force-handlers']);
    expect(withForce.code).toBe(2);
    expect(statuses(withForce, 'restart')).toEqual({ e3: 'changed' });
  });

  it('check_mode: true on a task predicts without changing; check_mode: false runs even under --check', async () => {
    const dir = project({
      'site.yml': `- hosts: e1
  gather_facts: false
  tasks:
    - name: predicted only
      copy: content=never dest=/srv/never.txt
      check_mode: true
    - name: always real
      copy: content=real dest=/srv/real.txt
      check_mode: false
`,
    });
    const run = await play(dir, ['--check']);
    expect(run.code, run.stderr).toBe(0);
    expect(statuses(run, 'predicted only')).toEqual({ e1: 'changed' });
    expect((await lab.exec('e1', 'cat /srv/real.txt; test -e /srv/never.txt && echo exists || echo absent')).stdout).toBe('realabsent\n');
    const real = await play(dir);
    expect(statuses(real, 'predicted only')).toEqual({ e1: 'changed' });
    expect((await lab.exec('e1', 'test -e /srv/never.txt && echo exists || echo absent')).stdout).toBe('absent\n');
  });

  it('environment applies to the remote command', async () => {
    const dir = project({
      'site.yml': `- hosts: e1
  gather_facts: false
  environment:
    CLUSTER: thesis
  tasks:
    - name: env
      command: sh -c 'echo $CLUSTER $NODE'
      environment:
        NODE: "{{ inventory_hostname }}"
      register: env
`,
    });
    const run = await play(dir);
    expect(run.results.find((r) => r.task === 'env')?.result?.stdout).toBe('thesis e1');
  });
});

describe('listing and start options', () => {
  const dir = () =>
    project({
      'site.yml': `- name: cluster
  hosts: workers
  gather_facts: false
  tasks:
    - name: packages
      debug: msg=packages
      tags: [apt]
    - name: exports
      debug: msg=exports
      tags: [nfs]
    - name: finish
      debug: msg=finish
`,
    });

  it('--list-hosts, --list-tasks, --list-tags and --syntax-check print without connecting', async () => {
    const d = dir();
    const pb = join(d, 'site.yml');
    const hosts = await tsible(['play', pb, '-i', lab.inventoryPath, '--list-hosts']);
    expect(hosts.code).toBe(0);
    expect(hosts.stdout).toMatch(/hosts \(2\):\s*\n\s*e2\s*\n\s*e3/);
    const tasks = await tsible(['play', pb, '-i', lab.inventoryPath, '--list-tasks']);
    expect(tasks.stdout).toMatch(/packages[\s\S]*exports[\s\S]*finish/);
    const tags = await tsible(['play', pb, '-i', lab.inventoryPath, '--list-tags']);
    expect(tags.stdout).toMatch(/TASK TAGS: \[apt, nfs\]/);
    const syntax = await tsible(['play', pb, '-i', lab.inventoryPath, '--syntax-check']);
    expect(syntax.code).toBe(0);
    writeFileSync(pb, '- hosts: all\n  tasks:\n    - name: bad\n      copy: dest=/x\n      bogus_keyword: 1\n');
    const bad = await tsible(['play', pb, '-i', lab.inventoryPath, '--syntax-check']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${pb}:5:7`);
    expect(bad.stderr).toContain('bogus_keyword');
  });

  it('--start-at-task skips the tasks before the named one', async () => {
    const run = await play(dir(), ['--start-at-task', 'exports']);
    expect(run.code, run.stderr).toBe(0);
    expect([...new Set(run.results.map((r) => r.task))]).toEqual(['exports', 'finish']);
  });
});
