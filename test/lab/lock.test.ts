import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withLock } from '../../src/lab/lock.js';

const dirs: string[] = [];
const lockIn = () => {
  const dir = mkdtempSync(join(tmpdir(), 'lock-'));
  dirs.push(dir);
  return join(dir, 'l.lock');
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('withLock', () => {
  it('runs one holder at a time and releases the lock', async () => {
    const lock = lockIn();
    const order: string[] = [];
    const job = (name: string) =>
      withLock(lock, async () => {
        order.push(`${name} in`);
        await new Promise((r) => setTimeout(r, 50));
        order.push(`${name} out`);
      });
    await Promise.all([job('a'), job('b')]);
    expect(order).toEqual(['a in', 'a out', 'b in', 'b out']);
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock whose holder is dead', async () => {
    const lock = lockIn();
    mkdirSync(lock);
    // A pid that cannot be alive (above the kernel's pid_max).
    writeFileSync(join(lock, 'pid'), '99999999');
    await expect(withLock(lock, async () => 'got it')).resolves.toBe('got it');
  });

  it('waits for a live holder, and says so once', async () => {
    const lock = lockIn();
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(process.pid));
    const waits: (number | undefined)[] = [];
    setTimeout(() => void import('node:fs').then((fs) => fs.rmSync(lock, { recursive: true })), 700);
    await withLock(lock, async () => {}, { onWait: (pid) => waits.push(pid) });
    expect(waits).toEqual([process.pid]);
  });

  it('releases the lock when the work throws', async () => {
    const lock = lockIn();
    await expect(withLock(lock, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });
});
