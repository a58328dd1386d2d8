/**
 * Reads every fact a task needs in one command, so checking a task that has
 * nothing to do costs a single round trip. Host-wide facts are cached for the
 * run.
 */
import { randomBytes } from 'node:crypto';
import { RemoteError } from '../errors.js';
import type { Connection, ExecOptions } from '../connection/types.js';
import type { FactRequests } from '../facts/types.js';
import { ShellCommand } from '../util/shell.js';

export class FactCache {
  private readonly values = new Map<string, unknown>();
  get(key: string): unknown {
    return this.values.get(key);
  }
  has(key: string): boolean {
    return this.values.has(key);
  }
  set(key: string, value: unknown): void {
    this.values.set(key, value);
  }
  clear(): void {
    this.values.clear();
  }
}

function cacheKey(name: string, args: unknown): string {
  return `${name}:${args === undefined ? '' : JSON.stringify(args)}`;
}

export async function readFacts(
  conn: Connection,
  requests: FactRequests,
  cache: FactCache,
  options: Pick<ExecOptions, 'become' | 'env' | 'timeoutMs'>,
  host: string,
  /** shows the command (tsible -vv) */
  trace?: (message: string) => void,
): Promise<Record<string, unknown>> {
  const values: Record<string, unknown> = {};
  const pending: [string, FactRequests[string]][] = [];
  for (const [key, req] of Object.entries(requests)) {
    const ck = cacheKey(req.fact.name, req.args);
    if (req.fact.cacheable && cache.has(ck)) values[key] = cache.get(ck);
    else pending.push([key, req]);
  }
  if (pending.length === 0) return values;

  const nonce = randomBytes(6).toString('hex');
  const begin = `@@tsible-fact-${nonce}@@`;
  const end = `@@tsible-rc-${nonce}@@`;
  const parts = pending.map(([, req]) => `printf '%s\\n' '${begin}'\n(\n${req.fact.command(req.args).text}\n)\nprintf '\\n%s %d\\n' '${end}' $?`);
  const command = ShellCommand.script(parts.join('\n'));
  trace?.(`read state (${pending.map(([, req]) => req.fact.name).join(', ')}):\n${command.text}`);
  const res = await conn.exec(command, options);
  const chunks = res.stdout.split(begin + '\n').slice(1);
  if (chunks.length !== pending.length) {
    throw new RemoteError(`reading state from the host failed (${chunks.length} of ${pending.length} answers)`, {
      host,
      command: res.command,
      stderr: res.stderr,
      exitCode: res.exitCode,
    });
  }
  pending.forEach(([key, req], i) => {
    const chunk = chunks[i]!;
    const at = chunk.lastIndexOf('\n' + end + ' ');
    const stdout = at >= 0 ? chunk.slice(0, at) : chunk;
    const exitCode = at >= 0 ? Number(chunk.slice(at + end.length + 2).trim()) : -1;
    const value = req.fact.parse({ stdout, exitCode }, req.args);
    values[key] = value;
    if (req.fact.cacheable) cache.set(cacheKey(req.fact.name, req.args), value);
  });
  return values;
}
