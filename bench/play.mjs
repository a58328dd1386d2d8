#!/usr/bin/env node
// npm run bench:play — the idempotent (second) run of a 20-task playbook on
// 20 lab hosts, tsible against ansible-playbook (Debian's ansible-core,
// pipelining on, forks 20, facts gathered by both), alternating in one run.
// Prints medians, the ratio, and tsible's controller CPU per host-task.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const HOSTS = Number(args.hosts ?? 20);
const RUNS = Number(args.runs ?? 3);
const WITH_SYSTEM = args.system !== 'no';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
const { ensureLabImage } = await import(join(ROOT, 'dist/lab/image.js'));
const { startLab } = await import(join(ROOT, 'dist/lab/lab.js'));

function run(cmd, argv, env = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'TIME %e %U %S %M', cmd, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(err);
      resolve({ code, out, err, wall, user: m ? Number(m[2]) : NaN, sys: m ? Number(m[3]) : NaN, rssKb: m ? Number(m[4]) : NaN });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function playbook() {
  const t = [];
  const add = (name, body) => t.push(`    - name: ${name}\n${body}`);
  add('cluster directory', '      file: path=/srv/bench state=directory mode=0755');
  for (const d of ['exports', 'nfs', 'gluster']) add(`dir ${d}`, `      file: path=/srv/bench/${d} state=directory mode=0750`);
  add('exports template', '      template: src=exports.j2 dest=/srv/bench/exports/exports mode=0644');
  add('hosts template', '      template: src=hosts.j2 dest=/srv/bench/hosts mode=0644');
  add('motd copy', '      copy: content="cluster {{ inventory_hostname }}\\n" dest=/srv/bench/motd mode=0644');
  add('fstab copy', '      copy: src=fstab dest=/srv/bench/fstab mode=0644');
  add('sshd line 1', '      lineinfile: path=/srv/bench/sshd_config line="PermitRootLogin prohibit-password" create=yes mode=0644');
  add('sshd line 2', '      lineinfile: path=/srv/bench/sshd_config regexp="^UseDNS" line="UseDNS no"');
  add('sshd line 3', '      lineinfile: path=/srv/bench/sshd_config line="MaxSessions 20"');
  add('nis block', '      blockinfile:\n        path: /srv/bench/yp.conf\n        create: yes\n        mode: "0644"\n        block: |\n          domain cluster server cluster1\n          domain cluster server cluster2');
  add('hosts block', '      blockinfile:\n        path: /srv/bench/hosts.extra\n        create: yes\n        mode: "0644"\n        block: "10.0.100.200 vip"');
  add('command creates 1', '      command: touch /srv/bench/stamp1 creates=/srv/bench/stamp1');
  add('command creates 2', '      command: touch /srv/bench/stamp2 creates=/srv/bench/stamp2');
  add('shell creates', '      shell: echo ready > /srv/bench/ready creates=/srv/bench/ready');
  add('link', '      file: src=/srv/bench/hosts dest=/srv/bench/hosts.link state=link');
  if (WITH_SYSTEM) {
    add('apt present', '      apt: name=openssh-server,procps,iproute2 state=present');
    add('service started', '      service: name=ssh state=started enabled=yes');
  } else {
    add('copy 2', '      copy: content="x\\n" dest=/srv/bench/x mode=0644');
    add('copy 3', '      copy: content="y\\n" dest=/srv/bench/y mode=0644');
  }
  add('touch file', '      file: path=/srv/bench/nfs/.keep state=touch modification_time=preserve access_time=preserve mode=0644');
  return { text: `- hosts: all\n  gather_facts: true\n  tasks:\n${t.join('\n')}\n`, count: t.length };
}

async function main() {
  if (!existsSync('/usr/bin/time')) throw new Error('GNU time is needed: apt-get install time');
  const dir = mkdtempSync(join(tmpdir(), 'bench-play-'));
  mkdirSync(join(dir, 'templates'));
  mkdirSync(join(dir, 'files'));
  writeFileSync(join(dir, 'templates/exports.j2'), '{% for h in groups["all"] %}\n/srv/nfs {{ h }}(rw,sync,no_subtree_check)\n{% endfor %}\n');
  writeFileSync(join(dir, 'templates/hosts.j2'), '{% for h in groups["all"] %}\n{{ hostvars[h]["ansible_host"] }} {{ h }}\n{% endfor %}\n');
  writeFileSync(join(dir, 'files/fstab'), '/home /nfs none bind 0 0\n');
  const { text, count } = playbook();
  writeFileSync(join(dir, 'site.yml'), text);

  console.error(`bench:play: building/checking the lab image, starting ${HOSTS} hosts...`);
  await ensureLabImage({ onProgress: (m) => console.error(`  ${m}`) });
  const names = Array.from({ length: HOSTS }, (_, i) => `bench${String(i + 1).padStart(2, '0')}`);
  const lab = await startLab({ name: `bench-${process.pid}`, hosts: names, dir: join(dir, 'lab') });
  try {
    writeFileSync(
      join(dir, 'ansible.cfg'),
      `[defaults]\nforks = 20\nhost_key_checking = True\ninterpreter_python = /usr/bin/python3\ngathering = implicit\nstdout_callback = default\n[ssh_connection]\npipelining = True\nssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${lab.knownHostsPath}\n`,
    );
    const ansibleEnv = { ANSIBLE_CONFIG: join(dir, 'ansible.cfg'), ANSIBLE_HOME: join(dir, '.ansible'), ANSIBLE_NOCOLOR: '1' };
    const tsibleCmd = [join(ROOT, 'bin/tsible.js'), 'play', join(dir, 'site.yml'), '-i', lab.inventoryPath, '-f', '20'];
    const ansibleCmd = [join(dir, 'site.yml'), '-i', lab.inventoryPath, '-f', '20'];

    // Converge once with each tool; both must then be idempotent on the same state.
    for (const [name, exec] of [['tsible', () => run(process.execPath, tsibleCmd, { NO_COLOR: '1', TSIBLE_NO_LIVE: '1' })], ['ansible-playbook', () => run('ansible-playbook', ansibleCmd, ansibleEnv)]]) {
      const r = await exec();
      if (r.code !== 0) throw new Error(`${name} converge run failed:\n${r.out.slice(-3000)}\n${r.err.slice(-2000)}`);
    }
    const samples = { tsible: [], ansible: [], cpu: [] };
    for (let i = 0; i < RUNS; i++) {
      const t = await run(process.execPath, tsibleCmd, { NO_COLOR: '1', TSIBLE_NO_LIVE: '1' });
      if (t.code !== 0 || !/changed=0/.test(t.out) || /changed=[1-9]/.test(t.out)) throw new Error(`tsible idempotent run was not clean:\n${t.out.slice(-3000)}`);
      samples.tsible.push(t.wall);
      samples.cpu.push(t.user + t.sys);
      const a = await run('ansible-playbook', ansibleCmd, ansibleEnv);
      if (a.code !== 0 || /changed=[1-9]/.test(a.out)) throw new Error(`ansible-playbook idempotent run was not clean:\n${a.out.slice(-3000)}`);
      samples.ansible.push(a.wall);
      console.error(`  run ${i + 1}/${RUNS}: tsible ${t.wall.toFixed(2)} s (cpu ${(t.user + t.sys).toFixed(2)} s), ansible-playbook ${a.wall.toFixed(2)} s`);
    }
    const tsibleMedian = median(samples.tsible);
    const ansibleMedian = median(samples.ansible);
    const hostTasks = HOSTS * count;
    const cpuPerHostTask = (median(samples.cpu) * 1000) / hostTasks;
    const speedup = ansibleMedian / tsibleMedian;
    console.log(`\nbench:play — idempotent run, ${count} tasks x ${HOSTS} hosts (+ fact gathering), median of ${RUNS}, ${cpus().length} cores, node ${process.version}`);
    console.log(`  tsible            ${tsibleMedian.toFixed(2)} s`);
    console.log(`  ansible-playbook  ${ansibleMedian.toFixed(2)} s   (pipelining on, forks 20, ControlPersist)`);
    console.log(`  speed-up          ${speedup.toFixed(1)}x   target >= 10x   ${speedup >= 10 ? 'met' : 'MISSED'}`);
    console.log(`  tsible controller CPU per host-task  ${cpuPerHostTask.toFixed(2)} ms   target <= 5 ms   ${cpuPerHostTask <= 5 ? 'met' : 'MISSED'}`);
    console.log(`  reproduce: npm run bench:play -- --hosts=${HOSTS} --runs=${RUNS}`);
  } finally {
    await lab.dispose();
  }
}

main().catch((err) => {
  console.error(`bench:play failed: ${err.message}`);
  process.exit(1);
});
