/**
 * Where vault passwords come from, resolved the way Ansible's CLI resolves
 * them (`CLI.setup_vault_secrets`), so a project's existing password files,
 * scripts and vault ids work unchanged:
 *
 * - `--vault-id label@source` first, in order; source is a file, an
 *   executable (its stdout), or `prompt`. A bare `source` means label `default`.
 * - then `--vault-password-file FILE` and the env files, as `default@FILE`;
 * - then `--ask-vault-pass`, as `default@prompt`.
 *
 * Passwords are trimmed exactly as Ansible trims them (files: all surrounding
 * whitespace; scripts: CR/LF), otherwise the same password file would derive
 * different keys in tsible and in Ansible.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { UsageError } from '../errors.js';
import { promptSecret } from '../util/prompt.js';
import type { VaultedText } from '../util/markers.js';
import { DEFAULT_VAULT_ID, VaultError, checkVaultId, decryptVault, isVaultEnvelope, openVault, type OpenedVault, type VaultSecret } from './format.js';

export type { VaultSecret } from './format.js';

/** The environment variables that name a password file, tsible's own first. */
export const PASSWORD_FILE_ENV = ['TSIBLE_VAULT_PASSWORD_FILE', 'ANSIBLE_VAULT_PASSWORD_FILE'] as const;

export interface LoadVaultSecretsOptions {
  passwordFiles?: string[];
  vaultIds?: string[];
  ask?: boolean;
  /** Ask twice and compare, as when choosing a password to encrypt with. */
  confirm?: boolean;
  /** Prompt for a password when no other source was given (what `ansible-vault` does; playbook runs do not). */
  autoPrompt?: boolean;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default: the terminal, without echo. */
  promptSecret?: (question: string) => Promise<string>;
}

/** One parsed `--vault-id`: `label@source`, or a bare source meaning label `default`. */
export interface VaultIdSlug {
  id: string;
  source: string;
}

/** Parses `label@source` the way Ansible does: split at the first `@`. */
export function parseVaultIdSlug(slug: string): VaultIdSlug {
  const at = slug.indexOf('@');
  const id = at === -1 ? DEFAULT_VAULT_ID : slug.slice(0, at);
  const source = at === -1 ? slug : slug.slice(at + 1);
  if (!source) throw new UsageError(`--vault-id "${slug}" names no password source`, { hint: 'use label@FILE, label@SCRIPT or label@prompt' });
  try {
    checkVaultId(id);
  } catch (err) {
    throw new UsageError(`--vault-id "${slug}": ${(err as Error).message}`);
  }
  return { id, source };
}

/**
 * The ordered list of `{id, source}` a set of options stands for, before any
 * file is read: pure, so the precedence rules can be tested alone.
 */
export function vaultSources(opts: LoadVaultSecretsOptions): Array<VaultIdSlug & { from: string }> {
  const env = opts.env ?? process.env;
  const out: Array<VaultIdSlug & { from: string }> = [];
  const identityList = env.ANSIBLE_VAULT_IDENTITY_LIST;
  if (identityList) {
    for (const slug of identityList.split(',').map((s) => s.trim()).filter(Boolean)) {
      out.push({ ...parseVaultIdSlug(slug), from: 'ANSIBLE_VAULT_IDENTITY_LIST' });
    }
  }
  for (const slug of opts.vaultIds ?? []) out.push({ ...parseVaultIdSlug(slug), from: '--vault-id' });
  for (const file of opts.passwordFiles ?? []) out.push({ id: DEFAULT_VAULT_ID, source: file, from: '--vault-password-file' });
  for (const name of PASSWORD_FILE_ENV) {
    const file = env[name];
    if (file && !out.some((s) => s.source === file)) out.push({ id: DEFAULT_VAULT_ID, source: file, from: name });
  }
  if (opts.ask || (opts.autoPrompt && out.length === 0)) out.push({ id: DEFAULT_VAULT_ID, source: ASK, from: '--ask-vault-pass' });
  return out;
}

/** `--ask-vault-pass` keeps Ansible's older prompt wording, which tools match on. */
const ASK = 'prompt_ask_vault_pass';

export async function loadVaultSecrets(opts: LoadVaultSecretsOptions = {}): Promise<VaultSecret[]> {
  const ask = opts.promptSecret ?? promptSecret;
  const secrets: VaultSecret[] = [];
  for (const { id, source, from } of vaultSources(opts)) {
    if (source === 'prompt' || source === ASK) {
      secrets.push({ id, password: await promptPassword(id, source === ASK, opts.confirm ?? false, ask) });
    } else {
      // Earlier secrets may decrypt a vault-encrypted password file, as in Ansible.
      secrets.push({ id, password: await readPasswordSource(source, id, from, secrets) });
    }
  }
  return secrets;
}

