/** `tsible doc`: generated from the same schemas the loader validates with. */
import { describe, expect, it } from 'vitest';
import { tsible } from '../e2e/cli.js';
import { allModules } from '../../src/modules/registry.js';
import '../../src/modules/all.js';

describe('tsible doc', () => {
  it('--list names every registered module with its description', async () => {
    const r = await tsible(['doc', '--list']);
    expect(r.code).toBe(0);
    const listed = r.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]);
    for (const name of ['apt', 'service', 'sfdisk', 'grub', 'iptables', 'copy', 'template']) expect(listed).toContain(name);
    expect(listed.length).toBeGreaterThanOrEqual(30);
  });

  it('shows arguments with defaults and choices, return values and an example', async () => {
    const r = await tsible(['doc', 'sfdisk']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SFDISK/);
    expect(r.stdout).toMatch(/= device/);
    expect(r.stdout).toMatch(/default: /);
    expect(r.stdout).toMatch(/RETURN VALUES|RETURNS/i);
    expect(r.stdout).toMatch(/EXAMPLES?/i);
    // A fully qualified name finds the same page.
    const fq = await tsible(['doc', 'ansible.builtin.copy']);
    expect(fq.stdout).toMatch(/COPY\s+\(ansible\.builtin\.copy\)/);
  });

  it('an unknown module is an error with a suggestion', async () => {
    const r = await tsible(['doc', 'sfdsk']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sfdisk/);
  });

  it('--list is the registry: every module the loader accepts, and nothing else', async () => {
    const r = await tsible(['doc', '--list']);
    const listed = r.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]);
    expect(listed).toEqual(allModules().map((m) => m.name));
  });
});
