/**
 * Running commands and writing files on the controller, for the lab only
 * (image builds and the docker CLI). Remote hosts are never reached from here.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, rename, rm, writeFile } from 'node:fs/promises';
import { TsibleError } from '../errors.js';
import type { ShellCommand } from '../util/shell.js';

export interface LocalResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface LocalRunOptions {
  /** called with each complete line of stdout and stderr, for progress reports */
  onLine?: (line: string) => void;
  /** keep at most this many characters of each stream (the tail), so a chatty build cannot fill memory */
  keep?: number;
}

/** Runs `/bin/sh -c <command>`; never rejects on a non-zero exit (see `mustRun`). */
export function runLocal(command: ShellCommand, opts: LocalRunOptions = {}): Promise<LocalResult> {
  const keep = opts.keep ?? 1 << 20;
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command.text], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    const partial = { stdout: '', stderr: '' };
    const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = chunk.toString();
      out[stream] = (out[stream] + text).slice(-keep);
      if (!opts.onLine) return;
      const lines = (partial[stream] + text).split('\n');
      partial[stream] = lines.pop() ?? '';
      for (const line of lines) opts.onLine(line);
    };
    child.stdout.on('data', collect('stdout'));
    child.stderr.on('data', collect('stderr'));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ exitCode: code ?? (signal ? 128 : -1), ...out }));
  });
}

/** Runs a command and throws a TsibleError carrying the command and its stderr when it fails. */
export async function mustRun(command: ShellCommand, what: string, opts: LocalRunOptions = {}): Promise<LocalResult> {
  const r = await runLocal(command, opts);
  if (r.exitCode !== 0) {
    throw new TsibleError(`${what} failed`, {
      command: command.text,
      exitCode: r.exitCode,
      stderr: (r.stderr || r.stdout).slice(-4000),
    });
  }
  return r;
}

/** Writes a file through a temp file and a rename, so a reader never sees half of it. */
export async function writeFileAtomic(path: string, content: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, content, { mode });
    // writeFile's mode is filtered by the umask; keys must end up exactly 0600.
    await chmod(tmp, mode);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
