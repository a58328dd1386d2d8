/**
 * `tsible vault`: the `ansible-vault` command, same subcommands, options,
 * output and files, so either tool can open what the other wrote.
 *
 * Each subcommand is an exported async function taking plain options and an
 * optional `VaultIO` (streams, env, prompts), so tests call them directly.
 * Errors are thrown; the CLI prints them. Files are replaced atomically
 * (temp file beside them, then rename) and keep their mode.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
  chownSync,
  chmodSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { TsibleError, UsageError } from '../errors.js';
import { promptLine, promptSecret } from '../util/prompt.js';
import { shlexSplit } from '../util/shlex.js';
import { encryptVault, formatVaultYaml, isVaultEnvelope, openVault, type VaultSecret } from './format.js';
import { loadVaultSecrets } from './secrets.js';

/** Everything a vault subcommand touches outside the file system; tests replace it. */
export interface VaultIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** asks without echo (passwords, hidden strings) */
  promptSecret: (question: string) => Promise<string>;
  /** asks with echo (a variable name) */
  promptLine: (question: string) => Promise<string>;
}

export interface VaultSecretOptions {
  vaultPasswordFile?: string[];
  vaultId?: string[];
  askVaultPass?: boolean;
}

export interface VaultEncryptOptions extends VaultSecretOptions {
  /** which of several loaded secrets to encrypt with */
  encryptVaultId?: string;
  /** write here instead of in place; `-` for stdout */
  output?: string;
}

export interface VaultDecryptOptions extends VaultSecretOptions {
  output?: string;
}

export interface VaultEncryptStringOptions extends VaultEncryptOptions {
  /** variable names, matched in order to the strings */
  name?: string[];
  /** variable name for the string read from stdin */
  stdinName?: string;
  /** ask for the string (and its name) interactively */
  prompt?: boolean;
  /** echo the string when prompting for it */
  showInput?: boolean;
}

export interface VaultRekeyOptions extends VaultSecretOptions {
  encryptVaultId?: string;
  newVaultPasswordFile?: string;
  newVaultId?: string;
}

function resolveIO(io: Partial<VaultIO> = {}): VaultIO {
  return {
    stdin: io.stdin ?? process.stdin,
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
    promptSecret: io.promptSecret ?? promptSecret,
    promptLine: io.promptLine ?? promptLine,
  };
}

// ---------------------------------------------------------------- subcommands

/** `vault encrypt [FILE...]`: no file (or `-`) means stdin to stdout. */
export async function vaultEncryptFiles(files: string[], opts: VaultEncryptOptions = {}, ioIn?: Partial<VaultIO>): Promise<void> {
  const io = resolveIO(ioIn);
  const inputs = files.length ? files : ['-'];
  checkOutput(inputs, opts.output);
  if (inputs.includes('-') && io.stdin.isTTY) await write(io.stderr, 'Reading plaintext input from stdin\n');
  const { secret, vaultId } = await encryptSecret(opts, io);
  // Read and check every input before writing any, so a bad one leaves all unchanged.
  const jobs = [];
  for (const file of inputs) {
    const data = await readInput(file, io);
    if (isVaultEnvelope(data)) throw new UsageError(`${file} is already vault-encrypted`, { hint: 'use `tsible vault rekey` to change its password' });
    jobs.push({ file, data });
  }
  for (const { file, data } of jobs) await writeOutput(opts.output ?? file, Buffer.from(encryptVault(data, secret, { vaultId })), io);
  if (io.stdout.isTTY) await write(io.stderr, 'Encryption successful\n');
}

/** `vault decrypt [FILE...]`. */
export async function vaultDecryptFiles(files: string[], opts: VaultDecryptOptions = {}, ioIn?: Partial<VaultIO>): Promise<void> {
  const io = resolveIO(ioIn);
  const inputs = files.length ? files : ['-'];
  checkOutput(inputs, opts.output);
  if (inputs.includes('-') && io.stdin.isTTY) await write(io.stderr, 'Reading ciphertext input from stdin\n');
  const secrets = await decryptSecrets(opts, io);
  const jobs = [];
  for (const file of inputs) jobs.push({ file, plaintext: openFile(await readInput(file, io), secrets, file).plaintext });
  for (const { file, plaintext } of jobs) await writeOutput(opts.output ?? file, plaintext, io);
  if (io.stdout.isTTY) await write(io.stderr, 'Decryption successful\n');
}

