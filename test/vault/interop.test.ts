/**
 * Live interoperability with the real Ansible: what tsible writes, ansible
 * reads, and the other way round. ansible-core is a test dependency here and
 * in CI, so a missing binary fails the suite instead of skipping it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { vaultDecryptFiles, vaultEncryptFiles, vaultEncryptString, vaultRekey } from '../../src/vault/command.js';
import { decryptVault, encryptVault, formatVaultYaml } from '../../src/vault/format.js';
import { loadVaultSecrets, VaultKeyring } from '../../src/vault/secrets.js';
import { loadYaml } from '../../src/util/yaml.js';
import type { VaultedText } from '../../src/util/markers.js';
import { FIXTURES, memoryIO, scratchDir } from './helpers.js';

const PASSWORD = join(FIXTURES, 'password.txt');
const DEV_PASSWORD = join(FIXTURES, 'dev-password.txt');
const main = { id: 'default', password: Buffer.from('correct horse battery staple') };
const dev = { id: 'dev', password: Buffer.from('dev-s3cret') };

/** A clean, private Ansible environment: no user config, no inherited vault settings. */
function ansibleEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    ANSIBLE_HOME: join(home, '.ansible'),
    ANSIBLE_LOCAL_TEMP: join(home, '.ansible', 'tmp'),
    ANSIBLE_LOCALHOST_WARNING: 'False',
    ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
  };
}

