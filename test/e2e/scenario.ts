/**
 * The three-run contract every state-changing module is held to, on a real
 * lab host:
 *   1. `--check` on a fresh host predicts changes and changes nothing;
 *   2. the real run changes exactly the tasks check mode predicted;
 *   3. a second run reports changed=0.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import type { Lab } from '../../src/lab/lab.js';
import { tsible } from './cli.js';

export interface Scenario {
  /** unique; also the directory /srv/e2e/<name> the scenario may use on the host */
  name: string;
  /** shell run on the host before anything (packages, fixtures) */
  setup?: string;
  /** the play's task list, YAML, indented for `tasks:` (4 spaces) */
  tasks: string;
  /** extra files next to the playbook (templates/x.j2, files/y) */
  files?: Record<string, string | Buffer>;
  vars?: string;
  /** shell whose output captures the state the tasks manage; must not change in check mode */
  snapshot: string;
  /** what the snapshot looks like after the real run */
  expectAfter?: RegExp | string;
  /** names of tasks expected to change on the first run (default: every task) */
  changing?: string[];
  become?: boolean;
}

interface HostResult {
  type: string;
  host: string;
  task: string;
  status: string;
  predicted?: boolean;
  msg?: string;
}

export interface PlayRun {
  code: number;
  results: HostResult[];
  stderr: string;
  stdout: string;
}

export async function playJson(args: string[]): Promise<PlayRun> {
  const r = await tsible(['play', ...args, '--output', 'json']);
  const events = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string });
  return { code: r.code, results: events.filter((e): e is HostResult => e.type === 'host_result'), stderr: r.stderr, stdout: r.stdout };
}

export function writePlaybook(s: Scenario, host: string): string {
  const dir = mkdtempSync(join(tmpdir(), `scn-${s.name}-`));
  for (const [path, text] of Object.entries(s.files ?? {})) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const play = `- hosts: ${host}\n  gather_facts: false\n${s.vars ? `  vars:\n${s.vars}` : ''}  tasks:\n${s.tasks}`;
  writeFileSync(join(dir, 'site.yml'), play);
  return join(dir, 'site.yml');
}

function changed(run: PlayRun): string[] {
  return [...new Set(run.results.filter((r) => r.status === 'changed').map((r) => r.task))].sort();
}

function failures(run: PlayRun): string {
  return run.results
    .filter((r) => r.status === 'failed' || r.status === 'unreachable')
    .map((r) => `${r.task}: ${r.msg}`)
    .join('\n') + run.stderr;
}

export async function checkScenario(lab: Lab, host: string, s: Scenario): Promise<void> {
  await lab.exec(host, `mkdir -p /srv/e2e/${s.name}`);
  if (s.setup) {
    const r = await lab.exec(host, s.setup);
    expect(r.exitCode, `setup: ${r.stderr}`).toBe(0);
  }
  const playbook = writePlaybook(s, host);
  const inv = ['-i', lab.inventoryPath];
  const before = (await lab.exec(host, s.snapshot)).stdout;

  const check = await playJson([playbook, ...inv, '--check']);
  expect(check.code, failures(check)).toBe(0);
  const afterCheck = (await lab.exec(host, s.snapshot)).stdout;
  expect(afterCheck, 'check mode must not change the host').toBe(before);

  const real = await playJson([playbook, ...inv]);
  expect(real.code, failures(real)).toBe(0);
  const expected = (s.changing ?? real.results.map((r) => r.task)).slice().sort();
  expect(changed(real), 'the first run changes').toEqual([...new Set(expected)].sort());
  expect(changed(check), 'check mode predicts exactly the first run').toEqual(changed(real));

  const again = await playJson([playbook, ...inv]);
  expect(again.code, failures(again)).toBe(0);
  expect(changed(again), 'the second run changes nothing').toEqual([]);

  if (s.expectAfter !== undefined) {
    const after = (await lab.exec(host, s.snapshot)).stdout;
    if (typeof s.expectAfter === 'string') expect(after).toBe(s.expectAfter);
    else expect(after).toMatch(s.expectAfter);
  }
}