/** `vault view FILE...`: through a pager on a terminal, else straight to stdout. */
export async function vaultView(files: string[], opts: VaultSecretOptions = {}, ioIn?: Partial<VaultIO>): Promise<void> {
  const io = resolveIO(ioIn);
  if (files.length === 0) throw new UsageError('vault view needs at least one file');
  const secrets = await decryptSecrets(opts, io);
  for (const file of files) {
    const text = openFile(await readInput(file, io), secrets, file).plaintext.toString('utf8');
    if (io.stdout.isTTY && io.stdout === process.stdout && (await page(text, io))) continue;
    // Ansible's display() ends what it prints with a newline.
    await write(io.stdout, text.endsWith('\n') ? text : text + '\n');
  }
}

/** `vault edit FILE...`: re-encrypted with the same secret and vault id, and only when changed. */
export async function vaultEdit(files: string[], opts: VaultSecretOptions = {}, ioIn?: Partial<VaultIO>): Promise<void> {
  const io = resolveIO(ioIn);
  if (files.length === 0) throw new UsageError('vault edit needs at least one file');
  const secrets = await decryptSecrets(opts, io);
  for (const file of files) {
    const path = realPath(file);
    const opened = openFile(readFile(path, file), secrets, file);
    const edited = await editInTempFile(basename(path), opened.plaintext, io);
    if (edited.equals(opened.plaintext)) continue;
    writeFileAtomic(path, Buffer.from(encryptVault(edited, opened.secret, { vaultId: opened.envelope.vaultId })));
  }
}

/** `vault create FILE`: opens an empty file in the editor and saves it encrypted, even if left empty (as Ansible does). */
export async function vaultCreate(files: string[], opts: VaultEncryptOptions = {}, ioIn?: Partial<VaultIO>): Promise<void> {
  const io = resolveIO(ioIn);
  if (files.length !== 1) throw new UsageError('vault create takes exactly one file name');
  const file = files[0]!;
  if (existsSync(file)) throw new UsageError(`${file} exists, please use 'edit' instead`);
  const dir = dirname(file);
  if (!existsSync(dir)) {
    await write(io.stderr, `[WARNING]: ${dir} does not exist, creating...\n`);
    mkdirSync(dir, { recursive: true });
  }
  const { secret, vaultId } = await encryptSecret(opts, io);
  const content = await editInTempFile(basename(file), Buffer.alloc(0), io);
  writeFileAtomic(file, Buffer.from(encryptVault(content, secret, { vaultId })));
}

/**
 * `vault encrypt_string [STRING...]`: prints `name: !vault |` YAML blocks,
 * byte for byte as ansible-vault does (indent 10, blocks joined by a newline,
 * none at the end). Stdin is read when no string is given, or `-`.
 */
export async function vaultEncryptString(strings: string[], opts: VaultEncryptStringOptions = {}, ioIn?: Partial<VaultIO>): Promise<void> {
  const io = resolveIO(ioIn);
  const args = strings.filter((s) => s !== '-');
  // `--prompt` alone reads no stdin (ansible-core 2.15+; 2.14 rejected that combination by mistake).
  const readStdin = strings.includes('-') || (strings.length === 0 && !opts.prompt) || opts.stdinName !== undefined;
  if (opts.prompt && readStdin) throw new UsageError('--prompt cannot be used while also reading the string from stdin');
  const items: Array<{ plaintext: Buffer; from: string; name: string | undefined }> = [];

  if (opts.prompt) {
    const name = await io.promptLine('Variable name (enter for no name): ');
    const answer = opts.showInput ? await io.promptLine('String to encrypt: ') : await io.promptSecret('String to encrypt (hidden): ');
    if (answer === '') throw new UsageError('the string given at the prompt was empty, not encrypting');
    items.push({ plaintext: Buffer.from(answer, 'utf8'), from: 'the interactive prompt', name: name || undefined });
  }
  if (readStdin) {
    if (io.stdin.isTTY) await write(io.stderr, 'Reading plaintext input from stdin. (ctrl-d to end input, twice if your content does not already have a newline)\n');
    // Kept verbatim, trailing newline included, as Ansible does: use `printf %s` or `echo -n` to avoid one.
    const data = await readAll(io.stdin);
    if (data.length === 0) throw new UsageError('stdin was empty, not encrypting');
    items.push({ plaintext: data, from: 'stdin', name: opts.stdinName });
  }
  const names = opts.name ?? [];
  if (names.length && args.length > names.length) {
    await write(io.stderr, 'The number of --name options do not match the number of args.\n');
    await write(io.stderr, `The last named variable will be "${names[names.length - 1]}". The rest will not have names.\n`);
  }
  args.forEach((arg, i) => {
    if (arg === '') throw new UsageError('the string given on the command line was empty, not encrypting');
    items.push({ plaintext: Buffer.from(arg, 'utf8'), from: 'the command line args', name: names[i] });
  });
  if (items.length === 0) throw new UsageError('no string to encrypt');

  const { secret, vaultId } = await encryptSecret(opts, io);
  const blocks: string[] = [];
  for (const [i, item] of items.entries()) {
    // With several strings, stderr says which block is which without showing any plaintext.
    if (items.length > 1) {
      await write(
        io.stderr,
        item.name
          ? `# The encrypted version of variable ("${item.name}", the string #${i + 1} from ${item.from}).\n`
          : `# The encrypted version of the string #${i + 1} from ${item.from}.)\n`,
      );
    }
    blocks.push(formatVaultYaml(encryptVault(item.plaintext, secret, { vaultId }), item.name));
  }
  const out = blocks.join('\n');
  const target = opts.output ?? '-';
  // On a terminal, end the line so the shell prompt does not follow the last hex digits.
  await writeOutput(target, Buffer.from(target === '-' && io.stdout.isTTY ? out + '\n' : out), io);
  if (io.stdout.isTTY) await write(io.stderr, 'Encryption successful\n');
}

