/**
 * tsible's inventory against the real thing: `ansible-inventory --list`,
 * `--graph`, `--host`, and the hosts Ansible selects for patterns, on the
 * same inventories, must give the same answers. Ansible is a required test
 * dependency: when it is missing these tests fail, they do not skip.
 *
 * Each Ansible start costs about a second, so patterns are evaluated in one
 * `ansible-playbook --list-hosts` run (one play per pattern), which prints
 * hosts in no particular order; the order is checked with `ansible PATTERN
 * --list-hosts` for a few patterns.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory, type Inventory } from '../../src/inventory/index.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const fixture = (...parts: string[]) => join(here, 'fixtures', ...parts);

const home = mkdtempSync(join(tmpdir(), 'tsible-ansible-home-'));
const emptyConfig = join(home, 'ansible.cfg');
writeFileSync(emptyConfig, '');
afterAll(() => rmSync(home, { recursive: true, force: true }));

// A clean Ansible: no user config, nothing written to the real home, no noise on stderr.
const env = {
  ...process.env,
  HOME: home,
  ANSIBLE_HOME: home,
  ANSIBLE_CONFIG: emptyConfig,
  ANSIBLE_LOCAL_TEMP: join(home, 'tmp'),
  ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False',
  ANSIBLE_LOCALHOST_WARNING: 'False',
  ANSIBLE_DEPRECATION_WARNINGS: 'False',
  ANSIBLE_NOCOLOR: '1',
};

type AnsibleCommand = 'ansible' | 'ansible-inventory' | 'ansible-playbook';

async function ansible(command: AnsibleCommand, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(command, args, { env, cwd: home, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error(`${command} is not installed, and these tests compare tsible with it: install ansible-core (apt install ansible-core, or pip install ansible-core)`);
    }
    throw new Error(`${command} ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

/** Runs at most `limit` commands at once: each ansible start costs a second of CPU. */
function pool(limit: number) {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await task();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}
const limited = pool(Math.min(8, Math.max(2, availableParallelism())));

/** Each distinct command runs once; tests await the shared result. */
const outputs = new Map<string, Promise<string>>();
function ansibleOnce(command: AnsibleCommand, args: string[]): Promise<string> {
  const key = [command, ...args].join('\0');
  let out = outputs.get(key);
  if (!out) {
    out = limited(() => ansible(command, args));
    // Failures are reported by the test that awaits them.
    out.catch(() => {});
    outputs.set(key, out);
  }
  return out;
}

const inventories: Record<string, string[]> = {
  thesis: [join(repo, 'inventories', 'thesis', 'hosts.ini')],
  'INI with ranges, vars and forward children': [fixture('ini-basic', 'hosts')],
  'YAML with group_vars/ and host_vars/': [fixture('yaml-vars', 'hosts.yml')],
  'a directory source': [fixture('directory')],
  'two sources with their own group_vars/': [fixture('multi', 'a', 'hosts'), fixture('multi', 'b', 'hosts.yml')],
  'a host list': ['localhost,web1:2222,web2'],
};

/** Patterns whose hosts are compared as sets (in one ansible-playbook run per inventory). */
const patterns: Record<string, string[]> = {
  thesis: ['cluster', 'nodes:&mosix', 'mosix:!master', 'condor_workers', 'internal:!gluster', '~cluster[1-3]', 'clust*', 'san?', 'nodes[1:2]', 'nodes[-1]', '!internal', 'master:nfs'],
  'INI with ranges, vars and forward children': ['prod', 'web:&prod:!web2', 'staging[0]', 'db-*.example.com', 'ungrouped', '*', 'empty', 'web[1:]', 'prod:!db:&web'],
  'YAML with group_vars/ and host_vars/': ['prod:!web', 'high:low', '~web0[34]'],
};

/** Patterns whose host order is compared too, one `ansible` run each. */
const orderedPatterns: Record<string, string[]> = {
  thesis: ['all', 'gluster:master', 'clust*'],
  'INI with ranges, vars and forward children': ['all', 'db,web'],
};

