import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decryptVault,
  encryptVault,
  formatVaultYaml,
  isVaultEnvelope,
  openVault,
  parseVaultEnvelope,
  VaultError,
  type VaultSecret,
} from '../../src/vault/format.js';
import { TsibleError } from '../../src/errors.js';
import { loadYaml } from '../../src/util/yaml.js';
import { VaultedText } from '../../src/util/markers.js';
import { FIXTURES } from './helpers.js';

const fixture = (name: string) => readFileSync(join(FIXTURES, name));
const text = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

/** Password files end in a newline that Ansible strips; so do we. */
const secretFrom = (file: string, id = 'default'): VaultSecret => ({ id, password: Buffer.from(text(file).trim(), 'utf8') });
const main = secretFrom('password.txt');
const dev = secretFrom('dev-password.txt', 'dev');
const wrong: VaultSecret = { id: 'default', password: Buffer.from('not the password') };

describe('round trip', () => {
  it.each([
    ['text', 'hello: world\n'],
    ['empty', ''],
    ['one whole block (a full padding block is added)', '0123456789abcdef'],
    ['unicode', 'ünïcödé ✓ 🔐'],
  ])('%s', (_label, plain) => {
    const env = encryptVault(plain, main);
    expect(decryptVault(env, [main]).toString('utf8')).toBe(plain);
  });

  it('binary data, byte for byte', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256));
    expect(decryptVault(encryptVault(data, main), [main]).equals(data)).toBe(true);
  });

  it('uses a fresh salt each time', () => {
    expect(encryptVault('same', main)).not.toBe(encryptVault('same', main));
  });
});

