/** The `local` connection: commands run on the controller through /bin/sh. */
import { spawn } from 'node:child_process';
import type { ShellCommand } from '../util/shell.js';
import { prepareCommand, runProcess } from './command-session.js';
import type { Connection, ExecOptions, ExecResult } from './types.js';

export class LocalConnection implements Connection {
  constructor(readonly host: string) {}

  exec(command: ShellCommand, options: ExecOptions = {}): Promise<ExecResult> {
    const prepared = prepareCommand(command, options);
    // detached: its own process group, so a kill reaches the whole command tree.
    const child = spawn('/bin/sh', ['-c', prepared.text], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const exited = new Promise<{ code: number | null; signal?: string }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal: signal ?? undefined }));
    });
    child.stdin.on('error', () => {
      // The command may exit without reading its stdin; that is not an error.
    });
    return runProcess(
      {
        stdout: child.stdout,
        stderr: child.stderr,
        writeStdin: (data) => child.stdin.write(data),
        endStdin: () => child.stdin.end(),
        kill: () => {
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        },
        exited,
      },
      prepared,
      options,
    );
  }

  async close(): Promise<void> {}
}
