import { chmodSync, existsSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  registerVaultCommand,
  vaultCreate,
  vaultDecryptFiles,
  vaultEdit,
  vaultEncryptFiles,
  vaultEncryptString,
  vaultRekey,
  vaultView,
} from '../../src/vault/command.js';
import { decryptVault, parseVaultEnvelope } from '../../src/vault/format.js';
import { loadYaml } from '../../src/util/yaml.js';
import type { VaultedText } from '../../src/util/markers.js';
import { FIXTURES, memoryIO, scratchDir } from './helpers.js';

const PASSWORD = join(FIXTURES, 'password.txt');
const DEV_PASSWORD = join(FIXTURES, 'dev-password.txt');
const main = { id: 'default', password: Buffer.from('correct horse battery staple') };
const dev = { id: 'dev', password: Buffer.from('dev-s3cret') };
const pwOpts = { vaultPasswordFile: [PASSWORD] };

function setup(content = 'a: 1\n', mode = 0o640) {
  const dir = scratchDir();
  const file = join(dir, 'vars.yml');
  writeFileSync(file, content);
  chmodSync(file, mode);
  return { dir, file };
}

/** An $EDITOR that logs what it saw, then runs `action` (a shell snippet on "$f"). */
function fakeEditor(dir: string, action: string): { env: NodeJS.ProcessEnv; log: string } {
  const log = join(dir, 'editor.log');
  const script = join(dir, 'editor.sh');
  writeFileSync(
    script,
    `#!/bin/sh\nf="$1"\nprintf '%s %s %s\\n' "$f" "$(stat -c %a "$f")" "$(stat -c %a "$(dirname "$f")")" > '${log}'\n${action}\n`,
  );
  chmodSync(script, 0o755);
  return { env: { EDITOR: script }, log };
}