function playbookFor(list: string[]): string {
  const file = join(home, `patterns-${outputs.size}.json`);
  writeFileSync(file, JSON.stringify(list.map((hosts) => ({ hosts, gather_facts: false, tasks: [] }))));
  return file;
}

/** Hosts per play from `ansible-playbook --list-hosts` output, in play order. */
function parsePlayHosts(out: string): string[][] {
  return out
    .split(/\n\s*play #\d+ /)
    .slice(1)
    .map((play) => {
      const lines = play.split('\n');
      const start = lines.findIndex((l) => /^\s*hosts \(\d+\):/.test(l));
      return lines
        .slice(start + 1)
        .map((l) => l.trim())
        .filter(Boolean);
    });
}

const argsFor = (sources: string[]) => sources.flatMap((s) => ['-i', s]);

/** A few hosts to ask --host about: --list already covers every host's variables. */
const sampleHosts = (hosts: string[]) => [...new Set([hosts[0]!, hosts.at(-1)!])];

const loaded = new Map<string, Inventory>();
const playbooks = new Map<string, Promise<string>>();

// Start every Ansible command at once (a few at a time): one by one they take over a minute.
beforeAll(async () => {
  await ansible('ansible-inventory', ['--version']);
  for (const [name, sources] of Object.entries(inventories)) {
    const inv = await loadInventory(sources);
    loaded.set(name, inv);
    const args = argsFor(sources);
    ansibleOnce('ansible-inventory', [...args, '--list']);
    ansibleOnce('ansible-inventory', [...args, '--graph']);
    for (const host of sampleHosts(inv.hostNames())) ansibleOnce('ansible-inventory', [...args, '--host', host]);
    for (const pattern of orderedPatterns[name] ?? ['all']) ansibleOnce('ansible', [...args, pattern, '--list-hosts']);
    const list = patterns[name];
    if (list) playbooks.set(name, ansibleOnce('ansible-playbook', [...args, playbookFor(list), '--list-hosts']));
  }
}, 60_000);

describe.each(Object.entries(inventories))('%s', (name, sources) => {
  let inv: Inventory;
  beforeAll(() => {
    inv = loaded.get(name)!;
  });

  it('lists the same groups, hosts and variables as ansible-inventory --list', async () => {
    const theirs = JSON.parse(await ansibleOnce('ansible-inventory', [...argsFor(sources), '--list']));
    expect(JSON.parse(JSON.stringify(inv.toAnsibleList()))).toEqual(theirs);
  }, 60_000);

  it('draws the same tree as ansible-inventory --graph', async () => {
    const theirs = await ansibleOnce('ansible-inventory', [...argsFor(sources), '--graph']);
    expect(inv.toGraph()).toBe(theirs.trimEnd());
  }, 60_000);

  it('merges the same variables as ansible-inventory --host', async () => {
    await Promise.all(
      sampleHosts(inv.hostNames()).map(async (host) => {
        const theirs = JSON.parse(await ansibleOnce('ansible-inventory', [...argsFor(sources), '--host', host]));
        expect(JSON.parse(JSON.stringify(inv.toAnsibleHost(host))), host).toEqual(theirs);
      }),
    );
  }, 60_000);

  const list = patterns[name];
  if (list) it('selects the same hosts for each pattern as Ansible', async () => {
    const theirs = parsePlayHosts(await playbooks.get(name)!);
    expect(theirs).toHaveLength(list.length);
    list.forEach((pattern, i) => {
      expect([...inv.selectHosts(pattern)].sort(), pattern).toEqual([...theirs[i]!].sort());
    });
  }, 60_000);

  it.each(orderedPatterns[name] ?? ['all'])('selects the same hosts, in the same order, for %s', async (pattern) => {
    const out = await ansibleOnce('ansible', [...argsFor(sources), pattern, '--list-hosts']);
    const theirs = out
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
      .filter(Boolean);
    expect(inv.selectHosts(pattern)).toEqual(theirs);
  }, 60_000);
});
