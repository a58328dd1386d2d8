/**
 * Applying a plan: the only place where a module's changes become commands
 * on a host. Each change is one round trip; a failing change stops the rest
 * and is reported with the host, the command and its stderr.
 */
import { RemoteError, UnreachableError } from '../errors.js';
import type { Connection, ExecOptions } from '../connection/types.js';
import type { Change } from '../modules/types.js';
import { atomicWriteCommand, BACKUP_MARKER } from './atomic-write.js';

export interface AppliedOutput {
  /** from the change marked returnsOutput (command, shell, raw) */
  rc?: number;
  stdout?: string;
  stderr?: string;
  backupFile?: string;
}

export interface ApplyContext {
  conn: Connection;
  host: string;
  exec: Pick<ExecOptions, 'become' | 'env' | 'timeoutMs'>;
  /** reconnects after a reboot; resolves with the new connection */
  reconnect: (timeoutSeconds: number, testCommand: Change & { kind: 'reboot' }) => Promise<Connection>;
  verbose?: (msg: string) => void;
}

function lines(s: string): string[] {
  return s === '' ? [] : s.replace(/\n$/, '').split('\n');
}

export async function applyChanges(changes: readonly Change[], ctx: ApplyContext): Promise<AppliedOutput> {
  const out: AppliedOutput = {};
  let conn = ctx.conn;
  for (const change of changes) {
    ctx.verbose?.(`apply: ${change.describe}`);
    switch (change.kind) {
      case 'exec': {
        const res = await conn.exec(change.command, { ...ctx.exec, stdin: change.stdin });
        const ok = (change.okExitCodes ?? [0]).includes(res.exitCode ?? -1);
        if (change.returnsOutput) {
          out.rc = res.exitCode ?? -1;
          out.stdout = res.stdout;
          out.stderr = res.stderr;
          // Non-zero exit of a command task is the task's result, judged by failed_when later.
          if (res.timedOut) throw new RemoteError(`command timed out after ${ctx.exec.timeoutMs} ms`, { host: ctx.host, command: res.command, stderr: res.stderr });
          continue;
        }
        if (!ok) {
          throw new RemoteError(`${change.describe} failed`, { host: ctx.host, command: res.command, stderr: res.stderr || res.stdout, exitCode: res.exitCode });
        }
        break;
      }
      case 'write': {
        const res = await conn.exec(
          atomicWriteCommand(change.path, { mode: change.mode, owner: change.owner, group: change.group, backup: change.backup, validate: change.validate }),
          { ...ctx.exec, stdin: change.content },
        );
        if (res.exitCode !== 0) {
          const what = res.exitCode === 3 ? `validation of ${change.path} failed; the file was not changed` : `writing ${change.path} failed`;
          throw new RemoteError(what, { host: ctx.host, command: res.command, stderr: res.stderr, exitCode: res.exitCode });
        }
        const backup = res.stdout.split('\n').find((l) => l.startsWith(BACKUP_MARKER));
        if (backup) out.backupFile = backup.slice(BACKUP_MARKER.length);
        break;
      }
      case 'reboot': {
        // The reboot command may never answer: the connection drops under it.
        await conn.exec(change.command, { ...ctx.exec, timeoutMs: 10_000 }).catch((err) => {
          if (!(err instanceof UnreachableError)) throw err;
        });
        conn = await ctx.reconnect(change.timeoutSeconds, change);
        break;
      }
    }
  }
  return out;
}

export function outputFields(o: AppliedOutput): Record<string, unknown> {
  if (o.rc === undefined) return o.backupFile ? { backup_file: o.backupFile } : {};
  return {
    rc: o.rc,
    stdout: (o.stdout ?? '').replace(/\n+$/, ''),
    stderr: (o.stderr ?? '').replace(/\n+$/, ''),
    stdout_lines: lines((o.stdout ?? '').replace(/\n+$/, '')),
    stderr_lines: lines((o.stderr ?? '').replace(/\n+$/, '')),
    ...(o.backupFile ? { backup_file: o.backupFile } : {}),
  };
}