/** `vault rekey FILE...`: decrypt with the given secrets, re-encrypt with the new one. */
export async function vaultRekey(files: string[], opts: VaultRekeyOptions = {}, ioIn?: Partial<VaultIO>): Promise<void> {
  const io = resolveIO(ioIn);
  if (files.length === 0) throw new UsageError('vault rekey needs at least one file');
  if (opts.newVaultPasswordFile && opts.newVaultId) throw new UsageError('give either --new-vault-password-file or --new-vault-id, not both');
  const secrets = await decryptSecrets(opts, io);
  const newSecrets = await loadVaultSecrets({
    passwordFiles: opts.newVaultPasswordFile ? [opts.newVaultPasswordFile] : [],
    vaultIds: opts.newVaultId ? [opts.newVaultId] : [],
    confirm: true,
    autoPrompt: true,
    // The new password must come from the --new-* options or the prompt, never the environment's old one.
    env: {},
    promptSecret: io.promptSecret,
  });
  const newSecret = pickEncryptSecret(newSecrets, opts.encryptVaultId);
  const jobs = [];
  for (const file of files) {
    const path = realPath(file);
    jobs.push({ path, plaintext: openFile(readFile(path, file), secrets, file).plaintext });
  }
  for (const { path, plaintext } of jobs) writeFileAtomic(path, Buffer.from(encryptVault(plaintext, newSecret, { vaultId: newSecret.id })));
  await write(io.stderr, 'Rekey successful\n');
}

// ---------------------------------------------------------------- commander wiring

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function withSecretOptions(cmd: Command): Command {
  return cmd
    .option('--vault-password-file <file>', 'file with the vault password, or an executable printing it (repeatable)', collect)
    .option('--vault-id <label@source>', 'vault identity; source is a file, an executable or "prompt" (repeatable)', collect)
    .option('-J, --ask-vault-pass', 'ask for the vault password')
    .addOption(new Option('--ask-vault-password').hideHelp())
    .addOption(new Option('--vault-pass-file <file>').hideHelp().argParser(collect));
}

/** commander options to ours, folding in Ansible's other spellings (`--ask-vault-password`, `--vault-pass-file`). */
function normalize<T extends VaultSecretOptions>(opts: T & { askVaultPassword?: boolean; vaultPassFile?: string[] }): T {
  const { askVaultPassword, vaultPassFile, ...rest } = opts;
  const files = [...(opts.vaultPasswordFile ?? []), ...(vaultPassFile ?? [])];
  return { ...rest, vaultPasswordFile: files.length ? files : undefined, askVaultPass: Boolean(opts.askVaultPass || askVaultPassword) } as unknown as T;
}