async function promptPassword(id: string, legacy: boolean, confirm: boolean, ask: (q: string) => Promise<string>): Promise<Buffer> {
  const questions = legacy
    ? confirm
      ? ['New Vault password: ', 'Confirm New Vault password: ']
      : ['Vault password: ']
    : confirm
      ? [`New vault password (${id}): `, `Confirm new vault password (${id}): `]
      : [`Vault password (${id}): `];
  const answers: Buffer[] = [];
  for (const q of questions) {
    const password = stripWhitespace(Buffer.from(await ask(q), 'utf8'));
    if (password.length === 0) throw new UsageError(`empty vault password given at the prompt for vault id "${id}"`);
    answers.push(password);
  }
  if (answers.some((a) => !a.equals(answers[0]!))) throw new UsageError('the vault passwords do not match');
  return answers[0]!;
}

/** A password file, or, when executable, the stdout of running it. */
async function readPasswordSource(file: string, id: string, from: string, known: readonly VaultSecret[]): Promise<Buffer> {
  let mode: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new UsageError(`the vault password file ${file} (from ${from}) is not a regular file`);
    mode = st.mode;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`the vault password file ${file} (from ${from}) was not found`, { cause: err });
  }
  if (mode & 0o111) return runPasswordScript(file, id);

  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    throw new UsageError(`could not read the vault password file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let password = stripWhitespace(data);
  if (isVaultEnvelope(password)) password = decryptVault(password.toString('utf8'), known, file);
  password = stripCrLf(password);
  if (password.length === 0) throw new UsageError(`the vault password file ${file} is empty`);
  return password;
}

/**
 * Runs a password script. Its stderr and stdin stay the terminal's so it can
 * prompt. A script named `*-client[.ext]` is asked for a specific id
 * (`--vault-id ID`) and exits 2 when it has none: Ansible's client protocol.
 */
function runPasswordScript(file: string, id: string): Promise<Buffer> {
  const client = basename(file, extname(file)).endsWith('-client');
  const args = client ? ['--vault-id', id] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['inherit', 'pipe', client ? 'pipe' : 'inherit'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) =>
      reject(
        new UsageError(`could not run the vault password script ${file}: ${e.message}`, {
          cause: e,
          hint: 'if it is not a script, remove its executable bit (chmod -x)',
        }),
      ),
    );
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (client && code === 2) {
        reject(new UsageError(`the vault password client script ${file} has no secret for vault id "${id}"`, { stderr }));
      } else if (code !== 0) {
        reject(
          new UsageError(`the vault password script ${file} failed`, {
            command: [file, ...args].join(' '),
            exitCode: code ?? undefined,
            stderr: stderr || (signal ? `killed by ${signal}` : undefined),
          }),
        );
      } else {
        const password = stripCrLf(Buffer.concat(out));
        if (password.length === 0) reject(new UsageError(`the vault password script ${file} printed an empty password`));
        else resolve(password);
      }
    });
  });
}

/** Python's bytes.strip(): ASCII whitespace at both ends. */
function stripWhitespace(b: Buffer): Buffer {
  return trimBytes(b, [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);
}

/** Python's bytes.strip(b'\r\n'). */
function stripCrLf(b: Buffer): Buffer {
  return trimBytes(b, [0x0a, 0x0d]);
}

function trimBytes(b: Buffer, chars: number[]): Buffer {
  let start = 0;
  let end = b.length;
  while (start < end && chars.includes(b[start]!)) start++;
  while (end > start && chars.includes(b[end - 1]!)) end--;
  return b.subarray(start, end);
}

/**
 * The run's vault secrets, ready to decrypt files and inline `!vault` values.
 * Inline values are cached by ciphertext: key derivation is deliberately slow
 * and the same value is read once per host.
 */
export class VaultKeyring {
  private readonly cache = new Map<string, string>();

  constructor(readonly secrets: readonly VaultSecret[]) {}

  isEmpty(): boolean {
    return this.secrets.length === 0;
  }

  /** Decrypts a whole vault envelope (a file's text); `where` names it in errors. */
  decrypt(envelope: string, where?: string): Buffer {
    return decryptVault(envelope, this.secrets, where);
  }

  /** Like decrypt, also telling which secret worked. */
  open(envelope: string, where?: string): OpenedVault {
    return openVault(envelope, this.secrets, where);
  }

  /** The plaintext of an inline `!vault` value, as UTF-8 text. */
  decryptText(v: VaultedText): string {
    const hit = this.cache.get(v.ciphertext);
    if (hit !== undefined) return hit;
    const where = v.file ? `a !vault value in ${v.file}` : 'the value';
    if (!isVaultEnvelope(v.ciphertext.trimStart())) throw new VaultError(`${where} is tagged !vault but does not hold vault data`);
    const text = this.decrypt(v.ciphertext.trimStart(), where).toString('utf8');
    this.cache.set(v.ciphertext, text);
    return text;
  }
}