/** Runs an Ansible CLI in `dir` and returns its stdout as bytes; any failure throws with stderr. */
function ansible(dir: string, bin: string, args: string[], input?: Buffer | string): Buffer {
  const res = spawnSync(bin, args, { cwd: dir, env: ansibleEnv(dir), input, timeout: 60_000 });
  if (res.error) throw new Error(`could not run ${bin}: ${res.error.message}`);
  if (res.status !== 0) {
    throw new Error(`${bin} ${args.join(' ')} exited with ${res.status}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
  }
  return res.stdout;
}

/** `ansible localhost -m debug -a var=NAME`: the variable's value as ansible sees it. */
function ansibleDebugVar(dir: string, name: string, args: string[]): unknown {
  const out = ansible(dir, 'ansible', ['localhost', '-m', 'debug', '-a', `var=${name}`, ...args]).toString('utf8');
  const m = /^localhost \| SUCCESS => (\{[\s\S]*\})\s*$/m.exec(out);
  if (!m) throw new Error(`unexpected ansible output:\n${out}`);
  return (JSON.parse(m[1]!) as Record<string, unknown>)[name];
}

beforeAll(() => {
  for (const bin of ['ansible-vault', 'ansible']) {
    const res = spawnSync(bin, ['--version'], { env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
    if (res.error || res.status !== 0) {
      throw new Error(
        `${bin} is not installed or does not run (${res.error?.message ?? `exit ${res.status}`}): ` +
          'the vault interop tests need ansible-core on PATH (e.g. `apt-get install ansible-core` or `pipx install ansible-core`)',
      );
    }
  }
});

describe('tsible writes, Ansible reads', { timeout: 60_000 }, () => {
  it('ansible-vault view opens a file tsible encrypted (1.1)', async () => {
    const dir = scratchDir();
    const file = join(dir, 'vars.yml');
    writeFileSync(file, 'greeting: "grüß dich ✓"\n');
    await vaultEncryptFiles([file], { vaultPasswordFile: [PASSWORD] }, memoryIO().io);
    expect(readFileSync(file, 'utf8').startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    const out = ansible(dir, 'ansible-vault', ['view', '--vault-password-file', PASSWORD, file]);
    expect(out.toString('utf8')).toBe('greeting: "grüß dich ✓"\n');
  });

  it('ansible-vault decrypts binary data tsible encrypted, byte for byte', () => {
    const dir = scratchDir();
    const data = readFileSync(join(FIXTURES, 'binary.bin'));
    for (const plain of [data, Buffer.alloc(0), Buffer.from('0123456789abcdef')]) {
      const file = join(dir, 'blob.vault');
      writeFileSync(file, encryptVault(plain, main));
      const out = ansible(dir, 'ansible-vault', ['decrypt', '--vault-password-file', PASSWORD, '--output', '-', file]);
      expect(out.equals(plain)).toBe(true);
    }
  });

  it('a vault id tsible wrote (1.2) is read by ansible-vault --vault-id', async () => {
    const dir = scratchDir();
    const file = join(dir, 'dev.yml');
    writeFileSync(file, 'env: dev\n');
    await vaultEncryptFiles([file], { vaultId: [`dev@${DEV_PASSWORD}`] }, memoryIO().io);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;dev');
    const out = ansible(dir, 'ansible-vault', ['view', '--vault-id', `dev@${DEV_PASSWORD}`, file]);
    expect(out.toString('utf8')).toBe('env: dev\n');
  });

  it('ansible uses an encrypt_string value from a vars file', async () => {
    const dir = scratchDir();
    const mem = memoryIO();
    await vaultEncryptString(['s3cr3t value ✓'], { vaultPasswordFile: [PASSWORD], name: ['x'] }, mem.io);
    const vars = join(dir, 'vars.yml');
    writeFileSync(vars, mem.stdout() + '\n');
    expect(ansibleDebugVar(dir, 'x', ['-e', `@${vars}`, '--vault-password-file', PASSWORD])).toBe('s3cr3t value ✓');
  });

  it('ansible picks the right secret for inline values under two vault ids', async () => {
    const dir = scratchDir();
    const prodPassword = join(dir, 'prod.txt');
    writeFileSync(prodPassword, 'prod-pass\n');
    const a = memoryIO();
    await vaultEncryptString(['from dev'], { vaultId: [`dev@${DEV_PASSWORD}`], name: ['a'] }, a.io);
    const b = memoryIO();
    await vaultEncryptString(['from prod'], { vaultId: [`prod@${prodPassword}`], name: ['b'] }, b.io);
    const vars = join(dir, 'vars.yml');
    writeFileSync(vars, `${a.stdout()}\n${b.stdout()}\nboth: "{{ a }} + {{ b }}"\n`);
    const args = ['-e', `@${vars}`, '--vault-id', `dev@${DEV_PASSWORD}`, '--vault-id', `prod@${prodPassword}`];
    expect(ansibleDebugVar(dir, 'both', args)).toBe('from dev + from prod');
  });

  it('a file tsible rekeyed opens with the new password only', async () => {
    const dir = scratchDir();
    const file = join(dir, 'r.yml');
    writeFileSync(file, encryptVault('rekeyed: yes\n', main));
    await vaultRekey([file], { vaultPasswordFile: [PASSWORD], newVaultPasswordFile: DEV_PASSWORD }, memoryIO().io);
    expect(ansible(dir, 'ansible-vault', ['view', '--vault-password-file', DEV_PASSWORD, file]).toString()).toBe('rekeyed: yes\n');
  });
});

describe('Ansible writes, tsible reads', { timeout: 60_000 }, () => {
  it('tsible decrypts a file ansible-vault encrypt just wrote', async () => {
    const dir = scratchDir();
    const file = join(dir, 'vars.yml');
    const plain = 'list:\n  - ünïcödé\n  - 2\n';
    writeFileSync(file, plain);
    ansible(dir, 'ansible-vault', ['encrypt', '--vault-password-file', PASSWORD, file]);
    expect(readFileSync(file, 'utf8').startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    await vaultDecryptFiles([file], { vaultPasswordFile: [PASSWORD] }, memoryIO().io);
    expect(readFileSync(file, 'utf8')).toBe(plain);
  });

  it('tsible decrypts binary data from ansible-vault on stdin', () => {
    const dir = scratchDir();
    const data = readFileSync(join(FIXTURES, 'binary.bin'));
    const envelope = ansible(dir, 'ansible-vault', ['encrypt', '--vault-password-file', PASSWORD, '--output', '-'], data).toString();
    expect(decryptVault(envelope, [main]).equals(data)).toBe(true);
  });

  it('tsible reads ansible-vault --vault-id files (1.2) with the matching id', async () => {
    const dir = scratchDir();
    const file = join(dir, 'dev.yml');
    writeFileSync(file, 'tier: dev\n');
    ansible(dir, 'ansible-vault', ['encrypt', '--vault-id', `dev@${DEV_PASSWORD}`, file]);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;dev');
    const secrets = await loadVaultSecrets({ vaultIds: [`other@${PASSWORD}`, `dev@${DEV_PASSWORD}`], env: {} });
    const opened = new VaultKeyring(secrets).open(readFileSync(file, 'utf8'), file);
    expect(opened.plaintext.toString()).toBe('tier: dev\n');
    expect(opened.secret.id).toBe('dev');
  });

  it('tsible decrypts ansible-vault encrypt_string output read through its YAML loader', () => {
    const dir = scratchDir();
    const out = ansible(dir, 'ansible-vault', ['encrypt_string', '--vault-id', `dev@${DEV_PASSWORD}`, '--name', 'token', 'tok-123']).toString();
    const value = (loadYaml('vars.yml', out) as { token: VaultedText }).token;
    expect(new VaultKeyring([main, dev]).decryptText(value)).toBe('tok-123');
    // and our formatter lays the same envelope out exactly as ansible-vault did
    expect(formatVaultYaml(value.ciphertext, 'token')).toBe(out);
  });

  it('both tools read the same executable password script the same way', async () => {
    const dir = scratchDir();
    const script = join(dir, 'pass.sh');
    writeFileSync(script, "#!/bin/sh\nprintf ' spaced pass \\r\\n'\n");
    chmodSync(script, 0o755);
    const file = join(dir, 's.yml');
    writeFileSync(file, 'k: v\n');
    ansible(dir, 'ansible-vault', ['encrypt', '--vault-password-file', script, file]);
    const mem = memoryIO();
    await vaultDecryptFiles([file], { vaultPasswordFile: [script], output: '-' }, mem.io);
    expect(mem.stdout()).toBe('k: v\n');
  });

  it('a file ansible-vault rekeyed opens in tsible with the new password', async () => {
    const dir = scratchDir();
    mkdirSync(join(dir, 'x'));
    const file = join(dir, 'x', 'r.yml');
    writeFileSync(file, encryptVault('old: key\n', main));
    ansible(dir, 'ansible-vault', ['rekey', '--vault-password-file', PASSWORD, '--new-vault-id', `dev@${DEV_PASSWORD}`, file]);
    expect(decryptVault(readFileSync(file, 'utf8'), [dev]).toString()).toBe('old: key\n');
  });
});
