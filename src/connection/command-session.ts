/**
 * What every transport shares when it runs one command: building the final
 * command text (environment, timeout, become), answering sudo's prompt over
 * stdin, sending the command's own stdin, collecting output, and enforcing
 * the timeout. Transports only supply a started process-like handle.
 */
import { wrapBecome } from './become.js';
import type { ExecOptions, ExecResult } from './types.js';
import { ShellCommand, sh, quote } from '../util/shell.js';

/** A started remote or local process, as the transports expose it. */
export interface ProcessHandle {
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  writeStdin(data: string | Buffer): void;
  endStdin(): void;
  /** Forcefully stop the process (close the channel, kill the child). */
  kill(): void;
  /** Resolves with the exit status once the process is gone and its output drained. */
  exited: Promise<{ code: number | null; signal?: string }>;
}

export interface PreparedCommand {
  text: string;
  /** The text to show in logs and errors (identical: passwords never enter the command). */
  display: string;
  prompt?: string;
  successMarker?: string;
}

const KILL_GRACE_MS = 5_000;

export function prepareCommand(command: ShellCommand, options: ExecOptions): PreparedCommand {
  let cmd = command;
  if (options.env && Object.keys(options.env).length > 0) {
    const exports = Object.entries(options.env).map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid environment variable name: ${k}`);
      return `export ${k}=${quote(v)}`;
    });
    cmd = ShellCommand.script(`${exports.join('; ')}; ${cmd.text}`);
  }
  if (options.timeoutMs !== undefined) {
    // GNU timeout puts the command in its own process group and kills all of it.
    const seconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
    cmd = sh`timeout -s KILL ${seconds} /bin/sh -c ${cmd.text}`;
  }
  if (options.become) {
    const wrapped = wrapBecome(cmd, options.become);
    return { text: wrapped.command.text, display: wrapped.command.text, prompt: wrapped.prompt, successMarker: wrapped.successMarker };
  }
  return { text: cmd.text, display: cmd.text };
}

export async function runProcess(
  proc: ProcessHandle,
  prepared: PreparedCommand,
  options: ExecOptions,
): Promise<ExecResult> {
  const started = Date.now();
  const stdoutChunks: Buffer[] = [];
  const stderrChunks: Buffer[] = [];
  let waitingForBecome = prepared.successMarker !== undefined;
  let stdoutPending = '';
  let stderrPending = '';
  let passwordSent = false;
  let becomeFailed = false;

  const sendStdin = () => {
    if (options.stdin !== undefined) proc.writeStdin(options.stdin);
    proc.endStdin();
  };

  proc.stdout.on('data', (chunk: Buffer) => {
    if (waitingForBecome) {
      stdoutPending += chunk.toString('utf8');
      const marker = prepared.successMarker!;
      const at = stdoutPending.indexOf(marker + '\n');
      if (at === -1) return;
      waitingForBecome = false;
      const rest = Buffer.from(stdoutPending.slice(at + marker.length + 1), 'utf8');
      stdoutPending = '';
      sendStdin();
      if (rest.length) {
        stdoutChunks.push(rest);
        options.onStdout?.(rest);
      }
      return;
    }
    stdoutChunks.push(chunk);
    options.onStdout?.(chunk);
  });
  proc.stderr.on('data', (chunk: Buffer) => {
    if (prepared.prompt && waitingForBecome) {
      stderrPending += chunk.toString('utf8');
      if (stderrPending.includes(prepared.prompt)) {
        if (passwordSent) {
          // Asked twice: the password was wrong. Stop instead of hanging.
          const msg = Buffer.from('sudo: incorrect password\n');
          becomeFailed = true;
          stderrChunks.push(msg);
          options.onStderr?.(msg);
          proc.kill();
          return;
        }
        passwordSent = true;
        stderrPending = stderrPending.split(prepared.prompt).join('');
        proc.writeStdin(`${options.become?.password ?? ''}\n`);
      }
      return;
    }
    stderrChunks.push(chunk);
    options.onStderr?.(chunk);
  });

  if (!prepared.successMarker) sendStdin();

  let timer: NodeJS.Timeout | undefined;
  let backstopFired = false;
  if (options.timeoutMs !== undefined) {
    timer = setTimeout(() => {
      backstopFired = true;
      proc.kill();
    }, options.timeoutMs + KILL_GRACE_MS);
  }
  try {
    const { code, signal } = await proc.exited;
    const elapsed = Date.now() - started;
    if (stderrPending.trim()) stderrChunks.unshift(Buffer.from(stderrPending));
    // GNU timeout kills its whole process group, itself included, so the shell may report a signal instead of 137.
    const timedOut =
      backstopFired ||
      (options.timeoutMs !== undefined && elapsed >= options.timeoutMs && (code === 137 || code === 124 || code === null));
    if (becomeFailed) {
      return { stdout: '', stderr: Buffer.concat(stderrChunks).toString('utf8'), exitCode: 1, command: prepared.display };
    }
    return {
      stdout: Buffer.concat(stdoutChunks).toString('utf8'),
      stderr: Buffer.concat(stderrChunks).toString('utf8'),
      exitCode: timedOut ? null : code,
      signal: timedOut ? 'KILL' : signal,
      timedOut,
      command: prepared.display,
    };
  } finally {
    if (timer) clearTimeout(timer);
  }
}
