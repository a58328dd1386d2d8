/**
 * `tsible run`: one command (and/or one file copy) on many hosts, the job of
 * the thesis's psh/ppsh/pscp/npsh loops. Each host's connection is opened
 * once; output streams back line by line as events.
 */
import { readFile, stat } from 'node:fs/promises';
import { TsibleError, UnreachableError } from '../errors.js';
import type { ConnectionManager } from '../connection/manager.js';
import type { BecomeSpec, Connection, ConnectionSpec } from '../connection/types.js';
import type { EventBus, RunEvent } from '../output/events.js';
import { ShellCommand } from '../util/shell.js';
import { atomicWriteCommand } from './atomic-write.js';
import { forEachHost } from './runner.js';

export interface AdhocRequest {
  pattern: string;
  hosts: string[];
  command?: string;
  copy?: { src: string; dest: string };
  forks: number;
  oneByOne: boolean;
  become?: (host: string) => BecomeSpec | undefined;
  commandTimeoutMs?: number;
  specFor: (host: string) => ConnectionSpec;
  knownHostsFor?: (host: string) => string | undefined;
  manager: ConnectionManager;
  bus: EventBus<RunEvent>;
  signal?: AbortSignal;
}

export interface AdhocSummary {
  ok: string[];
  failed: string[];
  unreachable: string[];
}

/** Splits a byte stream into lines for one host, emitting each complete line. */
class LineSplitter {
  private pending = '';
  constructor(private readonly emit: (line: string) => void) {}
  push(chunk: Buffer): void {
    this.pending += chunk.toString('utf8');
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      this.emit(this.pending.slice(0, nl));
      this.pending = this.pending.slice(nl + 1);
    }
  }
  flush(): void {
    if (this.pending) this.emit(this.pending);
    this.pending = '';
  }
}

export async function runAdhoc(req: AdhocRequest): Promise<AdhocSummary> {
  const started = Date.now();
  const summary: AdhocSummary = { ok: [], failed: [], unreachable: [] };
  const upload = req.copy ? await readLocalFile(req.copy.src) : undefined;
  req.bus.emit({ type: 'adhoc_start', pattern: req.pattern, hosts: req.hosts, command: req.command ?? `copy ${req.copy?.src} -> ${req.copy?.dest}` });

  await forEachHost(req.hosts, { forks: req.forks, oneByOne: req.oneByOne, signal: req.signal }, async (host) => {
    const t0 = Date.now();
    const done = (status: 'ok' | 'failed' | 'unreachable', exitCode: number | null, stdout: string, stderr: string, message?: string) => {
      summary[status].push(host);
      req.bus.emit({ type: 'adhoc_host_done', host, status, exitCode, stdout, stderr, message, durationMs: Date.now() - t0 });
    };
    let conn: Connection;
    try {
      conn = await req.manager.get(req.specFor(host), req.knownHostsFor?.(host));
    } catch (err) {
      return done('unreachable', null, '', '', errorMessage(err));
    }
    const become = req.become?.(host);
    try {
      if (upload && req.copy) {
        const res = await conn.exec(atomicWriteCommand(req.copy.dest, { mode: upload.mode }), {
          stdin: upload.content,
          become,
          timeoutMs: req.commandTimeoutMs,
        });
        if (res.exitCode !== 0) {
          return done('failed', res.exitCode, res.stdout, res.stderr, `copy to ${req.copy.dest} failed`);
        }
        if (!req.command) return done('ok', 0, '', '');
      }
      const out = new LineSplitter((line) => req.bus.emit({ type: 'host_output', host, stream: 'stdout', line }));
      const errOut = new LineSplitter((line) => req.bus.emit({ type: 'host_output', host, stream: 'stderr', line }));
      const res = await conn.exec(ShellCommand.script(req.command ?? 'true'), {
        become,
        timeoutMs: req.commandTimeoutMs,
        onStdout: (c) => out.push(c),
        onStderr: (c) => errOut.push(c),
      });
      out.flush();
      errOut.flush();
      if (res.timedOut) return done('failed', null, res.stdout, res.stderr, `command timed out after ${req.commandTimeoutMs} ms and was killed`);
      if (res.exitCode !== 0) {
        return done('failed', res.exitCode, res.stdout, res.stderr, res.signal ? `killed by signal ${res.signal}` : `exit code ${res.exitCode}`);
      }
      return done('ok', 0, res.stdout, res.stderr);
    } catch (err) {
      if (err instanceof UnreachableError) {
        req.manager.forget(host);
        return done('unreachable', null, '', '', errorMessage(err));
      }
      return done('failed', null, '', '', errorMessage(err));
    }
  });

  const order = (list: string[]) => req.hosts.filter((h) => list.includes(h));
  const result = { ok: order(summary.ok), failed: order(summary.failed), unreachable: order(summary.unreachable) };
  req.bus.emit({ type: 'adhoc_summary', ...result, durationMs: Date.now() - started });
  return result;
}

async function readLocalFile(path: string): Promise<{ content: Buffer; mode: string }> {
  try {
    const [content, st] = await Promise.all([readFile(path), stat(path)]);
    return { content, mode: '0' + (st.mode & 0o7777).toString(8) };
  } catch (err) {
    throw new TsibleError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`, { cause: err });
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof TsibleError) return err.hint ? `${err.message} (${err.hint})` : err.message;
  return err instanceof Error ? err.message : String(err);
}
