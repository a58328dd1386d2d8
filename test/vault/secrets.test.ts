import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadVaultSecrets, parseVaultIdSlug, vaultSources, VaultKeyring } from '../../src/vault/secrets.js';
import { encryptVault } from '../../src/vault/format.js';
import { VaultedText } from '../../src/util/markers.js';
import { UsageError } from '../../src/errors.js';
import { FIXTURES, scratchDir } from './helpers.js';

const pw = (s: string) => Buffer.from(s, 'utf8');

describe('parseVaultIdSlug', () => {
  it.each([
    ['dev@secrets/dev.txt', { id: 'dev', source: 'secrets/dev.txt' }],
    ['prod@prompt', { id: 'prod', source: 'prompt' }],
    ['pass.txt', { id: 'default', source: 'pass.txt' }],
    ['a@b@c', { id: 'a', source: 'b@c' }],
  ])('%s', (slug, expected) => {
    expect(parseVaultIdSlug(slug)).toEqual(expected);
  });

  it.each([['dev@'], ['a;b@file']])('rejects %s', (slug) => {
    expect(() => parseVaultIdSlug(slug)).toThrow(UsageError);
  });
});

describe('vaultSources: the order Ansible tries secrets in', () => {
  it('vault ids, then password files, then env files, then the prompt', () => {
    const got = vaultSources({
      vaultIds: ['dev@d.txt'],
      passwordFiles: ['p.txt'],
      ask: true,
      env: { TSIBLE_VAULT_PASSWORD_FILE: 't.txt', ANSIBLE_VAULT_PASSWORD_FILE: 'a.txt' },
    });
    expect(got.map((s) => `${s.id}@${s.source}`)).toEqual([
      'dev@d.txt',
      'default@p.txt',
      'default@t.txt',
      'default@a.txt',
      'default@prompt_ask_vault_pass',
    ]);
  });

  it('puts ANSIBLE_VAULT_IDENTITY_LIST first, as Ansible does', () => {
    const got = vaultSources({ vaultIds: ['b@2'], env: { ANSIBLE_VAULT_IDENTITY_LIST: 'a@1, c@3' } });
    expect(got.map((s) => s.id)).toEqual(['a', 'c', 'b']);
  });

  it('lists an env file only once when it is also given on the command line', () => {
    expect(vaultSources({ passwordFiles: ['p.txt'], env: { ANSIBLE_VAULT_PASSWORD_FILE: 'p.txt' } })).toHaveLength(1);
  });

  it('prompts unasked only when told to and nothing else was given', () => {
    expect(vaultSources({ env: {} })).toEqual([]);
    expect(vaultSources({ env: {}, autoPrompt: true }).map((s) => s.source)).toEqual(['prompt_ask_vault_pass']);
    expect(vaultSources({ env: {}, autoPrompt: true, passwordFiles: ['p'] }).map((s) => s.source)).toEqual(['p']);
  });
});