describe('envelope', () => {
  it('writes a 1.1 header without a vault id, or with the default one', () => {
    expect(encryptVault('x', main).split('\n')[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
    expect(encryptVault('x', main, { vaultId: 'default' }).split('\n')[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
  });

  it('writes a 1.2 header naming any other vault id', () => {
    const env = encryptVault('x', dev, { vaultId: 'dev' });
    expect(env.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;dev');
    expect(parseVaultEnvelope(env).vaultId).toBe('dev');
  });

  it('wraps the body at 80 columns and ends with a newline', () => {
    const env = encryptVault('a'.repeat(500), main);
    expect(env.endsWith('\n')).toBe(true);
    const body = env.split('\n').slice(1, -1);
    expect(body.length).toBeGreaterThan(3);
    for (const line of body.slice(0, -1)) expect(line).toMatch(/^[0-9a-f]{80}$/);
    expect(body.at(-1)!).toMatch(/^[0-9a-f]{1,80}$/);
  });

  it('rejects vault ids that would break the header', () => {
    expect(() => encryptVault('x', main, { vaultId: 'a;b' })).toThrow(/not a valid vault id/);
    expect(() => encryptVault('x', main, { vaultId: 'a\nb' })).toThrow(/not a valid vault id/);
  });

  it('refuses to encrypt twice', () => {
    expect(() => encryptVault(encryptVault('x', main), main)).toThrow(/already vault-encrypted/);
  });

  it('recognises vault data by its header only', () => {
    expect(isVaultEnvelope('$ANSIBLE_VAULT;1.1;AES256\n00')).toBe(true);
    expect(isVaultEnvelope(Buffer.from('$ANSIBLE_VAULT;1.2;AES256;x\n'))).toBe(true);
    expect(isVaultEnvelope('---\nfoo: bar\n')).toBe(false);
    expect(isVaultEnvelope('')).toBe(false);
  });
});

describe('known answers: fixtures made by ansible-vault', () => {
  it.each([
    ['secret-1.1.vault', 'secret.yml', main],
    ['secret-1.2-dev.vault', 'secret.yml', dev],
    ['secret-unicode-password.vault', 'secret.yml', secretFrom('unicode-password.txt')],
    ['empty.vault', 'empty.txt', main],
    ['block16.vault', 'block16.txt', main],
    ['binary.vault', 'binary.bin', main],
  ])('decrypts %s', (vaultFile, plainFile, secret) => {
    expect(decryptVault(text(vaultFile), [secret], vaultFile).equals(fixture(plainFile))).toBe(true);
  });

  it.each([
    ['secret-1.1.vault', 'secret.yml', main, undefined],
    ['secret-1.2-dev.vault', 'secret.yml', dev, 'dev'],
    ['empty.vault', 'empty.txt', main, undefined],
    ['block16.vault', 'block16.txt', main, undefined],
    ['binary.vault', 'binary.bin', main, undefined],
  ])('re-encrypts %s byte for byte given the same salt', (vaultFile, plainFile, secret, vaultId) => {
    const original = text(vaultFile);
    const { salt } = parseVaultEnvelope(original);
    expect(encryptVault(fixture(plainFile), secret, { vaultId, salt })).toBe(original);
  });

  it('decrypts an encrypt_string value read through the YAML loader', () => {
    const data = loadYaml('encrypt-string.yml', text('encrypt-string.yml')) as { db_password: VaultedText };
    expect(data.db_password).toBeInstanceOf(VaultedText);
    expect(decryptVault(data.db_password.ciphertext, [main]).toString()).toBe('hunter2');
  });

  it('formats encrypt_string output exactly as ansible-vault printed it', () => {
    const original = text('encrypt-string.yml');
    const envelope = (loadYaml('e.yml', original) as { db_password: VaultedText }).db_password.ciphertext;
    expect(formatVaultYaml(envelope, 'db_password')).toBe(original);
  });
});

describe('secrets', () => {
  const env = encryptVault('payload', dev, { vaultId: 'dev' });

  it('tries the secret named in the header first, then the others', () => {
    const opened = openVault(env, [main, wrong, dev]);
    expect(opened.secret).toBe(dev);
    expect(opened.plaintext.toString()).toBe('payload');
  });

  it('falls back to secrets with other ids (the header id is only a hint)', () => {
    const relabelled = env.replace(';dev\n', ';prod\n');
    expect(decryptVault(relabelled, [wrong, dev]).toString()).toBe('payload');
  });

  it('says clearly when no password fits, never returning garbage', () => {
    const err = catchError(() => decryptVault(env, [wrong, main], 'group_vars/all.yml'));
    expect(err).toBeInstanceOf(VaultError);
    expect(err).toBeInstanceOf(TsibleError);
    expect(err.message).toBe('vault password did not decrypt group_vars/all.yml');
    expect(err.hint).toMatch(/vault id "dev"/);
  });

  it("names 'the value' when no place is given", () => {
    expect(() => decryptVault(env, [wrong])).toThrow('vault password did not decrypt the value');
  });

  it('asks for a secret when none was given', () => {
    expect(() => decryptVault(env, [], 'f.yml')).toThrow(/found vault-encrypted data in f\.yml, but no vault secret was given/);
  });
});

describe('tampering and malformed data', () => {
  const env = encryptVault('attack at dawn', main);
  const parts = () => {
    const p = parseVaultEnvelope(env);
    return { salt: p.salt, hmac: Buffer.from(p.hmac), ciphertext: Buffer.from(p.ciphertext) };
  };
  const rebuild = (salt: Buffer, hmac: Buffer, ciphertext: Buffer) => {
    const inner = [salt.toString('hex'), hmac.toString('hex'), ciphertext.toString('hex')].join('\n');
    return '$ANSIBLE_VAULT;1.1;AES256\n' + Buffer.from(inner).toString('hex') + '\n';
  };

  it('rejects a flipped ciphertext bit (the HMAC fails)', () => {
    const { salt, hmac, ciphertext } = parts();
    ciphertext[0]! ^= 1;
    expect(() => decryptVault(rebuild(salt, hmac, ciphertext), [main], 'f')).toThrow('vault password did not decrypt f');
  });

  it('rejects a tampered HMAC', () => {
    const { salt, hmac, ciphertext } = parts();
    hmac[31]! ^= 0x80;
    expect(() => decryptVault(rebuild(salt, hmac, ciphertext), [main], 'f')).toThrow('vault password did not decrypt f');
  });

  it('rejects a truncated HMAC without throwing from the comparison', () => {
    const { salt, hmac, ciphertext } = parts();
    expect(() => decryptVault(rebuild(salt, hmac.subarray(0, 16), ciphertext), [main], 'f')).toThrow('vault password did not decrypt f');
  });

  it.each([
    ['bad hex', '$ANSIBLE_VAULT;1.1;AES256\nzz\n', /not valid hex/],
    ['no body', '$ANSIBLE_VAULT;1.1;AES256\n', /no data after the header/],
    ['wrong version', '$ANSIBLE_VAULT;1.0;AES\n00\n', /unsupported vault format version "1.0"/],
    ['wrong cipher', '$ANSIBLE_VAULT;1.1;AES128\n00\n', /unsupported cipher "AES128"/],
    ['missing parts', '$ANSIBLE_VAULT;1.1;AES256\n' + Buffer.from('abcd\nef').toString('hex') + '\n', /expected salt, HMAC and ciphertext/],
    ['not vault', 'plain: yaml\n', /is not vault-encrypted/],
  ])('explains %s', (_label, input, message) => {
    expect(() => decryptVault(input, [main], 'f.yml')).toThrow(message);
  });

  it('tolerates CRLF line ends and indentation left in an inline value', () => {
    const messy = env
      .trimEnd()
      .split('\n')
      .map((l, i) => (i === 0 ? l : '    ' + l))
      .join('\r\n');
    expect(decryptVault(messy, [main]).toString()).toBe('attack at dawn');
  });
});

function catchError(fn: () => unknown): TsibleError {
  try {
    fn();
  } catch (err) {
    return err as TsibleError;
  }
  throw new Error('expected an error');
}
