import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadPlaybook } from '../../src/playbook/loader.js';
import { ParseError } from '../../src/errors.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pb-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function loadError(files: Record<string, string>): ParseError {
  const dir = project(files);
  try {
    loadPlaybook(join(dir, 'site.yml'));
  } catch (err) {
    expect(err).toBeInstanceOf(ParseError);
    return err as ParseError;
  }
  throw new Error('expected a ParseError');
}

describe('playbook load errors point at file:line:col', () => {
  it.each([
    ['an unknown task keyword', '- hosts: all\n  tasks:\n    - name: x\n      command: true\n      whn: false\n', /unknown module or task keyword "whn"/, 5, 7, 'site.yml', /when/],
    ['an unknown module', '- hosts: all\n  tasks:\n    - name: x\n      comand: ls\n', /unknown module or task keyword "comand"/, 4, 7, 'site.yml', /command/],
    ['a bad module argument', '- hosts: all\n  tasks:\n    - wait_for:\n        port: 22\n        tiemout: 5\n', /unsupported argument "tiemout"/, 5, 9, 'site.yml', /timeout/],
    ['a wrong argument type', '- hosts: all\n  tasks:\n    - wait_for:\n        port: twenty\n', /port must be an integer/, 4, 9, 'site.yml', undefined],
    ['a bad choice', '- hosts: all\n  tasks:\n    - wait_for:\n        port: 22\n        state: up\n', /state must be one of started/, 5, 9, 'site.yml', undefined],
    ['an invalid play keyword', '- hosts: all\n  task:\n    - ping:\n', /"task" is not a valid play keyword/, 2, 3, 'site.yml', /tasks/],
    ['a play without hosts', '- name: no hosts\n  tasks: []\n', /needs "hosts:"/, 1, 3, 'site.yml', undefined],
    ['rescue without block', '- hosts: all\n  tasks:\n    - rescue:\n        - ping:\n', /only valid together with "block"/, 3, 7, 'site.yml', undefined],
    ['free-form text for a module without it', '- hosts: all\n  tasks:\n    - wait_for: port 22\n', /does not take free-form text/, 3, 17, 'site.yml', undefined],
    ['two modules in one task', '- hosts: all\n  tasks:\n    - ping:\n      debug: msg=x\n', /only one module/, 4, 7, 'site.yml', undefined],
    ['a YAML syntax error', '- hosts: all\n  tasks:\n    - ping:\n   - debug:\n', /YAML syntax error/, 4, 4, 'site.yml', undefined],
    ['a duplicate key', '- hosts: all\n  hosts: web\n', /Map keys must be unique/, 2, 3, 'site.yml', undefined],
  ])('%s', (_name, text, message, line, col, file, hint) => {
    const err = loadError({ 'site.yml': text });
    expect(err.message).toMatch(message);
    expect(err.location).toMatchObject({ line, col });
    expect(err.location!.file).toMatch(new RegExp(`${file}$`));
    expect(err.location!.lineText).toBe(text.split('\n')[line - 1]);
    if (hint) expect(err.hint).toMatch(hint);
  });

  it('errors inside a role name the role file', () => {
    const err = loadError({
      'site.yml': '- hosts: all\n  roles:\n    - nfs\n',
      'roles/nfs/tasks/main.yml': '- name: export\n  ping:\n  notify_me: x\n',
    });
    expect(err.location!.file).toMatch(/roles\/nfs\/tasks\/main\.yml$/);
    expect(err.location).toMatchObject({ line: 3, col: 3 });
  });

  it('a missing role is named with where it was looked for', () => {
    const err = loadError({ 'site.yml': '- hosts: all\n  roles:\n    - nope\n' });
    expect(err.message).toMatch(/role "nope" not found/);
    expect(err.location).toMatchObject({ line: 3, col: 7 });
  });

  it('import cycles are caught', () => {
    const err = loadError({ 'site.yml': '- hosts: all\n  tasks:\n    - import_tasks: a.yml\n', 'a.yml': '- import_tasks: b.yml\n', 'b.yml': '- import_tasks: a.yml\n' });
    expect(err.message).toMatch(/import cycle/);
  });
});

describe('playbook structure', () => {
  it('loads roles with defaults, vars, handlers, meta dependencies and FQCN modules', () => {
    const dir = project({
      'site.yml': '- hosts: all\n  gather_facts: no\n  roles:\n    - role: web\n      port: 8080\n  tasks:\n    - ansible.builtin.command: echo hi chdir=/tmp\n      register: out\n',
      'roles/web/tasks/main.yml': '- ansible.builtin.ping:\n  notify: restart web\n',
      'roles/web/handlers/main.yml': '- name: restart web\n  ping:\n',
      'roles/web/defaults/main.yml': 'port: 80\n',
      'roles/web/vars/main.yml': 'user: www\n',
      'roles/web/meta/main.yml': 'dependencies:\n  - base\n',
      'roles/base/tasks/main.yml': '- ping:\n',
    });
    const pb = loadPlaybook(join(dir, 'site.yml'));
    const play = pb.plays[0]!;
    expect(play.gatherFacts).toBe(false);
    expect(play.handlers.map((h) => h.name)).toEqual(['restart web']);
    const roleBlock = play.roles[0]!;
    expect(roleBlock.kind).toBe('block');
    const task = play.tasks[0]!;
    expect(task).toMatchObject({ kind: 'task', action: 'command', args: { cmd: 'echo hi', chdir: '/tmp' }, register: 'out' });
  });

  it('import_playbook inlines the plays', () => {
    const dir = project({ 'site.yml': '- import_playbook: other.yml\n- hosts: b\n  tasks: []\n', 'other.yml': '- hosts: a\n  tasks: []\n' });
    expect(loadPlaybook(join(dir, 'site.yml')).plays.map((p) => p.hosts)).toEqual(['a', 'b']);
  });
});