export function registerVaultCommand(program: Command): void {
  const vault = program
    .command('vault')
    .description('encrypt and decrypt Ansible Vault files and strings (interoperable with ansible-vault)');

  withSecretOptions(vault.command('encrypt').description('encrypt files in place (stdin to stdout when none)'))
    .argument('[files...]')
    .option('--encrypt-vault-id <id>', 'the vault id to encrypt with, when several are given')
    .option('--output <file>', 'write to this file instead; - for stdout')
    .action(async (files: string[], opts: VaultEncryptOptions) => vaultEncryptFiles(files, normalize(opts)));

  withSecretOptions(vault.command('decrypt').description('decrypt vault-encrypted files in place (stdin to stdout when none)'))
    .argument('[files...]')
    .option('--output <file>', 'write to this file instead; - for stdout')
    .action(async (files: string[], opts: VaultDecryptOptions) => vaultDecryptFiles(files, normalize(opts)));

  withSecretOptions(vault.command('view').description('show the plaintext of vault-encrypted files'))
    .argument('<files...>')
    .action(async (files: string[], opts: VaultSecretOptions) => vaultView(files, normalize(opts)));

  withSecretOptions(vault.command('edit').description('edit a vault-encrypted file in $EDITOR; saved encrypted again if changed'))
    .argument('<files...>')
    .action(async (files: string[], opts: VaultSecretOptions) => vaultEdit(files, normalize(opts)));

  withSecretOptions(vault.command('create').description('create a new vault-encrypted file in $EDITOR'))
    .argument('<file>')
    .option('--encrypt-vault-id <id>', 'the vault id to encrypt with, when several are given')
    .action(async (file: string, opts: VaultEncryptOptions) => vaultCreate([file], normalize(opts)));

  withSecretOptions(vault.command('encrypt_string').description('encrypt strings into `name: !vault |` YAML (stdin when none, or -)'))
    .argument('[strings...]')
    .option('-n, --name <var>', 'the variable name, matched in order to the strings (repeatable)', collect)
    .option('--stdin-name <var>', 'the variable name for the string read from stdin')
    .option('-p, --prompt', 'ask for the string to encrypt')
    .option('--show-input', 'echo the string when asking for it')
    .option('--encrypt-vault-id <id>', 'the vault id to encrypt with, when several are given')
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (strings: string[], opts: VaultEncryptStringOptions) => vaultEncryptString(strings, normalize(opts)));

  withSecretOptions(vault.command('rekey').description('re-encrypt vault-encrypted files with a new password'))
    .argument('<files...>')
    .option('--new-vault-password-file <file>', 'the new vault password file')
    .option('--new-vault-id <label@source>', 'the new vault identity')
    .option('--encrypt-vault-id <id>', 'the vault id to encrypt with, when several are given')
    .action(async (files: string[], opts: VaultRekeyOptions) => vaultRekey(files, normalize(opts)));
}

// ---------------------------------------------------------------- helpers

async function decryptSecrets(opts: VaultSecretOptions, io: VaultIO): Promise<VaultSecret[]> {
  const secrets = await loadVaultSecrets({
    passwordFiles: opts.vaultPasswordFile,
    vaultIds: opts.vaultId,
    ask: opts.askVaultPass,
    autoPrompt: true,
    env: io.env,
    promptSecret: io.promptSecret,
  });
  if (secrets.length === 0) throw new UsageError('a vault password is required', { hint: 'pass --vault-password-file, --vault-id or --ask-vault-pass' });
  return secrets;
}

/** The one secret to encrypt with, and the vault id for the header. */
async function encryptSecret(opts: VaultEncryptOptions, io: VaultIO): Promise<{ secret: VaultSecret; vaultId: string }> {
  const secrets = await loadVaultSecrets({
    passwordFiles: opts.vaultPasswordFile,
    vaultIds: opts.vaultId,
    ask: opts.askVaultPass,
    confirm: true,
    autoPrompt: true,
    env: io.env,
    promptSecret: io.promptSecret,
  });
  const secret = pickEncryptSecret(secrets, opts.encryptVaultId ?? (io.env.ANSIBLE_VAULT_ENCRYPT_IDENTITY || undefined));
  return { secret, vaultId: secret.id };
}

function pickEncryptSecret(secrets: VaultSecret[], encryptVaultId: string | undefined): VaultSecret {
  if (secrets.length === 0) throw new UsageError('a vault password is required', { hint: 'pass --vault-password-file, --vault-id or --ask-vault-pass' });
  const ids = secrets.map((s) => s.id).join(', ');
  if (encryptVaultId !== undefined) {
    const match = secrets.find((s) => s.id === encryptVaultId);
    if (!match) throw new UsageError(`--encrypt-vault-id ${encryptVaultId} matches none of the vault ids given (${ids})`);
    return match;
  }
  if (secrets.length > 1) {
    throw new UsageError(`the vault ids ${ids} are all available to encrypt with`, { hint: 'choose one with --encrypt-vault-id' });
  }
  return secrets[0]!;
}

