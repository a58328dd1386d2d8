/**
 * A cross-process lock made of a directory: `mkdir` either creates it or fails,
 * atomically, for every process on the machine (test workers, several CLI
 * invocations). The holder writes its pid inside, so a lock left by a process
 * that died is recognised and taken over.
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TsibleError } from '../errors.js';

export interface LockOptions {
  /** called once when the lock is busy, with the holder's pid if known */
  onWait?: (holderPid: number | undefined) => void;
  /** give up after this long (default: 30 min, longer than any image build) */
  timeoutMs?: number;
  /** a lock without a live holder older than this is stale (covers a holder that died before writing its pid) */
  staleMs?: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function holderPid(lockDir: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(join(lockDir, 'pid'), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function isStale(lockDir: string, staleMs: number): Promise<boolean> {
  const pid = await holderPid(lockDir);
  if (pid !== undefined) return !isAlive(pid);
  try {
    return Date.now() - (await stat(lockDir)).mtimeMs > staleMs;
  } catch {
    return false; // gone already: the next mkdir will tell
  }
}

/** Runs `fn` while holding the lock `lockDir`; waits (polling) while another live process holds it. */
export async function withLock<T>(lockDir: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
  let told = false;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(lockDir, opts.staleMs ?? 60_000)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new TsibleError(`timed out waiting for the lock ${lockDir}`, {
        hint: `if no other tsible process is running, remove ${lockDir}`,
      });
    }
    if (!told) {
      opts.onWait?.(await holderPid(lockDir));
      told = true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    await writeFile(join(lockDir, 'pid'), String(process.pid));
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
