/** Shared by the vault tests: fixture paths, scratch directories and in-memory streams. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import type { VaultIO } from '../../src/vault/command.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** A fresh directory per call, removed after the test. */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsible-vault-test-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Streams that record what a command printed; stdin holds `input` (none: empty). */
export function memoryIO(input = '', over: Partial<VaultIO> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const io: Partial<VaultIO> = {
    stdin: Readable.from(input ? [Buffer.from(input)] : []),
    stdout,
    stderr,
    env: {},
    promptSecret: async (q) => {
      throw new Error(`unexpected prompt: ${q}`);
    },
    promptLine: async (q) => {
      throw new Error(`unexpected prompt: ${q}`);
    },
    ...over,
  };
  return {
    io,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
  };
}
