/** Every core module, on a real host: check predicts, first run changes, second run is quiet. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, type Lab } from '../../src/lab/lab.js';
import { checkScenario, playJson, writePlaybook, type Scenario } from './scenario.js';

let lab: Lab;
const HOST = 'core1';

beforeAll(async () => {
  lab = await startLab({ name: `core-${process.pid}`, hosts: [HOST], dir: mkdtempSync(join(tmpdir(), 'tsible-core-')) });
});
afterAll(async () => {
  await lab?.dispose();
});

const D = (name: string) => `/srv/e2e/${name}`;
const listing = (name: string) => `cd ${D(name)} && find . -printf '%p %y %m %u:%g %s %l\\n' | sort && find . -type f -exec sha1sum {} + | sort -k2`;

const scenarios: Scenario[] = [
  {
    name: 'command',
    tasks: `    - name: make a file unless it exists
      command: touch ${D('command')}/made creates=${D('command')}/made
    - name: remove it only if it exists
      command:
        cmd: rm ${D('command')}/gone
        removes: ${D('command')}/gone
`,
    setup: `touch ${D('command')}/gone`,
    snapshot: listing('command'),
    expectAfter: /\.\/made f 644/,
  },
  {
    name: 'shell',
    tasks: `    - name: pipe and redirect
      shell: echo "cluster $(( 2 + 3 ))" | tr a-z A-Z > ${D('shell')}/out.txt
      args:
        creates: ${D('shell')}/out.txt
`,
    snapshot: listing('shell') + ` && cat ${D('shell')}/out.txt 2>/dev/null || true`,
    expectAfter: /CLUSTER 5/,
  },
  {
    name: 'copy',
    files: { 'files/motd': 'Welcome to the cluster\n' },
    tasks: `    - name: content
      copy:
        content: "NIS domain: {{ domain }}\\n"
        dest: ${D('copy')}/nis.conf
        mode: '0640'
    - name: src from files/
      copy: src=motd dest=${D('copy')}/motd mode=0644
    - name: into a directory
      copy:
        src: motd
        dest: ${D('copy')}/etc/
`,
    setup: `mkdir -p ${D('copy')}/etc`,
    vars: `    domain: cluster.local\n`,
    snapshot: listing('copy'),
    expectAfter: /\.\/nis\.conf f 640 root:root 26/,
  },
  {
    name: 'file',
    setup: `touch ${D('file')}/loose && chmod 0600 ${D('file')}/loose && touch ${D('file')}/doomed`,
    tasks: `    - name: directory tree
      file: path=${D('file')}/nfs/home state=directory mode=0755
    - name: symlink
      file:
        src: ${D('file')}/nfs/home
        dest: ${D('file')}/home
        state: link
    - name: mode only
      file: path=${D('file')}/loose mode=0644
    - name: touch
      file: path=${D('file')}/touched state=touch modification_time=preserve access_time=preserve
    - name: absent
      file: path=${D('file')}/doomed state=absent
`,
    snapshot: listing('file'),
    expectAfter: /\.\/home l 777 root:root \d+ \/srv\/e2e\/file\/nfs\/home/,
  },
  {
    name: 'copy-backup',
    // An existing config replaced: the old one is kept beside it, the new one validated first.
    setup: `printf 'old\\n' > ${D('copy-backup')}/sshd.conf && useradd -M nisuser 2>/dev/null || true`,
    tasks: `    - name: replace with backup
      copy:
        content: "Port 22\\n"
        dest: ${D('copy-backup')}/sshd.conf
        owner: nisuser
        group: nisuser
        mode: '0600'
        backup: true
        validate: grep -q '^Port ' %s
`,
    snapshot: `cd ${D('copy-backup')} && stat -c '%U:%G %a' sshd.conf && cat sshd.conf && cat sshd.conf.*~ 2>/dev/null; ls | wc -l`,
    expectAfter: 'nisuser:nisuser 600\nPort 22\nold\n2\n',
  },
  {
    name: 'file-more',
    setup: `mkdir -p ${D('file-more')}/tree/a/b && touch ${D('file-more')}/tree/a/b/f ${D('file-more')}/orig`,
    tasks: `    - name: hard link
      file: src=${D('file-more')}/orig dest=${D('file-more')}/hard state=hard
    - name: recurse
      file: path=${D('file-more')}/tree state=directory mode=u=rwX,g=rX,o= recurse=true
`,
    snapshot: listing('file-more') + ` && stat -c %h ${D('file-more')}/orig`,
    expectAfter: /\.\/tree\/a\/b\/f f 640[\s\S]*\n2\n$/,
  },
  {
    name: 'shell-chdir',
    tasks: `    - name: in a directory, with stdin
      shell: cat > out.txt
      args:
        chdir: ${D('shell-chdir')}
        stdin: from stdin
        creates: out.txt
`,
    snapshot: `cat ${D('shell-chdir')}/out.txt 2>/dev/null || echo none`,
    expectAfter: 'from stdin\n',
  },
  {
    name: 'template',
    files: {
      'templates/exports.j2': '# managed by tsible\n{% for n in nodes %}\n{{ export }} {{ n }}(rw,sync,no_subtree_check)\n{% endfor %}\n',
    },
    vars: `    export: /home\n    nodes: [cluster2, cluster3, cluster4, cluster5]\n`,
    tasks: `    - name: exports
      template:
        src: exports.j2
        dest: ${D('template')}/exports
        mode: '0644'
        validate: grep -q cluster5 %s
`,
    snapshot: listing('template') + ` && cat ${D('template')}/exports 2>/dev/null || true`,
    expectAfter: /# managed by tsible\n\/home cluster2\(rw,sync,no_subtree_check\)\n\/home cluster3/,
  },
  {
    name: 'lineinfile',
    setup: `printf 'PermitRootLogin yes\\nUseDNS yes\\n' > ${D('lineinfile')}/sshd_config`,
    tasks: `    - name: replace by regexp
      lineinfile:
        path: ${D('lineinfile')}/sshd_config
        regexp: '^PermitRootLogin'
        line: PermitRootLogin without-password
    - name: add at the end
      lineinfile: path=${D('lineinfile')}/sshd_config line="MaxSessions 20"
    - name: remove
      lineinfile: path=${D('lineinfile')}/sshd_config regexp="^UseDNS" state=absent
`,
    snapshot: `cat ${D('lineinfile')}/sshd_config`,
    expectAfter: 'PermitRootLogin without-password\nMaxSessions 20\n',
  },
  {
    name: 'blockinfile',
    setup: `printf '127.0.0.1 localhost\\n' > ${D('blockinfile')}/hosts`,
    tasks: `    - name: cluster hosts
      blockinfile:
        path: ${D('blockinfile')}/hosts
        block: |
          10.0.100.1 cluster1
          10.0.100.2 cluster2
`,
    snapshot: `cat ${D('blockinfile')}/hosts`,
    expectAfter: '127.0.0.1 localhost\n# BEGIN ANSIBLE MANAGED BLOCK\n10.0.100.1 cluster1\n10.0.100.2 cluster2\n# END ANSIBLE MANAGED BLOCK\n',
  },
];

describe('core modules on a lab host', () => {
  for (const s of scenarios) {
    it(s.name, async () => {
      await checkScenario(lab, HOST, s);
    });
  }

  it('raw runs as written and always reports changed', async () => {
    const pb = writePlaybook({ name: 'raw', tasks: '    - raw: echo raw-$((1+1))\n      register: r\n    - debug: var=r.stdout\n', snapshot: 'true' }, HOST);
    const run = await playJson([pb, '-i', lab.inventoryPath]);
    expect(run.code).toBe(0);
    expect(run.results.map((r) => r.status)).toEqual(['changed', 'ok']);
    expect(run.stdout).toContain('raw-2');
  });

  it('read-only modules change nothing, in check mode or not', async () => {
    const pb = writePlaybook(
      {
        name: 'readonly',
        tasks: `    - stat: path=/etc/hostname
      register: st
    - assert:
        that: [st.stat.exists, "st.stat.isreg"]
    - wait_for: port=22 timeout=5
    - wait_for: path=/etc/hostname search_regex=core1 timeout=5
    - set_fact: seen={{ st.stat.size }}
    - debug: msg="size {{ seen }}"
    - ping:
`,
        snapshot: 'true',
      },
      HOST,
    );
    for (const extra of [['--check'], []]) {
      const run = await playJson([pb, '-i', lab.inventoryPath, ...extra]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.results.every((r) => r.status === 'ok'), JSON.stringify(run.results)).toBe(true);
    }
  });

  it('fail and a failing assert fail the host with their message', async () => {
    const pb = writePlaybook({ name: 'fails', tasks: `    - assert:\n        that: 1 == 2\n        fail_msg: arithmetic is broken\n`, snapshot: 'true' }, HOST);
    const run = await playJson([pb, '-i', lab.inventoryPath]);
    expect(run.code).toBe(2);
    expect(run.results[0]).toMatchObject({ status: 'failed', msg: 'arithmetic is broken' });
  });

  it('a file that fails validation is never put in place, and no temp file is left behind', async () => {
    await lab.exec(HOST, 'mkdir -p /srv/e2e/invalid && printf "good\\n" > /srv/e2e/invalid/haproxy.cfg');
    const pb = writePlaybook(
      { name: 'invalid', tasks: `    - name: broken config\n      copy:\n        content: "broken\\n"\n        dest: /srv/e2e/invalid/haproxy.cfg\n        validate: grep -q ^good %s\n`, snapshot: 'true' },
      HOST,
    );
    const run = await playJson([pb, '-i', lab.inventoryPath]);
    expect(run.code).toBe(2);
    expect(run.results[0]).toMatchObject({ status: 'failed', host: HOST });
    // The failure shows the validation command and its exit status.
    expect((run.results[0] as unknown as { result: { stderr: string; rc: number } }).result).toMatchObject({ rc: 3, stderr: expect.stringContaining('validation failed: grep -q ^good') });
    expect((await lab.exec(HOST, 'cat /srv/e2e/invalid/haproxy.cfg; ls -A /srv/e2e/invalid')).stdout).toBe('good\nhaproxy.cfg\n');
  });
});