describe('loadVaultSecrets', () => {
  it('strips surrounding whitespace from a password file, as Ansible does', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'p'), '  s3cret \t\r\n\n');
    expect(await loadVaultSecrets({ passwordFiles: [join(dir, 'p')], env: {} })).toEqual([{ id: 'default', password: pw('s3cret') }]);
  });

  it('runs an executable password file and strips only CR/LF from its output', async () => {
    const dir = scratchDir();
    const script = join(dir, 'pass.sh');
    writeFileSync(script, "#!/bin/sh\nprintf ' from script \\n'\n");
    chmodSync(script, 0o755);
    expect(await loadVaultSecrets({ vaultIds: [`ops@${script}`], env: {} })).toEqual([{ id: 'ops', password: pw(' from script ') }]);
  });

  it('passes --vault-id to a *-client script and explains its "unknown id" exit', async () => {
    const dir = scratchDir();
    const script = join(dir, 'vault-client.sh');
    writeFileSync(script, '#!/bin/sh\n[ "$1" = --vault-id ] && [ "$2" = dev ] && { echo dev-pass; exit 0; }\necho "no $2" >&2\nexit 2\n');
    chmodSync(script, 0o755);
    expect(await loadVaultSecrets({ vaultIds: [`dev@${script}`], env: {} })).toEqual([{ id: 'dev', password: pw('dev-pass') }]);
    await expect(loadVaultSecrets({ vaultIds: [`prod@${script}`], env: {} })).rejects.toThrow(/has no secret for vault id "prod"/);
  });

  it('reports a failing password script with its exit code', async () => {
    const dir = scratchDir();
    const script = join(dir, 'fail.sh');
    writeFileSync(script, '#!/bin/sh\nexit 3\n');
    chmodSync(script, 0o755);
    await expect(loadVaultSecrets({ passwordFiles: [script], env: {} })).rejects.toMatchObject({
      message: `the vault password script ${script} failed`,
      exitCode: 3,
    });
  });

  it('reads the env password files', async () => {
    const secrets = await loadVaultSecrets({ env: { ANSIBLE_VAULT_PASSWORD_FILE: join(FIXTURES, 'password.txt') } });
    expect(secrets).toEqual([{ id: 'default', password: pw('correct horse battery staple') }]);
  });

  it('fails clearly on a missing or empty password file', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'empty'), '\n');
    await expect(loadVaultSecrets({ passwordFiles: [join(dir, 'nope')], env: {} })).rejects.toThrow(/vault password file .*nope .*was not found/);
    await expect(loadVaultSecrets({ passwordFiles: [join(dir, 'empty')], env: {} })).rejects.toThrow(/is empty/);
  });

  it('decrypts a vault-encrypted password file with the secrets before it', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'outer'), 'outer-pass\n');
    writeFileSync(join(dir, 'inner'), encryptVault('inner-pass\n', { id: 'default', password: pw('outer-pass') }));
    const secrets = await loadVaultSecrets({ vaultIds: [`a@${join(dir, 'outer')}`, `b@${join(dir, 'inner')}`], env: {} });
    expect(secrets.map((s) => s.password.toString())).toEqual(['outer-pass', 'inner-pass']);
  });

  it('prompts with Ansible wording, and confirms new passwords', async () => {
    const asked: string[] = [];
    const answer = async (q: string) => {
      asked.push(q);
      return ' typed ';
    };
    const secrets = await loadVaultSecrets({ vaultIds: ['dev@prompt'], ask: true, confirm: true, env: {}, promptSecret: answer });
    expect(secrets).toEqual([
      { id: 'dev', password: pw('typed') },
      { id: 'default', password: pw('typed') },
    ]);
    expect(asked).toEqual(['New vault password (dev): ', 'Confirm new vault password (dev): ', 'New Vault password: ', 'Confirm New Vault password: ']);
  });

  it('rejects mismatched confirmation and empty answers', async () => {
    let n = 0;
    await expect(loadVaultSecrets({ ask: true, confirm: true, env: {}, promptSecret: async () => `pw${n++}` })).rejects.toThrow(/do not match/);
    await expect(loadVaultSecrets({ ask: true, env: {}, promptSecret: async () => '  ' })).rejects.toThrow(/empty vault password/);
  });
});

describe('VaultKeyring', () => {
  const secret = { id: 'default', password: pw('k') };

  it('decrypts inline values and caches them by ciphertext', () => {
    const keyring = new VaultKeyring([secret]);
    const v = new VaultedText(encryptVault('inline', secret), 'vars.yml');
    expect(keyring.decryptText(v)).toBe('inline');
    // A second call must not derive keys again: emptying the secrets proves the cache answered.
    (keyring.secrets as unknown[]).length = 0;
    expect(keyring.decryptText(v)).toBe('inline');
  });

  it('names the file of an inline value it cannot decrypt', () => {
    const keyring = new VaultKeyring([{ id: 'default', password: pw('other') }]);
    const v = new VaultedText(encryptVault('x', secret), 'group_vars/all.yml');
    expect(() => keyring.decryptText(v)).toThrow('vault password did not decrypt a !vault value in group_vars/all.yml');
    expect(() => keyring.decryptText(new VaultedText('junk'))).toThrow('the value is tagged !vault but does not hold vault data');
  });

  it('decrypts whole files and reports emptiness', () => {
    expect(new VaultKeyring([]).isEmpty()).toBe(true);
    const keyring = new VaultKeyring([{ id: 'default', password: pw('correct horse battery staple') }]);
    expect(keyring.isEmpty()).toBe(false);
    const plain = keyring.decrypt(readFileSync(join(FIXTURES, 'secret-1.1.vault'), 'utf8'), 'secret-1.1.vault');
    expect(plain.equals(readFileSync(join(FIXTURES, 'secret.yml')))).toBe(true);
  });
});