function openFile(data: Buffer, secrets: VaultSecret[], file: string) {
  const where = file === '-' ? 'stdin' : file;
  if (!isVaultEnvelope(data)) throw new UsageError(`${where} is not vault-encrypted`);
  return openVault(data.toString('utf8'), secrets, where);
}

function checkOutput(inputs: string[], output: string | undefined): void {
  if (output !== undefined && inputs.length > 1) throw new UsageError('--output takes a single input file');
}

async function readInput(file: string, io: VaultIO): Promise<Buffer> {
  return file === '-' ? readAll(io.stdin) : readFile(realPath(file), file);
}

function readFile(path: string, shown: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TsibleError(`could not read ${shown}: ${(err as Error).message}`, { cause: err });
  }
}

/** Symlinks are followed, so the link stays and its target is replaced (as ansible-vault does). */
function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch (err) {
    throw new TsibleError(`could not read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

async function writeOutput(target: string, data: Buffer, io: VaultIO): Promise<void> {
  if (target === '-') return write(io.stdout, data);
  writeFileAtomic(existsSync(target) ? realPath(target) : target, data);
}

/**
 * Writes a temp file beside `path` and renames it over: a crash leaves either
 * the old file or the new one, never half of each. The mode (and owner, when
 * allowed) of an existing file is kept; a new file gets 0600, since it may
 * hold a plaintext.
 */
export function writeFileAtomic(path: string, data: Buffer): void {
  let prev: { mode: number; uid: number; gid: number } | undefined;
  try {
    const st = statSync(path);
    prev = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch {
    prev = undefined;
  }
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (prev) {
      chmodSync(tmp, prev.mode);
      try {
        chownSync(tmp, prev.uid, prev.gid);
      } catch {
        // Only root may give a file away; keeping our own ownership is the best we can do.
      }
    }
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new TsibleError(`could not write ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Puts `content` in a file of its own private directory (0700, file 0600),
 * runs $EDITOR on it and returns what was saved. The plaintext is overwritten
 * and removed whatever happens.
 */
async function editInTempFile(name: string, content: Buffer, io: VaultIO): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'tsible-vault-'));
  const file = join(dir, name);
  try {
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    await runEditor(file, io);
    return readFileSync(file);
  } finally {
    shred(file);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runEditor(file: string, io: VaultIO): Promise<void> {
  const editor = io.env.EDITOR || 'vi';
  let argv: string[];
  try {
    argv = shlexSplit(editor);
  } catch (err) {
    throw new UsageError(`cannot parse $EDITOR (${editor}): ${(err as Error).message}`);
  }
  if (argv.length === 0) throw new UsageError('$EDITOR is empty');
  // Ctrl-C belongs to the editor; if it killed us instead, the plaintext would be left behind.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(argv[0]!, [...argv.slice(1), file], { stdio: 'inherit', env: io.env });
      child.on('error', (e) => reject(new UsageError(`could not run the editor "${editor}": ${e.message}`, { cause: e, hint: 'set $EDITOR' })));
      child.on('close', (c) => resolve(c));
    });
    if (code !== 0) throw new TsibleError(`the editor "${editor}" exited with ${code === null ? 'a signal' : `code ${code}`}; nothing was saved`);
  } finally {
    process.off('SIGINT', ignore);
  }
}

/** Best effort: on journaling or copy-on-write file systems the old blocks may survive anyway. */
function shred(file: string): void {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r+');
    try {
      writeSync(fd, Buffer.alloc(size));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    unlinkSync(file);
  } catch {
    // already gone, or unwritable: the directory removal that follows still deletes it
  }
}

/** Shows text through $PAGER (or less) on a terminal; false when no pager could run. */
async function page(text: string, io: VaultIO): Promise<boolean> {
  let argv: string[];
  try {
    argv = shlexSplit(io.env.PAGER || 'less');
  } catch {
    return false;
  }
  if (argv.length === 0) return false;
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['pipe', 'inherit', 'inherit'],
      env: { LESS: 'FRSX', ...io.env },
    });
    child.on('error', () => resolve(false));
    child.on('close', () => resolve(true));
    child.stdin!.on('error', () => {}); // the user may quit the pager before reading everything
    child.stdin!.end(text);
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

function write(stream: NodeJS.WritableStream, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (err) => (err ? reject(err) : resolve()));
  });
}
