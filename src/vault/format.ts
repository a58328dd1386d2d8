/**
 * Ansible Vault's file format, versions 1.1 and 1.2, byte for byte as
 * ansible-core writes it (`ansible/parsing/vault/__init__.py`):
 *
 *     $ANSIBLE_VAULT;1.1;AES256            (1.2 adds `;<vault-id>`)
 *     hex( hex(salt) \n hex(hmac) \n hex(ciphertext) ), wrapped at 80 columns
 *
 * PBKDF2-SHA256 (10,000 iterations) turns password and salt into 80 bytes:
 * the AES-256 key, the HMAC-SHA256 key and the CTR counter. The plaintext is
 * PKCS7-padded before CTR encryption (CTR needs no padding; Ansible does it
 * anyway, so we must too). Pure: node:crypto only, no I/O.
 */
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { TsibleError } from '../errors.js';

/** A vault password and the vault id (label) it belongs to; `default` when none was given. */
export type VaultSecret = { id: string; password: Buffer };

/** Anything wrong with vault data or secrets: malformed envelopes, wrong passwords. */
export class VaultError extends TsibleError {}

export const VAULT_HEADER = '$ANSIBLE_VAULT';
export const DEFAULT_VAULT_ID = 'default';

const CIPHER = 'AES256';
const ITERATIONS = 10_000;
const KEY_LENGTH = 32;
const IV_LENGTH = 16;
const BLOCK = 16;
const WRAP = 80;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

export interface VaultEnvelope {
  version: '1.1' | '1.2';
  cipher: string;
  /** from a 1.2 header; undefined for 1.1 */
  vaultId: string | undefined;
  salt: Buffer;
  hmac: Buffer;
  ciphertext: Buffer;
}

export interface EncryptOptions {
  /** A vault id other than `default` produces a 1.2 header that names it. */
  vaultId?: string;
  /** Fixed salt, only for reproducible known-answer tests; a fresh random 32 bytes otherwise. */
  salt?: Buffer;
}

/** Whether `text` is vault data: Ansible's test is exactly "starts with the header". */
export function isVaultEnvelope(text: string | Buffer): boolean {
  const head = typeof text === 'string' ? text.slice(0, VAULT_HEADER.length) : text.subarray(0, VAULT_HEADER.length).toString('latin1');
  return head === VAULT_HEADER;
}

export function encryptVault(plaintext: string | Buffer, secret: VaultSecret, opts: EncryptOptions = {}): string {
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  if (isVaultEnvelope(data)) throw new VaultError('input is already vault-encrypted');
  checkPassword(secret);
  const vaultId = opts.vaultId;
  if (vaultId !== undefined) checkVaultId(vaultId);
  const salt = opts.salt ?? randomBytes(32);
  if (salt.length === 0) throw new VaultError('the vault salt must not be empty');

  const { cipherKey, hmacKey, iv } = deriveKeys(secret.password, salt);
  const cipher = createCipheriv('aes-256-ctr', cipherKey, iv);
  const ciphertext = Buffer.concat([cipher.update(pad(data)), cipher.final()]);
  const hmac = createHmac('sha256', hmacKey).update(ciphertext).digest();

  // The inner hex-in-hex layout is redundant but is the format; changing it breaks Ansible.
  const inner = [salt.toString('hex'), hmac.toString('hex'), ciphertext.toString('hex')].join('\n');
  const body = Buffer.from(inner, 'latin1').toString('hex');

  const header =
    vaultId !== undefined && vaultId !== DEFAULT_VAULT_ID ? `${VAULT_HEADER};1.2;${CIPHER};${vaultId}` : `${VAULT_HEADER};1.1;${CIPHER}`;
  const lines = [header];
  for (let i = 0; i < body.length; i += WRAP) lines.push(body.slice(i, i + WRAP));
  return lines.join('\n') + '\n';
}

/** Splits vault text into its header fields and binary parts. Throws VaultError on anything malformed. */
export function parseVaultEnvelope(envelope: string, where = 'the value'): VaultEnvelope {
  if (!isVaultEnvelope(envelope)) throw new VaultError(`${where} is not vault-encrypted (it does not start with ${VAULT_HEADER})`);
  const malformed = (detail: string) =>
    new VaultError(`malformed vault data in ${where}: ${detail}`, { hint: 'the file or value may be truncated or edited by hand' });

  const lines = envelope.split(/\r?\n|\r/);
  const fields = lines[0]!.trim().split(';').map((f) => f.trim());
  const version = fields[1];
  const cipher = fields[2];
  if (version !== '1.1' && version !== '1.2') {
    throw malformed(`unsupported vault format version ${JSON.stringify(version ?? '')} (tsible reads 1.1 and 1.2)`);
  }
  if (cipher !== CIPHER) throw malformed(`unsupported cipher ${JSON.stringify(cipher ?? '')} (only ${CIPHER} is supported)`);
  // Ansible reads a 4th field whatever the version says, so we do too.
  const vaultId = fields.length >= 4 ? fields[3] : undefined;

  // Trim each line: an inline `!vault` value may keep stray indentation.
  const body = lines
    .slice(1)
    .map((l) => l.trim())
    .join('');
  if (!body) throw malformed('no data after the header');
  const inner = unhex(body, 'the body', malformed).toString('latin1');
  const parts = inner.split('\n');
  if (parts.length !== 3) throw malformed('expected salt, HMAC and ciphertext');
  const salt = unhex(parts[0]!, 'the salt', malformed);
  const hmac = unhex(parts[1]!, 'the HMAC', malformed);
  const ciphertext = unhex(parts[2]!, 'the ciphertext', malformed);
  if (salt.length === 0) throw malformed('empty salt');
  return { version, cipher, vaultId, salt, hmac, ciphertext };
}