describe('vault encrypt / decrypt', () => {
  it('encrypts in place, keeping the mode, and decrypts back', async () => {
    const { dir, file } = setup('secret: 42\n', 0o640);
    await vaultEncryptFiles([file], pwOpts, memoryIO().io);
    const envelope = readFileSync(file, 'utf8');
    expect(envelope.startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    // the temp file was renamed, not left behind
    expect(readdirSync(dir)).toEqual(['vars.yml']);

    await vaultDecryptFiles([file], pwOpts, memoryIO().io);
    expect(readFileSync(file, 'utf8')).toBe('secret: 42\n');
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  it('writes to --output, and to stdout with -', async () => {
    const { dir, file } = setup('x: y\n');
    const out = join(dir, 'out.vault');
    await vaultEncryptFiles([file], { ...pwOpts, output: out }, memoryIO().io);
    expect(readFileSync(file, 'utf8')).toBe('x: y\n');
    expect(statSync(out).mode & 0o777).toBe(0o600);

    const mem = memoryIO();
    await vaultDecryptFiles([out], { ...pwOpts, output: '-' }, mem.io);
    expect(mem.stdout()).toBe('x: y\n');
  });

  it('reads stdin and writes stdout when given no file', async () => {
    const mem = memoryIO('from stdin');
    await vaultEncryptFiles([], pwOpts, mem.io);
    expect(decryptVault(mem.stdout(), [main]).toString()).toBe('from stdin');
  });

  it('follows symlinks and replaces the target', async () => {
    const { dir, file } = setup('t: 1\n');
    const link = join(dir, 'link.yml');
    symlinkSync(file, link);
    await vaultEncryptFiles([link], pwOpts, memoryIO().io);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(file, 'utf8').startsWith('$ANSIBLE_VAULT')).toBe(true);
  });

  it('encrypts with a vault id, giving a 1.2 header', async () => {
    const { file } = setup();
    await vaultEncryptFiles([file], { vaultId: [`dev@${DEV_PASSWORD}`] }, memoryIO().io);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;dev');
  });

  it('needs --encrypt-vault-id when several secrets are given', async () => {
    const { file } = setup();
    const both = { vaultId: [`dev@${DEV_PASSWORD}`, `main@${PASSWORD}`] };
    await expect(vaultEncryptFiles([file], both, memoryIO().io)).rejects.toThrow(/vault ids dev, main are all available/);
    await expect(vaultEncryptFiles([file], { ...both, encryptVaultId: 'nope' }, memoryIO().io)).rejects.toThrow(/matches none/);
    await vaultEncryptFiles([file], { ...both, encryptVaultId: 'main' }, memoryIO().io);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;main');
  });

  it('changes nothing when one of several files cannot be processed', async () => {
    const { dir, file } = setup('plain\n');
    const already = join(dir, 'already.vault');
    writeFileSync(already, readFileSync(join(FIXTURES, 'secret-1.1.vault')));
    await expect(vaultEncryptFiles([file, already], pwOpts, memoryIO().io)).rejects.toThrow(`${already} is already vault-encrypted`);
    expect(readFileSync(file, 'utf8')).toBe('plain\n');
  });

  it('refuses to decrypt a plain file and names a wrong password', async () => {
    const { dir, file } = setup('plain\n');
    await expect(vaultDecryptFiles([file], pwOpts, memoryIO().io)).rejects.toThrow(`${file} is not vault-encrypted`);
    const enc = join(dir, 'dev.vault');
    writeFileSync(enc, readFileSync(join(FIXTURES, 'secret-1.2-dev.vault')));
    await expect(vaultDecryptFiles([enc], pwOpts, memoryIO().io)).rejects.toThrow(`vault password did not decrypt ${enc}`);
  });

  it('rejects --output with several inputs', async () => {
    await expect(vaultEncryptFiles(['a', 'b'], { ...pwOpts, output: 'o' }, memoryIO().io)).rejects.toThrow(/--output takes a single input/);
  });

  it('prompts for the password when no source is given', async () => {
    const { file } = setup('p: 1\n');
    const asked: string[] = [];
    const promptSecret = async (q: string) => (asked.push(q), 'typed-pw');
    await vaultEncryptFiles([file], {}, memoryIO('', { promptSecret }).io);
    expect(asked).toEqual(['New Vault password: ', 'Confirm New Vault password: ']);
    await vaultDecryptFiles([file], {}, memoryIO('', { promptSecret }).io);
    expect(asked.at(-1)).toBe('Vault password: ');
    expect(readFileSync(file, 'utf8')).toBe('p: 1\n');
  });
});

describe('vault view', () => {
  it('prints the plaintext, ending with a newline', async () => {
    const mem = memoryIO();
    await vaultView([join(FIXTURES, 'block16.vault')], pwOpts, mem.io);
    expect(mem.stdout()).toBe('0123456789abcdef\n');
  });
});

describe('vault encrypt_string', () => {
  it('prints the block exactly as ansible-vault does, without a final newline', async () => {
    const mem = memoryIO();
    await vaultEncryptString(['hunter2'], { ...pwOpts, name: ['db_password'] }, mem.io);
    const out = mem.stdout();
    expect(out).toMatch(/^db_password: !vault \|\n {10}\$ANSIBLE_VAULT;1\.1;AES256\n( {10}[0-9a-f]{80}\n)+ {10}[0-9a-f]{1,80}$/);
    const v = (loadYaml('out.yml', out) as { db_password: VaultedText }).db_password;
    expect(decryptVault(v.ciphertext, [main]).toString()).toBe('hunter2');
    // same shape as the fixture ansible-vault printed
    const fixture = readFileSync(join(FIXTURES, 'encrypt-string.yml'), 'utf8');
    expect(out.split('\n').map((l) => l.length)).toEqual(fixture.split('\n').map((l) => l.length));
  });

  it('reads stdin verbatim when no string (or -) is given', async () => {
    for (const args of [[], ['-']]) {
      const mem = memoryIO('line\n');
      await vaultEncryptString(args, { ...pwOpts, stdinName: 'v' }, mem.io);
      const v = (loadYaml('o.yml', mem.stdout()) as { v: VaultedText }).v;
      expect(decryptVault(v.ciphertext, [main]).toString()).toBe('line\n');
    }
  });

  it('encrypts several strings, labelling them on stderr only', async () => {
    const mem = memoryIO();
    await vaultEncryptString(['one', 'two'], { vaultId: [`dev@${DEV_PASSWORD}`], name: ['a', 'b'] }, mem.io);
    const data = loadYaml('o.yml', mem.stdout()) as Record<string, VaultedText>;
    expect(decryptVault(data.a!.ciphertext, [dev]).toString()).toBe('one');
    expect(decryptVault(data.b!.ciphertext, [dev]).toString()).toBe('two');
    expect(parseVaultEnvelope(data.a!.ciphertext).vaultId).toBe('dev');
    expect(mem.stderr()).toContain('# The encrypted version of variable ("b", the string #2 from the command line args).');
    expect(mem.stderr()).not.toMatch(/one|two/);
  });

  it('refuses empty input', async () => {
    await expect(vaultEncryptString([], pwOpts, memoryIO('').io)).rejects.toThrow('stdin was empty, not encrypting');
    await expect(vaultEncryptString([''], pwOpts, memoryIO().io)).rejects.toThrow(/empty, not encrypting/);
  });

  it('asks for the string with --prompt', async () => {
    const mem = memoryIO('', { promptLine: async () => 'token', promptSecret: async () => 'typed secret' });
    await vaultEncryptString([], { ...pwOpts, prompt: true }, mem.io);
    const data = loadYaml('o.yml', mem.stdout()) as Record<string, VaultedText>;
    expect(decryptVault(data.token!.ciphertext, [main]).toString()).toBe('typed secret');
  });
});

describe('vault edit / create', () => {
  it('edits in a private temp file, re-encrypts with the same vault id, and removes the temp file', async () => {
    const { dir, file } = setup();
    writeFileSync(file, readFileSync(join(FIXTURES, 'secret-1.2-dev.vault')));
    const editor = fakeEditor(dir, 'printf "added: true\\n" >> "$f"');
    await vaultEdit([file], { vaultId: [`dev@${DEV_PASSWORD}`] }, memoryIO('', { env: editor.env }).io);

    const envelope = readFileSync(file, 'utf8');
    expect(envelope.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;dev');
    expect(decryptVault(envelope, [dev]).toString()).toBe(readFileSync(join(FIXTURES, 'secret.yml'), 'utf8') + 'added: true\n');

    const [tmpFile, fileMode, dirMode] = readFileSync(editor.log, 'utf8').trim().split(' ');
    expect(tmpFile!.endsWith('/vars.yml')).toBe(true);
    expect([fileMode, dirMode]).toEqual(['600', '700']);
    expect(existsSync(tmpFile!)).toBe(false);
    expect(existsSync(join(tmpFile!, '..'))).toBe(false);
  });

  it('leaves the file untouched when nothing changed', async () => {
    const { dir, file } = setup();
    const original = readFileSync(join(FIXTURES, 'secret-1.1.vault'));
    writeFileSync(file, original);
    await vaultEdit([file], pwOpts, memoryIO('', { env: fakeEditor(dir, 'true').env }).io);
    expect(readFileSync(file).equals(original)).toBe(true);
  });

  it('saves nothing and still cleans up when the editor fails', async () => {
    const { dir, file } = setup();
    const original = readFileSync(join(FIXTURES, 'secret-1.1.vault'));
    writeFileSync(file, original);
    const editor = fakeEditor(dir, 'echo changed > "$f"; exit 1');
    await expect(vaultEdit([file], pwOpts, memoryIO('', { env: editor.env }).io)).rejects.toThrow(/exited with code 1; nothing was saved/);
    expect(readFileSync(file).equals(original)).toBe(true);
    expect(existsSync(readFileSync(editor.log, 'utf8').split(' ')[0]!)).toBe(false);
  });

  it('creates a new encrypted file, and refuses an existing one', async () => {
    const dir = scratchDir();
    const file = join(dir, 'sub', 'new.yml');
    const mem = memoryIO('', { env: fakeEditor(dir, 'printf "fresh: 1\\n" > "$f"').env });
    await vaultCreate([file], pwOpts, mem.io);
    expect(decryptVault(readFileSync(file, 'utf8'), [main]).toString()).toBe('fresh: 1\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await expect(vaultCreate([file], pwOpts, mem.io)).rejects.toThrow("exists, please use 'edit' instead");
  });
});

describe('vault rekey', () => {
  it('re-encrypts with the new vault id, keeping the mode', async () => {
    const { file } = setup('k: v\n', 0o644);
    await vaultEncryptFiles([file], pwOpts, memoryIO().io);
    const mem = memoryIO();
    await vaultRekey([file], { ...pwOpts, newVaultId: `dev@${DEV_PASSWORD}` }, mem.io);
    const envelope = readFileSync(file, 'utf8');
    expect(envelope.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;dev');
    expect(decryptVault(envelope, [dev]).toString()).toBe('k: v\n');
    expect(() => decryptVault(envelope, [main])).toThrow(/did not decrypt/);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(mem.stderr()).toBe('Rekey successful\n');
  });
});

describe('commander wiring', () => {
  // The CLI reads the real environment: keep a developer's own vault settings out of it.
  beforeEach(() => {
    for (const name of ['ANSIBLE_VAULT_PASSWORD_FILE', 'TSIBLE_VAULT_PASSWORD_FILE', 'ANSIBLE_VAULT_IDENTITY_LIST', 'ANSIBLE_VAULT_ENCRYPT_IDENTITY']) {
      vi.stubEnv(name, undefined);
    }
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  function program() {
    const p = new Command().exitOverride();
    registerVaultCommand(p);
    return p;
  }

  it('runs subcommands with their options', async () => {
    const { file } = setup('via: cli\n');
    await program().parseAsync(['node', 'tsible', 'vault', 'encrypt', '--vault-id', `dev@${DEV_PASSWORD}`, file]);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;dev');
    await program().parseAsync(['node', 'tsible', 'vault', 'decrypt', '--vault-password-file', PASSWORD, '--vault-pass-file', DEV_PASSWORD, file]);
    expect(readFileSync(file, 'utf8')).toBe('via: cli\n');
  });

  it('lets errors propagate as thrown errors', async () => {
    const { file } = setup('plain\n');
    await expect(program().parseAsync(['node', 'tsible', 'vault', 'view', '--vault-password-file', PASSWORD, file])).rejects.toThrow(
      /is not vault-encrypted/,
    );
  });
});
