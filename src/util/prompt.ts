/**
 * Asks the user for a secret (sudo password, key passphrase, vault password)
 * without echoing it. Reads from the controlling terminal when there is one,
 * else one line from stdin, so `-K` also works in scripts: `echo pw | tsible ...`.
 */
import { openSync, closeSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';
import { createInterface } from 'node:readline';
import { InterruptedError, UsageError } from '../errors.js';

export async function promptSecret(question: string): Promise<string> {
  let fd: number | undefined;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    fd = undefined;
  }
  if (fd === undefined) return readLineFromStdin(question);
  const input = new ReadStream(fd);
  const output = new WriteStream(fd);
  try {
    output.write(question);
    input.setRawMode(true);
    return await new Promise<string>((resolve, reject) => {
      let answer = '';
      input.on('data', (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            output.write('\n');
            resolve(answer);
            return;
          }
          if (ch === '\u0003') {
            output.write('\n');
            reject(new InterruptedError('interrupted at the password prompt'));
            return;
          }
          if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
          else answer += ch;
        }
      });
    });
  } finally {
    input.setRawMode(false);
    input.destroy();
    output.destroy();
    try {
      closeSync(fd);
    } catch {
      // already closed by the streams
    }
  }
}

async function readLineFromStdin(question: string): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError(`cannot prompt for "${question.trim()}": no terminal`);
  const rl = createInterface({ input: process.stdin });
  try {
    for await (const line of rl) return line;
  } finally {
    rl.close();
  }
  throw new UsageError(`no answer on stdin for "${question.trim()}"`);
}

/** Asks a question with echo (vars_prompt with private: no). */
export async function promptLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}