export interface OpenedVault {
  plaintext: Buffer;
  /** the secret that decrypted it, to re-encrypt after an edit */
  secret: VaultSecret;
  envelope: VaultEnvelope;
}

/**
 * Decrypts with the first secret that verifies. Like Ansible, the secret whose
 * id matches the header goes first, then all the others: the id in the header
 * is not authenticated, only a hint.
 */
export function openVault(envelope: string, secrets: readonly VaultSecret[], where = 'the value'): OpenedVault {
  const parsed = parseVaultEnvelope(envelope, where);
  if (secrets.length === 0) {
    throw new VaultError(`found vault-encrypted data in ${where}, but no vault secret was given`, {
      hint: 'pass --vault-password-file, --vault-id or --ask-vault-pass',
    });
  }
  const headerId = parsed.vaultId ?? DEFAULT_VAULT_ID;
  const ordered = [...secrets.filter((s) => s.id === headerId), ...secrets.filter((s) => s.id !== headerId)];
  for (const secret of ordered) {
    const plaintext = tryDecrypt(parsed, secret, where);
    if (plaintext) return { plaintext, secret, envelope: parsed };
  }
  const ids = [...new Set(secrets.map((s) => s.id))].join(', ');
  throw new VaultError(`vault password did not decrypt ${where}`, {
    hint: `tried ${secrets.length} secret${secrets.length === 1 ? '' : 's'} (vault ids: ${ids}); the data was encrypted with vault id "${headerId}"`,
  });
}

export function decryptVault(envelope: string, secrets: readonly VaultSecret[], where?: string): Buffer {
  return openVault(envelope, secrets, where).plaintext;
}

/**
 * `name: !vault |` followed by the envelope indented 10 spaces, with no final
 * newline: exactly what `ansible-vault encrypt_string` prints.
 */
export function formatVaultYaml(envelope: string, name?: string, indent = 10): string {
  const head = `${name ? `${name}: ` : ''}!vault |`;
  const body = envelope.split(/\r?\n/).filter((l, i, all) => !(i === all.length - 1 && l === ''));
  return [head, ...body.map((l) => ' '.repeat(indent) + l)].join('\n');
}

/** Undefined when the HMAC does not verify, i.e. the wrong password (or tampered data). */
function tryDecrypt(env: VaultEnvelope, secret: VaultSecret, where: string): Buffer | undefined {
  const { cipherKey, hmacKey, iv } = deriveKeys(secret.password, env.salt);
  const expected = createHmac('sha256', hmacKey).update(env.ciphertext).digest();
  // Length first: timingSafeEqual throws on unequal lengths, and the length is not secret.
  if (env.hmac.length !== expected.length || !timingSafeEqual(env.hmac, expected)) return undefined;
  const decipher = createDecipheriv('aes-256-ctr', cipherKey, iv);
  const padded = Buffer.concat([decipher.update(env.ciphertext), decipher.final()]);
  const plaintext = unpad(padded);
  // A verified HMAC with bad padding means a broken encryptor, not a wrong password.
  if (!plaintext) throw new VaultError(`malformed vault data in ${where}: bad padding after a verified HMAC`);
  return plaintext;
}

function deriveKeys(password: Buffer, salt: Buffer): { cipherKey: Buffer; hmacKey: Buffer; iv: Buffer } {
  const key = pbkdf2Sync(password, salt, ITERATIONS, 2 * KEY_LENGTH + IV_LENGTH, 'sha256');
  return {
    cipherKey: key.subarray(0, KEY_LENGTH),
    hmacKey: key.subarray(KEY_LENGTH, 2 * KEY_LENGTH),
    iv: key.subarray(2 * KEY_LENGTH),
  };
}

/** PKCS7: always 1..16 bytes, a whole block when the data is already aligned. */
function pad(data: Buffer): Buffer {
  const n = BLOCK - (data.length % BLOCK);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

function unpad(data: Buffer): Buffer | undefined {
  if (data.length === 0 || data.length % BLOCK !== 0) return undefined;
  const n = data[data.length - 1]!;
  if (n < 1 || n > BLOCK) return undefined;
  for (let i = data.length - n; i < data.length; i++) if (data[i] !== n) return undefined;
  return data.subarray(0, data.length - n);
}

function unhex(text: string, what: string, malformed: (detail: string) => VaultError): Buffer {
  // Buffer.from(..., 'hex') silently stops at the first bad digit, so check first.
  if (!HEX.test(text)) throw malformed(`${what} is not valid hex`);
  return Buffer.from(text, 'hex');
}

function checkPassword(secret: VaultSecret): void {
  if (secret.password.length === 0) throw new VaultError(`the vault password for vault id "${secret.id}" is empty`);
}

/** A `;` would split the header; a newline would end it. */
export function checkVaultId(id: string): void {
  if (id === '' || /[;\r\n]/.test(id)) {
    throw new VaultError(`"${id}" is not a valid vault id: it must be non-empty and contain no ';' or newline`);
  }
}
